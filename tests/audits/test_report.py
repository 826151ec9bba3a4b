"""The audit report (SPEC 1 "Time audit", SPEC 4 ``/audits/{id}/report/``) against hand-worked figures.

The audit starts Monday 2025-03-03 in America/Chicago: its window is 2025-03-03 00:00 CST to
2025-03-10 00:00 CDT, 167 hours, because 2025-03-09 (Sunday) springs forward and lasts 23 h.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audits.models import Category, TimeAudit, TimeEntry
from audits.selectors import audit_report
from audits.services import archive_category, save_time_entries, start_time_audit
from tests.factories import MembershipFactory

CHI = ZoneInfo("America/Chicago")
MONDAY = date(2025, 3, 3)
WINDOW = [MONDAY + timedelta(days=n) for n in range(7)]


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=CHI)


def entry(org, user, start, end, slug, tags=(), **fields) -> TimeEntry:
    made = TimeEntry(
        user=user,
        started_at=start,
        ended_at=end,
        activity=fields.pop("activity", f"{slug} work"),
        category=Category.objects.get(organization=org, slug=slug),
        **fields,
    )
    made.tags = tags
    return made


def h(value: str) -> Decimal:
    return Decimal(value)


@pytest.fixture
def audit(org, founder) -> TimeAudit:
    return start_time_audit(org=org, user=founder, start_date=MONDAY)


@pytest.fixture
def week(org, founder, manager, other_org, stranger, audit):
    """The founder's week (E1..E8) plus entries that must not count."""
    save_time_entries(
        org=org,
        entries=[
            # E1 Sun 23:00 before the window to Mon 01:00: 1 h inside (Monday).
            entry(
                org,
                founder,
                at(2, 23),
                at(3, 1),
                "tickets",
                ["repetitive", "outsourceable"],
                urgent=True,
                important=True,
            ),
            # E2 Mon 09:00-10:30: 1.5 h.
            entry(
                org,
                founder,
                at(3, 9),
                at(3, 10, 30),
                "escalations",
                ["owner_by_habit"],
                urgent=True,
                important=False,
            ),
            # E3 Tue 23:00 to Wed 02:00: 3 h, 1 h on Tuesday and 2 h on Wednesday.
            entry(
                org,
                founder,
                at(4, 23),
                at(5, 2),
                "tickets",
                ["repetitive"],
                handling="delegated",
                urgent=False,
                important=True,
            ),
            # E4 Wed 14:00-15:15: 1.25 h, untagged.
            entry(org, founder, at(5, 14), at(5, 15, 15), "sales", urgent=False, important=False),
            # E5 Thu 08:00-08:45: 0.75 h; important not assessed -> unflagged.
            entry(
                org,
                founder,
                at(6, 8),
                at(6, 8, 45),
                "vendor-calls",
                ["systemizable", "outsourceable"],
                handling="delegated",
                urgent=True,
                important=None,
            ),
            # E8 Thu 10:00-10:30: 0.5 h in tickets but untagged.
            entry(org, founder, at(6, 10), at(6, 10, 30), "tickets"),
            # Friday: nothing.
            # E6 Sat 22:00 CST to Sun 04:00 CDT: 5 real hours, 2 h Saturday and 3 h Sunday
            # (Sunday 02:00-03:00 does not exist).
            entry(org, founder, at(8, 22), at(9, 4), "other"),
            # E7 Sun 23:00 to Mon 01:00 after the window: 1 h inside (Sunday).
            entry(org, founder, at(9, 23), at(10, 1), "billing-admin", ["repetitive"]),
            # Outside the window entirely.
            entry(org, founder, at(10, 9), at(10, 17), "tickets", ["repetitive"]),
            entry(org, founder, at(2, 9), at(2, 17), "tickets", ["repetitive"]),
            # Another member of the org, inside the window.
            entry(org, manager, at(4, 9), at(4, 17), "tickets", ["repetitive"]),
        ],
    )
    # The founder's own entries in another organization, and a stranger's there.
    MembershipFactory(organization=other_org, user=founder)
    save_time_entries(
        org=other_org,
        entries=[
            entry(other_org, founder, at(7, 9), at(7, 17), "tickets", ["repetitive"]),
            entry(other_org, stranger, at(7, 9), at(7, 17), "sales"),
        ],
    )
    # Archived after the fact: its hours still count.
    archive_category(category=Category.objects.get(organization=org, slug="billing-admin"))


def test_logged_hours_and_days(audit, week):
    report = audit_report(audit)
    # 1 + 1.5 + 3 + 1.25 + 0.75 + 0.5 + 5 + 1 = 14
    assert report.logged_hours == h("14.00")
    assert report.hours_by_day == {
        date(2025, 3, 3): h("2.50"),  # E1 1 + E2 1.5
        date(2025, 3, 4): h("1.00"),  # E3 before midnight
        date(2025, 3, 5): h("3.25"),  # E3 2 after midnight + E4 1.25
        date(2025, 3, 6): h("1.25"),  # E5 0.75 + E8 0.5
        date(2025, 3, 7): h("0.00"),
        date(2025, 3, 8): h("2.00"),  # E6 before midnight
        date(2025, 3, 9): h("4.00"),  # E6 3 (23-hour day) + E7 1
    }
    assert report.empty_days == [date(2025, 3, 7)]
    assert (report.start_date, report.end_date) == (date(2025, 3, 3), date(2025, 3, 9))


def test_tags_untagged_and_reclaimable(audit, week):
    report = audit_report(audit)
    assert report.hours_by_tag == {
        "repetitive": h("5.00"),  # E1 1 + E3 3 + E7 1
        "outsourceable": h("1.75"),  # E1 1 + E5 0.75
        "systemizable": h("0.75"),  # E5
        "owner_by_habit": h("1.50"),  # E2
    }
    assert report.untagged_hours == h("6.75")  # E4 1.25 + E8 0.5 + E6 5
    # Tagged entries counted once: E1 1 + E2 1.5 + E3 3 + E5 0.75 + E7 1 = 7.25 (the tag sums give 9).
    assert report.reclaimable_hours == h("7.25")


def test_categories_kinds_and_handling(audit, week):
    report = audit_report(audit)
    assert report.hours_by_category == {
        "tickets": h("4.50"),  # E1 1 + E3 3 + E8 0.5
        "escalations": h("1.50"),
        "sales": h("1.25"),
        "vendor-calls": h("0.75"),
        "other": h("5.00"),
        "billing-admin": h("1.00"),  # archived since, still counted
    }
    assert report.in_business_hours == h(
        "7.75"
    )  # tickets 4.5 + escalations 1.5 + vendor-calls 0.75 + billing 1
    assert report.on_business_hours == h("1.25")  # sales; "other" (5) is neither
    assert report.personal_hours == h("10.25")  # E1 1 + E2 1.5 + E4 1.25 + E8 0.5 + E6 5 + E7 1
    assert report.delegated_hours == h("3.75")  # E3 3 + E5 0.75


def test_quadrants_with_unflagged(audit, week):
    assert audit_report(audit).quadrants == {
        "urgent_important": h("1.00"),  # E1
        "urgent_not_important": h("1.50"),  # E2
        "not_urgent_important": h("3.00"),  # E3
        "not_urgent_not_important": h("1.25"),  # E4
        "unflagged": h("7.25"),  # E5 (one flag null) 0.75 + E8 0.5 + E6 5 + E7 1
    }


def test_candidates_rank_categories_by_tagged_hours(audit, week):
    candidates = audit_report(audit).candidates
    # tickets 4 tagged (E8's 0.5 untagged does not count), escalations 1.5, billing-admin 1,
    # vendor-calls 0.75; sales and other have no tagged hours.
    assert [(c.category, c.hours, c.entries) for c in candidates] == [
        ("tickets", h("4.00"), 2),
        ("escalations", h("1.50"), 1),
        ("billing-admin", h("1.00"), 1),
        ("vendor-calls", h("0.75"), 1),
    ]
    assert candidates[0].hours_by_tag == {
        "repetitive": h("4.00"),  # E1 1 + E3 3
        "outsourceable": h("1.00"),  # E1
        "systemizable": h("0.00"),
        "owner_by_habit": h("0.00"),
    }
    assert candidates[3].hours_by_tag == {
        "repetitive": h("0.00"),
        "outsourceable": h("0.75"),
        "systemizable": h("0.75"),
        "owner_by_habit": h("0.00"),
    }


def test_at_most_five_candidates_ties_broken_by_slug(org, founder, audit):
    slugs = ["team", "projects", "onboarding", "documentation", "backlog", "approvals"]
    entries = [
        entry(org, founder, at(3, 8 + n), at(3, 9 + n), slug, ["systemizable"])
        for n, slug in enumerate(slugs)
    ]
    entries.append(entry(org, founder, at(4, 8), at(4, 10), "escalations", ["repetitive"]))
    save_time_entries(org=org, entries=entries)
    candidates = audit_report(audit).candidates
    # escalations 2 h first; then six categories tie at 1 h: by slug, the first four.
    assert [(c.category, c.hours) for c in candidates] == [
        ("escalations", h("2.00")),
        ("approvals", h("1.00")),
        ("backlog", h("1.00")),
        ("documentation", h("1.00")),
        ("onboarding", h("1.00")),
    ]


def test_an_audit_with_nothing_logged(audit):
    report = audit_report(audit)
    assert report.logged_hours == h("0.00")
    assert report.empty_days == WINDOW
    assert report.hours_by_category == {}
    assert report.candidates == []
    assert set(report.quadrants.values()) == {h("0.00")}


def test_a_day_holding_only_a_10_second_entry_is_not_empty(org, founder, audit):
    # SPEC 1: empty days are days with no entries; hours_by_day keeps its 2 places (0.00).
    save_time_entries(
        org=org, entries=[entry(org, founder, at(5, 9), at(5, 9) + timedelta(seconds=10), "tickets")]
    )
    report = audit_report(audit)
    assert report.hours_by_day[date(2025, 3, 5)] == h("0.00")
    assert report.empty_days == [day for day in WINDOW if day != date(2025, 3, 5)]
    assert report.hours_by_category == {"tickets": h("0.00")}
    assert report.logged_hours == h("0.00")


def test_a_full_dst_week_logs_167_hours(org, founder, audit):
    # Seven entries of a whole local day each: the Sunday of spring forward holds 23 h.
    save_time_entries(
        org=org,
        entries=[
            entry(
                org,
                founder,
                datetime.combine(d, datetime.min.time(), CHI),
                datetime.combine(d + timedelta(days=1), datetime.min.time(), CHI),
                "projects",
            )
            for d in WINDOW
        ],
    )
    report = audit_report(audit)
    assert report.logged_hours == h("167.00")  # 6 * 24 + 23
    assert report.hours_by_day[date(2025, 3, 9)] == h("23.00")
    assert report.empty_days == []


def test_the_api_shape(audit, week):
    data = audit_report(audit).as_api_dict()
    assert list(data) == [
        "audit", "user", "start_date", "end_date", "logged_hours", "hours_by_day", "empty_days",
        "hours_by_tag", "untagged_hours", "reclaimable_hours", "hours_by_category",
        "in_business_hours", "on_business_hours", "personal_hours", "delegated_hours",
        "quadrants", "candidates",
    ]  # fmt: skip
    assert (data["audit"], data["user"], data["start_date"], data["end_date"]) == (
        audit.pk,
        "fran",
        "2025-03-03",
        "2025-03-09",
    )
    assert data["hours_by_day"]["2025-03-09"] == h("4.00")
    assert data["empty_days"] == ["2025-03-07"]
    assert data["candidates"][0] == {
        "category": "tickets",
        "hours": h("4.00"),
        "hours_by_tag": {
            "repetitive": h("4.00"),
            "outsourceable": h("1.00"),
            "systemizable": h("0.00"),
            "owner_by_habit": h("0.00"),
        },
        "entries": 2,
    }


@pytest.mark.parametrize("count", [1, 50])
def test_the_report_costs_two_queries_whatever_the_number_of_entries(
    org, founder, audit, count, django_assert_num_queries
):
    start = at(3, 0)
    save_time_entries(
        org=org,
        entries=[
            entry(
                org,
                founder,
                start + timedelta(hours=3 * n),
                start + timedelta(hours=3 * n, minutes=50),
                ["tickets", "sales", "escalations"][n % 3],
                ["repetitive"] if n % 2 else [],
            )
            for n in range(count)
        ],
    )
    loaded = TimeAudit.objects.select_related("organization", "user").get(pk=audit.pk)
    with django_assert_num_queries(2):  # one aggregate, one GROUP BY category
        report = audit_report(loaded)
    assert report.logged_hours == (Decimal(count * 50) / 60).quantize(Decimal("0.01"))
