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

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audits.models import (
    DEFAULT_CATEGORIES,
    DEFAULT_CATEGORY_SLUG,
    TAG_FIELDS,
    Category,
    RunningTimer,
    Source,
    TimeAudit,
    TimeEntry,
)
from msp_ops.orgs.models import Organization

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
    category = Category(organization=org, slug=slug, name=name, kind=kind)
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
    category.name = name
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


def save_time_entries(*, org: Organization, entries: Sequence[TimeEntry]) -> list[SavedEntry]:
    """Validates and stores a batch atomically; raises BatchValidationError, storing nothing.

    Each entry is an unsaved ``TimeEntry`` of ``org``: with ``pk`` set it replaces that
    stored entry (edit), with an ``external_id`` that already exists in the organization it
    updates that entry (idempotent replay), otherwise it is created.
    """
    for entry in entries:
        entry.organization = org
    errors: list[dict[str, list[str]]] = [{} for _ in entries]

    for index, entry in enumerate(entries):
        try:
            # Django checks a foreign key with one query per item: user and category are
            # checked for the whole batch below instead (bounded queries, SPEC 4).
            entry.full_clean(
                exclude=["organization", "user", "category"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors[index] = _errors_of(error)
        for field in ("user", "category"):
            if getattr(entry, f"{field}_id") is None:
                _add(errors[index], field, "This field is required.")

    stored_by_external_id = _check_external_ids(org, entries, errors)
    _check_categories(entries, stored_by_external_id, errors)
    _check_overlaps(org, entries, stored_by_external_id, errors)
    if any(errors):
        raise BatchValidationError(errors)

    try:
        with transaction.atomic():
            return _write(org, entries, stored_by_external_id)
    except IntegrityError:
        # A concurrent request stored a colliding entry after our checks; the database's
        # exclusion constraint refused ours. Run the checks again to name the collision.
        errors = [{} for _ in entries]
        stored_by_external_id = _check_external_ids(org, entries, errors)
        _check_overlaps(org, entries, stored_by_external_id, errors)
        if not any(errors):
            raise
        raise BatchValidationError(errors) from None


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
                f"(item {seen[entry.external_id]}).",
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
    entries: Sequence[TimeEntry], stored_by_external_id: dict[str, _Stored], errors: list[dict]
) -> None:
    """Archived categories stay on the entries that have them but take no new ones."""
    original: dict[int, int] = {}
    edited = [entry.pk for entry in entries if entry.pk is not None]
    if edited:
        original = dict(TimeEntry.objects.filter(pk__in=edited).values_list("pk", "category_id"))
    for index, entry in enumerate(entries):
        category = entry.category if entry.category_id else None
        if category is None:
            continue
        if category.organization_id != entry.organization_id:
            _add(errors[index], "category", "Unknown category.")
            continue
        if not category.archived:
            continue
        stored = stored_by_external_id.get(entry.external_id) if entry.external_id else None
        kept = original.get(entry.pk) or (stored.category_id if stored else None)
        if kept != entry.category_id:
            _add(errors[index], "category", f"Category '{category.slug}' is archived.")


def _identity(entry: TimeEntry, stored_by_external_id: dict[str, _Stored]) -> int | None:
    """The stored entry this item replaces, if any."""
    if entry.pk is not None:
        return entry.pk
    stored = stored_by_external_id.get(entry.external_id) if entry.external_id else None
    return stored.pk if stored else None


def _check_overlaps(
    org: Organization,
    entries: Sequence[TimeEntry],
    stored_by_external_id: dict[str, _Stored],
    errors: list[dict],
) -> None:
    """No two entries of one member share time: within the batch and against stored ones.

    One query fetches the stored entries of the batch's members inside the batch's time
    span; a sweep over each member's intervals sorted by start finds every collision.
    """
    candidates = [
        (index, entry)
        for index, entry in enumerate(entries)
        if not errors[index] and entry.user_id and entry.started_at and entry.ended_at
    ]
    if not candidates:
        return
    replaced = {pk for _, e in candidates if (pk := _identity(e, stored_by_external_id))}
    span_start = min(e.started_at for _, e in candidates)
    span_end = max(e.ended_at for _, e in candidates)
    stored = (
        TimeEntry.objects.for_org(org)
        .filter(user_id__in={e.user_id for _, e in candidates})
        .overlapping(span_start, span_end)
        .exclude(pk__in=replaced)
        .only("pk", "user_id", "started_at", "ended_at", "activity")
    )
    # (start, end, is_stored, index-or-entry)
    by_user: dict[int, list[tuple[datetime, datetime, bool, object]]] = defaultdict(list)
    for row in stored:
        by_user[row.user_id].append((row.started_at, row.ended_at, True, row))
    for index, entry in candidates:
        by_user[entry.user_id].append((entry.started_at, entry.ended_at, False, index))

    for intervals in by_user.values():
        intervals.sort(key=lambda item: (item[0], item[1]))
        latest = None  # the interval reaching furthest so far
        for interval in intervals:
            if latest is not None and interval[0] < latest[1]:
                _report_overlap(interval, latest, entries, errors)
            if latest is None or interval[1] > latest[1]:
                latest = interval


def _describe(interval, entries: Sequence[TimeEntry]) -> str:
    _, _, is_stored, ref = interval
    if is_stored:
        return f"entry #{ref.pk}: {ref.activity}"
    return f"item {ref} of this batch: {entries[ref].activity}"


def _report_overlap(interval, earlier, entries: Sequence[TimeEntry], errors: list[dict]) -> None:
    # The error goes on the batch item(s) involved, naming the other side.
    if not interval[2]:
        _add(errors[interval[3]], "started_at", f"Overlaps {_describe(earlier, entries)}")
    if not earlier[2] and interval[2]:
        _add(errors[earlier[3]], "started_at", f"Overlaps {_describe(interval, entries)}")


def _write(
    org: Organization, entries: Sequence[TimeEntry], stored_by_external_id: dict[str, _Stored]
) -> list[SavedEntry]:
    now = timezone.now()
    edits = [e for e in entries if e.pk is not None]
    upserts = [e for e in entries if e.pk is None and e.external_id]
    inserts = [e for e in entries if e.pk is None and not e.external_id]
    for entry in entries:
        entry.updated_at = now
        if entry.pk is None:
            entry.created_at = now
    for entry in edits:
        entry.save(force_update=True)
    if upserts:
        # INSERT ... ON CONFLICT (organization_id, external_id) DO UPDATE: replays that race
        # each other still leave one row per external_id.
        TimeEntry.objects.bulk_create(
            upserts,
            update_conflicts=True,
            unique_fields=["organization", "external_id"],
            update_fields=UPSERT_FIELDS,
            batch_size=500,
        )
    if inserts:
        TimeEntry.objects.bulk_create(inserts, batch_size=500)
    if connection.vendor != "postgresql" and upserts and any(e.pk is None for e in upserts):
        _fill_pks(org, upserts)
    # Created: plain inserts, and upserts whose external_id was not stored before.
    created = {id(e) for e in inserts} | {
        id(e) for e in upserts if e.external_id not in stored_by_external_id
    }
    return [SavedEntry(entry=entry, created=id(entry) in created) for entry in entries]


def _fill_pks(org: Organization, entries: Sequence[TimeEntry]) -> None:
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
    """Starts the member's timer; a timer already running keeps its start time."""
    timer, _ = RunningTimer.objects.get_or_create(
        organization=org,
        user=user,
        defaults={
            "started_at": timezone.now(),
            "activity": activity,
            "category": category,
            "tags": list(tags),
        },
    )
    return timer


@transaction.atomic
def stop_timer(*, org: Organization, user: AbstractBaseUser, **overrides) -> SavedEntry | None:
    """Stops the member's timer and records its entry (source ``timer``); None when none runs."""
    timer = RunningTimer.objects.select_for_update().filter(organization=org, user=user).first()
    if timer is None:
        return None
    category = overrides.pop("category", None) or timer.category
    if category is None:
        category = Category.objects.for_org(org).get(slug=DEFAULT_CATEGORY_SLUG)
    entry = TimeEntry(
        organization=org,
        user=user,
        started_at=timer.started_at,
        ended_at=overrides.pop("ended_at", None) or timezone.now(),
        activity=overrides.pop("activity", None) or timer.activity or "Timed work",
        category=category,
        source=Source.TIMER,
        **overrides,
    )
    entry.tags = timer.tags
    saved = record_time_entry(org=org, entry=entry)
    timer.delete()
    return saved
