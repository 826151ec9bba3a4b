"""The entry form and the quick-add line on the DST days of America/Chicago (msp_ops/lib/weeks.py).

2026-03-08: at 2:00 CST clocks jump to 3:00 CDT. 2026-11-01: at 2:00 CDT they fall back to 1:00 CST.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from audits.forms import EntryForm
from audits.models import Category, TimeEntry
from audits.services import record_time_entry

CHI = ZoneInfo("America/Chicago")
HTMX = {"HTTP_HX_REQUEST": "true"}
ENTRIES = "/audits/today/entries/"
GAP = (
    "does not exist on 2026-03-08 in America/Chicago: clocks jump from 2:00 to 3:00 "
    "(daylight saving time starts)."
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def form_data(**changes) -> dict:
    data = {
        "date": "2026-11-01",
        "start": "01:00",
        "end": "03:00",
        "activity": "Patch night",
        "category": "tickets",
        "handling": "personal",
        "urgent": "unknown",
        "important": "unknown",
    }
    data.update(changes)
    return data


# --- the form alone (no database) ---------------------------------------------------------


def entry_form(data: dict, entry: TimeEntry | None = None) -> EntryForm:
    categories = [Category(slug="tickets", name="Tickets"), Category(slug="other", name="Other")]
    return EntryForm(data, categories=categories, tz=CHI, entry=entry)


def test_the_form_reads_a_fall_back_range_as_real_time():
    form = entry_form(form_data())
    assert form.is_valid(), form.errors
    started_at, ended_at = form.cleaned_data["started_at"], form.cleaned_data["ended_at"]
    # 1:00 CDT (the first 1:00) to 3:00 CST: 3 hours.
    assert (started_at.astimezone(UTC), ended_at.astimezone(UTC)) == (
        utc(2026, 11, 1, 6),
        utc(2026, 11, 1, 9),
    )


@pytest.mark.parametrize(
    ("start", "end", "errors"),
    [
        ("02:30", "04:00", {"start": [f"2:30 {GAP}"]}),
        ("01:30", "02:15", {"end": [f"2:15 {GAP}"]}),
        ("02:15", "02:45", {"start": [f"2:15 {GAP}"], "end": [f"2:45 {GAP}"]}),
    ],
)
def test_the_form_refuses_a_time_in_the_spring_forward_gap_under_its_field(start, end, errors):
    form = entry_form(form_data(date="2026-03-08", start=start, end=end))
    assert not form.is_valid()
    assert form.errors == errors
    assert "started_at" not in form.cleaned_data


def test_the_form_of_an_entry_in_the_second_repeated_hour_keeps_it():
    # 1:30 CST to 2:30 CST: the second 1:30. Saving it unchanged must not move it an hour earlier.
    entry = TimeEntry(
        started_at=utc(2026, 11, 1, 7, 30),
        ended_at=utc(2026, 11, 1, 8, 30),
        activity="Patch night",
        category=Category(slug="tickets", name="Tickets"),
    )
    shown = entry_form(None, entry)
    assert (shown.initial["date"], shown.initial["start"], shown.initial["end"]) == (
        date(2026, 11, 1),
        time(1, 30),
        time(2, 30),
    )
    form = entry_form(form_data(start="01:30", end="02:30", activity="Patch night (done)"), entry)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["started_at"].astimezone(UTC) == utc(2026, 11, 1, 7, 30)
    # A new time typed in the repeated hour is its first occurrence, as for a new entry.
    form = entry_form(form_data(start="01:15", end="02:30"), entry)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["started_at"].astimezone(UTC) == utc(2026, 11, 1, 6, 15)


# --- through the Today page -------------------------------------------------------------


def test_the_page_stores_a_fall_back_range_of_three_hours(founder_client):
    response = founder_client.post(f"{ENTRIES}?day=2026-11-01", form_data(), **HTMX)
    assert response.status_code == 200
    stored = TimeEntry.objects.get()
    assert (stored.started_at, stored.ended_at) == (utc(2026, 11, 1, 6), utc(2026, 11, 1, 9))
    assert str(stored.duration_hours) == "3.00"


def test_the_page_refuses_a_time_in_the_spring_forward_gap(founder_client):
    response = founder_client.post(
        f"{ENTRIES}?day=2026-03-08", form_data(date="2026-03-08", start="02:30", end="04:00"), **HTMX
    )
    assert response.status_code == 422
    assert f"2:30 {GAP}" in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_the_page_stores_a_spring_forward_range_as_real_time(founder_client):
    response = founder_client.post(
        f"{ENTRIES}?day=2026-03-08", form_data(date="2026-03-08", start="01:30", end="03:15"), **HTMX
    )
    assert response.status_code == 200
    stored = TimeEntry.objects.get()
    assert (stored.started_at, stored.ended_at) == (utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8, 15))
    assert str(stored.duration_hours) == "0.75"


def test_editing_an_entry_of_the_second_repeated_hour_keeps_its_times(founder_client, org, founder):
    saved = record_time_entry(
        org=org,
        entry=TimeEntry(
            user=founder,
            started_at=utc(2026, 11, 1, 7, 30),  # 1:30 CST
            ended_at=utc(2026, 11, 1, 8, 30),  # 2:30 CST
            activity="Patch night",
            category=Category.objects.get(organization=org, slug="tickets"),
        ),
    ).entry
    data = form_data(start="01:30", end="02:30", activity="Patch night (done)")
    response = founder_client.post(f"{ENTRIES}{saved.pk}/edit/?day=2026-11-01", data, **HTMX)
    assert response.status_code == 200
    saved.refresh_from_db()
    assert (saved.activity, saved.started_at, saved.ended_at) == (
        "Patch night (done)",
        utc(2026, 11, 1, 7, 30),
        utc(2026, 11, 1, 8, 30),
    )


@time_machine.travel(datetime(2026, 3, 8, 3, 10, 30, tzinfo=CHI), tick=False)
def test_the_quick_add_line_on_the_spring_forward_morning(founder_client):
    response = founder_client.post(
        "/audits/today/quick-add/?day=2026-03-08", {"line": "45m Vendor call"}, **HTMX
    )
    assert response.status_code == 200
    stored = TimeEntry.objects.get()
    # 3:10 CDT is 08:10 UTC; 45 real minutes before is 1:25 CST (07:25 UTC).
    assert (stored.started_at, stored.ended_at) == (utc(2026, 3, 8, 7, 25), utc(2026, 3, 8, 8, 10))
    assert str(stored.duration_hours) == "0.75"

    refused = founder_client.post(
        "/audits/today/quick-add/?day=2026-03-08", {"line": "2:15-2:45 Patch"}, **HTMX
    )
    assert refused.status_code == 422
    assert f"2:15 {GAP}" in refused.content.decode()
    assert TimeEntry.objects.count() == 1
