"""Delegations through the service: SPEC 1's status table and the conditions of handed_off and
done; every refusal leaves the stored row exactly as it was."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from audits.models import Category
from delegation.models import Delegate, DelegateKind, Delegation, DelegationStatus
from delegation.services import move_delegation, save_delegations
from msp_ops.orgs.batches import BatchValidationError

C, P, H, D, R = "candidate", "planned", "handed_off", "done", "reverted"
# SPEC 1, written out again here rather than read from the code under test.
ALLOWED = {C: {P, H}, P: {C, H}, H: {D, R}, D: {R}, R: {P}}
MOVES_TO = {
    C: "handed_off or planned",
    P: "candidate or handed_off",
    H: "done or reverted",
    D: "reverted",
    R: "planned",
}
REFUSED = [(a, b) for a in ALLOWED for b in ALLOWED if b != a and b not in ALLOWED[a]]
ITEMS_DONE = [{"text": "Backup alerts route to the NOC queue", "done": True}]


def category(org, slug: str = "escalations") -> Category:
    return Category.objects.get(organization=org, slug=slug)


def make_delegate(org, name: str = "Dana Ortiz", kind: str = DelegateKind.TECHNICIAN) -> Delegate:
    return Delegate.objects.create(organization=org, name=name, kind=kind)


def stored_delegation(org, status: str = C, **fields) -> Delegation:
    """A row written directly (the service is what is under test)."""
    values = {
        "title": "Backup failure triage",
        "category": category(org),
        "delegate": make_delegate(org),
        "definition_of_done": ITEMS_DONE,
        "status": status,
        **fields,
    }
    return Delegation.objects.create(organization=org, **values)


def row(delegation: Delegation) -> dict:
    return Delegation.objects.filter(pk=delegation.pk).values().get()


def edit(delegation: Delegation, **changes) -> Delegation:
    """A fresh copy of the stored row with some fields changed (what a page or the API saves)."""
    copy = Delegation.objects.get(pk=delegation.pk)
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


def test_the_table_has_eight_allowed_moves_and_twelve_refused_ones():
    assert sum(len(targets) for targets in ALLOWED.values()) == 8
    assert len(REFUSED) == 12


@pytest.mark.parametrize(("before", "after"), [(a, b) for a in ALLOWED for b in sorted(ALLOWED[a])])
def test_every_allowed_move_is_stored(org, before, after):
    delegation = stored_delegation(org, before, handoff_date=date(2026, 2, 2))

    saved = save_delegations(org=org, delegations=[edit(delegation, status=after)], today=date(2026, 3, 9))

    assert saved[0].created is False
    assert Delegation.objects.get(pk=delegation.pk).status == after


@pytest.mark.parametrize(("before", "after"), REFUSED)
def test_every_other_move_is_refused_and_changes_nothing(org, before, after):
    delegation = stored_delegation(org, before, done_override_reason="")
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, status=after, title="Renamed")])

    message = (
        f"A delegation cannot move from {before} to {after}; from {before} it moves to {MOVES_TO[before]}."
    )
    assert refused.value.item_errors == [{"status": [message]}]
    assert row(delegation) == as_before


@pytest.mark.parametrize("status", [C, P, H])
def test_a_new_delegation_starts_as_candidate_planned_or_handed_off(org, status):
    new = Delegation(
        title="Password resets",
        category=category(org, "tickets"),
        delegate=make_delegate(org),
        definition_of_done=[{"text": "Help desk resets with the runbook", "done": False}],
        status=status,
    )

    [saved] = save_delegations(org=org, delegations=[new], today=date(2026, 3, 9))

    assert saved.created is True
    assert Delegation.objects.get(pk=saved.obj.pk).status == status


@pytest.mark.parametrize("status", [D, R])
def test_a_new_delegation_cannot_start_as_done_or_reverted(org, status):
    new = Delegation(title="Password resets", category=category(org, "tickets"), status=status)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[new])

    assert refused.value.item_errors == [
        {"status": ["A new delegation starts as candidate, planned or handed_off."]}
    ]
    assert not Delegation.objects.exists()


# --- handed_off -----------------------------------------------------------------------------


def test_handing_off_needs_a_delegate_and_a_definition_of_done_item(org):
    delegation = stored_delegation(org, P, delegate=None, definition_of_done=[])
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, status=H)])

    assert refused.value.item_errors == [
        {
            "status": [
                "Choose a delegate before handing this off.",
                "Write at least one definition-of-done item before handing this off.",
            ]
        }
    ]
    assert row(delegation) == as_before


def test_handing_off_without_a_delegate_alone_is_refused(org):
    delegation = stored_delegation(org, C, delegate=None)
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, status=H)])

    assert refused.value.item_errors == [{"status": ["Choose a delegate before handing this off."]}]
    assert row(delegation) == as_before


@time_machine.travel("2026-03-10T03:30:00Z", tick=False)  # still Monday 2026-03-09, 22:30 CDT, in Chicago
def test_the_handoff_date_becomes_today_in_the_organizations_timezone(org):
    assert org.timezone == "America/Chicago"
    delegation = stored_delegation(org, P)

    moved = move_delegation(delegation=delegation, status=H)

    assert moved.handoff_date == date(2026, 3, 9)  # not the UTC date, 2026-03-10
    assert Delegation.objects.get(pk=delegation.pk).handoff_date == date(2026, 3, 9)


@time_machine.travel("2026-03-10T03:30:00Z", tick=False)
def test_a_handoff_date_already_set_is_kept(org):
    delegation = stored_delegation(org, P, handoff_date=date(2026, 2, 23))

    move_delegation(delegation=delegation, status=H)

    assert Delegation.objects.get(pk=delegation.pk).handoff_date == date(2026, 2, 23)


def test_a_refused_handoff_sets_no_handoff_date(org):
    delegation = stored_delegation(org, P, definition_of_done=[])

    with pytest.raises(ValidationError):
        move_delegation(delegation=delegation, status=H, today=date(2026, 3, 9))

    assert Delegation.objects.get(pk=delegation.pk).handoff_date is None


def test_a_handed_off_delegation_keeps_its_delegate(org):
    """The database's check refuses it too; the service says why instead of an IntegrityError."""
    delegation = stored_delegation(org, H, handoff_date=date(2026, 2, 2))
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, delegate=None)])

    assert refused.value.item_errors == [
        {"delegate": ["A handed-off delegation keeps a delegate: choose who has it now."]}
    ]
    assert row(delegation) == as_before


def test_a_handed_off_delegation_keeps_a_definition_of_done_item(org):
    """Emptied, the checklist would let it reach done with nothing checked."""
    delegation = stored_delegation(org, H, handoff_date=date(2026, 2, 2))
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, definition_of_done=[])])

    assert refused.value.item_errors == [
        {"definition_of_done": ["A handed-off delegation keeps at least one definition-of-done item."]}
    ]
    assert row(delegation) == as_before


@pytest.mark.parametrize(
    "items",
    [
        ["Backups verified"],
        [{"text": "", "done": False}],
        [{"text": "   ", "done": True}],
        [{"done": True}],
        [{"text": "Backups verified", "done": "yes"}],
        {"text": "Backups verified", "done": True},
    ],
)
def test_definition_of_done_items_need_a_text_and_a_done_flag(org, items):
    delegation = stored_delegation(org, C)
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, definition_of_done=items)])

    assert refused.value.item_errors == [
        {
            "definition_of_done": [
                "Each definition-of-done item needs a non-empty text and done true or false."
            ]
        }
    ]
    assert row(delegation) == as_before


# --- done -----------------------------------------------------------------------------------

OPEN_ITEMS = [
    {"text": "Restore test passes", "done": False},
    {"text": "Backup alerts route to the NOC queue", "done": True},
    {"text": "Client told who to call", "done": False},
]


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_done_needs_every_item_checked(org, reason):
    delegation = stored_delegation(org, H, definition_of_done=OPEN_ITEMS, handoff_date=date(2026, 2, 2))
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, status=D, done_override_reason=reason)])

    assert refused.value.item_errors == [
        {
            "status": [
                "Check every definition-of-done item first (2 open: Restore test passes; Client told who to "
                "call), or give a done_override_reason."
            ]
        }
    ]
    assert row(delegation) == as_before


def test_done_with_open_items_and_an_override_reason(org):
    delegation = stored_delegation(org, H, definition_of_done=OPEN_ITEMS, handoff_date=date(2026, 2, 2))
    reason = "Client moved to another backup vendor; restore test no longer applies."

    save_delegations(org=org, delegations=[edit(delegation, status=D, done_override_reason=reason)])

    stored = Delegation.objects.get(pk=delegation.pk)
    assert (stored.status, stored.done_override_reason) == (D, reason)


def test_done_with_every_item_checked(org):
    checked = [{**item, "done": True} for item in OPEN_ITEMS]
    delegation = stored_delegation(org, H, definition_of_done=checked, handoff_date=date(2026, 2, 2))

    moved = move_delegation(delegation=delegation, status=D)

    assert moved.status == D
    assert Delegation.objects.get(pk=delegation.pk).checklist_done == 3


EMPTIED_DONE = (
    "A delegation marked done keeps at least one definition-of-done item, or gives a done_override_reason."
)


@pytest.mark.parametrize("before", [H, D])
@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_done_delegation_keeps_a_definition_of_done_item(org, before, reason):
    """Emptied in the same change as the move to done (or after it), nothing would be checked."""
    delegation = stored_delegation(org, before, handoff_date=date(2026, 2, 2))
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(
            org=org,
            delegations=[edit(delegation, status=D, definition_of_done=[], done_override_reason=reason)],
        )

    assert refused.value.item_errors == [{"definition_of_done": [EMPTIED_DONE]}]
    assert row(delegation) == as_before


@pytest.mark.parametrize("before", [H, D])
def test_a_done_delegation_without_items_gives_an_override_reason(org, before):
    delegation = stored_delegation(org, before, handoff_date=date(2026, 2, 2))
    reason = "The NOC took over the whole category; no checklist applies."

    save_delegations(
        org=org, delegations=[edit(delegation, status=D, definition_of_done=[], done_override_reason=reason)]
    )

    stored = Delegation.objects.get(pk=delegation.pk)
    assert (stored.status, stored.definition_of_done, stored.done_override_reason) == (D, [], reason)


def test_a_done_delegation_without_items_keeps_its_override_reason(org):
    delegation = stored_delegation(
        org, D, definition_of_done=[], done_override_reason="NOC took it all.", handoff_date=date(2026, 2, 2)
    )
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, done_override_reason="")])

    assert refused.value.item_errors == [{"definition_of_done": [EMPTIED_DONE]}]
    assert row(delegation) == as_before


def test_a_refused_move_to_done_is_not_also_refused_for_its_checklist(org):
    delegation = stored_delegation(org, P, definition_of_done=[])

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, status=D)])

    assert list(refused.value.item_errors[0]) == ["status"]


STAYS_CHECKED = (
    "A done delegation keeps every definition-of-done item checked, or gives a done_override_reason; "
    "to reopen work, move it to reverted first."
)
CHECKED = [{**item, "done": True} for item in OPEN_ITEMS]


@pytest.mark.parametrize(
    "items",
    [
        [{**CHECKED[0], "done": False}, *CHECKED[1:]],  # an item unchecked
        [*CHECKED, {"text": "Quarterly restore drill booked", "done": False}],  # an open item added
        [{"text": "Quarterly restore drill booked"}],  # replaced by an open one ("done" omitted)
    ],
)
def test_a_done_delegation_keeps_every_item_checked(org, items):
    delegation = stored_delegation(org, D, definition_of_done=CHECKED, handoff_date=date(2026, 2, 2))
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, definition_of_done=items)])

    assert refused.value.item_errors == [{"definition_of_done": [STAYS_CHECKED]}]
    assert row(delegation) == as_before


def test_a_done_delegation_with_open_items_keeps_its_override_reason(org):
    reason = "Client moved to another backup vendor."
    delegation = stored_delegation(
        org, D, definition_of_done=OPEN_ITEMS, done_override_reason=reason, handoff_date=date(2026, 2, 2)
    )
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, done_override_reason="  ")])

    assert refused.value.item_errors == [
        {
            "done_override_reason": [
                "A done delegation with open definition-of-done items keeps its done_override_reason "
                "(2 open: Restore test passes; Client told who to call); to reopen work, move it to "
                "reverted first."
            ]
        }
    ]
    assert row(delegation) == as_before


def test_a_done_delegation_changes_its_checklist_with_a_reason_or_all_checked(org):
    reason = "Client moved to another backup vendor."
    overridden = stored_delegation(
        org, D, definition_of_done=CHECKED, done_override_reason=reason, handoff_date=date(2026, 2, 2)
    )
    checked = stored_delegation(org, D, definition_of_done=OPEN_ITEMS[1:2], handoff_date=date(2026, 2, 2))
    more = [*OPEN_ITEMS[1:2], {"text": "Quarterly restore drill booked", "done": True}]

    save_delegations(
        org=org,
        delegations=[
            edit(overridden, definition_of_done=OPEN_ITEMS),  # the reason covers open items
            edit(checked, definition_of_done=more, title="Backup triage"),  # still all checked
        ],
    )

    assert row(overridden)["definition_of_done"] == OPEN_ITEMS
    assert (row(checked)["definition_of_done"], row(checked)["title"]) == (more, "Backup triage")


@pytest.mark.parametrize("items", [OPEN_ITEMS, []])
def test_a_done_delegation_stored_against_the_rules_takes_other_edits_and_only_them(org, items):
    """Stored before the rules of done (open items, or none, and no reason): an edit of another
    field is saved as it is; one of its checklist or reason is held to the rules."""
    delegation = stored_delegation(org, D, definition_of_done=items, handoff_date=date(2026, 2, 2))

    save_delegations(org=org, delegations=[edit(delegation, title="Backup triage", notes="Reviewed")])
    assert (row(delegation)["title"], row(delegation)["definition_of_done"]) == ("Backup triage", items)

    as_before = row(delegation)
    changed = [{"text": "Restore test passes", "done": False}]
    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, definition_of_done=changed, title="Other")])
    assert refused.value.item_errors == [{"definition_of_done": [STAYS_CHECKED]}]
    with pytest.raises(BatchValidationError):
        save_delegations(org=org, delegations=[edit(delegation, done_override_reason="  ")])
    assert row(delegation) == as_before


def test_a_done_delegation_reopens_its_work_once_reverted(org):
    delegation = stored_delegation(org, D, definition_of_done=CHECKED, handoff_date=date(2026, 2, 2))

    move_delegation(delegation=delegation, status=R)
    save_delegations(org=org, delegations=[edit(delegation, definition_of_done=OPEN_ITEMS)])

    assert (row(delegation)["status"], row(delegation)["definition_of_done"]) == (R, OPEN_ITEMS)


# --- references and batches -----------------------------------------------------------------


def test_a_category_of_another_organization_is_refused(org, other_org):
    delegation = stored_delegation(org, C)
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(delegation, category=category(other_org))])

    assert refused.value.item_errors == [{"category": ["Unknown category."]}]
    assert row(delegation) == as_before


def test_a_delegate_of_another_organization_is_refused(org, other_org):
    delegation = stored_delegation(org, C)
    as_before = row(delegation)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(
            org=org, delegations=[edit(delegation, delegate=make_delegate(other_org, "Rival NOC"))]
        )

    assert refused.value.item_errors == [{"delegate": ["Unknown delegate."]}]
    assert row(delegation) == as_before


def test_a_delegation_without_a_category_is_refused(org):
    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[Delegation(title="Vendor calls")])

    assert refused.value.item_errors == [{"category": ["This field is required."]}]
    assert not Delegation.objects.exists()


def test_another_organizations_delegation_is_not_found(org, other_org):
    foreign = stored_delegation(other_org, C)
    as_before = row(foreign)

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=[edit(foreign, status=P)])

    assert refused.value.item_errors == [{"__all__": [f"Delegation #{foreign.pk} does not exist."]}]
    assert row(foreign) == as_before


def test_a_batch_with_one_bad_item_stores_nothing(org):
    existing = stored_delegation(org, P)
    as_before = row(existing)
    batch = [
        Delegation(title="Patch approvals", category=category(org, "approvals")),
        edit(existing, status=H, title="Backup triage, handed off"),
        Delegation(title="Vendor calls", category=category(org, "vendor-calls"), status=D),
    ]

    with pytest.raises(BatchValidationError) as refused:
        save_delegations(org=org, delegations=batch, today=date(2026, 3, 9))

    assert refused.value.item_errors == [
        {},
        {},
        {"status": ["A new delegation starts as candidate, planned or handed_off."]},
    ]
    assert list(Delegation.objects.values_list("pk", flat=True)) == [existing.pk]
    assert row(existing) == as_before


def test_move_delegation_refuses_with_the_error_on_status(org):
    delegation = stored_delegation(org, D)
    as_before = row(delegation)

    with pytest.raises(ValidationError) as refused:
        move_delegation(delegation=delegation, status=H)

    assert refused.value.message_dict == {
        "status": ["A delegation cannot move from done to handed_off; from done it moves to reverted."]
    }
    assert row(delegation) == as_before


def test_move_delegation_starts_from_the_stored_row(org):
    """A card moved from a stale page: the status on the page is not what the rule checks."""
    delegation = stored_delegation(org, H, handoff_date=date(2026, 2, 2))
    stale = Delegation.objects.get(pk=delegation.pk)
    move_delegation(delegation=delegation, status=R)
    stale.title = "Edited meanwhile"

    moved = move_delegation(delegation=stale, status=P)

    assert moved.status == P
    stored = Delegation.objects.get(pk=delegation.pk)
    assert (stored.status, stored.title) == (P, "Backup failure triage")  # only the status moves
    assert stored.status == DelegationStatus.PLANNED
