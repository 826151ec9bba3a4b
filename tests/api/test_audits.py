"""/api/v1/audits/ and /audits/{id}/report/ (SPEC 4): the report field for field."""

from __future__ import annotations

from datetime import date

from audits.models import TimeAudit
from tests.api.conftest import AUDITS, ENTRIES, at, item, post
from tests.factories import TimeAuditFactory


def test_start_list_and_read_an_audit(api, founder, manager):
    created = post(api, AUDITS, {"user": "sam", "start_date": "2025-03-03"})

    assert created.status_code == 201
    audit = TimeAudit.objects.get()
    assert created.json() == {
        "id": audit.pk,
        "user": "sam",
        "start_date": "2025-03-03",
        "end_date": "2025-03-09",
    }
    assert audit.user == manager
    assert api.get(f"{AUDITS}{audit.pk}/").json() == created.json()
    assert api.get(AUDITS).json() == {"next": None, "previous": None, "results": [created.json()]}


def test_audit_defaults_to_the_tokens_member_and_lists_newest_first(api, founder):
    older = post(api, AUDITS, {"start_date": "2025-03-03"}).json()
    newer = post(api, AUDITS, {"start_date": "2025-06-02"}).json()

    assert older["user"] == "fran"
    assert [a["id"] for a in api.get(AUDITS).json()["results"]] == [newer["id"], older["id"]]
    assert [a["id"] for a in api.get(AUDITS, {"user": "fran", "page_size": 1}).json()["results"]] == [
        newer["id"]
    ]


def test_the_same_audit_twice_is_refused(api, founder):
    post(api, AUDITS, {"start_date": "2025-03-03"})

    response = post(api, AUDITS, {"start_date": "2025-03-03"})

    assert response.status_code == 400
    assert response.json() == {"start_date": ["fran already has an audit starting 2025-03-03."]}
    assert TimeAudit.objects.count() == 1


def test_a_batch_of_audits_is_atomic(api, founder, manager):
    response = post(
        api,
        AUDITS,
        [
            {"start_date": "2025-03-03"},
            {"user": "sam", "start_date": "2025-03-03"},
            {"start_date": "2025-03-03"},
        ],
    )

    assert response.status_code == 400
    assert response.json() == [{}, {}, {"start_date": ["fran already has an audit starting 2025-03-03."]}]
    assert TimeAudit.objects.count() == 0


def test_audit_input_is_strict(api, founder):
    response = post(api, AUDITS, {"start_date": "03/03/2025", "end_date": "2025-03-09", "days": 7})

    assert response.status_code == 400
    assert response.json() == {
        "start_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
        "days": ["Unknown field. Known fields: user, start_date."],
    }


def test_report_field_for_field(api, founder, org):
    audit = TimeAuditFactory(organization=org, user=founder, start_date=date(2025, 3, 3))
    entries = [
        # Sunday 23:00 before the window to Monday 01:00: 1 h inside (Monday).
        item(
            started_at=at(23, day=2),
            ended_at=at(1, day=3),
            activity="Backup failed",
            category="escalations",
            tags=["repetitive", "outsourceable"],
            urgent=True,
            important=True,
        ),
        # Tuesday 09:00-10:30: 1.5 h, on the business, delegated, untagged, not urgent but important.
        item(
            started_at=at(9, day=4),
            ended_at=at(10, 30, day=4),
            activity="Quote",
            category="sales",
            handling="delegated",
            urgent=False,
            important=True,
        ),
        # Tuesday 11:00-11:45: 0.75 h of tickets, tagged systemizable, unflagged.
        item(
            started_at=at(11, day=4),
            ended_at=at(11, 45, day=4),
            activity="Password reset",
            category="tickets",
            tags=["systemizable"],
        ),
    ]
    assert post(api, ENTRIES, entries).status_code == 201

    response = api.get(f"{AUDITS}{audit.pk}/report/")

    assert response.status_code == 200
    assert response.json() == {
        "audit": audit.pk,
        "user": "fran",
        "start_date": "2025-03-03",
        "end_date": "2025-03-09",
        "logged_hours": 3.25,  # 1 + 1.5 + 0.75
        "hours_by_day": {
            "2025-03-03": 1.0,
            "2025-03-04": 2.25,  # 1.5 + 0.75
            "2025-03-05": 0.0,
            "2025-03-06": 0.0,
            "2025-03-07": 0.0,
            "2025-03-08": 0.0,
            "2025-03-09": 0.0,
        },
        "empty_days": ["2025-03-05", "2025-03-06", "2025-03-07", "2025-03-08", "2025-03-09"],
        "hours_by_tag": {
            "repetitive": 1.0,
            "outsourceable": 1.0,
            "systemizable": 0.75,
            "owner_by_habit": 0.0,
        },
        "untagged_hours": 1.5,
        "reclaimable_hours": 1.75,  # 1 + 0.75, each tagged entry once
        "hours_by_category": {"escalations": 1.0, "sales": 1.5, "tickets": 0.75},
        "in_business_hours": 1.75,  # escalations + tickets
        "on_business_hours": 1.5,  # sales
        "personal_hours": 1.75,
        "delegated_hours": 1.5,
        "quadrants": {
            "urgent_important": 1.0,
            "urgent_not_important": 0.0,
            "not_urgent_important": 1.5,
            "not_urgent_not_important": 0.0,
            "unflagged": 0.75,
        },
        "candidates": [
            {
                "category": "escalations",
                "hours": 1.0,
                "hours_by_tag": {
                    "repetitive": 1.0,
                    "outsourceable": 1.0,
                    "systemizable": 0.0,
                    "owner_by_habit": 0.0,
                },
                "entries": 1,
            },
            {
                "category": "tickets",
                "hours": 0.75,
                "hours_by_tag": {
                    "repetitive": 0.0,
                    "outsourceable": 0.0,
                    "systemizable": 0.75,
                    "owner_by_habit": 0.0,
                },
                "entries": 1,
            },
        ],
    }


def test_a_day_holding_only_a_10_second_entry_is_not_empty_in_the_report(api, founder, org):
    # SPEC 1: empty days are days with no entries; 10 s rounds to 0.00 h yet is an entry.
    audit = TimeAuditFactory(organization=org, user=founder, start_date=date(2025, 3, 3))
    short = item(
        started_at="2025-03-05T09:00:00-06:00",
        ended_at="2025-03-05T09:00:10-06:00",
        category="tickets",
        tags=["repetitive"],
    )
    assert post(api, ENTRIES, short).status_code == 201

    report = api.get(f"{AUDITS}{audit.pk}/report/").json()

    assert report["hours_by_day"]["2025-03-05"] == 0.0
    assert report["empty_days"] == [f"2025-03-0{day}" for day in (3, 4, 6, 7, 8, 9)]  # not the 5th
    assert report["hours_by_category"] == {"tickets": 0.0}
    assert [(c["category"], c["hours"], c["entries"]) for c in report["candidates"]] == [("tickets", 0.0, 1)]
