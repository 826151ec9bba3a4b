"""The rollup's figures (SPEC 2.1, 2.2, statuses) and guarantees (SPEC 3): hand-worked numbers.

Acme IT is in America/Chicago with 24 managed clients (tests/conftest.py). Unless a test says
otherwise the week is the one of Monday 2025-02-24: [2025-02-24 00:00 CST, 2025-03-03 00:00
CST) = [06:00Z, 06:00Z), no DST change inside. The backlog's figures have their own module
(test_aged_backlog.py).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, connection
from django.forms.models import model_to_dict

from audits.models import TAG_FIELDS, Handling
from kpis import services
from kpis.models import KpiTargets, SlaPolicy, Ticket, WeeklyKpi
from kpis.selectors import kpi_targets, rollup_settings, sla_policy
from kpis.services import roll_up_org, roll_up_week, roll_up_weeks, update_settings, weeks_to_refresh
from msp_ops.orgs.models import Membership, Role
from tests.factories import InterruptionFactory, MembershipFactory, OrganizationFactory, TimeEntryFactory
from tests.races import run_in_threads

CHI = ZoneInfo("America/Chicago")
WEEK = date(2025, 2, 24)
NEXT = date(2025, 3, 3)
LATER = datetime(2025, 3, 12, 12, tzinfo=UTC)  # both weeks have ended: final rows


def chi(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=CHI)


def entry(org, user, start, end, handling=Handling.DELEGATED, tags=()):
    return TimeEntryFactory(
        organization=org,
        user=user,
        started_at=start,
        ended_at=end,
        handling=handling,
        **{TAG_FIELDS[tag]: True for tag in tags},
    )


def ping(org, user, at, **fields):
    return InterruptionFactory(organization=org, logged_by=user, occurred_at=at, **fields)


def aged_ticket(org, n: int, *, team="Tier 1", category="VPN", opened_at=None):
    """A p2 (8 h) ticket opened Monday 2025-02-24 08:00 and still open: aged at the week's end."""
    return Ticket.objects.create(
        organization=org, external_id=f"T-{n}", title=f"Ticket {n}", severity="p2", team=team,
        category=category, opened_at=opened_at or chi(2, 24, 8),
    )  # fmt: skip


def figures(row: WeeklyKpi) -> dict:
    """The row as stored, without what changes on every run."""
    return {k: v for k, v in model_to_dict(row).items() if k not in ("id", "computed_at")}


# --- hours (SPEC 2.1) ------------------------------------------------------------------------


def test_an_entry_straddling_sunday_midnight_is_split_between_the_two_weeks(org, founder):
    # Sunday 2025-03-02 22:30 -> Monday 2025-03-03 01:15 CST: 1.5 h before midnight, 1.25 h after.
    entry(org, founder, chi(3, 2, 22, 30), chi(3, 3, 1, 15), tags=["repetitive"])

    first = roll_up_week(org=org, monday=WEEK, now=LATER)
    second = roll_up_week(org=org, monday=NEXT, now=LATER)

    assert (first.delegated_hours, first.logged_hours, first.personal_hours) == (
        Decimal("1.50"), Decimal("1.50"), Decimal("0.00"),
    )  # fmt: skip
    assert first.hours_by_tag["repetitive"] == "1.50"
    assert (second.delegated_hours, second.logged_hours) == (Decimal("1.25"), Decimal("1.25"))
    assert second.hours_by_tag["repetitive"] == "1.25"


# Each zone's DST Sunday: entry A from Sunday 00:00 to 23:00 local, entry B from 23:00 across
# midnight into Monday. Real hours (through UTC), not wall-clock hours:
DST_WEEKS = [
    # Chicago springs forward 2025-03-09 02:00 CST -> 03:00 CDT. A: 06:00Z -> 04:00Z = 22 h;
    # B: 23:00 -> 01:30 CDT: 1 h this week, 1.5 h the next. Week: 22 + 1 = 23 h (wall clock: 24).
    ("America/Chicago", date(2025, 3, 3), (3, 9), (3, 10, 1, 30), "23.00", "1.50"),
    # Chicago falls back 2025-11-02 02:00 CDT -> 01:00 CST. A: 05:00Z -> 05:00Z = 24 h;
    # B: 23:00 -> 00:45 CST: 1 h + 0.75 h. Week: 25 h (wall clock: 24).
    ("America/Chicago", date(2025, 10, 27), (11, 2), (11, 3, 0, 45), "25.00", "0.75"),
    # Berlin springs forward 2025-03-30 02:00 CET -> 03:00 CEST. A: 23:00Z -> 21:00Z = 22 h;
    # B: 23:00 -> 00:30 CEST: 1 h + 0.5 h. Week: 23 h.
    ("Europe/Berlin", date(2025, 3, 24), (3, 30), (3, 31, 0, 30), "23.00", "0.50"),
    # Sydney falls back 2025-04-06 03:00 AEDT -> 02:00 AEST. A: 13:00Z -> 13:00Z = 24 h;
    # B: 23:00 -> 02:00 AEST: 1 h + 2 h. Week: 25 h.
    ("Australia/Sydney", date(2025, 3, 31), (4, 6), (4, 7, 2, 0), "25.00", "2.00"),
]


@pytest.mark.parametrize(("zone", "monday", "sunday", "b_end", "week_hours", "next_hours"), DST_WEEKS)
def test_a_week_with_a_dst_change_counts_real_hours(db, zone, monday, sunday, b_end, week_hours, next_hours):
    tz = ZoneInfo(zone)
    org = OrganizationFactory(slug="dst", name="DST MSP", timezone=zone, managed_clients=24)
    founder = MembershipFactory(organization=org, role=Role.FOUNDER).user
    a_start = datetime(2025, *sunday, 0, 0, tzinfo=tz)
    b_start = datetime(2025, *sunday, 23, 0, tzinfo=tz)
    entry(org, founder, a_start, b_start)
    entry(org, founder, b_start, datetime(2025, *b_end, tzinfo=tz), handling=Handling.PERSONAL)
    # Interruptions at the week's last local minute and at the next Monday's first one.
    ping(org, founder, datetime(2025, *sunday, 23, 59, tzinfo=tz))
    ping(org, founder, datetime(2025, *b_end[:2], 0, 0, tzinfo=tz))

    row = roll_up_week(org=org, monday=monday, now=datetime(2025, 12, 1, tzinfo=UTC))
    after = roll_up_week(org=org, monday=monday + timedelta(weeks=1), now=datetime(2025, 12, 1, tzinfo=UTC))

    b_inside = Decimal("1.00")  # B's hour before midnight
    assert row.logged_hours == Decimal(week_hours)
    assert row.delegated_hours == Decimal(week_hours) - b_inside
    assert row.personal_hours == b_inside
    assert after.logged_hours == after.personal_hours == Decimal(next_hours)
    assert (row.owner_interruptions, after.owner_interruptions) == (1, 1)


def test_only_members_whose_role_is_founder_when_the_rollup_runs_count(org, founder, manager, other_org):
    # Monday 2025-02-24: the founder delegates 2 h, the service manager 3 h. The manager is a
    # founder of another organization: that membership does not make these hours a founder's.
    entry(org, founder, chi(2, 24, 9), chi(2, 24, 11))
    entry(org, manager, chi(2, 24, 9), chi(2, 24, 12))
    MembershipFactory(organization=other_org, user=manager, role=Role.FOUNDER)

    assert roll_up_week(org=org, monday=WEEK, now=LATER).delegated_hours == Decimal("2.00")

    Membership.objects.filter(organization=org, user=manager).update(role=Role.FOUNDER)
    assert roll_up_week(org=org, monday=WEEK, now=LATER).delegated_hours == Decimal("5.00")  # 2 + 3

    Membership.objects.filter(organization=org, user=founder).update(role=Role.VIEWER)
    assert roll_up_week(org=org, monday=WEEK, now=LATER).delegated_hours == Decimal("3.00")


def test_delegated_personal_logged_and_hours_per_tag(org, founder, stranger_membership):
    entry(org, founder, chi(2, 24, 9), chi(2, 24, 11), tags=["repetitive", "outsourceable"])  # 2 h
    entry(org, founder, chi(2, 24, 13), chi(2, 24, 13, 45), Handling.PERSONAL, ["systemizable"])  # 0.75 h
    entry(org, founder, chi(2, 25, 10), chi(2, 25, 11, 30), Handling.PERSONAL)  # 1.5 h, untagged
    entry(org, founder, chi(2, 26, 8), chi(2, 26, 8, 20), tags=["owner_by_habit", "repetitive"])  # 1/3 h
    stranger_org = stranger_membership.organization  # 8 h of another organization's founder
    entry(stranger_org, stranger_membership.user, chi(2, 24, 9), chi(2, 24, 17))

    row = roll_up_week(org=org, monday=WEEK, now=LATER)

    assert row.delegated_hours == Decimal("2.33")  # 2 + 0.333...
    assert row.personal_hours == Decimal("2.25")  # 0.75 + 1.5
    assert row.logged_hours == Decimal("4.58")  # 2 + 0.75 + 1.5 + 0.333... = 4.5833
    assert row.hours_by_tag == {  # an entry with several tags counts toward each
        "repetitive": "2.33", "outsourceable": "2.00", "systemizable": "0.75", "owner_by_habit": "0.33",
    }  # fmt: skip
    assert roll_up_week(org=stranger_org, monday=WEEK, now=LATER).logged_hours == Decimal("8.00")


# --- owner interruptions (SPEC 2.2) -----------------------------------------------------------


def test_owner_interruptions_count_about_ticket_ones_in_the_local_week_and_average_four_weeks(
    org, founder, other_org, stranger
):
    start, end = chi(2, 24), chi(3, 3)  # 06:00Z both
    ping(org, founder, start)  # the week's first instant: in
    ping(org, founder, chi(2, 26, 10))
    ping(org, founder, end - timedelta(seconds=1))  # its last second: in
    ping(org, founder, end)  # the next week's
    ping(org, founder, chi(2, 27, 10), about_ticket=False)  # not about a ticket
    ping(other_org, stranger, chi(2, 26, 10))  # another organization's
    # The week before (2025-02-17): 2, one of them on Monday 2025-02-24 in UTC (03:00Z) but
    # Sunday 21:00 in Chicago. Two weeks before: none. Three weeks before: 1. Four: 5 (too old).
    ping(org, founder, start - timedelta(seconds=1))
    ping(org, founder, datetime(2025, 2, 24, 3, tzinfo=UTC))
    ping(org, founder, chi(2, 4, 12))
    for hour in range(9, 14):
        ping(org, founder, chi(1, 28, hour))

    row = roll_up_week(org=org, monday=WEEK, now=LATER)

    assert row.owner_interruptions == 3
    assert row.owner_interruptions_4wk_avg == Decimal("1.50")  # (3 + 2 + 0 + 1) / 4
    assert row.status["owner_interruptions"] == "green"  # at most 2

    for hour in (11, 12, 13):
        ping(org, founder, chi(2, 28, hour))
    row = roll_up_week(org=org, monday=WEEK, now=LATER)

    assert row.owner_interruptions == 6
    assert row.owner_interruptions_4wk_avg == Decimal("2.25")  # (6 + 2 + 0 + 1) / 4
    assert row.status["owner_interruptions"] == "red"


def test_the_weeks_interruptions_by_category_and_channel_for_the_agenda(org, founder):
    for n, (category, channel) in enumerate(
        [
            ("VPN", "call"),
            ("vpn", "text"),
            ("Vpn", "call"),
            ("Backup", "email"),
            ("", "chat"),
            ("Backup", "call"),
            ("uncategorized", "chat"),  # a category of that name: the same as none, one count
        ]
    ):
        ping(org, founder, chi(2, 25, 9) + timedelta(minutes=n), category=category, channel=channel)
    ping(org, founder, chi(2, 25, 15), category="VPN", about_ticket=False)  # not about a ticket
    ping(org, founder, chi(3, 3, 9), category="VPN")  # next week

    row = roll_up_week(org=org, monday=WEEK, now=LATER)
    again = roll_up_week(org=org, monday=WEEK, now=LATER)

    # One name per category compared case-insensitively (the smallest spelling), Uncategorized.
    assert row.interruptions_by_category == {"VPN": 3, "Backup": 2, "Uncategorized": 2}
    assert row.interruptions_by_channel == {"call": 3, "chat": 2, "email": 1, "text": 1}
    assert figures(again) == figures(row)


# --- statuses from the organization's targets ---------------------------------------------------


def test_statuses_follow_the_organizations_targets_when_they_change(org, founder):
    entry(org, founder, chi(2, 24, 9), chi(2, 24, 15))  # 6 h delegated this week
    for weeks_back in range(1, 5):  # 8 h delegated in each of the 4 weeks before
        day = chi(2, 24, 9) - timedelta(weeks=weeks_back)
        entry(org, founder, day, day + timedelta(hours=8))
    for n in range(9):  # 9 this week, none before: (9 + 0 + 0 + 0) / 4 = 2.25
        ping(org, founder, chi(2, 25, 8) + timedelta(minutes=10 * n))
    for n in range(4):  # 4 aged tickets in one team
        aged_ticket(org, n)
    targets = kpi_targets(org)

    row = roll_up_week(org=org, monday=WEEK, now=LATER)
    assert row.status == {"delegated_hours": "amber", "owner_interruptions": "red", "aged_backlog": "red"}
    assert (row.managed_clients, row.level10_review) == (24, True)
    # The row keeps the targets it was judged by (for the dashboard; not in the API row).
    assert WeeklyKpi.objects.get(pk=row.pk).targets == {
        "delegated_hours_green": "10.00",
        "delegated_hours_amber": "5.00",
        "managed_clients_threshold": 20,
        "interruptions_4wk_green_max": "2.00",
        "aged_backlog_team_max": 3,
    }

    update_settings(
        row=targets,
        values={
            "delegated_hours_green": Decimal("6"),
            "interruptions_4wk_green_max": Decimal("2.25"),
            "aged_backlog_team_max": 4,
        },
    )
    row = roll_up_week(org=org, monday=WEEK, now=LATER)
    assert row.status == {"delegated_hours": "green", "owner_interruptions": "green", "aged_backlog": "green"}
    assert row.level10_review is True  # SPEC 2.3's trigger stays at 4 aged tickets of a team
    assert WeeklyKpi.objects.get(pk=row.pk).targets == {
        "delegated_hours_green": "6.00",
        "delegated_hours_amber": "5.00",
        "managed_clients_threshold": 20,
        "interruptions_4wk_green_max": "2.25",
        "aged_backlog_team_max": 4,
    }

    # 24 clients under a threshold of 30: the steady-increase goal. 6 h < the mean of 8 h.
    update_settings(row=targets, values={"managed_clients_threshold": 30})
    assert roll_up_week(org=org, monday=WEEK, now=LATER).status["delegated_hours"] == "amber"

    # The organization's client count is read at each rollup, and stored with the row.
    org.managed_clients = 40
    org.save()
    row = roll_up_week(org=org, monday=WEEK, now=LATER)
    assert (row.managed_clients, row.status["delegated_hours"]) == (40, "green")  # 6 h >= green 6


def test_the_steady_increase_row_keeps_the_unrounded_mean_it_was_compared_with(org, founder, api):
    # 12 managed clients (under 20): green when the week reaches the mean of the 4 weeks before.
    # Those weeks: 1.01 h, 2.00 h, none, none: a mean of 0.7525 h, which this week's 0.75 h misses.
    org.managed_clients = 12
    org.save()
    entry(org, founder, chi(2, 24, 9), chi(2, 24, 9, 45))
    first = entry(org, founder, chi(1, 27, 9), chi(1, 27, 10, 0, 36))  # 1.01 h, 4 weeks before
    entry(org, founder, chi(2, 3, 9), chi(2, 3, 11))  # 2.00 h, 3 weeks before

    row = roll_up_week(org=org, monday=WEEK, now=LATER)

    assert (row.delegated_hours, row.status["delegated_hours"]) == (Decimal("0.75"), "amber")
    assert row.delegated_hours_previous_mean == Decimal("0.7525")  # not rounded to 0.75
    assert WeeklyKpi.objects.get(pk=row.pk).delegated_hours_previous_mean == Decimal("0.7525")
    answered = api.get("/api/v1/kpis/weekly/", {"week": "2025-02-24"}).json()
    assert "delegated_hours_previous_mean" not in answered  # kept out of SPEC 4's row

    first.ended_at = chi(1, 27, 9, 59, 24)  # 0.99 h: a mean of 0.7475 h, which 0.75 h reaches
    first.save()
    row = roll_up_week(org=org, monday=WEEK, now=LATER)
    assert (row.delegated_hours_previous_mean, row.status["delegated_hours"]) == (Decimal("0.7475"), "green")


# --- final, computed_at, idempotency ------------------------------------------------------------


def test_final_only_for_weeks_that_ended_before_the_run_and_computed_at_is_the_run(org):
    end = chi(3, 3)  # the week of 2025-02-24 ends here
    assert roll_up_week(org=org, monday=WEEK, now=end - timedelta(microseconds=1)).final is False
    row = roll_up_week(org=org, monday=WEEK, now=end)
    assert (row.final, row.computed_at) == (True, end)

    now = chi(3, 5, 12)
    assert [(r.week, r.final) for r in (roll_up_week(org=org, monday=m, now=now) for m in (WEEK, NEXT))] == [
        (WEEK, True),
        (NEXT, False),
    ]
    assert {r.computed_at for r in WeeklyKpi.objects.for_org(org)} == {now}


def _history(org, founder):
    entry(org, founder, chi(2, 24, 9), chi(2, 24, 11), tags=["systemizable"])
    entry(org, founder, chi(3, 2, 23), chi(3, 3, 2), Handling.PERSONAL)
    entry(org, founder, chi(3, 4, 9), chi(3, 4, 9, 40))
    for day in (25, 26, 27):
        ping(org, founder, chi(2, day, 10))
    ping(org, founder, chi(3, 4, 10))
    for n in range(5):
        aged_ticket(org, n, team="Tier 2" if n % 2 else "", category=["VPN", "vpn", "MFA"][n % 3])


def test_two_rollups_give_the_same_rows_but_computed_at(org, founder):
    _history(org, founder)
    with time_machine.travel(chi(3, 5, 12), tick=False):
        first = {row.week: row for row in roll_up_org(org=org)}
    with time_machine.travel(chi(3, 5, 12, 30), tick=False):  # no ticket passes a target meanwhile
        second = {row.week: row for row in roll_up_org(org=org)}

    assert sorted(first) == sorted(second) == [WEEK, NEXT]
    for week in (WEEK, NEXT):
        assert figures(first[week]) == figures(second[week])
        assert first[week].pk == second[week].pk
        assert second[week].computed_at == chi(3, 5, 12, 30)
    assert WeeklyKpi.objects.for_org(org).count() == 2  # one row per organization and week
    stored = WeeklyKpi.objects.for_org(org).get(week=WEEK)
    assert figures(stored) == figures(first[WEEK])
    assert stored.aged_backlog_by_team == {"Tier 2": 2, "Unassigned": 3}


def test_a_rollup_of_one_organization_leaves_the_others_rows_alone(org, founder, other_org):
    _history(org, founder)
    roll_up_week(org=other_org, monday=WEEK, now=LATER)
    before = figures(WeeklyKpi.objects.get(organization=other_org))
    roll_up_org(org=org, mondays=[WEEK, NEXT])
    assert figures(WeeklyKpi.objects.get(organization=other_org)) == before
    assert WeeklyKpi.objects.count() == 3


# --- which weeks by default --------------------------------------------------------------------


def test_the_default_weeks_are_the_previous_and_current_one_in_the_organizations_zone(org):
    tokyo = OrganizationFactory(slug="tokyo", name="Tokyo MSP", timezone="Asia/Tokyo")
    # 2025-03-10 03:00Z is Monday in UTC but still Sunday 2025-03-09 22:00 CDT in Chicago.
    with time_machine.travel(datetime(2025, 3, 10, 3, tzinfo=UTC), tick=False):
        rows = roll_up_org(org=org)
    assert [(r.week, r.final) for r in rows] == [(date(2025, 2, 24), True), (date(2025, 3, 3), False)]

    # 2025-03-02 16:00Z is Sunday in UTC and already Monday 2025-03-03 01:00 in Tokyo.
    moment = datetime(2025, 3, 2, 16, tzinfo=UTC)
    assert weeks_to_refresh(tokyo, moment) == [date(2025, 2, 24), date(2025, 3, 3)]
    with time_machine.travel(moment, tick=False):
        rows = roll_up_org(org=tokyo)
    assert [(r.week, r.final) for r in rows] == [(date(2025, 2, 24), True), (date(2025, 3, 3), False)]


# --- query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 50])
def test_the_rollup_of_a_week_takes_as_many_queries_whatever_the_data(
    rows, org, founder, django_assert_num_queries
):
    for n in range(rows):
        start = chi(2, 24, 6) + timedelta(minutes=30 * n)  # 50 half hours: Monday 06:00 to Tuesday 07:00
        entry(org, founder, start, start + timedelta(minutes=25), tags=["repetitive"])
        ping(org, founder, start)
        aged_ticket(org, n, team=f"Team {n % 7}", category=f"Category {n % 11}")
    roll_up_week(org=org, monday=WEEK, now=LATER)  # the row exists: the counted run updates it

    # The SLA policy with the KPI targets, hours, interruptions by category and channel, aged
    # tickets by team and category, the row's upsert (one statement string) and reading it back.
    with django_assert_num_queries(6):
        row = roll_up_week(org=org, monday=WEEK, now=LATER)

    assert row.owner_interruptions == rows
    assert row.aged_backlog == rows
    assert row.logged_hours == (Decimal(rows) * 25 / 60).quantize(Decimal("0.01"))


def test_the_rollup_reads_the_settings_saved_or_else_spec_defaults(org):
    update_settings(row=sla_policy(org), values={"p3": Decimal("48")})
    update_settings(row=kpi_targets(org), values={"aged_backlog_team_max": 5})
    bare = OrganizationFactory()
    SlaPolicy.objects.filter(organization=bare).delete()
    KpiTargets.objects.filter(organization=bare).delete()

    policy, targets = rollup_settings(org)
    assert (policy.pk, policy.p3, targets.pk, targets.aged_backlog_team_max) == (
        sla_policy(org).pk, Decimal("48.00"), kpi_targets(org).pk, 5,
    )  # fmt: skip
    policy, targets = rollup_settings(bare)
    assert (policy.pk, policy.p3, targets.pk, targets.aged_backlog_team_max) == (None, Decimal("24"), None, 3)


@pytest.mark.parametrize("count", [2, 52])
def test_the_rollup_of_many_weeks_takes_as_many_queries_as_one(
    count, org, founder, django_assert_num_queries
):
    mondays = [WEEK - timedelta(weeks=n) for n in range(count)]
    for monday in mondays:
        start = datetime.combine(monday, time(9), tzinfo=CHI)
        entry(org, founder, start, start + timedelta(hours=1))
        ping(org, founder, start)

    roll_up_weeks(org=OrganizationFactory(), mondays=[WEEK])  # prepares the upsert (once per connection)

    # The same 4 reads and 1 write as for one week (without reading the rows back).
    with django_assert_num_queries(5):
        assert roll_up_weeks(org=org, mondays=mondays, now=LATER) == count

    rows = list(WeeklyKpi.objects.for_org(org).order_by("week"))
    assert [row.week for row in rows] == sorted(mondays)
    assert {(row.logged_hours, row.owner_interruptions) for row in rows} == {(Decimal("1.00"), 1)}


# --- two rollups at once on the real PostgreSQL (the nightly task and "recompute now") ---------


@pytest.mark.django_db(transaction=True)
def test_two_rollups_of_a_new_week_at_once_store_one_row(org, founder, monkeypatch):
    entry(org, founder, chi(2, 24, 9), chi(2, 24, 11))
    barrier = threading.Barrier(2, timeout=30)
    real = services.weeks_figures

    def figures_then_wait(*args, **kwargs):
        found = real(*args, **kwargs)
        barrier.wait()  # both have their figures: both write a row that does not exist yet
        return found

    monkeypatch.setattr(services, "weeks_figures", figures_then_wait)

    results = run_in_threads(
        lambda: roll_up_week(org=org, monday=WEEK, now=LATER),
        lambda: roll_up_week(org=org, monday=WEEK, now=LATER + timedelta(minutes=1)),
    )

    assert [type(result) for result in results] == [WeeklyKpi, WeeklyKpi]
    [row] = WeeklyKpi.objects.for_org(org)
    assert row.delegated_hours == Decimal("2.00")
    assert row.computed_at in (LATER, LATER + timedelta(minutes=1))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared upsert", "DB_PREPARED_STATEMENTS=false"])
def test_each_week_is_written_in_a_transaction_of_its_own(prepared, org, founder, monkeypatch, settings):
    settings.PREPARED_STATEMENTS = prepared
    mondays = [WEEK - timedelta(weeks=1), WEEK, NEXT]
    for monday in mondays:
        start = datetime.combine(monday, time(9), tzinfo=CHI)
        entry(org, founder, start, start + timedelta(hours=1))
    real = services.week_values

    def refused_for_the_middle_week(org, monday, *args):
        values = real(org, monday, *args)
        return {**values, "owner_interruptions": -1} if monday == WEEK else values

    monkeypatch.setattr(services, "week_values", refused_for_the_middle_week)

    with pytest.raises(IntegrityError, match="owner_interruptions"):
        roll_up_weeks(org=org, mondays=mondays, now=LATER)

    # The week before the refused one is written, the refused one and the one after are not,
    # and the connection is usable at once (no transaction left open).
    assert list(WeeklyKpi.objects.for_org(org).values_list("week", "logged_hours")) == [
        (WEEK - timedelta(weeks=1), Decimal("1.00"))
    ]
    monkeypatch.setattr(services, "week_values", real)
    assert roll_up_weeks(org=org, mondays=mondays, now=LATER) == 3
    assert WeeklyKpi.objects.for_org(org).count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_rollup_prepares_its_upsert_again_after_a_session_reset(org, founder):
    entry(org, founder, chi(2, 24, 9), chi(2, 24, 11))
    roll_up_weeks(org=org, mondays=[WEEK], now=LATER)
    with connection.cursor() as cursor:
        cursor.execute("DISCARD ALL")  # what a connection pooler does between clients

    assert roll_up_weeks(org=org, mondays=[WEEK, NEXT], now=LATER) == 2
    assert [row.delegated_hours for row in WeeklyKpi.objects.for_org(org)] == [
        Decimal("2.00"),
        Decimal("0.00"),
    ]
