"""CSV export in our layout, and the round trip: export, import the same file, nothing changes."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest

from audits.csvio import OUR_COLUMNS, import_entries, write_entries_csv
from audits.models import Category, Handling, Source, TimeEntry
from audits.services import save_time_entries

FIELDS = [
    "pk",
    "user_id",
    "started_at",
    "ended_at",
    "activity",
    "category_id",
    "tag_repetitive",
    "tag_outsourceable",
    "tag_systemizable",
    "tag_owner_by_habit",
    "handling",
    "urgent",
    "important",
    "client",
    "ticket_ref",
    "notes",
    "external_id",
    "source",
]


def _entry(org, user, start, end, activity, slug="tickets", tags=(), **fields) -> TimeEntry:
    entry = TimeEntry(
        organization=org,
        user=user,
        started_at=start,
        ended_at=end,
        activity=activity,
        category=Category.objects.for_org(org).get(slug=slug),
        **fields,
    )
    entry.tags = tags
    return entry


@pytest.fixture
def entries(org, founder, technician):
    return save_time_entries(
        org=org,
        entries=[
            _entry(
                org,
                founder,
                datetime(2025, 3, 3, 14, tzinfo=UTC),
                datetime(2025, 3, 3, 14, 30, tzinfo=UTC),
                "Password resets",
                tags=["repetitive", "outsourceable"],
                urgent=True,
                important=False,
                external_id="psa-1",
            ),
            _entry(
                org,
                founder,
                datetime(2025, 3, 3, 15, tzinfo=UTC),
                datetime(2025, 3, 3, 16, 15, tzinfo=UTC),
                'QBR prep, "Lakeside"',
                slug="client-retention",
                client="Lakeside Dental",
                notes="Slides:\nbackups, Wi-Fi; renewals",
                source=Source.TIMER,
            ),
            # 23:30 local on Monday 2025-03-03 (CST, -06:00) is Tuesday 05:30 UTC.
            _entry(
                org,
                founder,
                datetime(2025, 3, 4, 5, 30, tzinfo=UTC),
                datetime(2025, 3, 4, 6, 15, tzinfo=UTC),
                "Late escalation",
                slug="escalations",
                tags=["owner_by_habit"],
                handling=Handling.DELEGATED,
                ticket_ref="T-9",
            ),
            _entry(
                org,
                technician,
                datetime(2025, 3, 3, 14, tzinfo=UTC),
                datetime(2025, 3, 3, 15, tzinfo=UTC),
                "Printer mapping",
            ),
        ],
    )


def _export(org, **filters) -> str:
    out = io.StringIO()
    write_entries_csv(org=org, out=out, **filters)
    return out.getvalue()


def test_export_writes_our_layout_with_local_offsets(org, founder, entries):
    lines = _export(org, user=founder).splitlines()
    ids = [saved.entry.pk for saved in entries]
    assert lines[0] == ",".join(OUR_COLUMNS)
    assert lines[1] == (
        f"{ids[0]},psa-1,fran,2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Password resets,tickets,"
        "repetitive;outsourceable,personal,true,false,,,,web"
    )
    assert lines[2] == (
        f'{ids[1]},,fran,2025-03-03T09:00:00-06:00,2025-03-03T10:15:00-06:00,"QBR prep, ""Lakeside""",'
        'client-retention,,personal,,,Lakeside Dental,,"Slides:'
    )
    assert lines[4] == (
        f"{ids[2]},,fran,2025-03-03T23:30:00-06:00,2025-03-04T00:15:00-06:00,Late escalation,escalations,"
        "owner_by_habit,delegated,,,,T-9,,web"
    )
    assert len(lines) == 5  # the technician's entry is not in the founder's export


def test_export_filters_by_local_dates_and_category(org, founder, entries):
    assert _export(org, date_from=date(2025, 3, 4)).count("\n") == 1  # header only: 23:30 belongs to the 3rd
    monday = _export(org, user=founder, date_from=date(2025, 3, 3), date_to=date(2025, 3, 3))
    assert "Late escalation" in monday
    escalations = _export(org, category=Category.objects.for_org(org).get(slug="escalations"))
    assert escalations.count("\r\n") == 2


def test_round_trip_changes_nothing_and_adds_nothing(org, founder, entries):
    before = list(TimeEntry.objects.for_org(org).order_by("pk").values_list(*FIELDS))
    exported = _export(org, user=founder)

    report = import_entries(org=org, member=founder, data=exported.encode())

    assert (report.created, report.updated, report.errors) == (0, 3, [])
    assert list(TimeEntry.objects.for_org(org).order_by("pk").values_list(*FIELDS)) == before
    assert _export(org, user=founder) == exported


def test_export_of_another_org_never_shows_these_entries(other_org, entries):
    assert _export(other_org).count("\r\n") == 1
