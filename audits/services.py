"""Every write on categories, time entries, audits and the running timer (STYLE 2).

``save_time_entries`` is the one path by which entries are written, whether they come from
a page, the API, a CSV import or the timer: it validates a whole batch, applies the
no-overlap rule within the batch and against stored entries, upserts on ``external_id``
and writes in a bounded number of queries, whatever the batch size. The caller owns the
transaction when it needs a larger unit of work; the function itself is atomic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from audits.models import (
    DEFAULT_CATEGORIES,
    DEFAULT_CATEGORY_SLUG,
    MAX_ACTIVITY_LENGTH,
    TAG_FIELDS,
    Category,
    RunningTimer,
    Source,
    TimeAudit,
    TimeEntry,
)
from msp_ops.lib.weeks import as_utc
from msp_ops.orgs.models import Membership, Organization

# Fields an upsert on external_id overwrites (everything a client sends).
UPSERT_FIELDS = [
    "user",
    "started_at",
    "ended_at",
    "activity",
    "category",
    *TAG_FIELDS.values(),
    "handling",
    "urgent",
    "important",
    "client",
    "ticket_ref",
    "notes",
    "source",
    "updated_at",
]


BATCH_SIZE = 500


class BatchValidationError(ValidationError):
    """A refused batch: ``item_errors`` holds one dict per input item, ``{}`` for valid ones."""

    def __init__(self, item_errors: list[dict[str, list[str]]]):
        self.item_errors = item_errors
        super().__init__("One or more items are invalid; nothing was stored.")


@dataclass(frozen=True)
class SavedEntry:
    entry: TimeEntry
    created: bool


@transaction.atomic
def create_default_categories(*, org: Organization) -> None:
    Category.objects.bulk_create(
        [
            Category(organization=org, slug=slug, name=name, kind=kind, position=position)
            for position, (slug, name, kind) in enumerate(DEFAULT_CATEGORIES)
        ],
        ignore_conflicts=True,
    )


def create_category(*, org: Organization, slug: str, name: str, kind: str) -> Category:
    """A new category of the org, after the others; slugs are lower case and unique per org."""
    slug = slug.strip().lower()
    category = Category(organization=org, slug=slug, name=name.strip(), kind=kind)
    category.position = (
        Category.objects.for_org(org).order_by("-position").values_list("position", flat=True).first() or 0
    ) + 1
    category.full_clean(exclude=["organization"], validate_constraints=False)
    if Category.objects.for_org(org).filter(slug=slug).exists():
        raise ValidationError({"slug": f"A category with slug '{slug}' already exists."})
    category.save()
    return category


def update_category(*, category: Category, name: str, kind: str) -> Category:
    """Renames a category or changes its kind; the slug stays (clients address it by slug)."""
    category.name = name.strip()
    category.kind = kind
    category.full_clean(exclude=["organization"], validate_constraints=False)
    category.save(update_fields=["name", "kind"])
    return category


def archive_category(*, category: Category, archived: bool = True) -> Category:
    """Archived categories stay on their entries but are no longer offered for new ones."""
    if archived and category.slug == DEFAULT_CATEGORY_SLUG:
        raise ValidationError(
            {"slug": f"'{DEFAULT_CATEGORY_SLUG}' is the default category; it cannot be archived."}
        )
    category.archived = archived
    category.save(update_fields=["archived"])
    return category


def _errors_of(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict if hasattr(error, "message_dict") else {NON_FIELD_ERRORS: error.messages}


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


# How often a write that lost a race (IntegrityError, deadlock) is checked and tried again.
WRITE_ATTEMPTS = 3
DEADLOCK_DETECTED = "40P01"  # PostgreSQL SQLSTATE


def save_time_entries(*, org: Organization, entries: Sequence[TimeEntry]) -> list[SavedEntry]:
    """Validates and stores a batch atomically; raises BatchValidationError, storing nothing.

    Each entry is an unsaved ``TimeEntry`` of ``org``: with ``pk`` set it replaces that
    stored entry (edit), with an ``external_id`` that already exists in the organization it
    updates that entry (idempotent replay), otherwise it is created. An entry without a
    category gets the org's ``other`` (SPEC 1). Errors name batch items from 1.

    The number of queries does not grow with the batch (up to 500 items per statement):
    members, categories, edited entries, external ids and overlaps are each read once.
    """
    entries = list(entries)
    for entry in entries:
        entry.organization = org
    errors: list[dict[str, list[str]]] = [{} for _ in entries]
    for index, entry in enumerate(entries):
        try:
            # user and category are checked in bulk below: Django's own FK check is a query each.
            entry.full_clean(
                exclude=["organization", "user", "category"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            errors[index] = _errors_of(error)
    _check_members(org, entries, errors)
    unsaved = [entry for entry in entries if entry.pk is None]

    for attempt in range(1, WRITE_ATTEMPTS + 1):
        row_errors = [{field: list(messages) for field, messages in item.items()} for item in errors]
        stored_by_external_id = _check_external_ids(org, entries, row_errors)
        _check_categories(org, entries, stored_by_external_id, row_errors)
        _check_overlaps(org, entries, stored_by_external_id, row_errors)
        if any(row_errors):
            raise BatchValidationError(row_errors)
        try:
            with transaction.atomic():
                return _write(entries, stored_by_external_id)
        except (IntegrityError, OperationalError) as error:
            # A concurrent request stored a colliding entry (or the same external_id) after
            # our checks and PostgreSQL refused ours: check again against what it committed,
            # which names the collision, or write again as an update of the replayed entry.
            if not _lost_race(error) or attempt == WRITE_ATTEMPTS:
                raise
            _forget_pks(unsaved)
    raise AssertionError("unreachable")


def _lost_race(error: Exception) -> bool:
    """A constraint refused the write, or PostgreSQL broke a deadlock between two upserts
    of the same rows (both are settled by checking and writing again)."""
    if isinstance(error, IntegrityError):
        return True
    return getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED


def record_time_entry(*, org: Organization, entry: TimeEntry) -> SavedEntry:
    """One entry through the batch path; a refusal is a plain field-keyed ValidationError."""
    try:
        return save_time_entries(org=org, entries=[entry])[0]
    except BatchValidationError as error:
        raise ValidationError(error.item_errors[0]) from None


@transaction.atomic
def delete_time_entry(*, entry: TimeEntry) -> None:
    entry.delete()


@dataclass(frozen=True)
class _Stored:
    pk: int
    category_id: int


def _check_members(org: Organization, entries: Sequence[TimeEntry], errors: list[dict]) -> None:
    """Every entry's user is a member of the org (one query)."""
    user_ids = {entry.user_id for entry in entries if entry.user_id is not None}
    members = set(
        Membership.objects.for_org(org)
        .filter(user_id__in=user_ids)
        .order_by()  # the default ordering would join organization and user
        .values_list("user_id", flat=True)
        if user_ids
        else ()
    )
    for index, entry in enumerate(entries):
        if entry.user_id is None:
            _add(errors[index], "user", "This field is required.")
        elif entry.user_id not in members:
            _add(errors[index], "user", "Not a member of this organization.")


def _check_external_ids(
    org: Organization, entries: Sequence[TimeEntry], errors: list[dict]
) -> dict[str, _Stored]:
    """Stored entries matched by external_id (one query); duplicates within the batch are refused."""
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry.external_id == "":
            entry.external_id = None
        if entry.external_id is None:
            continue
        if entry.external_id in seen:
            _add(
                errors[index],
                "external_id",
                f"external_id '{entry.external_id}' appears twice in this batch "
                f"(item {seen[entry.external_id] + 1}).",
            )
        else:
            seen[entry.external_id] = index
    if not seen:
        return {}
    stored = {
        ext: _Stored(pk, category_id)
        for ext, pk, category_id in TimeEntry.objects.for_org(org)
        .filter(external_id__in=list(seen))
        .values_list("external_id", "pk", "category_id")
    }
    for index, entry in enumerate(entries):
        match = stored.get(entry.external_id) if entry.external_id else None
        if match and entry.pk is not None and match.pk != entry.pk:
            _add(
                errors[index],
                "external_id",
                f"external_id '{entry.external_id}' already belongs to entry #{match.pk}.",
            )
    return stored


def _check_categories(
    org: Organization,
    entries: Sequence[TimeEntry],
    stored_by_external_id: dict[str, _Stored],
    errors: list[dict],
) -> None:
    """Each entry's category is one of the org's; archived ones stay on the entries that have
    them but take no new ones (SPEC 1). Also checks that edited entries exist in the org.

    Two queries: the categories named (plus ``other`` for entries without one), and the
    stored version of edited entries.
    """
    wanted = {entry.category_id for entry in entries if entry.category_id is not None}
    categories = {
        category.pk: category
        for category in Category.objects.for_org(org).filter(Q(pk__in=wanted) | Q(slug=DEFAULT_CATEGORY_SLUG))
    }
    default = next((c for c in categories.values() if c.slug == DEFAULT_CATEGORY_SLUG), None)
    edited = [entry.pk for entry in entries if entry.pk is not None]
    original: dict[int, int] = {}
    if edited:
        original = dict(TimeEntry.objects.for_org(org).filter(pk__in=edited).values_list("pk", "category_id"))
    for index, entry in enumerate(entries):
        if entry.pk is not None and entry.pk not in original:
            _add(errors[index], NON_FIELD_ERRORS, f"Entry #{entry.pk} does not exist.")
            continue
        if entry.category_id is None:
            if default is None:
                _add(errors[index], "category", "This field is required.")
                continue
            entry.category = default
        category = categories.get(entry.category_id)
        if category is None:
            _add(errors[index], "category", "Unknown category.")
            continue
        entry.category = category  # the stored version: its archived flag is current
        if category.archived:
            stored = stored_by_external_id.get(entry.external_id) if entry.external_id else None
            kept = original.get(entry.pk) or (stored.category_id if stored else None)
            if kept != category.pk:
                _add(errors[index], "category", f"Category '{category.slug}' is archived.")


def _identity(entry: TimeEntry, stored_by_external_id: dict[str, _Stored]) -> int | None:
    """The stored entry this item replaces, if any."""
    if entry.pk is not None:
        return entry.pk
    stored = stored_by_external_id.get(entry.external_id) if entry.external_id else None
    return stored.pk if stored else None


@dataclass(frozen=True)
class _Interval:
    start: datetime  # UTC
    end: datetime  # UTC
    stored: TimeEntry | None  # a stored entry, or None for a batch item
    index: int = -1  # the batch item's index

    def describe(self, entries: Sequence[TimeEntry]) -> str:
        if self.stored is not None:
            return f"entry #{self.stored.pk}: {self.stored.activity}"
        return f"item {self.index + 1} of this batch: {entries[self.index].activity}"


def _check_overlaps(
    org: Organization,
    entries: Sequence[TimeEntry],
    stored_by_external_id: dict[str, _Stored],
    errors: list[dict],
) -> None:
    """No two entries of one member share time: within the batch and against stored ones.

    One query fetches the stored entries of the batch's members inside the batch's time
    span; a sweep over each member's intervals sorted by start finds every collision.
    Touching entries (one ends when the next starts) do not overlap. Times are compared in
    UTC (same-zone datetimes compare by wall clock, wrong in a DST fall-back hour).
    """
    candidates = [
        (index, entry)
        for index, entry in enumerate(entries)
        if not errors[index] and entry.user_id and entry.started_at and entry.ended_at
    ]
    if not candidates:
        return
    replaced = {pk for _, e in candidates if (pk := _identity(e, stored_by_external_id))}
    # A stored entry with an item's external_id is the one that item replaces (upsert), also
    # when a concurrent replay committed it after _check_external_ids looked.
    upserted = {e.external_id for _, e in candidates if e.pk is None and e.external_id}
    span_start = min(as_utc(e.started_at) for _, e in candidates)
    span_end = max(as_utc(e.ended_at) for _, e in candidates)
    stored = (
        TimeEntry.objects.for_org(org)
        .filter(user_id__in={e.user_id for _, e in candidates})
        .overlapping(span_start, span_end)
        .exclude(pk__in=replaced)
        .only("pk", "user_id", "started_at", "ended_at", "activity")
    )
    if upserted:
        stored = stored.exclude(external_id__in=upserted)
    by_user: dict[int, list[_Interval]] = defaultdict(list)
    for row in stored:
        by_user[row.user_id].append(_Interval(as_utc(row.started_at), as_utc(row.ended_at), row))
    for index, entry in candidates:
        by_user[entry.user_id].append(
            _Interval(as_utc(entry.started_at), as_utc(entry.ended_at), None, index)
        )

    for intervals in by_user.values():
        # Stored entries first among equal starts, so a batch item names the stored entry.
        intervals.sort(key=lambda item: (item.start, item.stored is None, item.end))
        latest: _Interval | None = None  # the interval reaching furthest so far
        for interval in intervals:
            if latest is not None and interval.start < latest.end:
                # The error goes on the batch item involved, naming the other side.
                if interval.stored is None:
                    _add(errors[interval.index], "started_at", f"Overlaps {latest.describe(entries)}")
                elif latest.stored is None:
                    _add(errors[latest.index], "started_at", f"Overlaps {interval.describe(entries)}")
            if latest is None or interval.end > latest.end:
                latest = interval


def _write(entries: Sequence[TimeEntry], stored_by_external_id: dict[str, _Stored]) -> list[SavedEntry]:
    """A bounded number of statements: one UPDATE for edits, one upsert, one INSERT (per 500)."""
    now = timezone.now()
    edits = [e for e in entries if e.pk is not None]
    upserts = [e for e in entries if e.pk is None and e.external_id]
    inserts = [e for e in entries if e.pk is None and not e.external_id]
    for entry in entries:
        entry.updated_at = now
        if entry.pk is None:
            entry.created_at = now
    if edits:
        TimeEntry.objects.bulk_update(edits, [*UPSERT_FIELDS, "external_id"], batch_size=BATCH_SIZE)
    if upserts:
        # INSERT ... ON CONFLICT (organization_id, external_id) DO UPDATE: replays that race
        # each other still leave one row per external_id.
        TimeEntry.objects.bulk_create(
            upserts,
            update_conflicts=True,
            unique_fields=["organization", "external_id"],
            update_fields=UPSERT_FIELDS,
            batch_size=BATCH_SIZE,
        )
    if inserts:
        TimeEntry.objects.bulk_create(inserts, batch_size=BATCH_SIZE)
    if connection.vendor != "postgresql" and upserts:
        _fill_pks(upserts)
    # Created: plain inserts, and upserts whose external_id was not stored before.
    created = {id(e) for e in inserts} | {
        id(e) for e in upserts if e.external_id not in stored_by_external_id
    }
    return [SavedEntry(entry=entry, created=id(entry) in created) for entry in entries]


def _forget_pks(unsaved: Sequence[TimeEntry]) -> None:
    """After a rolled-back write, the items that were to be created are unsaved again."""
    for entry in unsaved:
        entry.pk = None
        entry._state.adding = True


def _fill_pks(entries: Sequence[TimeEntry]) -> None:
    # SQLite cannot return the ids of upserted rows.
    org = entries[0].organization
    pks = dict(
        TimeEntry.objects.for_org(org)
        .filter(external_id__in=[e.external_id for e in entries])
        .values_list("external_id", "pk")
    )
    for entry in entries:
        entry.pk = pks[entry.external_id]


# --- audits ---------------------------------------------------------------------------


def start_time_audit(*, org: Organization, user: AbstractBaseUser, start_date: date) -> TimeAudit:
    """A member's 7-day audit from ``start_date``; starting the same one twice is refused."""
    audit = TimeAudit(organization=org, user=user, start_date=start_date)
    audit.full_clean(exclude=["organization", "user"], validate_constraints=False)
    if not Membership.objects.for_org(org).filter(user=user).exists():
        raise ValidationError({"user": "Not a member of this organization."})
    if TimeAudit.objects.for_org(org).filter(user=user, start_date=start_date).exists():
        raise ValidationError({"start_date": f"{user} already has an audit starting {start_date}."})
    audit.save()
    return audit


# --- the running timer ----------------------------------------------------------------


def start_timer(
    *,
    org: Organization,
    user: AbstractBaseUser,
    activity: str = "",
    category: Category | None = None,
    tags: Sequence[str] = (),
) -> RunningTimer:
    """Starts the member's timer; a timer already running keeps its start time (and labels).

    The timer lives in the database, so it survives reloads and a second tab.
    """
    errors: dict[str, str] = {}
    if unknown := set(tags) - TAG_FIELDS.keys():
        errors["tags"] = f"Unknown tag(s): {', '.join(sorted(unknown))}."
    if len(activity) > MAX_ACTIVITY_LENGTH:
        errors["activity"] = f"Ensure this value has at most {MAX_ACTIVITY_LENGTH} characters."
    if category is not None and (category.organization_id != org.pk or category.archived):
        errors["category"] = (
            "Unknown category." if category.organization_id != org.pk else "Archived category."
        )
    if errors:
        raise ValidationError(errors)
    timer, _ = RunningTimer.objects.get_or_create(
        organization=org,
        user=user,
        defaults={
            "started_at": timezone.now(),
            "activity": activity,
            "category": category,
            "tags": [tag for tag in TAG_FIELDS if tag in set(tags)],
        },
    )
    return timer


@transaction.atomic
def stop_timer(
    *, org: Organization, user: AbstractBaseUser, ended_at: datetime | None = None, **fields: Any
) -> SavedEntry | None:
    """Stops the member's timer and records its entry (source ``timer``); None when none runs.

    ``fields`` (activity, category, tags, handling ...) override what the timer holds. A
    refused entry (e.g. it overlaps one logged meanwhile) raises ValidationError and the
    timer keeps running, so nothing is lost.
    """
    timer = RunningTimer.objects.select_for_update().filter(organization=org, user=user).first()
    if timer is None:
        return None
    tags = fields.pop("tags", timer.tags)
    entry = TimeEntry(
        organization=org,
        user=user,
        started_at=timer.started_at,
        ended_at=ended_at or timezone.now(),
        activity=fields.pop("activity", None) or timer.activity or "Timed work",
        category=fields.pop("category", None) or timer.category,
        source=Source.TIMER,
        **fields,
    )
    entry.tags = tags
    saved = record_time_entry(org=org, entry=entry)
    timer.delete()
    return saved


def discard_timer(*, org: Organization, user: AbstractBaseUser) -> bool:
    """Drops the member's running timer without an entry (e.g. one forgotten over 24 h)."""
    deleted, _ = RunningTimer.objects.filter(organization=org, user=user).delete()
    return bool(deleted)
