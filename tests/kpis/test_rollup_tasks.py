"""The nightly rollup's tasks (SPEC 3; issue 11 item 3): each organization at 2 a.m. its own time,
one task per organization whose failure stays its own, delivered through the real Redis to a
real worker; writes that never wait on Redis, and a "recompute now" that says so when it is down.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab
from django.db import connection
from django.utils import timezone

from audits.models import Handling, TimeEntry
from delegation.models import Interruption
from kpis import services
from kpis.models import RollupRun, Ticket, WeeklyKpi
from kpis.services import request_rollup, roll_up_week, weeks_to_refresh
from kpis.tasks import (
    ROLLUP_RETRIES,
    is_nightly_hour,
    roll_up_due_organizations,
    roll_up_every_organization,
    roll_up_organization,
    roll_up_requested,
)
from msp_ops import plugins
from msp_ops.celery import app
from msp_ops.lib import weeks
from msp_ops.orgs.models import Organization, Role
from tests.api.conftest import post
from tests.factories import InterruptionFactory, MembershipFactory, OrganizationFactory, TimeEntryFactory
from tests.harness import Services
from tests.workers import celery_worker

CHI = ZoneInfo("America/Chicago")


def rolled_up() -> dict[str, list[date]]:
    found: dict[str, list[date]] = {}
    for slug, week in WeeklyKpi.objects.order_by("organization__slug", "week").values_list(
        "organization__slug", "week"
    ):
        found.setdefault(slug, []).append(week)
    return found


@pytest.fixture
def eager():
    """Tasks queued with ``delay`` run here, at once (a task's failure does not propagate)."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def fail_for(monkeypatch, slug: str) -> list[str]:
    """The rollup of organization ``slug`` fails (as a statement timeout would); returns the attempts."""
    attempts: list[str] = []
    real = services.weeks_figures

    def weeks_figures(org, mondays, *, now, **settings):
        if org.slug == slug:
            attempts.append(org.slug)
            raise RuntimeError("canceling statement due to statement timeout")
        return real(org, mondays, now=now, **settings)

    monkeypatch.setattr(services, "weeks_figures", weeks_figures)
    return attempts


# --- 2 a.m. local ---------------------------------------------------------------------------


def test_only_organizations_whose_local_hour_is_2_are_queued(db, eager):
    OrganizationFactory(slug="chicago", timezone="America/Chicago")
    OrganizationFactory(slug="berlin", timezone="Europe/Berlin")
    OrganizationFactory(slug="kolkata", timezone="Asia/Kolkata")

    # 08:30Z: 02:30 CST in Chicago, 09:30 in Berlin, 14:00 in Kolkata.
    with time_machine.travel(datetime(2025, 3, 5, 8, 30, tzinfo=UTC), tick=False):
        assert roll_up_due_organizations() == 1
    assert rolled_up() == {"chicago": [date(2025, 2, 24), date(2025, 3, 3)]}

    # The run of 2025-03-09 21:00Z: Monday 02:30 in Kolkata (+05:30), Sunday 16:00 CDT in Chicago.
    with time_machine.travel(datetime(2025, 3, 9, 21, 0, tzinfo=UTC), tick=False):
        assert roll_up_due_organizations() == 1
    assert rolled_up()["kolkata"] == [date(2025, 3, 3), date(2025, 3, 10)]
    assert "berlin" not in rolled_up()


@pytest.mark.parametrize("minute", [0, 54])
def test_a_run_taken_late_is_judged_at_the_hour_it_was_scheduled(db, eager, minute):
    # The 21:00Z run: 02:45 in Kathmandu (+05:45), 02:30 in Kolkata. Taken at 21:54 by a busy
    # worker, it is 03:39 in Kathmandu: still that night's run, not a missed one.
    OrganizationFactory(slug="kathmandu", timezone="Asia/Kathmandu")
    OrganizationFactory(slug="kolkata", timezone="Asia/Kolkata")
    with time_machine.travel(datetime(2025, 3, 9, 21, minute, 1, tzinfo=UTC), tick=False):
        assert roll_up_due_organizations() == 2
    assert sorted(rolled_up()) == ["kathmandu", "kolkata"]
    # The 20:00Z run, taken at 20:59 (01:44 and 01:29 local): nobody's night yet.
    with time_machine.travel(datetime(2025, 3, 9, 20, 59, tzinfo=UTC), tick=False):
        assert roll_up_due_organizations() == 0


def test_beat_runs_the_check_at_the_top_of_each_hour_and_drops_a_run_left_waiting():
    entry = plugins.beat_schedule()["kpi-rollup-at-2am-local"]
    assert entry["schedule"] == crontab(minute=0)
    assert entry["options"] == {"expires": 3300}


DST_NIGHTS = [
    ("America/Chicago", date(2026, 3, 8)),  # 02:00 CST -> 03:00 CDT: 2 a.m. never happens
    ("America/Chicago", date(2026, 11, 1)),  # 02:00 CDT -> 01:00 CST: 1 a.m. twice, 2 a.m. once
    ("Europe/Berlin", date(2026, 3, 29)),  # 02:00 CET -> 03:00 CEST: skipped
    ("Europe/Berlin", date(2026, 10, 25)),  # 03:00 CEST -> 02:00 CET: 2 a.m. twice
    ("Australia/Sydney", date(2026, 4, 5)),  # 03:00 AEDT -> 02:00 AEST: 2 a.m. twice
    ("Australia/Sydney", date(2026, 10, 4)),  # 02:00 AEST -> 03:00 AEDT: skipped
    ("Australia/Lord_Howe", date(2026, 10, 4)),  # 02:00 -> 02:30: half of 2 a.m. is skipped
    ("Asia/Kathmandu", date(2026, 3, 8)),  # +05:45, no DST: the hourly run lands at hh:02 local
]


@pytest.mark.parametrize("minute", [0, 17, 59])  # beat runs every hour from whenever it started
@pytest.mark.parametrize(("zone", "night"), DST_NIGHTS)
def test_every_local_day_gets_exactly_one_nightly_run_across_dst_changes(zone, night, minute):
    tz = ZoneInfo(zone)
    start = datetime.combine(night - timedelta(days=2), datetime.min.time(), tz).astimezone(UTC)
    runs = [start.replace(minute=minute) + timedelta(hours=n) for n in range(24 * 5)]
    due = [weeks.to_local(moment, tz) for moment in runs if is_nightly_hour(moment, tz)]

    per_day = Counter(moment.date() for moment in due)
    assert [per_day[night + timedelta(days=d)] for d in range(-1, 3)] == [1, 1, 1, 1]
    # At 2 a.m. local; on the night that skips it, at 3 a.m. (right after the gap).
    assert all(moment.hour == 2 for moment in due if moment.date() != night)
    assert {moment.hour for moment in due if moment.date() == night} <= {2, 3}


def test_an_organization_whose_zone_is_unknown_does_not_stop_the_others(db, eager, caplog):
    OrganizationFactory(slug="chicago", timezone="America/Chicago")
    broken = OrganizationFactory(slug="broken", timezone="UTC")
    Organization.objects.filter(pk=broken.pk).update(timezone="Mars/Olympus_Mons")

    with time_machine.travel(datetime(2025, 3, 5, 8, 30, tzinfo=UTC), tick=False):
        assert roll_up_due_organizations() == 1

    assert list(rolled_up()) == ["chicago"]
    assert "KPI rollup: cannot tell the local time of organization broken" in caplog.text


# --- one organization's failure -------------------------------------------------------------


def test_one_organizations_failure_is_logged_and_retried_while_the_others_roll_up(
    db, eager, monkeypatch, caplog
):
    for slug in ("alpha", "bravo", "charlie"):
        OrganizationFactory(slug=slug, timezone="America/Chicago")
    attempts = fail_for(monkeypatch, "bravo")

    with (
        time_machine.travel(datetime(2025, 3, 5, 8, 30, tzinfo=UTC), tick=False),
        caplog.at_level(logging.ERROR),
    ):
        assert roll_up_due_organizations() == 3

    assert rolled_up() == {slug: [date(2025, 2, 24), date(2025, 3, 3)] for slug in ("alpha", "charlie")}
    assert attempts == ["bravo"] * (1 + ROLLUP_RETRIES)  # the first run and every retry
    failures = [
        r
        for r in caplog.records
        if r.getMessage() == "KPI rollup of organization bravo failed; it will be retried"
    ]
    assert len(failures) == 1 + ROLLUP_RETRIES


def test_every_organization_at_once_one_task_each(db, eager, monkeypatch):
    for slug in ("alpha", "bravo", "charlie"):
        OrganizationFactory(slug=slug, timezone="Asia/Tokyo")
    fail_for(monkeypatch, "alpha")

    with time_machine.travel(datetime(2025, 3, 5, 8, 30, tzinfo=UTC), tick=False):
        assert roll_up_every_organization() == 3

    assert list(rolled_up()) == ["bravo", "charlie"]


def test_the_task_of_one_organization_takes_iso_weeks_and_tolerates_a_deleted_organization(org):
    with time_machine.travel(datetime(2025, 3, 5, 18, tzinfo=UTC), tick=False):
        assert roll_up_organization(org.pk, ["2025-01-06", "2025-01-13"]) == 2
        assert roll_up_organization(org.pk) == 2
    assert rolled_up() == {
        "acme-it": [date(2025, 1, 6), date(2025, 1, 13), date(2025, 2, 24), date(2025, 3, 3)]
    }
    assert roll_up_organization(org.pk + 1000) == 0


def test_a_requested_rollup_records_its_progress_and_its_failure(org, manager, monkeypatch):
    run = RollupRun.objects.create(organization=org, requested_by=manager)
    with time_machine.travel(datetime(2025, 3, 5, 18, tzinfo=UTC), tick=False):
        roll_up_requested(run.pk)
    run.refresh_from_db()
    assert (run.weeks_total, run.weeks_done, run.finished_at, run.error) == (
        2, 2, datetime(2025, 3, 5, 18, tzinfo=UTC), "",
    )  # fmt: skip

    fail_for(monkeypatch, "acme-it")
    failed = RollupRun.objects.create(organization=org, requested_by=manager)
    with pytest.raises(RuntimeError):
        roll_up_requested(failed.pk)
    failed.refresh_from_db()
    assert (failed.weeks_total, failed.weeks_done) == (2, 0)
    assert failed.error == "canceling statement due to statement timeout"
    assert failed.finished_at is not None


# --- through the real Redis to a real worker ---------------------------------------------------


@pytest.fixture(scope="module")
def rollup_worker(django_db_setup, tmp_path_factory):
    """A worker on the harness's Redis and the test database (the one the tests write to)."""
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    env = os.environ.copy()
    url = urlsplit(env["DATABASE_URL"])
    env["DATABASE_URL"] = urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))
    with celery_worker(log_path, hostname="kpis", env=env) as proc:
        yield proc, log_path


def zone_at_local_hour(now: datetime, hour: int) -> str:
    """A fixed-offset zone whose local hour is ``hour`` at ``now`` (Etc/GMT-5 is UTC+5)."""
    offset = (hour - now.astimezone(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def _org_with_a_day_of_data(slug: str, zone: str, now: datetime) -> Organization:
    org = OrganizationFactory(slug=slug, name=slug, timezone=zone)
    founder = MembershipFactory(organization=org, role=Role.FOUNDER).user
    TimeEntryFactory(
        organization=org, user=founder, handling=Handling.DELEGATED,
        started_at=now - timedelta(hours=3), ended_at=now - timedelta(hours=1),
    )  # fmt: skip
    InterruptionFactory(organization=org, logged_by=founder, occurred_at=now - timedelta(hours=2))
    Ticket.objects.create(
        organization=org,
        external_id="T-1",
        title="VPN down",
        severity="p1",
        opened_at=now - timedelta(hours=6),
    )
    return org


@pytest.mark.django_db(transaction=True)  # the worker reads what this test committed
def test_the_nightly_task_goes_through_redis_to_a_worker_that_writes_the_rows(rollup_worker):
    proc, log_path = rollup_worker
    before = timezone.now()
    # The org at 2 a.m. local now, the one at 1 a.m. (due if the hour turns meanwhile), one at 2 p.m.
    orgs = {
        hour: _org_with_a_day_of_data(f"local-{hour}", zone_at_local_hour(before, hour), before)
        for hour in (2, 1, 14)
    }

    result = roll_up_due_organizations.delay()
    assert result.get(timeout=60) == 1  # through Redis and back from the worker
    [child] = result.children  # the one task per organization it queued
    assert child.get(timeout=60) == 2  # the previous and the current week
    after = timezone.now()

    due = (
        orgs[2]
        if after.hour == before.hour
        else next(o for o in orgs.values() if WeeklyKpi.objects.for_org(o))
    )
    rows = list(WeeklyKpi.objects.for_org(due).order_by("week"))
    assert [row.week for row in rows] == weeks_to_refresh(due, after)
    assert sum(row.delegated_hours for row in rows) == Decimal("2.00")  # split if a week began in it
    assert sum(row.owner_interruptions for row in rows) == 1
    assert (rows[-1].final, rows[-1].aged_backlog) == (False, 1)  # the p1 is 6 h old: past 4 h
    assert before <= rows[-1].computed_at <= after
    assert WeeklyKpi.objects.exclude(organization=due).count() == 0
    # The worker process did it, not this one (it logs the success just after storing the result).
    succeeded = f"Task kpis.tasks.roll_up_organization[{child.id}] succeeded"
    deadline = time.monotonic() + 30
    while succeeded not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert succeeded in log_path.read_text()
    assert proc.poll() is None


# --- Redis down ---------------------------------------------------------------------------------


@pytest.fixture
def stopped_redis(settings, monkeypatch):
    """A Redis of this test's own, used by the cache (API throttling) and the Celery broker, and
    then stopped: a connection to it is refused, as in production when Redis is down."""
    services = Services()
    url = services.start_redis()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # Celery reads CELERY_BROKER_URL from the environment before its settings (the harness sets it).
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.setattr(app.conf, "broker_url", url)
    _drop_broker_connections()
    assert app.connection_for_write().port == urlsplit(url).port
    services.stop()
    port = urlsplit(url).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    yield url
    _drop_broker_connections()  # monkeypatch then restores the harness's broker URL


def _drop_broker_connections() -> None:
    # The app caches its broker connection and producer pools (kombu keeps them per URL, open
    # for the next user): forget them, so the next message goes to the broker_url set now.
    app._pool = None
    app.amqp._producer_pool = None


V1 = "/api/v1"


def test_writes_succeed_while_redis_is_stopped_and_the_next_rollup_counts_them(
    stopped_redis, api, org, founder
):
    entries = post(api, f"{V1}/time-entries/", [
        {"started_at": "2025-03-03T09:00:00-06:00", "ended_at": "2025-03-03T11:30:00-06:00",
         "activity": "Assigned the backups to Luis", "handling": "delegated", "tags": ["outsourceable"]},
        {"started_at": "2025-03-04T09:00:00-06:00", "ended_at": "2025-03-04T09:45:00-06:00",
         "activity": "Quoted a laptop refresh"},
    ])  # fmt: skip
    interruptions = post(api, f"{V1}/interruptions/", [
        {"occurred_at": "2025-03-03T10:00:00-06:00", "channel": "call", "category": "VPN"},
        {"occurred_at": "2025-03-04T15:00:00-06:00", "channel": "text", "about_ticket": False},
    ])  # fmt: skip
    tickets = post(api, f"{V1}/tickets/", [
        {"external_id": f"PSA-{n}", "title": "MFA prompt loop", "severity": "p2", "team": "Tier 1",
         "category": "MFA", "opened_at": "2025-03-03T08:00:00-06:00"} for n in range(4)
    ])  # fmt: skip

    assert (entries.status_code, interruptions.status_code, tickets.status_code) == (201, 201, 201)
    assert (TimeEntry.objects.count(), Interruption.objects.count(), Ticket.objects.count()) == (2, 2, 4)

    row = roll_up_week(org=org, monday=date(2025, 3, 3), now=datetime(2025, 3, 12, tzinfo=UTC))
    assert (row.delegated_hours, row.personal_hours, row.hours_by_tag["outsourceable"]) == (
        Decimal("2.50"), Decimal("0.75"), "2.50",
    )  # fmt: skip
    assert (row.owner_interruptions, row.aged_backlog_by_team, row.level10_categories) == (
        1, {"Tier 1": 4}, {"Tier 1": ["MFA"]},
    )  # fmt: skip


def test_a_recompute_with_the_broker_down_fails_its_run_with_a_message(
    stopped_redis, manager_api, org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(manager_api, f"{V1}/kpis/rollup/", {})

    assert response.status_code == 202
    run = RollupRun.objects.get(pk=response.json()["run"])
    assert run.error == "The task queue is unreachable (OperationalError)."
    assert run.finished_at is not None
    assert WeeklyKpi.objects.count() == 0


def test_request_rollup_does_not_raise_when_the_broker_is_down(
    stopped_redis, org, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = request_rollup(org=org, user=manager)
    run.refresh_from_db()
    assert (run.error, run.weeks_done) == ("The task queue is unreachable (OperationalError).", 0)
