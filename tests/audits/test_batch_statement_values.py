"""A batch's INSERT takes each column as one array literal: whatever text, times and flags the
items hold, the rows stored are the items' values (quotes, backslashes, braces, "NULL"...)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from audits.models import _ENTRY_VALUE, ENTRY_FIELDS, Category, Source, TimeEntry, entry_values
from audits.services import save_time_entries
from tests.factories import TimeEntryFactory

TEXTS = ['say "hi"', "back\\slash", "{a,b}", "NULL", "", "tab\tnew\nline", "Café ☕ 𝄞", " padded ", "'quote'"]


def test_stored_rows_hold_the_items_values(org, founder, django_assert_num_queries):
    category = Category.objects.for_org(org).get(slug="tickets")
    chicago = ZoneInfo("America/Chicago")
    start = datetime(2025, 3, 3, 9, tzinfo=chicago)
    entries = [
        TimeEntry(
            organization=org,
            user=founder,
            category=category,
            started_at=start + timedelta(hours=n),
            ended_at=(start + timedelta(hours=n, minutes=30 + n)).astimezone(UTC),
            activity=text or "x",
            client=text,
            notes=text,
            external_id=None if n % 2 else f"ext-{text}",
            urgent=[True, False, None][n % 3],
            tag_repetitive=bool(n % 2),
            source=Source.API,
        )
        for n, text in enumerate(TEXTS)
    ]

    # a savepoint (in the test's transaction), the external_ids stored, an INSERT for the upserts
    # and one for the rest, the release
    with django_assert_num_queries(5):
        saved = save_time_entries(org=org, entries=entries, members={founder.pk}, categories=[category])

    stored = {e.pk: e for e in TimeEntry.objects.filter(pk__in=[s.obj.pk for s in saved])}
    columns = [
        "started_at",
        "ended_at",
        "activity",
        "client",
        "notes",
        "external_id",
        "urgent",
        "tag_repetitive",
    ]
    for item in saved:
        row = stored[item.obj.pk]
        assert [getattr(row, c) for c in columns] == [getattr(item.obj, c) for c in columns]
        assert row.source == "api"


def test_an_entrys_values_written_out_are_those_field_by_field(org, founder):
    chicago = ZoneInfo("America/Chicago")
    for entry in [
        TimeEntryFactory(organization=org, user=founder),
        TimeEntryFactory(
            organization=org,
            user=founder,
            tag_outsourceable=True,
            tag_owner_by_habit=True,
            urgent=True,
            important=None,
            client="Café",
            external_id="x-1",
            notes="n",
        ),
    ]:
        assert entry_values(entry, chicago) == {
            name: _ENTRY_VALUE[name](entry, chicago) for name in ENTRY_FIELDS
        }
        assert list(entry_values(entry, chicago)) == list(ENTRY_FIELDS)
