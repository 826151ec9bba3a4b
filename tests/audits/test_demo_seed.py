"""seed_demo's time-audit data: a finished audit with a real-looking report and 12 weeks of history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db.models import Count

from audits.demo import HISTORY_WEEKS, audit_monday, delegated_target_hours
from audits.models import Handling, TimeAudit, TimeEntry, duration_inside
from audits.selectors import audit_report
from msp_ops.lib.weeks import to_hours, week_bounds
from msp_ops.orgs.demo.seed import seed_demo

# A Wednesday; the Chicago DST change of 2026-11-01 lies inside the history.
NOW = "2026-11-25T15:00:00-06:00"


@pytest.fixture
def demo(db):
    with time_machine.travel(NOW, tick=False):
        return seed_demo()


def test_audit_week_is_the_last_complete_week_before_today(demo):
    assert audit_monday(demo.org, date(2026, 11, 25)) == date(2026, 11, 16)
    assert audit_monday(demo.org, date(2026, 11, 23)) == date(2026, 11, 16)  # a Monday: last week
    assert audit_monday(demo.org, date(2026, 11, 22)) == date(2026, 11, 9)  # a Sunday: not complete yet


def test_founder_has_a_finished_audit_with_three_to_five_candidates_and_no_empty_days(demo):
    audit = TimeAudit.objects.for_org(demo.org).get(user__username="founder")
    assert audit.start_date == date(2026, 11, 16)
    assert audit.end_date == date(2026, 11, 22)
    report = audit_report(audit)
    assert report.empty_days == []
    assert 3 <= len(report.candidates) <= 5
    assert report.logged_hours > 45  # five 9-10.5 h weekdays and a short weekend
    assert report.delegated_hours > 0
    assert report.reclaimable_hours > 0
    assert report.quadrants["urgent_important"] > 0
    assert report.quadrants["unflagged"] > 0
    assert "escalations" in [candidate.category for candidate in report.candidates]


def test_history_covers_twelve_weeks_for_three_members(demo):
    org = demo.org
    first_monday = date(2026, 11, 16) - timedelta(weeks=HISTORY_WEEKS - 1)
    assert first_monday == date(2026, 8, 31)
    entries = TimeEntry.objects.for_org(org)
    assert entries.order_by("started_at").first().started_at.astimezone(org.tz).date() == first_monday
    # The history's current week runs up to yesterday (Tuesday 2026-11-24); today is seed_today's.
    history = entries.exclude(external_id__startswith="demo-today-")
    assert history.order_by("-started_at").first().started_at.astimezone(org.tz).date() == date(2026, 11, 24)
    per_user = dict(entries.values_list("user__username").annotate(n=Count("pk")))
    assert set(per_user) == {"founder", "manager", "tech"}
    assert per_user["founder"] > per_user["manager"] > 0


def test_founder_delegated_hours_grow_every_week(demo):
    org = demo.org
    founder_entries = TimeEntry.objects.for_org(org).filter(
        user__username="founder", handling=Handling.DELEGATED
    )
    hours = []
    for k in range(HISTORY_WEEKS):
        start, end = week_bounds(date(2026, 8, 31) + timedelta(weeks=k), org.tz)
        total = founder_entries.overlapping(start, end).aggregate(h=duration_inside(start, end))["h"]
        hours.append(float(to_hours(total)))
        # Handed off until the target is reached, by entries of at most 1 h each.
        assert delegated_target_hours(k) <= hours[-1] < delegated_target_hours(k) + 1
    assert hours == sorted(hours)
    assert len(set(hours)) == HISTORY_WEEKS


def test_seed_is_deterministic(demo):
    first = list(
        TimeEntry.objects.for_org(demo.org).values_list(
            "user__username", "started_at", "ended_at", "activity"
        )
    )
    TimeAudit.objects.all().delete()
    TimeEntry.objects.all().delete()
    demo.org.delete()
    with time_machine.travel(NOW, tick=False):
        again = seed_demo()
    second = list(
        TimeEntry.objects.for_org(again.org).values_list(
            "user__username", "started_at", "ended_at", "activity"
        )
    )
    assert first == second


def test_seed_note_names_the_audit(demo):
    assert any(
        note.startswith("Time audit: founder's finished 7-day audit from 2026-11-16") for note in demo.notes
    )
