"""seed_demo's entries for today: the demo founder's Today page is not empty on the first visit."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model

from audits.demo import seed_today, today_external_id
from audits.models import Category, RunningTimer, TimeEntry
from audits.selectors import day_entries
from msp_ops.lib.weeks import as_utc, day_bounds, elapsed, local_moment
from msp_ops.orgs.demo.seed import seed_demo

# The same Wednesday as test_demo_seed: 15:00 in Chicago.
NOW = "2026-11-25T15:00:00-06:00"
DAY = date(2026, 11, 25)


@pytest.fixture
def demo(db):
    with time_machine.travel(NOW, tick=False):
        return seed_demo()


def founder():
    return get_user_model().objects.get(username="founder")


def entries_on(org, day: date, **filters):
    entries = TimeEntry.objects.for_org(org).filter(**filters)
    return entries.overlapping(*day_bounds(day, org.tz)).order_by("started_at")


def assert_no_overlaps(entries) -> None:
    for earlier, later in itertools.pairwise(entries):
        assert as_utc(earlier.ended_at) <= as_utc(later.started_at)


def test_founder_has_todays_entries_up_to_now_and_nothing_later(demo):
    org = demo.org
    today = list(entries_on(org, DAY))
    assert today, "the founder's Today page would be empty"
    assert {entry.user.username for entry in today} == {"founder"}  # the history stops yesterday
    now = datetime.fromisoformat(NOW)
    assert all(as_utc(entry.ended_at) <= as_utc(now) for entry in today)
    assert as_utc(today[0].started_at) >= as_utc(local_moment(DAY, time(7, 30), org.tz))
    assert sum((elapsed(e.started_at, e.ended_at) for e in today), timedelta()) > timedelta(hours=4)
    numbered = [today_external_id(DAY, n) for n in range(1, len(today) + 1)]
    assert [entry.external_id for entry in today] == numbered
    assert today_external_id(DAY, 1) == "demo-today-2026-11-25-1"
    assert f"Today: {len(today)} entries for the founder so far, 07:" in demo.notes[0]


def test_todays_entries_overlap_nothing(demo):
    assert_no_overlaps(
        list(TimeEntry.objects.for_org(demo.org).filter(user=founder()).order_by("started_at"))
    )


def test_the_today_page_lists_them(demo, client):
    client.force_login(founder())
    with time_machine.travel(NOW, tick=False):
        html = client.get("/audits/today/").content.decode()
        shown = day_entries(org=demo.org, user=founder(), day=DAY)
    first = entries_on(demo.org, DAY).first()
    assert first.activity.replace("'", "&#x27;") in html
    assert len(shown.entries) == entries_on(demo.org, DAY).count()


def test_seeding_again_the_same_day_adds_nothing(demo):
    before = list(TimeEntry.objects.for_org(demo.org).values_list("pk", "started_at", "ended_at"))
    with time_machine.travel("2026-11-25T18:30:00-06:00", tick=False):
        assert seed_today(demo.org) is None
        again = seed_demo()
    assert not again.created
    assert list(TimeEntry.objects.for_org(demo.org).values_list("pk", "started_at", "ended_at")) == before


def test_the_next_day_gets_its_own_entries_and_yesterdays_stay(demo):
    yesterday = list(entries_on(demo.org, DAY).values_list("external_id", "started_at", "ended_at"))
    with time_machine.travel("2026-11-26T10:00:00-06:00", tick=False):
        note = seed_today(demo.org)
    assert note.startswith("Today: ")
    next_day = list(entries_on(demo.org, date(2026, 11, 26)))
    assert next_day[0].external_id == "demo-today-2026-11-26-1"
    ten = datetime.fromisoformat("2026-11-26T10:00:00-06:00")
    assert all(as_utc(entry.ended_at) <= as_utc(ten) for entry in next_day)
    assert list(entries_on(demo.org, DAY).values_list("external_id", "started_at", "ended_at")) == yesterday
    assert_no_overlaps(
        list(TimeEntry.objects.for_org(demo.org).filter(user=founder()).order_by("started_at"))
    )


def test_nothing_when_the_founder_logged_time_today(demo):
    org = demo.org
    with time_machine.travel("2026-11-26T09:00:00-06:00", tick=False):
        TimeEntry.objects.create(
            organization=org,
            user=founder(),
            started_at=local_moment(date(2026, 11, 26), time(6, 0), org.tz),
            ended_at=local_moment(date(2026, 11, 26), time(6, 30), org.tz),
            activity="Logged by the user",
            category=Category.objects.for_org(org).get(slug="other"),
        )
        assert seed_today(org) is None
    assert entries_on(org, date(2026, 11, 26)).count() == 1


def test_a_running_timer_bounds_the_entries(demo):
    org = demo.org
    started = local_moment(date(2026, 11, 26), time(11, 0), org.tz)
    RunningTimer.objects.create(organization=org, user=founder(), started_at=started, activity="On a call")
    with time_machine.travel("2026-11-26T16:00:00-06:00", tick=False):
        assert seed_today(org) is not None
    entries = list(entries_on(org, date(2026, 11, 26)))
    assert entries
    assert all(as_utc(entry.ended_at) <= as_utc(started) for entry in entries)


@pytest.mark.parametrize(
    "now",
    [
        "2026-11-26T06:00:00-06:00",  # before the working day
        "2026-03-08T03:10:00-05:00",  # the spring-forward morning: 2 h 10 on the clock, 1 h 10 real
        "2026-11-01T01:40:00-06:00",  # the fall-back night, in the repeated hour's second pass
    ],
)
def test_before_the_working_day_one_short_check_of_the_overnight_queue(db, now):
    moment = datetime.fromisoformat(now)
    with time_machine.travel(moment, tick=False):
        demo = seed_demo()
    tz = demo.org.tz
    (entry,) = entries_on(demo.org, moment.astimezone(tz).date(), user__username="founder")
    start, end = entry.started_at.astimezone(tz), entry.ended_at.astimezone(tz)
    assert f"Today: 1 entry for the founder so far, {start:%H:%M} to {end:%H:%M}." in demo.notes[0]
    assert elapsed(start, end) in (timedelta(minutes=15), timedelta(minutes=30))
    assert as_utc(day_bounds(moment.astimezone(tz).date(), tz)[0]) <= as_utc(start)
    assert timedelta(minutes=5) <= as_utc(moment) - as_utc(end) < timedelta(minutes=10)
    assert entry.category.slug == "tickets"


def test_nothing_in_the_first_minutes_after_midnight(demo):
    with time_machine.travel("2026-11-26T00:15:00-06:00", tick=False):
        assert seed_today(demo.org) is None
    assert not entries_on(demo.org, date(2026, 11, 26)).exists()
