"""Every write of the delegation app (SPEC 1 "Delegation"; STYLE 2).

Pushed rows (interruptions, delegates, delegations, drills, time blocks) go through the
framework's one upsert (``msp_ops.orgs.batches.save_batch``) with their rules across rows
here; runbooks keep their revisions; the escalation map is created with the organization.
Like every service, each function is atomic by itself and may run inside a transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from contextlib import nullcontext
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone

from audits.models import Category, TimeAudit, TimeEntry, any_tag
from audits.selectors import hours_in_windows
from delegation.models import (
    ALLOWED_MOVES,
    DRILL_DEFAULT_LENGTH,
    RUNBOOK_TEXT_FIELDS,
    Delegate,
    Delegation,
    DelegationStatus,
    Drill,
    EscalationLevel,
    EscalationStep,
    FollowUp,
    Interruption,
    Runbook,
    RunbookRevision,
    TimeBlock,
)
from msp_ops.lib import weeks
from msp_ops.orgs.batches import (
    Batch,
    BatchValidationError,
    ItemMessage,
    Saved,
    check_members,
    save_batch,
)
from msp_ops.orgs.models import Organization

# --- the escalation map -------------------------------------------------------------------

DEFAULT_ESCALATION_MAP: dict[str, str] = {
    EscalationLevel.L1: (
        "Password resets, printer and peripheral issues, single-user problems with a documented "
        "fix. Follow the runbook; escalate when it does not resolve the ticket within 30 minutes."
    ),
    EscalationLevel.L2: (
        "Several users or a whole site affected, server, network or backup failures, anything "
        "without a runbook. The service manager decides; escalate when a client's business is down."
    ),
    EscalationLevel.OWNER_ONLY: (
        "Security incidents, a client threatening to leave, contract or pricing changes, spend "
        "above the L2 limit."
    ),
}


def create_escalation_map(*, org: Organization) -> None:
    """The three levels of SPEC 1, with starting criteria the service manager rewrites."""
    EscalationStep.objects.bulk_create(
        [
            EscalationStep(organization=org, level=level, criteria=text)
            for level, text in DEFAULT_ESCALATION_MAP.items()
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def update_escalation_map(*, org: Organization, levels: dict[str, dict[str, Any]]) -> list[EscalationStep]:
    """Changes the criteria and limits of the levels given; the others stay."""
    create_escalation_map(org=org)  # an organization older than the map gets its three levels
    steps = {step.level: step for step in EscalationStep.objects.for_org(org).select_for_update()}
    if unknown := sorted(set(levels) - set(steps)):
        message = f"Unknown escalation level(s): {', '.join(unknown)}; the levels are L1, L2, owner_only."
        raise ValidationError({"level": message})
    for level, values in levels.items():
        step = steps[level]
        for name, value in values.items():
            setattr(step, name, value)
        step.full_clean(exclude=["organization"], validate_constraints=False)
        step.save()
    return [steps[level] for level in EscalationLevel.values]


# --- delegates and delegations ------------------------------------------------------------


def save_delegates(*, org: Organization, delegates: Sequence[Delegate]) -> list[Saved[Delegate]]:
    return save_batch(org=org, items=delegates)


def save_delegations(
    *, org: Organization, delegations: Sequence[Delegation], today: date | None = None
) -> list[Saved[Delegation]]:
    """Stores delegations, applying SPEC 1's status rules; a refused change changes nothing.

    A new delegation starts as ``candidate``, ``planned`` or ``handed_off`` (the moves allowed
    from a fresh candidate). Moving to ``handed_off`` needs a delegate and a definition of
    done, and sets the handoff date to today (org timezone) when it is empty; ``done`` needs
    every item checked or a ``done_override_reason``.
    """
    today = today or weeks.today(org.tz)

    def rules(batch: Batch[Delegation]) -> None:
        _check_delegation_refs(batch)
        for index, delegation in batch.found():
            stored = batch.replaced.get(index)
            before = stored["status"] if stored else None
            # Done, and done as stored in its checklist and reason: the edit is elsewhere (its
            # notes, its review date), so the rules of done have nothing new to judge. A row
            # stored before those rules may break them; it is not held to them until then.
            kept_done = before == delegation.status == DelegationStatus.DONE and not _done_rule_touched(
                stored, delegation
            )
            if _check_checklist(batch, index, delegation, before):
                _check_status(batch, index, delegation, before, today, kept_done=kept_done)
                if before == delegation.status == DelegationStatus.DONE and not kept_done:
                    _check_stays_done(batch, index, delegation, stored["done_override_reason"])

    return save_batch(
        org=org,
        items=delegations,
        rules=rules,
        bulk_checked=["category", "delegate"],
        stored_columns=["status", "done_override_reason", "definition_of_done"],
    )


def _done_rule_touched(stored: dict[str, Any], delegation: Delegation) -> bool:
    """Whether an edit changes what the rules of ``done`` judge: the checklist or the reason."""
    return (delegation.definition_of_done or []) != (stored["definition_of_done"] or []) or (
        delegation.done_override_reason or ""
    ) != (stored["done_override_reason"] or "")


def candidate_from_audit(*, audit: TimeAudit, category: Category, **fields: Any) -> Delegation:
    """An unsaved candidate for one of an audit report's categories (SPEC 1, SPEC 4 ``from_audit``):
    the title is the category's name and the expected hours per week its tagged hours in the
    report, unless ``fields`` give them."""
    tz = audit.organization.tz
    start, end = weeks.range_bounds(audit.start_date, audit.end_date, tz)
    entries = TimeEntry.objects.for_org(audit.organization).filter(user_id=audit.user_id)
    # The report's "tagged hours" of the category (its candidates show the top 5 of them).
    tagged = hours_in_windows(entries, {"tagged": (start, end, Q(category_id=category.pk) & any_tag())})[
        "tagged"
    ]
    values = {"title": category.name, "expected_hours_per_week": tagged, **fields}
    return Delegation(organization=audit.organization, category=category, **values)


def move_delegation(*, delegation: Delegation, status: str, today: date | None = None) -> Delegation:
    """A card moved on the board: the same rules as any other change (refusal: ValidationError)."""
    stored = Delegation.objects.get(pk=delegation.pk)
    stored.status = status
    try:
        return save_delegations(org=delegation.organization, delegations=[stored], today=today)[0].obj
    except BatchValidationError as error:
        raise ValidationError(error.item_errors[0]) from None


def update_delegation(*, delegation: Delegation, today: date | None = None, **fields: Any) -> Delegation:
    """Changes some fields of a stored delegation (the page's edit form), applied to the row as
    stored now (locked), so a card moved meanwhile keeps its new status; the same rules as any
    other change (refusal: ValidationError, nothing changed)."""
    with transaction.atomic():
        stored = Delegation.objects.select_for_update().get(pk=delegation.pk)
        for name, value in fields.items():
            setattr(stored, name, value)
        try:
            return save_delegations(org=delegation.organization, delegations=[stored], today=today)[0].obj
        except BatchValidationError as error:
            raise ValidationError(error.item_errors[0]) from None


CHECKLIST_ITEM_LENGTH = 500
CHECKLIST_ACTIONS = ("add", "check", "uncheck", "remove")


def edit_checklist(
    *, delegation: Delegation, action: str, text: str = "", index: int | None = None
) -> Delegation:
    """The definition of done edited in place: ``add`` an item with ``text``, or ``check``,
    ``uncheck`` or ``remove`` the item at ``index`` (0-based), whose text must still be ``text``:
    a checklist changed meanwhile in another tab is refused rather than the wrong item changed."""
    text = _words(text)
    with transaction.atomic():
        stored = Delegation.objects.select_for_update().get(pk=delegation.pk)
        items = [dict(item) for item in stored.definition_of_done or []]
        if action == "add":
            if not text:
                raise ValidationError({"definition_of_done": "Write the item first."})
            if len(text) > CHECKLIST_ITEM_LENGTH:
                raise ValidationError(
                    {"definition_of_done": f"An item has at most {CHECKLIST_ITEM_LENGTH} characters."}
                )
            items.append({"text": text, "done": False})
        elif action in CHECKLIST_ACTIONS:
            if index is None or not 0 <= index < len(items) or _words(items[index].get("text", "")) != text:
                raise ValidationError(
                    {"definition_of_done": "The checklist changed meanwhile: reload and try again."}
                )
            if action == "remove":
                del items[index]
            else:
                items[index]["done"] = action == "check"
        else:
            raise ValidationError({"definition_of_done": f"Unknown checklist action '{action}'."})
        stored.definition_of_done = items
        try:
            return save_delegations(org=delegation.organization, delegations=[stored])[0].obj
        except BatchValidationError as error:
            raise ValidationError(error.item_errors[0]) from None


def _words(text: str) -> str:
    return " ".join(str(text).split())


def _check_delegation_refs(batch: Batch[Delegation]) -> None:
    """Category and delegate are the organization's (a query each for the batch)."""
    category_ids = {d.category_id for d in batch.items} - {None}
    categories = {c.pk: c for c in Category.objects.for_org(batch.org).filter(pk__in=category_ids)}
    delegate_ids = {d.delegate_id for d in batch.items} - {None}
    delegates = set(
        Delegate.objects.for_org(batch.org).filter(pk__in=delegate_ids).values_list("pk", flat=True)
        if delegate_ids
        else ()
    )
    for index, delegation in batch.found():
        if delegation.category_id is None:
            batch.add(index, "category", "This field is required.")
        elif delegation.category_id not in categories:
            batch.add(index, "category", "Unknown category.")
        else:
            delegation.category = categories[delegation.category_id]
        if delegation.delegate_id is not None and delegation.delegate_id not in delegates:
            batch.add(index, "delegate", "Unknown delegate.")


def _check_checklist(batch: Batch, index: int, delegation: Delegation, before: str | None) -> bool:
    """The definition of done is a list of ``{"text": str, "done": bool}`` (SPEC 4), and a
    handed-off delegation keeps at least one item (emptied, it would reach done unchecked; a
    done one too, unless it gives a ``done_override_reason``: ``_check_status``)."""
    items = delegation.definition_of_done
    if items is None:
        items = delegation.definition_of_done = []
    if not isinstance(items, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("text"), str)
        and item["text"].strip()
        and isinstance(item.get("done", False), bool)
        for item in items
    ):
        batch.add(
            index,
            "definition_of_done",
            "Each definition-of-done item needs a non-empty text and done true or false.",
        )
        return False
    if not items and delegation.status == before == DelegationStatus.HANDED_OFF:
        batch.add(
            index, "definition_of_done", "A handed-off delegation keeps at least one definition-of-done item."
        )
    return True


def _check_status(
    batch: Batch,
    index: int,
    delegation: Delegation,
    before: str | None,
    today: date,
    *,
    kept_done: bool = False,
) -> None:
    status = delegation.status
    start = before or DelegationStatus.CANDIDATE
    if status != start and status not in ALLOWED_MOVES[start]:
        allowed = " or ".join(sorted(ALLOWED_MOVES[start]))
        if before is None:
            batch.add(index, "status", "A new delegation starts as candidate, planned or handed_off.")
        else:
            batch.add(
                index,
                "status",
                "A delegation cannot move from {before} to {status}; from {before} it moves to {allowed}.",
                before=before,
                status=status,
                allowed=allowed,
            )
        return
    items = delegation.definition_of_done or []
    if status == DelegationStatus.HANDED_OFF and status == before and delegation.delegate_id is None:
        # The database refuses it too (handed_off_delegation_has_delegate): say why instead.
        batch.add(index, "delegate", "A handed-off delegation keeps a delegate: choose who has it now.")
    if status == DelegationStatus.HANDED_OFF and status != before:
        if delegation.delegate_id is None:
            batch.add(index, "status", "Choose a delegate before handing this off.")
        if not items:
            batch.add(index, "status", "Write at least one definition-of-done item before handing this off.")
        if delegation.handoff_date is None and not batch.errors[index]:
            delegation.handoff_date = today
    overridden = _overridden(delegation.done_override_reason)
    if status == DelegationStatus.DONE and not kept_done and not items and not overridden:
        # Emptied along with the move (or later), the checklist would leave done unchecked.
        batch.add(
            index,
            "definition_of_done",
            "A delegation marked done keeps at least one definition-of-done item, or gives a "
            "done_override_reason.",
        )
    if status == DelegationStatus.DONE and status != before:
        open_items = _open_items(items)
        if open_items and not overridden:
            batch.add(
                index,
                "status",
                "Check every definition-of-done item first ({count} open: {items}), or give a "
                "done_override_reason.",
                count=len(open_items),
                items="; ".join(open_items),
            )


def _overridden(reason: str | None) -> bool:
    """A ``done_override_reason`` that says something (blank or spaces: none)."""
    return bool((reason or "").strip())


def _open_items(items: list[dict]) -> list[str]:
    """The texts of the definition-of-done items not checked yet."""
    return [item["text"] for item in items if not item.get("done")]


# SPEC 1 allows done -> reverted only: the way back to work on a done delegation's checklist.
_REOPEN_HINT = "; to reopen work, move it to reverted first."


def _check_stays_done(batch: Batch, index: int, delegation: Delegation, reason_before: str) -> None:
    """SPEC 1's condition of ``done`` holds while it stays done, not only on the move: no item
    unchecked or open item added without a ``done_override_reason``, and no reason cleared while
    items are open (an emptied checklist: ``_check_status``)."""
    if _overridden(delegation.done_override_reason):
        return
    open_items = _open_items(delegation.definition_of_done or [])
    if not open_items:
        return
    if _overridden(reason_before):
        batch.add(
            index,
            "done_override_reason",
            "A done delegation with open definition-of-done items keeps its done_override_reason "
            "({count} open: {items})" + _REOPEN_HINT,
            count=len(open_items),
            items="; ".join(open_items),
        )
    else:
        batch.add(
            index,
            "definition_of_done",
            "A done delegation keeps every definition-of-done item checked, or gives a "
            "done_override_reason" + _REOPEN_HINT,
        )


# --- runbooks -----------------------------------------------------------------------------

_RUNBOOK_VERSION_FIELDS = ["ticket_category", *RUNBOOK_TEXT_FIELDS, "escalation_level", "last_reviewed"]


@transaction.atomic
def save_runbooks(
    *, org: Organization, runbooks: Sequence[Runbook], user: AbstractBaseUser | None
) -> list[Saved[Runbook]]:
    """Creates or changes runbooks; every change keeps the previous version as a revision
    (SPEC 1: "updated after real incidents"). One runbook per ticket category, compared
    case-insensitively. A batch is atomic: any refusal raises BatchValidationError."""
    runbooks = list(runbooks)
    errors: list[dict[str, list[str]]] = [{} for _ in runbooks]
    edited = {r.pk for r in runbooks if r.pk is not None}
    stored = {r.pk: r for r in Runbook.objects.for_org(org).filter(pk__in=edited).select_for_update()}
    names = {r.ticket_category.strip().lower() for r in runbooks}
    taken = dict(
        Runbook.objects.for_org(org)
        .annotate(key=Lower("ticket_category"))
        .filter(key__in=names)
        .values_list("key", "pk")
    )
    seen: dict[str, int] = {}
    for index, runbook in enumerate(runbooks):
        runbook.organization = org
        runbook.ticket_category = runbook.ticket_category.strip()
        try:
            runbook.full_clean(
                exclude=["organization", "updated_at", "updated_by", "revision"], validate_constraints=False
            )
        except ValidationError as error:
            errors[index] = error.message_dict
        if runbook.pk is not None and runbook.pk not in stored:
            errors[index].setdefault(NON_FIELD_ERRORS, []).append(f"Runbook #{runbook.pk} does not exist.")
            continue
        key = runbook.ticket_category.lower()
        holder = taken.get(key)
        if holder is not None and holder != runbook.pk:
            errors[index].setdefault("ticket_category", []).append(
                f"Runbook #{holder} already covers ticket category '{runbook.ticket_category}'."
            )
        elif key in seen:
            errors[index].setdefault("ticket_category", []).append(
                ItemMessage(
                    "Ticket category '{name}' appears twice in {batch} ({other}).",
                    other=seen[key],
                    name=runbook.ticket_category,
                )
            )
        seen.setdefault(key, index)
    if any(errors):
        raise BatchValidationError(errors)
    now = timezone.now()
    saved = []
    for runbook in runbooks:
        before = stored.get(runbook.pk)
        if before is None:
            runbook.revision, runbook.updated_at, runbook.updated_by = 1, now, user
            runbook.save()
            saved.append(Saved(runbook, True))
            continue
        if any(getattr(before, name) != getattr(runbook, name) for name in _RUNBOOK_VERSION_FIELDS):
            RunbookRevision.objects.create(
                runbook=before,
                revision=before.revision,
                changed_at=before.updated_at,
                changed_by_id=before.updated_by_id,
                **{name: getattr(before, name) for name in _RUNBOOK_VERSION_FIELDS},
            )
            runbook.revision, runbook.updated_at, runbook.updated_by = before.revision + 1, now, user
        else:  # nothing changed: no revision, and the caller's copy cannot reset these
            runbook.revision, runbook.updated_at = before.revision, before.updated_at
            runbook.updated_by_id = before.updated_by_id
        runbook.save()
        saved.append(Saved(runbook, False))
    return saved


def save_runbook(*, org: Organization, runbook: Runbook, user: AbstractBaseUser | None) -> Runbook:
    try:
        return save_runbooks(org=org, runbooks=[runbook], user=user)[0].obj
    except BatchValidationError as error:
        raise ValidationError(error.item_errors[0]) from None


# --- interruptions ------------------------------------------------------------------------


def save_interruptions(
    *,
    org: Organization,
    interruptions: Sequence[Interruption],
    owner: AbstractBaseUser | None = None,
    members: Collection[int] = (),
) -> list[Saved[Interruption]]:
    """Stores interruptions, upserting on ``external_id``; with ``owner`` (a technician) only
    the ones that member logged may be replaced. A replay keeps who logged it. ``members``: user
    ids the caller read as members of ``org`` (the API's token member), not read again. A pending one
    (no follow-up, not owner-level) stored in a completed drill's window sends that drill back
    to review (``_reopen_drills``), in the same transaction as the write."""
    interruptions = list(interruptions)

    def rules(batch: Batch[Interruption]) -> None:
        _interruption_rules(batch, members)

    def save() -> list[Saved[Interruption]]:
        return save_batch(
            org=org,
            items=interruptions,
            rules=rules,
            bulk_checked=["runbook", "logged_by"],
            owner_field="logged_by",
            owner=owner,
            noun="interruption",
            kept_on_replay=["logged_by"],
        )

    if not any(item.needs_follow_up for item in interruptions):
        return save()  # followed up or owner-level: no drill can need a review again
    # Inside the caller's transaction the write and the reopening are one unit already; else
    # one of their own (a refusal raises before anything of it is written).
    with nullcontext() if connection.in_atomic_block else transaction.atomic():
        saved = save()
        _reopen_drills(org=org, pending=[s.obj for s in saved if s.obj.needs_follow_up])
    return saved


def _reopen_drills(*, org: Organization, pending: Sequence[Interruption]) -> None:
    """SPEC 1: a drill is complete only when each interruption of its window has a follow-up or
    the owner-level mark. A pending one stored in a completed drill's window (logged late, moved
    in, its follow-up taken back) sends the drill back to review: ``completed_at`` cleared, so
    ``complete_drill`` is needed again. One statement for every drill the batch touches.

    Every drill holding one is written, completed or not: the row lock orders this write after a
    concurrent ``complete_drill`` (which locks the drill before reading its interruptions), or
    that one after this (it then reads the pending interruption and refuses).
    """
    if not pending:
        return
    inside = Interruption.objects.for_org(org).filter(
        pk__in=[item.pk for item in pending],
        occurred_at__gte=OuterRef("starts_at"),
        occurred_at__lt=OuterRef("ends_at"),
    )
    Drill.objects.for_org(org).filter(Exists(inside)).update(completed_at=None)


def _interruption_rules(batch: Batch[Interruption], members: Collection[int] = ()) -> None:
    check_members(batch, "logged_by", known=members)
    for index, stored in batch.replaced.items():
        if batch.items[index].pk is None:
            # A replay keeps who logged it (kept_on_replay): the object answered says so too.
            batch.items[index].logged_by_id = stored["logged_by_id"]
    wanted = {i.runbook_id for i in batch.items} - {None}
    runbooks = set(
        Runbook.objects.for_org(batch.org).filter(pk__in=wanted).values_list("pk", flat=True)
        if wanted
        else ()
    )
    for index, interruption in batch.found():
        interruption.category = interruption.category.strip()
        if interruption.runbook_id is None:
            continue
        if interruption.runbook_id not in runbooks:
            batch.add(index, "runbook", "Unknown runbook.")
        elif interruption.follow_up != FollowUp.RUNBOOK_UPDATED:
            batch.add(index, "runbook", "Link a runbook only with the follow-up runbook_updated.")


def record_interruption(*, org: Organization, interruption: Interruption) -> Interruption:
    """One interruption (the quick-log form); a refusal is a field-keyed ValidationError."""
    try:
        return save_interruptions(org=org, interruptions=[interruption])[0].obj
    except BatchValidationError as error:
        raise ValidationError(error.item_errors[0]) from None


def set_follow_up(
    *,
    interruption: Interruption,
    follow_up: str | None = None,
    runbook: Runbook | None = None,
    owner_level: bool | None = None,
    keep_owner_level: bool = True,
) -> Interruption:
    """The review of one interruption: its follow-up (with the runbook changed) or the
    owner-level mark, as the list and the drill review set them."""
    if follow_up is not None:
        interruption.follow_up = follow_up
        interruption.runbook = runbook if follow_up == FollowUp.RUNBOOK_UPDATED else None
    if not keep_owner_level or owner_level is not None:
        interruption.owner_level = owner_level
    return record_interruption(org=interruption.organization, interruption=interruption)


@transaction.atomic
def delete_interruption(*, interruption: Interruption) -> None:
    interruption.delete()


# --- drills -------------------------------------------------------------------------------


_DRILL_WINDOW = ("starts_at", "ends_at")


def save_drills(*, org: Organization, drills: Sequence[Drill]) -> list[Saved[Drill]]:
    """Stores drills (default length 3 days); drills of one organization never overlap, and a
    completed drill keeps its window (its notes may change)."""
    for drill in drills:
        if drill.starts_at is not None and drill.ends_at is None:
            drill.ends_at = default_drill_end(drill.starts_at, org.tz)
    return save_batch(
        org=org,
        items=drills,
        rules=_drill_rules,
        stored_columns=["completed_at", *_DRILL_WINDOW],
        noun="drill",
    )


def default_drill_end(starts_at: datetime, tz) -> datetime:
    """Three local days after the start, at the same wall-clock time (SPEC 1 "default 3 days").

    The choice: the founder tells the team "offline from Friday 9:00 to Monday 9:00", so a
    drill across a DST change ends at 9:00 too (71 or 73 real hours), not at 8:00 or 10:00 as
    72 real hours (``weeks.plus``) would. When that wall-clock time does not exist on the last
    day (the spring-forward gap), the drill lasts 72 real hours instead. A naive start is left
    to ``Drill.clean`` to refuse.
    """
    if not isinstance(starts_at, datetime) or starts_at.utcoffset() is None:
        return starts_at + DRILL_DEFAULT_LENGTH if isinstance(starts_at, datetime) else None
    local = weeks.to_local(starts_at, tz)
    try:
        return weeks.local_moment(local.date() + DRILL_DEFAULT_LENGTH, local.time(), tz, fold=local.fold)
    except weeks.NonexistentLocalTime:
        return weeks.plus(local, DRILL_DEFAULT_LENGTH)


def _drill_rules(batch: Batch[Drill]) -> None:
    for index, stored in batch.replaced.items():
        # SPEC 1: complete only after the window ended with every interruption in it followed
        # up; a window moved afterwards could still be running or hold pending ones.
        if stored["completed_at"] is None:
            continue
        for name in _DRILL_WINDOW:
            if name not in batch.errors[index] and getattr(batch.items[index], name) != stored[name]:
                batch.add(index, name, "A completed drill's window cannot change.")
    candidates = [(i, d) for i, d in batch.valid() if d.starts_at and d.ends_at]
    if not candidates:
        return
    replaced = {pk for index, _ in candidates if (pk := batch.replaced_pk(index))}
    start = min(weeks.as_utc(d.starts_at) for _, d in candidates)
    end = max(weeks.as_utc(d.ends_at) for _, d in candidates)
    stored = (
        Drill.objects.for_org(batch.org).filter(starts_at__lt=end, ends_at__gt=start).exclude(pk__in=replaced)
    )
    intervals = [(weeks.as_utc(d.starts_at), weeks.as_utc(d.ends_at), d, None) for d in stored]
    intervals += [(weeks.as_utc(d.starts_at), weeks.as_utc(d.ends_at), None, i) for i, d in candidates]
    _sweep(batch, intervals, "starts_at", _describe_drill)


def _describe_drill(drill: Drill, tz) -> str:
    starts, ends = weeks.to_local(drill.starts_at, tz), weeks.to_local(drill.ends_at, tz)
    return f"drill #{drill.pk} ({starts:%Y-%m-%d %H:%M} to {ends:%Y-%m-%d %H:%M})"


def _sweep(batch: Batch, intervals: list[tuple], field: str, describe) -> None:
    """Sorted by start, each interval against the one reaching furthest so far: a collision
    goes on the batch item involved, naming the other side (a stored row or another item)."""
    intervals.sort(key=lambda row: (row[0], row[2] is None, row[1]))
    latest = None
    for row in intervals:
        if latest is not None and row[0] < latest[1]:
            item, other = (row, latest) if row[2] is None else (latest, row)
            if item[2] is None:
                if other[2] is not None:
                    batch.add(item[3], field, "Overlaps {what}.", what=describe(other[2], batch.org.tz))
                else:
                    batch.add(item[3], field, "Overlaps {other} of {batch}.", other=other[3])
        if latest is None or row[1] > latest[1]:
            latest = row


@transaction.atomic
def complete_drill(*, drill: Drill, now: datetime | None = None) -> Drill:
    """SPEC 1: complete only after the window ended and when every interruption inside it has a
    follow-up other than ``none`` or is marked owner-level; a refusal changes nothing.

    The drill's row is locked before its interruptions are read: a pending one stored meanwhile
    either is read here, or reopens the drill after this commits (``_reopen_drills``)."""
    now = now or timezone.now()
    stored = Drill.objects.select_for_update().get(pk=drill.pk)
    drill.starts_at, drill.ends_at, drill.completed_at = stored.starts_at, stored.ends_at, stored.completed_at
    if drill.completed_at is not None:
        raise ValidationError({NON_FIELD_ERRORS: f"Drill #{drill.pk} is already complete."})
    if now < drill.ends_at:
        ends = weeks.to_local(drill.ends_at, drill.organization.tz)
        raise ValidationError(
            {NON_FIELD_ERRORS: f"The drill's window has not ended yet: it ends {ends:%Y-%m-%d %H:%M}."}
        )
    from delegation.selectors import drill_interruptions

    pending = [i.pk for i in drill_interruptions(drill) if i.needs_follow_up]
    if pending:
        listed = ", ".join(f"#{pk}" for pk in pending)
        raise ValidationError(
            {
                NON_FIELD_ERRORS: f"{len(pending)} interruption(s) still need a follow-up or the "
                f"owner-level mark: {listed}."
            }
        )
    drill.completed_at = now
    drill.save(update_fields=["completed_at"])
    return drill


def cancel_drill(*, drill: Drill, now: datetime | None = None) -> None:
    """Deletes a drill that has not started yet; one that started stays, for its review (the
    page and the API alike). One statement: a drill starting meanwhile is not deleted."""
    now = now or timezone.now()
    deleted, _ = Drill.objects.filter(pk=drill.pk, starts_at__gt=now, completed_at__isnull=True).delete()
    if not deleted:
        raise ValidationError({NON_FIELD_ERRORS: "Only a drill that has not started yet can be cancelled."})


# --- time blocks --------------------------------------------------------------------------


def save_time_blocks(
    *, org: Organization, blocks: Sequence[TimeBlock], owner: AbstractBaseUser | None = None
) -> list[Saved[TimeBlock]]:
    """Stores blocks of the weekly plan; one member's blocks on one weekday never overlap."""
    return save_batch(
        org=org,
        items=blocks,
        rules=_block_rules,
        bulk_checked=["user"],
        owner_field="user",
        owner=owner,
        noun="time block",
    )


def _block_rules(batch: Batch[TimeBlock]) -> None:
    check_members(batch, "user")
    candidates = [(i, b) for i, b in batch.valid() if b.start_time and b.end_time and b.weekday]
    if not candidates:
        return
    replaced = {pk for index, _ in candidates if (pk := batch.replaced_pk(index))}
    stored = (
        TimeBlock.objects.for_org(batch.org)
        .filter(
            user_id__in={b.user_id for _, b in candidates}, weekday__in={b.weekday for _, b in candidates}
        )
        .exclude(pk__in=replaced)
    )
    groups: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for block in stored:
        groups[(block.user_id, block.weekday)].append((block.start_time, block.end_time, block, None))
    for index, block in candidates:
        groups[(block.user_id, block.weekday)].append((block.start_time, block.end_time, None, index))
    for intervals in groups.values():
        _sweep(batch, intervals, "start_time", lambda block, tz: f"block #{block.pk}: {block}")


def delete_row(*, row) -> None:
    """Deletes one delegate, delegation, drill or time block (no rules across rows)."""
    with transaction.atomic():
        row.delete()
