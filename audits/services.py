"""Every write on categories, time entries, audits and the running timer (STYLE 2).

``save_time_entries`` is the one path by which entries are written, whether they come from
a page, the API, a CSV import or the timer: it validates a whole batch, applies the
no-overlap rule within the batch and against stored entries, upserts on ``external_id``
and writes in a bounded number of queries, whatever the batch size, through the
framework's one upsert (``msp_ops.orgs.batches.save_batch``); this module keeps only what
is about time entries: members, categories, overlaps. Like every service, each function is
atomic by itself and may run inside the caller's transaction.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
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
from msp_ops.orgs.batches import Batch, BatchValidationError, Saved, check_members, save_batch
from msp_ops.orgs.models import Organization


class SavedEntry(Saved[TimeEntry]):
    """A stored entry and whether this write created it."""

    @property
    def entry(self) -> TimeEntry:
        return self.obj


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


def save_time_entries(
    *,
    org: Organization,
    entries: Sequence[TimeEntry],
    owner: AbstractBaseUser | None = None,
    members: Collection[int] = (),
    categories: Collection[Category] = (),
) -> list[SavedEntry]:
    """Validates and stores a batch atomically; raises BatchValidationError, storing nothing.

    Each entry is an unsaved ``TimeEntry`` of ``org``: with ``pk`` set it replaces that
    stored entry (edit), with an ``external_id`` that already exists in the organization it
    updates that entry (idempotent replay), otherwise it is created (``save_batch``). An
    entry without a category gets the org's ``other`` (SPEC 1). With ``owner`` set (a member
    allowed only its own entries), no other member's entry is replaced.

    Beyond the upsert's own queries: one for members, one for categories, one for overlaps.
    ``members`` (user ids) and ``categories`` the caller read from ``org`` in this request (the
    API, resolving usernames and slugs) are not read again. On PostgreSQL the overlap query is
    left to the exclusion constraint first (``Batch.trust_constraints``): a single new entry
    costs one INSERT after the caller's lookups.
    """

    def rules(batch: Batch[TimeEntry]) -> None:
        check_members(batch, "user", known=members)
        _check_categories(batch, known=categories)
        _check_overlaps(batch)

    saved = save_batch(
        org=org,
        items=entries,
        rules=rules,
        # Checked for the whole batch below: Django's own FK check is a query each.
        bulk_checked=["user", "category"],
        stored_columns=["category_id"],
        owner_field="user",
        owner=owner,
        noun="entry",
    )
    return [SavedEntry(item.obj, item.created) for item in saved]


def record_time_entry(*, org: Organization, entry: TimeEntry) -> SavedEntry:
    """One entry through the batch path; a refusal is a plain field-keyed ValidationError."""
    try:
        return save_time_entries(org=org, entries=[entry])[0]
    except BatchValidationError as error:
        raise ValidationError(error.item_errors[0]) from None


@transaction.atomic
def delete_time_entry(*, entry: TimeEntry) -> None:
    entry.delete()


def _check_categories(batch: Batch[TimeEntry], known: Collection[Category] = ()) -> None:
    """Each entry's category is one of the org's; archived ones stay on the entries that have
    them but take no new ones (SPEC 1). One query: the categories named, and ``other``, unless
    ``known`` (read from the org in this request) holds all of them."""
    categories = {c.pk: c for c in known if c.organization_id == batch.org.pk}
    wanted = {entry.category_id for entry in batch.items if entry.category_id is not None}
    default = next((c for c in categories.values() if c.slug == DEFAULT_CATEGORY_SLUG), None)
    if wanted - categories.keys() or (default is None and any(e.category_id is None for e in batch.items)):
        categories.update(
            (category.pk, category)
            for category in Category.objects.for_org(batch.org).filter(
                Q(pk__in=wanted - categories.keys()) | Q(slug=DEFAULT_CATEGORY_SLUG)
            )
        )
        default = next((c for c in categories.values() if c.slug == DEFAULT_CATEGORY_SLUG), None)
    for index, entry in batch.found():
        if entry.category_id is None:
            if default is None:
                batch.add(index, "category", "This field is required.")
                continue
            entry.category = default
        category = categories.get(entry.category_id)
        if category is None:
            batch.add(index, "category", "Unknown category.")
            continue
        entry.category = category  # the stored version: its archived flag is current
        stored = batch.replaced.get(index)
        if category.archived and (stored is None or stored["category_id"] != category.pk):
            batch.add(index, "category", "Category '{slug}' is archived.", slug=category.slug)


def _items_overlap(candidates: list[tuple[int, TimeEntry]]) -> bool:
    """Whether two entries of one member in the batch share time (no query)."""
    by_user: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for _, entry in candidates:
        by_user[entry.user_id].append((as_utc(entry.started_at), as_utc(entry.ended_at)))
    for intervals in by_user.values():
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            if start < end:
                return True
    return False


@dataclass(frozen=True)
class _Interval:
    start: datetime  # UTC
    end: datetime  # UTC
    stored: TimeEntry | None  # a stored entry, or None for a batch item
    index: int = -1  # the batch item's index


def _check_overlaps(batch: Batch[TimeEntry]) -> None:
    """No two entries of one member share time: within the batch and against stored ones.

    One query fetches the stored entries of the batch's members inside the batch's time
    span; a sweep over each member's intervals sorted by start finds every collision.
    Touching entries (one ends when the next starts) do not overlap. Times are compared in
    UTC (same-zone datetimes compare by wall clock, wrong in a DST fall-back hour).
    """
    candidates = [(index, e) for index, e in batch.valid() if e.user_id and e.started_at and e.ended_at]
    if not candidates:
        return
    if batch.trust_constraints and not any(batch.errors) and not _items_overlap(candidates):
        return  # PostgreSQL's exclusion constraint checks the stored entries as it writes
    replaced = {pk for index, _ in candidates if (pk := batch.replaced_pk(index))}
    # A stored entry with an item's external_id is the one that item replaces (upsert), also
    # when a concurrent replay committed it after the batch was matched.
    upserted = {e.external_id for _, e in candidates if e.pk is None and e.external_id}
    span_start = min(as_utc(e.started_at) for _, e in candidates)
    span_end = max(as_utc(e.ended_at) for _, e in candidates)
    stored = (
        TimeEntry.objects.for_org(batch.org)
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

    def collide(item: _Interval, other: _Interval) -> None:
        """The error goes on the batch item involved, naming the other side."""
        if other.stored is not None:
            batch.add(
                item.index,
                "started_at",
                "Overlaps entry #{pk}: {activity}",
                pk=other.stored.pk,
                activity=other.stored.activity,
            )
        else:
            activity = batch.items[other.index].activity
            batch.add(
                item.index,
                "started_at",
                "Overlaps {other} of {batch}: {activity}",
                other=other.index,
                activity=activity,
            )

    for intervals in by_user.values():
        # Stored entries first among equal starts, so a batch item names the stored entry.
        intervals.sort(key=lambda item: (item.start, item.stored is None, item.end))
        latest: _Interval | None = None  # the interval reaching furthest so far
        for interval in intervals:
            if latest is not None and interval.start < latest.end:
                if interval.stored is None:
                    collide(interval, latest)
                elif latest.stored is None:
                    collide(latest, interval)
            if latest is None or interval.end > latest.end:
                latest = interval


# --- audits ---------------------------------------------------------------------------


def start_time_audits(
    *, org: Organization, audits: Sequence[TimeAudit], owner: AbstractBaseUser | None = None
) -> list[Saved[TimeAudit]]:
    """Members' 7-day audits, a batch at once (3 queries and one INSERT for 1,000 audits);
    starting the same one twice is refused. With ``owner`` set, only that member's."""
    return save_batch(
        org=org, items=audits, rules=_audit_rules, bulk_checked=["user"], owner_field="user", owner=owner
    )


def start_time_audit(*, org: Organization, user: AbstractBaseUser, start_date: date) -> TimeAudit:
    """A member's 7-day audit from ``start_date``; a refusal is a field-keyed ValidationError."""
    audit = TimeAudit(organization=org, user=user, start_date=start_date)
    try:
        return start_time_audits(org=org, audits=[audit])[0].obj
    except BatchValidationError as error:
        raise ValidationError(error.item_errors[0]) from None


def _audit_rules(batch: Batch[TimeAudit]) -> None:
    check_members(batch, "user")
    wanted = {(audit.user_id, audit.start_date) for _, audit in batch.valid()}
    stored = set(
        TimeAudit.objects.for_org(batch.org)
        .filter(user_id__in={user for user, _ in wanted}, start_date__in={day for _, day in wanted})
        .values_list("user_id", "start_date")
        if wanted
        else ()
    )
    taken = set(stored)
    for index, audit in batch.valid():
        key = (audit.user_id, audit.start_date)
        if key in taken:  # stored, or earlier in the batch
            batch.add(
                index,
                "start_date",
                "{user} already has an audit starting {day}.",
                user=audit.user.get_username(),
                day=audit.start_date,
            )
        taken.add(key)


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
