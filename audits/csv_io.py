"""CSV import and export of time entries (SPEC 5; layouts documented in docs/csv.md).

Three layouts are read: ours (what ``write_entries_csv`` writes), Toggl Track's and
Clockify's detailed exports. Every row becomes an unsaved ``TimeEntry``; the whole file is
stored through one call to ``save_time_entries`` so the batch rules (validation, no
overlap within the file or with stored entries, upsert on ``external_id``) are the same as
for the API. A file with any bad row stores nothing unless the caller asks to skip them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import TextIO
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.text import slugify

from audits.models import DEFAULT_CATEGORY_SLUG, TAG_FIELDS, Category, Handling, Source, Tag, TimeEntry
from audits.services import BatchValidationError, save_time_entries
from msp_ops.lib.weeks import day_bounds, local_midnight
from msp_ops.orgs.models import Organization

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

OUR_COLUMNS = [
    "id",
    "external_id",
    "user",
    "started_at",
    "ended_at",
    "activity",
    "category",
    "tags",
    "handling",
    "urgent",
    "important",
    "client",
    "ticket_ref",
    "notes",
    "source",
]
OUR_REQUIRED = ["started_at", "ended_at", "activity"]
# Toggl Track and Clockify detailed exports share these (headers compared case-insensitively).
TRACKER_REQUIRED = ["start date", "start time", "end date", "end time", "description"]
# Headers only Clockify writes; a tracker export without any of them is read as Toggl's.
CLOCKIFY_MARKERS = (
    "duration (h)",
    "duration (decimal)",
    "time (h)",
    "time (decimal)",
    "billable rate",
    "group",
)


class CsvFormat(StrEnum):
    OURS = "ours"
    TOGGL = "toggl"
    CLOCKIFY = "clockify"


FORMAT_LABELS = {
    CsvFormat.OURS: "msp-ops",
    CsvFormat.TOGGL: "Toggl Track detailed",
    CsvFormat.CLOCKIFY: "Clockify detailed",
}


class CsvFileError(Exception):
    """The file as a whole cannot be read; one message says why. Nothing was stored."""


@dataclass(frozen=True)
class RowError:
    row: int  # as in the file, the header being row 1
    column: str  # the file's own column name; "" when the row as a whole is wrong
    message: str


@dataclass
class ImportReport:
    format: CsvFormat
    rows: int = 0  # data rows read (blank lines not counted)
    created: int = 0
    updated: int = 0
    skipped: int = 0  # bad rows left out (only with skip_bad_rows)
    errors: list[RowError] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.created + self.updated

    @property
    def refused(self) -> bool:
        """Bad rows and no skipping: nothing was stored."""
        return bool(self.errors) and not self.skipped

    @property
    def summary(self) -> str:
        label = FORMAT_LABELS[self.format]
        if self.refused:
            bad = len({error.row for error in self.errors})
            return (
                f"{label} CSV, {self.rows} rows: nothing was stored because {bad} "
                f"row{'s' if bad != 1 else ''} {'have' if bad != 1 else 'has'} errors. "
                "Fix them, or choose to skip bad rows."
            )
        text = f"{label} CSV, {self.rows} rows: {self.created} created, {self.updated} updated"
        return text + (f", {self.skipped} skipped." if self.skipped else ".")


# --- reading the file -----------------------------------------------------------------


def decode(data: bytes) -> str:
    """Text of an uploaded file: UTF-8 (a leading BOM is dropped) or UTF-16 with its BOM."""
    if not data.strip():
        raise CsvFileError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise CsvFileError(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files."
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CsvFileError("The file starts like UTF-16 text but cannot be decoded as such.") from None
    if b"\x00" in data:
        raise CsvFileError("This is not a CSV file (it holds binary data); export or save it as CSV.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFileError(
            f"The file is not UTF-8 text (byte 0x{data[error.start]:02x} at position {error.start}); "
            "save it as 'CSV UTF-8' and upload it again."
        ) from None


def _normal(header: str) -> str:
    return " ".join(header.strip().lower().split())


def read_table(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(row number, fields)]); row 1 is the header, blank lines keep their number."""
    # strict: an unclosed quote is an error, not a field swallowing the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error as error:
        raise CsvFileError(f"This is not a readable CSV file (line {reader.line_num}): {error}.") from None
    numbered = [(number, record) for number, record in enumerate(records, start=1)]
    while numbered and not any(cell.strip() for cell in numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        raise CsvFileError("The file is empty.")
    (_, header), *rows = numbered
    header = [cell.strip() for cell in header]
    seen: set[str] = set()
    for name in header:
        if name and _normal(name) in seen:
            raise CsvFileError(f"Column '{name}' appears twice in the header.")
        seen.add(_normal(name))
    rows = [(number, record) for number, record in rows if any(cell.strip() for cell in record)]
    if not rows:
        raise CsvFileError("The file has a header but no rows.")
    if len(rows) > MAX_ROWS:
        raise CsvFileError(
            f"The file has {len(rows)} rows; at most {MAX_ROWS} are imported at once. "
            "Split it into smaller files."
        )
    return header, rows


def detect_format(header: Iterable[str]) -> CsvFormat:
    names = {_normal(name) for name in header}
    if set(OUR_REQUIRED) <= names:
        return CsvFormat.OURS
    if set(TRACKER_REQUIRED) <= names:
        if any(name.startswith(CLOCKIFY_MARKERS) for name in names):
            return CsvFormat.CLOCKIFY
        return CsvFormat.TOGGL
    raise CsvFileError(
        "Unrecognised header: expected the msp-ops layout (started_at, ended_at, activity, ...), "
        "a Toggl Track detailed export or a Clockify detailed export."
    )


def _check_required(header: list[str], fmt: CsvFormat) -> None:
    names = {_normal(name) for name in header}
    required = OUR_REQUIRED if fmt == CsvFormat.OURS else TRACKER_REQUIRED
    if missing := [name for name in required if name not in names]:
        columns = ", ".join(_display(name, fmt) for name in missing)
        raise CsvFileError(f"Missing required column(s) for the {FORMAT_LABELS[fmt]} layout: {columns}.")


def _display(name: str, fmt: CsvFormat) -> str:
    return name if fmt == CsvFormat.OURS else name.capitalize()


# --- field parsing --------------------------------------------------------------------


class _RowProblem(Exception):
    def __init__(self, column: str, message: str):
        self.column = column
        self.message = message


_TAG_WORDS = {re.sub(r"[\s_\-]", "", tag.value): tag.value for tag in Tag} | {
    "ownerbyhabit": Tag.OWNER_BY_HABIT.value,
    "owneronlybyhabit": Tag.OWNER_BY_HABIT.value,
    "ownerhabit": Tag.OWNER_BY_HABIT.value,
    "systematizable": Tag.SYSTEMIZABLE.value,
}


def match_tag(word: str) -> str | None:
    """One of our four tags, compared without case, spaces, hyphens or underscores."""
    return _TAG_WORDS.get(re.sub(r"[\s_\-\"']", "", word.lower()))


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _boolean(value: str, column: str) -> bool | None:
    value = value.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _RowProblem(column, f"'{value}' is not a boolean; use true, false or leave it blank.")


def _timestamp(value: str, column: str) -> datetime:
    value = value.strip()
    if not value:
        raise _RowProblem(column, "This column is required.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _RowProblem(
            column, f"'{value}' is not an ISO 8601 timestamp, e.g. 2025-03-03T09:00:00-06:00."
        ) from None
    if moment.tzinfo is None:
        raise _RowProblem(column, f"'{value}' has no UTC offset; write e.g. 2025-03-03T09:00:00-06:00.")
    return moment


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")


def _tracker_date(value: str, column: str) -> date:
    value = value.strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise _RowProblem(column, f"'{value}' is not a date (YYYY-MM-DD, MM/DD/YYYY or DD.MM.YYYY).")


def _tracker_time(value: str, column: str) -> time:
    value = " ".join(value.strip().upper().split())
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(value, pattern).time()
        except ValueError:
            continue
    raise _RowProblem(column, f"'{value}' is not a time of day (HH:MM:SS, HH:MM or 09:00:00 AM).")


def local_moment(
    day: date, at: time, tz: ZoneInfo, column: str, *, after: datetime | None = None
) -> datetime:
    """An aware datetime for a wall-clock time in the organization's zone.

    A time that does not exist (the hour skipped when DST starts) is an error. A time that
    happens twice (the hour repeated when DST ends) is read as its first occurrence, except
    that an end time takes the second one when the first would not be after ``after``.
    """
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise _RowProblem(
            column,
            f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks skip that hour when "
            "daylight saving time starts).",
        )
    if first.utcoffset() != second.utcoffset() and after is not None and first <= after:
        return second
    return first


# --- import ---------------------------------------------------------------------------


@dataclass
class _Context:
    org: Organization
    member: AbstractBaseUser
    fmt: CsvFormat
    columns: dict[str, str]  # normalized name -> the file's spelling
    categories: dict[str, Category]  # slug and lower-cased name -> category
    by_id: dict[int, TimeEntry]
    owners: dict[str, str]  # stored external_id -> username of its member
    used_ids: set[int] = field(default_factory=set)


def _category_index(org: Organization) -> dict[str, Category]:
    index: dict[str, Category] = {}
    for category in Category.objects.for_org(org).order_by("archived", "position"):
        for key in (category.slug, category.name.lower(), slugify(category.name)):
            index.setdefault(key, category)
    return index


def import_entries(
    *,
    org: Organization,
    member: AbstractBaseUser,
    data: bytes,
    fmt: str | None = None,
    skip_bad_rows: bool = False,
) -> ImportReport:
    """Reads a CSV file and stores its rows as ``member``'s entries (SPEC 5).

    Raises ``CsvFileError`` for a file that cannot be read at all. Otherwise returns the
    report; when it lists errors and ``skip_bad_rows`` is false, nothing was stored.
    """
    header, rows = read_table(decode(data))
    chosen = CsvFormat(fmt) if fmt else detect_format(header)
    _check_required(header, chosen)
    columns = {_normal(name): name for name in header if name}
    ctx = _Context(org, member, chosen, columns, _category_index(org), {}, {})
    values = [_row_values(header, record) for _, record in rows]
    if chosen == CsvFormat.OURS:
        _preload_ours(ctx, values)

    report = ImportReport(format=chosen, rows=len(rows))
    parsed: list[tuple[int, TimeEntry]] = []
    for (number, record), row in zip(rows, values, strict=True):
        if len(record) > len(header):
            report.errors.append(
                RowError(number, "", f"The row has {len(record)} fields; the header has {len(header)}.")
            )
            continue
        try:
            entry = _parse_ours(ctx, row) if chosen == CsvFormat.OURS else _parse_tracker(ctx, row)
        except _RowProblem as problem:
            report.errors.append(RowError(number, _column_name(ctx, problem.column), problem.message))
            continue
        parsed.append((number, entry))

    bad_rows = {error.row for error in report.errors}
    if bad_rows and not skip_bad_rows:
        # Still run the batch rules on the good rows so the report is complete; roll back.
        with transaction.atomic():
            report.errors += _store(ctx, parsed, report)
            transaction.set_rollback(True)
        report.created = report.updated = 0
        report.errors.sort(key=lambda error: error.row)
        return report

    while parsed:
        with transaction.atomic():
            batch_errors = _store(ctx, parsed, report)
            if batch_errors and not skip_bad_rows:
                transaction.set_rollback(True)
        if not batch_errors:
            break
        report.created = report.updated = 0
        report.errors += batch_errors
        if not skip_bad_rows:
            break
        # Leaving rows out cannot create a new overlap, but the rest is validated again anyway.
        failed = {error.row for error in batch_errors}
        parsed = [(number, entry) for number, entry in parsed if number not in failed]
    report.errors.sort(key=lambda error: error.row)
    if skip_bad_rows:
        report.skipped = len({error.row for error in report.errors})
    return report


def _row_values(header: list[str], record: list[str]) -> dict[str, str]:
    return {_normal(name): value for name, value in zip(header, record, strict=False) if name}


def _column_name(ctx: _Context, normal: str) -> str:
    return ctx.columns.get(normal, _display(normal, ctx.fmt) if normal else "")


def _store(ctx: _Context, parsed: list[tuple[int, TimeEntry]], report: ImportReport) -> list[RowError]:
    """One call to the batch write path; its per-item errors as row errors (empty: stored)."""
    if not parsed:
        return []
    try:
        saved = save_time_entries(org=ctx.org, entries=[entry for _, entry in parsed])
    except BatchValidationError as error:
        numbers = [number for number, _ in parsed]
        problems = []
        for (number, _), item in zip(parsed, error.item_errors, strict=True):
            for model_field, messages in item.items():
                column = _column_for_field(ctx, model_field)
                for message in messages:
                    problems.append(RowError(number, column, _rows_not_items(message, numbers)))
        return problems
    report.created = sum(1 for item in saved if item.created)
    report.updated = len(saved) - report.created
    return []


_OUR_FIELD_COLUMNS = {name: name for name in OUR_COLUMNS} | {column: "tags" for column in TAG_FIELDS.values()}
_TRACKER_FIELD_COLUMNS = {
    "started_at": "start time",
    "ended_at": "end time",
    "activity": "description",
    "category": "project",
    "client": "client",
    "notes": "task",
}


def _column_for_field(ctx: _Context, model_field: str) -> str:
    mapping = _OUR_FIELD_COLUMNS if ctx.fmt == CsvFormat.OURS else _TRACKER_FIELD_COLUMNS
    return _column_name(ctx, mapping.get(model_field, ""))


def _rows_not_items(message: str, numbers: list[int]) -> str:
    """The service numbers batch items from 1; a file's reader thinks in row numbers."""
    message = re.sub(
        r"item (\d+) of this batch", lambda m: f"row {numbers[int(m[1]) - 1]} of this file", message
    )
    return re.sub(
        r"in this batch \(item (\d+)\)", lambda m: f"in this file (row {numbers[int(m[1]) - 1]})", message
    )


def _preload_ours(ctx: _Context, values: list[dict[str, str]]) -> None:
    """The member's entries named by ``id`` and the owners of named ``external_id``s (2 queries)."""
    ids = {int(v) for row in values if (v := row.get("id", "").strip()).isdigit()}
    if ids:
        ctx.by_id = TimeEntry.objects.for_org(ctx.org).filter(user=ctx.member).in_bulk(list(ids))
    externals = {v for row in values if (v := row.get("external_id", "").strip())}
    if externals:
        ctx.owners = dict(
            TimeEntry.objects.for_org(ctx.org)
            .filter(external_id__in=externals)
            .values_list("external_id", "user__username")
        )


def _text(row: dict[str, str], name: str) -> str:
    return row.get(name, "").strip()


def _category(ctx: _Context, value: str, column: str, *, strict: bool) -> Category:
    value = value.strip()
    if value:
        found = ctx.categories.get(value.lower()) or ctx.categories.get(slugify(value))
        if found is not None and (strict or not found.archived):
            return found
        if strict:
            raise _RowProblem(
                column, f"Unknown category '{value}'; use a category slug or name of this organization."
            )
    return ctx.categories[DEFAULT_CATEGORY_SLUG]


def _parse_ours(ctx: _Context, row: dict[str, str]) -> TimeEntry:
    username = ctx.member.get_username()
    if (owner := _text(row, "user")) and owner != username:
        raise _RowProblem("user", f"This row is for '{owner}'; this import is for '{username}'.")
    entry_id = _text(row, "id")
    external_id = _text(row, "external_id") or None
    if entry_id:
        if not entry_id.isdigit() or int(entry_id) not in ctx.by_id:
            raise _RowProblem(
                "id", f"No entry #{entry_id} of '{username}' in this organization; clear the id to create it."
            )
        if int(entry_id) in ctx.used_ids:
            raise _RowProblem("id", f"Entry #{entry_id} appears twice in this file.")
        ctx.used_ids.add(int(entry_id))
        entry = ctx.by_id[int(entry_id)]
    else:
        entry = TimeEntry(organization=ctx.org, user=ctx.member)
    if external_id and (holder := ctx.owners.get(external_id)) and holder != username:
        raise _RowProblem("external_id", f"external_id '{external_id}' belongs to an entry of '{holder}'.")
    entry.external_id = external_id
    entry.started_at = _timestamp(_text(row, "started_at"), "started_at")
    entry.ended_at = _timestamp(_text(row, "ended_at"), "ended_at")
    entry.activity = _text(row, "activity")
    entry.category = _category(ctx, _text(row, "category"), "category", strict=True)
    tags = []
    for word in re.split(r"[;,\s]+", _text(row, "tags")):
        if not word:
            continue
        if (tag := match_tag(word)) is None:
            raise _RowProblem("tags", f"Unknown tag '{word}'; use {', '.join(TAG_FIELDS)}.")
        tags.append(tag)
    entry.tags = tags
    handling = _text(row, "handling").lower() or Handling.PERSONAL
    if handling not in Handling.values:
        raise _RowProblem("handling", f"'{handling}' is not a handling; use personal or delegated.")
    entry.handling = handling
    entry.urgent = _boolean(row.get("urgent", ""), "urgent")
    entry.important = _boolean(row.get("important", ""), "important")
    entry.client = _text(row, "client")
    entry.ticket_ref = _text(row, "ticket_ref")
    entry.notes = row.get("notes", "").strip()
    source = _text(row, "source").lower() or Source.IMPORT
    if source not in Source.values:
        raise _RowProblem("source", f"'{source}' is not a source; use {', '.join(Source.values)}.")
    entry.source = source
    return entry


def _parse_tracker(ctx: _Context, row: dict[str, str]) -> TimeEntry:
    tz = ctx.org.tz
    start_day = _tracker_date(_text(row, "start date"), "start date")
    end_day = _tracker_date(_text(row, "end date"), "end date")
    started_at = local_moment(
        start_day, _tracker_time(_text(row, "start time"), "start time"), tz, "start time"
    )
    ended_at = local_moment(
        end_day, _tracker_time(_text(row, "end time"), "end time"), tz, "end time", after=started_at
    )
    description = _text(row, "description")
    activity = description or _text(row, "task") or _text(row, "project")
    if not activity:
        raise _RowProblem("description", "The description is empty (and so are Task and Project).")
    person = _text(row, "user") or _text(row, "member") or _text(row, "email")
    # Deterministic id: re-importing the same export updates these entries instead of adding more.
    fingerprint = "|".join(
        [str(ctx.member.pk), person, started_at.isoformat(), ended_at.isoformat(), description]
    )
    entry = TimeEntry(
        organization=ctx.org,
        user=ctx.member,
        started_at=started_at,
        ended_at=ended_at,
        activity=activity,
        category=_category(ctx, _text(row, "project"), "project", strict=False),
        client=_text(row, "client"),
        notes=_text(row, "task") if description else "",
        source=Source.IMPORT,
        external_id=f"{ctx.fmt.value}:{hashlib.sha256(fingerprint.encode()).hexdigest()[:32]}",
    )
    # Tags other than our four (a tracker's own, e.g. "billable-review") are ignored.
    entry.tags = {tag for word in re.split(r"[,;]", _text(row, "tags")) if (tag := match_tag(word))}
    return entry


# --- export ---------------------------------------------------------------------------


def _bool_text(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def export_queryset(
    *,
    org: Organization,
    user: AbstractBaseUser | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    category: Category | None = None,
):
    """The entries an export writes: started within the local dates from..to (inclusive)."""
    entries = TimeEntry.objects.for_org(org).select_related("user", "category").order_by("started_at", "pk")
    if user is not None:
        entries = entries.filter(user=user)
    if date_from is not None:
        entries = entries.filter(started_at__gte=local_midnight(date_from, org.tz))
    if date_to is not None:
        entries = entries.filter(started_at__lt=day_bounds(date_to, org.tz)[1])
    if category is not None:
        entries = entries.filter(category=category)
    return entries


def write_entries_csv(*, org: Organization, out: TextIO, **filters) -> int:
    """Writes our layout (header and one row per entry) to ``out``; returns the rows written."""
    tz = org.tz
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(OUR_COLUMNS)
    count = 0
    for entry in export_queryset(org=org, **filters).iterator(chunk_size=2000):
        writer.writerow(
            [
                entry.pk,
                entry.external_id or "",
                entry.user.get_username(),
                entry.started_at.astimezone(tz).isoformat(),
                entry.ended_at.astimezone(tz).isoformat(),
                entry.activity,
                entry.category.slug,
                ";".join(entry.tags),
                entry.handling,
                _bool_text(entry.urgent),
                _bool_text(entry.important),
                entry.client,
                entry.ticket_ref,
                entry.notes,
                entry.source,
            ]
        )
        count += 1
    return count
