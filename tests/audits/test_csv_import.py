"""CSV import (SPEC 5): each format, the per-row report, atomicity, skipping, idempotency, DST."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.csvio import CsvFileError, CsvFormat, RowError, import_entries
from audits.models import Category, Handling, Source, TimeEntry
from tests.factories import TimeEntryFactory

DATA = Path(__file__).parent / "data"
HEADER = "started_at,ended_at,activity,category,tags"
TOGGL_HEAD = (
    "User,Email,Client,Project,Task,Description,Billable,"
    "Start date,Start time,End date,End time,Duration,Tags"
)


def _ours(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _run(org, member, data: bytes, **kwargs):
    return import_entries(org=org, member=member, data=data, **kwargs)


# --- formats --------------------------------------------------------------------------


def test_our_layout_is_imported_with_every_column(org, founder):
    report = _run(org, founder, (DATA / "ours_small.csv").read_bytes())

    assert report.format == CsvFormat.OURS
    assert (report.rows, report.created, report.updated, report.errors) == (3, 3, 0, [])
    triage, qbr, escalation = TimeEntry.objects.for_org(org).order_by("started_at")
    # 08:00-06:00 is 14:00 UTC.
    assert (triage.started_at, triage.ended_at) == (_utc(2025, 3, 3, 14), _utc(2025, 3, 3, 14, 30))
    assert triage.tags == ["repetitive", "outsourceable"]
    assert (triage.urgent, triage.important, triage.external_id) == (True, False, "psa-101")
    assert triage.source == Source.IMPORT
    assert qbr.activity == "QBR prep for Lakeside Dental, slides"
    assert qbr.category.slug == "client-retention"
    assert (qbr.tags, qbr.handling, qbr.external_id) == ([], Handling.PERSONAL, None)
    assert qbr.notes == "Pulled the backup report; ask about the Wi-Fi"
    assert escalation.category.slug == "escalations"  # matched by name, case-insensitively
    assert escalation.tags == ["systemizable", "owner_by_habit"]
    assert (escalation.handling, escalation.ticket_ref) == (Handling.DELEGATED, "T-4411")
    assert {e.user for e in (triage, qbr, escalation)} == {founder}


def test_toggl_detailed_export_is_read_in_the_org_timezone(org, founder):
    report = _run(org, founder, (DATA / "toggl_detailed.csv").read_bytes())

    assert report.format == CsvFormat.TOGGL
    assert (report.created, report.updated, report.errors) == (4, 0, [])
    vpn, resets, vendor, late = TimeEntry.objects.for_org(org).order_by("started_at")
    # 2025-03-04 09:00 in Chicago (CST, -06:00) is 15:00 UTC.
    assert (vpn.started_at, vpn.ended_at) == (_utc(2025, 3, 4, 15), _utc(2025, 3, 4, 15, 45))
    assert vpn.activity == "VPN auth failure after the firewall update"
    assert (vpn.category.slug, vpn.client) == ("escalations", "Lakeside Dental")
    assert vpn.tags == ["systemizable", "owner_by_habit"]  # "Owner by habit" matched
    assert resets.tags == ["repetitive"]  # "billable-review" is not one of ours: ignored
    assert (resets.notes, resets.category.slug) == ("Password resets", "tickets")  # Task -> notes
    assert vendor.category.slug == "vendor-calls"  # project "Vendor Calls" = category name
    assert late.category.slug == "other"  # project "Marketing" matches no category
    # 23:30 to 00:15 the next day: 45 minutes across midnight.
    assert (late.started_at, late.ended_at) == (_utc(2025, 3, 6, 5, 30), _utc(2025, 3, 6, 6, 15))
    assert late.tags == ["owner_by_habit"]
    assert all(e.external_id.startswith("toggl:") and e.source == Source.IMPORT for e in (vpn, late))


def test_clockify_detailed_export_with_bom_us_dates_and_12h_times(org, founder):
    report = _run(org, founder, (DATA / "clockify_detailed.csv").read_bytes())

    assert report.format == CsvFormat.CLOCKIFY
    assert (report.created, report.errors) == (3, [])
    qbr, mfa, planning = TimeEntry.objects.for_org(org).order_by("started_at")
    # 03/04/2025 02:00:00 PM Chicago = 20:00 UTC; 03:15:00 PM = 21:15 UTC.
    assert (qbr.started_at, qbr.ended_at) == (_utc(2025, 3, 4, 20), _utc(2025, 3, 4, 21, 15))
    assert (qbr.category.slug, qbr.client, qbr.tags) == ("client-retention", "Prairie CPA Group", [])
    assert (mfa.started_at, mfa.category.slug) == (_utc(2025, 3, 5, 14), "tickets")
    assert mfa.tags == ["repetitive", "outsourceable"]
    # No description: the task names the activity; project "Internal" is not a category.
    assert (planning.activity, planning.category.slug, planning.tags) == (
        "Weekly planning",
        "other",
        ["systemizable"],
    )
    assert planning.external_id.startswith("clockify:")


def test_format_can_be_forced(org, founder):
    report = _run(org, founder, (DATA / "toggl_detailed.csv").read_bytes(), fmt="clockify")
    assert report.format == CsvFormat.CLOCKIFY
    assert report.created == 4


def test_archived_category_is_not_given_to_tracker_rows(org, founder):
    Category.objects.for_org(org).filter(slug="vendor-calls").update(archived=True)
    _run(org, founder, (DATA / "toggl_detailed.csv").read_bytes())
    assert TimeEntry.objects.for_org(org).get(activity__startswith="Distributor").category.slug == "other"


# --- idempotency ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["toggl_detailed.csv", "clockify_detailed.csv"])
def test_reimporting_a_tracker_file_updates_instead_of_duplicating(org, founder, name):
    data = (DATA / name).read_bytes()
    first = _run(org, founder, data)
    stored = set(TimeEntry.objects.values_list("pk", "external_id"))

    second = _run(org, founder, data)

    assert (second.created, second.updated, second.errors) == (0, first.created, [])
    assert set(TimeEntry.objects.values_list("pk", "external_id")) == stored


def test_reimporting_our_file_updates_rows_with_external_id_and_refuses_a_copy_of_the_others(org, founder):
    data = (DATA / "ours_small.csv").read_bytes()
    _run(org, founder, data)
    qbr = TimeEntry.objects.get(external_id=None)

    report = _run(org, founder, data)

    # Row 3 has neither id nor external_id: it would be a new entry on top of the first copy.
    assert report.errors == [
        RowError(3, "started_at", f"Overlaps entry #{qbr.pk}: QBR prep for Lakeside Dental, slides")
    ]
    assert TimeEntry.objects.count() == 3


def test_same_tracker_file_for_two_members_gives_each_their_own_entries(org, founder, manager):
    data = (DATA / "toggl_detailed.csv").read_bytes()
    _run(org, founder, data)
    report = _run(org, manager, data)
    assert report.created == 4
    assert TimeEntry.objects.for_org(org).filter(user=manager).count() == 4


# --- the per-row report and atomicity -------------------------------------------------


def test_a_file_with_one_bad_row_stores_nothing_and_names_row_column_and_message(org, founder):
    data = _ours(
        "2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage,tickets,repetitive",
        "2025-03-03T09:00:00-06:00,2025-03-03T08:45:00-06:00,Vendor call,vendor-calls,",
        "2025-03-03T10:00:00-06:00,2025-03-03T10:30:00-06:00,Quote,sales,",
    )
    report = _run(org, founder, data)

    assert report.refused
    assert report.errors == [RowError(3, "ended_at", "The entry must end after it starts.")]
    assert (report.created, report.updated) == (0, 0)
    assert report.summary == (
        "msp-ops CSV, 3 rows: nothing was stored because 1 row has errors. "
        "Fix them, or choose to skip bad rows."
    )
    assert not TimeEntry.objects.exists()


def test_parse_errors_and_batch_errors_are_reported_together(org, founder):
    stored = TimeEntryFactory(
        organization=org,
        user=founder,
        started_at=_utc(2025, 3, 3, 20),
        ended_at=_utc(2025, 3, 3, 21),
        activity="Payroll",
    )
    data = _ours(
        "2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage,tickets,repetitive;weekly",  # row 2
        "2025-03-03T09:00:00,2025-03-03T09:30:00-06:00,Call,vendor-calls,",  # row 3: naive
        "2025-03-03T10:00:00-06:00,2025-03-03T11:00:00-06:00,QBR prep,client-retention,",  # row 4
        "2025-03-03T10:30:00-06:00,2025-03-03T10:45:00-06:00,Password reset,tickets,",  # row 5: overlaps 4
        "2025-03-03T14:30:00-06:00,2025-03-03T15:30:00-06:00,Billing,billing-admin,",  # 6: overlaps stored
        "2025-03-03T16:00:00-06:00,2025-03-03T16:30:00-06:00,Hiring,recruiting,",  # row 7: no such category
        "2025-03-03T17:00:00-06:00,2025-03-03T17:30:00-06:00,,tickets,",  # row 8: no activity
    )
    report = _run(org, founder, data)

    assert report.errors == [
        RowError(
            2, "tags", "Unknown tag 'weekly'; use repetitive, outsourceable, systemizable, owner_by_habit."
        ),
        RowError(
            3, "started_at", "'2025-03-03T09:00:00' has no UTC offset; write e.g. 2025-03-03T09:00:00-06:00."
        ),
        RowError(5, "started_at", "Overlaps row 4 of this file: QBR prep"),
        RowError(6, "started_at", f"Overlaps entry #{stored.pk}: Payroll"),
        RowError(
            7, "category", "Unknown category 'recruiting'; use a category slug or name of this organization."
        ),
        RowError(8, "activity", "This field cannot be blank."),
    ]
    assert TimeEntry.objects.count() == 1


def test_skip_bad_rows_stores_the_good_ones_and_lists_the_skipped(org, founder):
    data = _ours(
        "2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage,tickets,",
        "2025-03-03T08:15:00-06:00,2025-03-03T08:45:00-06:00,Reset,tickets,",  # overlaps row 2
        "2025-03-03T09:00:00-06:00,2025-03-03T09:30:00-06:00,Vendor call,vendor-calls,urgent",
        "2025-03-03T10:00:00-06:00,2025-03-03T10:30:00-06:00,Quote,sales,",
    )
    report = _run(org, founder, data, skip_bad_rows=True)

    assert (report.created, report.updated, report.skipped) == (2, 0, 2)
    assert [(e.row, e.column) for e in report.errors] == [(3, "started_at"), (4, "tags")]
    assert report.summary == "msp-ops CSV, 4 rows: 2 created, 0 updated, 2 skipped."
    assert list(TimeEntry.objects.values_list("activity", flat=True)) == ["Triage", "Quote"]


def test_skip_bad_rows_with_every_row_bad_stores_nothing(org, founder):
    data = _ours("2025-03-03T08:00:00-06:00,2025-03-03T07:30:00-06:00,Triage,tickets,")
    report = _run(org, founder, data, skip_bad_rows=True)
    assert (report.created, report.skipped) == (0, 1)
    assert not TimeEntry.objects.exists()


def test_row_for_another_user_or_foreign_external_id_is_refused(org, founder, technician):
    TimeEntryFactory(organization=org, user=technician, external_id="psa-7")
    data = _ours(
        "tess,,2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage",
        ",psa-7,2025-03-03T09:00:00-06:00,2025-03-03T09:30:00-06:00,Takeover",
        ",,2025-03-03T10:00:00-06:00,2025-03-03T10:30:00-06:00,Fine",
        header="user,external_id,started_at,ended_at,activity",
    )
    report = _run(org, founder, data)
    assert report.errors == [
        RowError(2, "user", "This row is for 'tess'; this import is for 'fran'."),
        RowError(3, "external_id", "external_id 'psa-7' belongs to an entry of 'tess'."),
    ]
    assert TimeEntry.objects.filter(user=founder).count() == 0


def test_unknown_id_and_extra_fields_are_row_errors(org, founder):
    data = _ours(
        "999,2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage",
        ",2025-03-03T09:00:00-06:00,2025-03-03T09:30:00-06:00,Call,extra",
        header="id,started_at,ended_at,activity",
    )
    report = _run(org, founder, data)
    assert report.errors == [
        RowError(2, "id", "No entry #999 of 'fran' in this organization; clear the id to create it."),
        RowError(3, "", "The row has 5 fields; the header has 4."),
    ]


@pytest.mark.parametrize("entry_id", ["abc", "²", "99999999999999999999", "arabic-indic"])
def test_an_id_that_names_no_row_is_a_row_error(org, founder, entry_id):
    # "²".isdigit() holds but int() refuses it; int() reads the stored id in Arabic-Indic
    # digits as that id; the third is past the bigint range.
    stored = TimeEntryFactory(
        organization=org,
        user=founder,
        started_at=_utc(2025, 3, 4, 14),
        ended_at=_utc(2025, 3, 4, 15),
        activity="Backup check",
    )
    if entry_id == "arabic-indic":
        entry_id = str(stored.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    data = _ours(
        f"{entry_id},2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage",
        header="id,started_at,ended_at,activity",
    )
    report = _run(org, founder, data)
    assert report.errors == [
        RowError(2, "id", f"No entry #{entry_id} of 'fran' in this organization; clear the id to create it."),
    ]
    stored.refresh_from_db()
    assert (TimeEntry.objects.count(), stored.activity) == (1, "Backup check")


def test_bad_booleans_handling_and_timestamps(org, founder):
    data = _ours(
        "2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage,maybe,",
        "2025-03-03T09:00:00-06:00,2025-03-03T09:30:00-06:00,Call,,boss",
        "yesterday,2025-03-03T10:30:00-06:00,Quote,,",
        header="started_at,ended_at,activity,urgent,handling",
    )
    assert _run(org, founder, data).errors == [
        RowError(2, "urgent", "'maybe' is not a boolean; use true, false or leave it blank."),
        RowError(3, "handling", "'boss' is not a handling; use personal or delegated."),
        RowError(
            4, "started_at", "'yesterday' is not an ISO 8601 timestamp, e.g. 2025-03-03T09:00:00-06:00."
        ),
    ]


def test_every_problem_of_a_row_is_reported_at_once(org, founder):
    data = _ours(
        "yesterday,2025-03-03T08:30:00-06:00,Triage,meetings,weekly,maybe,weird,psa",
        "2025-03-03T09:00:00-06:00,2025-03-03T09:30:00-06:00,Call,,,,,",
        header="started_at,ended_at,activity,category,tags,urgent,handling,source",
    )
    report = _run(org, founder, data)
    assert report.errors == [
        RowError(
            2, "started_at", "'yesterday' is not an ISO 8601 timestamp, e.g. 2025-03-03T09:00:00-06:00."
        ),
        RowError(
            2, "category", "Unknown category 'meetings'; use a category slug or name of this organization."
        ),
        RowError(
            2, "tags", "Unknown tag 'weekly'; use repetitive, outsourceable, systemizable, owner_by_habit."
        ),
        RowError(2, "urgent", "'maybe' is not a boolean; use true, false or leave it blank."),
        RowError(2, "handling", "'weird' is not a handling; use personal or delegated."),
        RowError(2, "source", "'psa' is not a source; use web, api, import, timer."),
    ]
    assert TimeEntry.objects.count() == 0


def test_every_problem_of_a_tracker_row_is_reported_at_once(org, founder):
    data = _ours("Fran,,,,,,No,2025-13-04,9 o'clock,2025-03-04,09:30:00,00:30:00,", header=TOGGL_HEAD)
    # As the columns stand in the file, left to right (not in the order they were checked).
    assert _run(org, founder, data).errors == [
        RowError(2, "Description", "The description is empty (and so are Task and Project)."),
        RowError(2, "Start date", "'2025-13-04' is not a date (YYYY-MM-DD, MM/DD/YYYY or DD.MM.YYYY)."),
        RowError(2, "Start time", "'9 O'CLOCK' is not a time of day (HH:MM:SS, HH:MM or 09:00:00 AM)."),
    ]


def test_a_rows_problems_follow_the_files_column_order(org, founder):
    # The same problems as above, the columns in another order: the report follows the file.
    data = _ours(
        "maybe,psa,weird,weekly,meetings,Triage,2025-03-03T08:30:00-06:00,yesterday",
        header="urgent,source,handling,tags,category,activity,ended_at,started_at",
    )
    assert [error.column for error in _run(org, founder, data).errors] == [
        "urgent", "source", "handling", "tags", "category", "started_at",
    ]  # fmt: skip


def test_tracker_row_errors_use_the_files_column_names(org, founder):
    head = TOGGL_HEAD
    data = _ours(
        "Fran,,,,,,No,2025-03-04,09:00:00,2025-03-04,09:30:00,00:30:00,",
        "Fran,,,Tickets,,Reset,No,2025-13-04,09:00:00,2025-03-04,09:30:00,00:30:00,",
        "Fran,,,Tickets,,Reset,No,2025-03-04,9 o'clock,2025-03-04,09:30:00,00:30:00,",
        header=head,
    )
    assert _run(org, founder, data).errors == [
        RowError(2, "Description", "The description is empty (and so are Task and Project)."),
        RowError(3, "Start date", "'2025-13-04' is not a date (YYYY-MM-DD, MM/DD/YYYY or DD.MM.YYYY)."),
        RowError(4, "Start time", "'9 O'CLOCK' is not a time of day (HH:MM:SS, HH:MM or 09:00:00 AM)."),
    ]


# --- DST in America/Chicago -----------------------------------------------------------


def test_toggl_time_in_the_spring_gap_is_a_row_error(org, founder):
    # 2025-03-09: Chicago clocks jump from 02:00 CST to 03:00 CDT; 02:30 never happens.
    data = _ours(
        "Fran,,,Tickets,,Reset,No,2025-03-09,02:30:00,2025-03-09,03:15:00,00:15:00,", header=TOGGL_HEAD
    )
    report = _run(org, founder, data)
    assert report.errors == [
        RowError(
            2,
            "Start time",
            "2025-03-09 02:30 does not exist in America/Chicago (clocks skip that hour when daylight saving "
            "time starts).",
        )
    ]
    assert not TimeEntry.objects.exists()


def test_toggl_time_in_the_autumn_overlap_takes_the_first_occurrence(org, founder):
    # 2025-11-02: 01:00-02:00 happens twice (CDT -05:00, then CST -06:00).
    data = _ours(
        "Fran,,,Tickets,,Reset,No,2025-11-02,01:30:00,2025-11-02,01:45:00,00:15:00,",
        # Ends at 01:10 "after" starting at 01:50: the end is the second 01:10 (CST).
        "Fran,,,Escalations,,Outage,No,2025-11-02,01:50:00,2025-11-02,01:10:00,00:20:00,",
        header=TOGGL_HEAD,
    )
    report = _run(org, founder, data)
    assert report.errors == []
    reset, outage = TimeEntry.objects.order_by("started_at")
    # 01:30 CDT = 06:30 UTC.
    assert (reset.started_at, reset.ended_at) == (_utc(2025, 11, 2, 6, 30), _utc(2025, 11, 2, 6, 45))
    # 01:50 CDT = 06:50 UTC; 01:10 CST = 07:10 UTC: 20 minutes, as Toggl's Duration says.
    assert (outage.started_at, outage.ended_at) == (_utc(2025, 11, 2, 6, 50), _utc(2025, 11, 2, 7, 10))


# --- broken files ---------------------------------------------------------------------

TOO_MANY = ("started_at,ended_at,activity\n" + "x,y,z\n" * 5001).encode()


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"", None, "The file is empty."),
        (b"\r\n\r\n", None, "The file is empty."),
        (b"started_at,ended_at,activity\r\n", None, "The file has a header but no rows."),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            None,
            "This is not a CSV file (it holds binary data); export or save it as CSV.",
        ),
        (
            "started_at,ended_at,activity\n2025-03-03T08:00:00-06:00,2025-03-03T09:00:00-06:00,Caf\xe9\n".encode(
                "latin-1"
            ),
            None,
            "The file is not UTF-8 text (byte 0xe9 at position 84); "
            "save it as 'CSV UTF-8' and upload it again.",
        ),
        (
            b"Date,Hours,What\n2025-03-03,1,Stuff\n",
            None,
            "Unrecognised header: expected the msp-ops layout (started_at, ended_at, activity, ...), "
            "a Toggl Track detailed export or a Clockify detailed export.",
        ),
        (
            (DATA / "toggl_detailed.csv").read_bytes(),
            "ours",
            "Missing required column(s) for the msp-ops layout: started_at, ended_at, activity.",
        ),
        (
            b"started_at,activity\n2025-03-03T08:00:00-06:00,x\n",
            "toggl",
            "Missing required column(s) for the Toggl Track detailed layout: "
            "Start date, Start time, End date, End time, Description.",
        ),
        (
            b"started_at,ended_at,activity,Activity\nx,y,z,w\n",
            None,
            "Column 'Activity' appears twice in the header.",
        ),
        (
            b'started_at,ended_at,activity\n"x,y\n',
            None,
            "This is not a readable CSV file (line 2): unexpected end of data.",
        ),
        (
            TOO_MANY,
            None,
            "The file has 5001 rows; at most 5000 are imported at once. Split it into smaller files.",
        ),
    ],
    ids=[
        "empty",
        "blank-lines",
        "header-only",
        "binary",
        "latin-1",
        "unknown-header",
        "forced-ours-missing",
        "forced-toggl-missing",
        "duplicate-column",
        "unclosed-quote",
        "too-many-rows",
    ],
)
def test_broken_files_get_one_clear_message_and_store_nothing(org, founder, data, fmt, message):
    with pytest.raises(CsvFileError) as caught:
        _run(org, founder, data, fmt=fmt)
    assert str(caught.value) == message
    assert not TimeEntry.objects.exists()


def test_a_file_over_the_size_limit_is_refused(org, founder):
    with pytest.raises(CsvFileError, match=r"^The file is larger than 5 MB; split it into smaller files\.$"):
        _run(org, founder, b"a" * (5 * 1024 * 1024 + 1))


def test_utf16_with_bom_is_read(org, founder):
    data = (
        "started_at,ended_at,activity\r\n2025-03-03T08:00:00-06:00,2025-03-03T09:00:00-06:00,Café visit\r\n"
    )
    report = _run(org, founder, data.encode("utf-16"))
    assert report.created == 1
    assert TimeEntry.objects.get().activity == "Café visit"


# --- queries --------------------------------------------------------------------------


def _toggl_rows(count: int, month: int) -> bytes:
    rows = [
        f"Fran,,Acme,Tickets,,Reset {i},No,2025-{month:02d}-{1 + i // 10:02d},{8 + i % 10:02d}:00:00,"
        f"2025-{month:02d}-{1 + i // 10:02d},{8 + i % 10:02d}:30:00,00:30:00,Repetitive"
        for i in range(count)
    ]
    return "\n".join([TOGGL_HEAD, *rows]).encode()


def test_import_queries_do_not_grow_with_the_file(org, founder):
    with CaptureQueriesContext(connection) as small:
        assert _run(org, founder, _toggl_rows(2, month=4)).created == 2
    with CaptureQueriesContext(connection) as large:
        assert _run(org, founder, _toggl_rows(60, month=5)).created == 60
    assert len(large) == len(small)


def test_an_external_id_twice_in_a_file_names_the_first_row(org, founder):
    header = f"{HEADER},external_id"
    data = _ours(
        "2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage,tickets,,psa-1",  # row 2
        "2025-03-03T09:00:00-06:00,2025-03-03T09:30:00-06:00,Call,vendor-calls,,psa-2",  # row 3
        "2025-03-03T10:00:00-06:00,2025-03-03T10:30:00-06:00,Again,tickets,,psa-1",  # row 4
        header=header,
    )

    report = _run(org, founder, data)

    assert report.errors == [
        RowError(4, "external_id", "external_id 'psa-1' appears twice in this file (row 2).")
    ]
    assert TimeEntry.objects.count() == 0
