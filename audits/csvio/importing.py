"""Importing a CSV file as one member's time entries (SPEC 5).

Every row becomes an unsaved ``TimeEntry``; the whole file is stored through one call to
``save_time_entries`` so the batch rules (validation, no overlap within the file or with
stored entries, upsert on ``external_id``) are the same as for the API. A file with any bad
row stores nothing unless the caller asks to skip bad rows.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils.text import slugify

from audits.csvio.fields import (
    Problems,
    RowProblem,
    RowProblems,
    local_moment,
    match_tag,
    parse_boolean,
    parse_timestamp,
    parse_tracker_date,
    parse_tracker_time,
)
from audits.csvio.reading import (
    FORMAT_LABELS,
    OUR_COLUMNS,
    CsvFormat,
    check_required,
    decode,
    detect_format,
    display_name,
    normal_header,
    read_table,
)
from audits.models import DEFAULT_CATEGORY_SLUG, TAG_FIELDS, Category, Handling, Source, TimeEntry
from audits.services import BatchValidationError, save_time_entries
from msp_ops.lib.ids import parse_id
from msp_ops.orgs.models import Organization


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
    def refused(self) -> bool:
        """Bad rows and no skipping: nothing was stored."""
        return bool(self.errors) and not self.skipped

    @property
    def summary(self) -> str:
        label = FORMAT_LABELS[self.format]
        rows = f"{self.rows} row{'s' if self.rows != 1 else ''}"
        if self.refused:
            bad = len({error.row for error in self.errors})
            return (
                f"{label} CSV, {rows}: nothing was stored because {bad} "
                f"row{'s' if bad != 1 else ''} {'have' if bad != 1 else 'has'} errors. "
                "Fix them, or choose to skip bad rows."
            )
        text = f"{label} CSV, {rows}: {self.created} created, {self.updated} updated"
        return text + (f", {self.skipped} skipped." if self.skipped else ".")


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
    check_required(header, chosen)
    columns = {normal_header(name): name for name in header if name}
    # A row's problems are listed as its columns stand in the file, left to right.
    place = {name: position for position, name in enumerate(columns)}
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
        except RowProblems as problems:
            report.errors += [
                RowError(number, _column_name(ctx, problem.column), problem.message)
                for problem in sorted(problems.problems, key=lambda p: place.get(p.column, len(place)))
            ]
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
    return {normal_header(name): value for name, value in zip(header, record, strict=False) if name}


def _column_name(ctx: _Context, normal: str) -> str:
    return ctx.columns.get(normal, display_name(normal, ctx.fmt) if normal else "")


def _store(ctx: _Context, parsed: list[tuple[int, TimeEntry]], report: ImportReport) -> list[RowError]:
    """One call to the batch write path; its per-item errors as row errors (empty: stored)."""
    if not parsed:
        return []
    try:
        saved = save_time_entries(org=ctx.org, entries=[entry for _, entry in parsed])
    except BatchValidationError as error:
        numbers = [number for number, _ in parsed]

        def row_name(index: int) -> str:
            return f"row {numbers[index]}"

        problems = []
        for (number, _), item in zip(parsed, error.item_errors, strict=True):
            for model_field, messages in item.items():
                column = _column_for_field(ctx, model_field)
                for message in messages:
                    # The service refers to other batch items; a file's reader thinks in rows.
                    problems.append(RowError(number, column, message.worded(row_name, "this file")))
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


def _preload_ours(ctx: _Context, values: list[dict[str, str]]) -> None:
    """The member's entries named by ``id`` and the owners of named ``external_id``s (2 queries)."""
    ids = {number for row in values if (number := parse_id(row.get("id", "").strip())) is not None}
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
            raise RowProblem(
                column, f"Unknown category '{value}'; use a category slug or name of this organization."
            )
    return ctx.categories[DEFAULT_CATEGORY_SLUG]


def _parse_ours(ctx: _Context, row: dict[str, str]) -> TimeEntry:
    """The row's entry; every column's problem at once (``RowProblems``)."""
    username = ctx.member.get_username()
    found = Problems()
    if (owner := _text(row, "user")) and owner != username:
        found.add("user", f"This row is for '{owner}'; this import is for '{username}'.")
    entry = found.take(_entry_of_id, ctx, _text(row, "id"), username)
    entry = entry or TimeEntry(organization=ctx.org, user=ctx.member)
    external_id = _text(row, "external_id") or None
    if external_id and (holder := ctx.owners.get(external_id)) and holder != username:
        found.add("external_id", f"external_id '{external_id}' belongs to an entry of '{holder}'.")
    entry.external_id = external_id
    entry.started_at = found.take(parse_timestamp, _text(row, "started_at"), "started_at")
    entry.ended_at = found.take(parse_timestamp, _text(row, "ended_at"), "ended_at")
    entry.activity = _text(row, "activity")
    entry.category = found.take(_category, ctx, _text(row, "category"), "category", strict=True)
    entry.tags = found.take(_tags, _text(row, "tags")) or []
    entry.handling = found.take(
        _choice, row, "handling", Handling.PERSONAL, "a handling", "personal or delegated"
    )
    entry.urgent = found.take(parse_boolean, row.get("urgent", ""), "urgent")
    entry.important = found.take(parse_boolean, row.get("important", ""), "important")
    entry.client = _text(row, "client")
    entry.ticket_ref = _text(row, "ticket_ref")
    entry.notes = row.get("notes", "").strip()
    entry.source = found.take(_choice, row, "source", Source.IMPORT, "a source", ", ".join(Source.values))
    found.check()
    return entry


def _entry_of_id(ctx: _Context, entry_id: str, username: str) -> TimeEntry | None:
    """The member's stored entry the row's ``id`` names (None: no id, a new entry)."""
    if not entry_id:
        return None
    number = parse_id(entry_id)
    if number is None or number not in ctx.by_id:
        raise RowProblem(
            "id", f"No entry #{entry_id} of '{username}' in this organization; clear the id to create it."
        )
    if number in ctx.used_ids:
        raise RowProblem("id", f"Entry #{entry_id} appears twice in this file.")
    ctx.used_ids.add(number)
    return ctx.by_id[number]


def _tags(text: str) -> list[str]:
    tags = []
    for word in re.split(r"[;,\s]+", text):
        if not word:
            continue
        if (tag := match_tag(word)) is None:
            raise RowProblem("tags", f"Unknown tag '{word}'; use {', '.join(TAG_FIELDS)}.")
        tags.append(tag)
    return tags


def _choice(row: dict[str, str], column: str, default: models.TextChoices, kind: str, choices: str) -> str:
    """The column's choice of ``default``'s class (any case; blank: ``default``)."""
    value = _text(row, column).lower() or default
    if value not in type(default).values:
        raise RowProblem(column, f"'{value}' is not {kind}; use {choices}.")
    return value


def _parse_tracker(ctx: _Context, row: dict[str, str]) -> TimeEntry:
    tz = ctx.org.tz
    found = Problems()
    start_day = found.take(parse_tracker_date, _text(row, "start date"), "start date")
    start_time = found.take(parse_tracker_time, _text(row, "start time"), "start time")
    end_day = found.take(parse_tracker_date, _text(row, "end date"), "end date")
    end_time = found.take(parse_tracker_time, _text(row, "end time"), "end time")
    started_at = ended_at = None
    if start_day is not None and start_time is not None:
        started_at = found.take(local_moment, start_day, start_time, tz, "start time")
    if started_at is not None and end_day is not None and end_time is not None:
        ended_at = found.take(local_moment, end_day, end_time, tz, "end time", after=started_at)
    description = _text(row, "description")
    activity = description or _text(row, "task") or _text(row, "project")
    if not activity:
        found.add("description", "The description is empty (and so are Task and Project).")
    found.check()
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
