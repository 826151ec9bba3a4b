"""Runbooks: revision 1 when created, every change keeps the version before it (its text, when
and by whom it was written), one runbook per ticket category compared case-insensitively."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from delegation.models import EscalationLevel, Runbook, RunbookRevision
from delegation.services import save_runbook, save_runbooks
from msp_ops.orgs.batches import BatchValidationError

T1 = datetime(2026, 2, 3, 15, 0, tzinfo=UTC)
T2 = datetime(2026, 2, 10, 16, 30, tzinfo=UTC)
T3 = datetime(2026, 3, 2, 14, 5, tzinfo=UTC)

VPN = {
    "ticket_category": "VPN",
    "title": "VPN auth failure",
    "first_checks": "RMM: is the VPN service running? Tunnel up on the firewall? Auth failures in the log?",
    "decision_points": "Expired certificate: renew. Account locked: unlock after identity check.",
    "standard_fix": "Reset the user's VPN profile and re-import the certificate.",
    "edge_cases": "Domain controller unreachable: escalate to L2.",
    "sign_off_rules": "User connects twice in a row; the ticket notes say which cause it was.",
    "client_message_template": "Hi {name}, your VPN is working again. The cause was ...",
    "escalation_level": EscalationLevel.L1,
}


def runbook_row(runbook: Runbook) -> dict:
    return Runbook.objects.filter(pk=runbook.pk).values().get()


def create(org, user, at=T1, **fields) -> Runbook:
    with time_machine.travel(at, tick=False):
        return save_runbook(org=org, runbook=Runbook(**{**VPN, **fields}), user=user)


def change(runbook: Runbook, user, at, **fields) -> Runbook:
    copy = Runbook.objects.get(pk=runbook.pk)
    for name, value in fields.items():
        setattr(copy, name, value)
    with time_machine.travel(at, tick=False):
        return save_runbook(org=runbook.organization, runbook=copy, user=user)


def test_a_new_runbook_is_revision_one(org, founder):
    with time_machine.travel(T1, tick=False):
        [saved] = save_runbooks(org=org, runbooks=[Runbook(**VPN)], user=founder)

    assert saved.created is True
    stored = Runbook.objects.get(pk=saved.obj.pk)
    assert (stored.revision, stored.updated_at, stored.updated_by) == (1, T1, founder)
    assert not RunbookRevision.objects.exists()


def test_each_change_keeps_the_version_before_it(org, founder, manager, technician):
    runbook = create(org, founder)
    change(
        runbook, manager, T2, standard_fix="Re-issue the certificate from the portal, then reset the profile."
    )
    change(runbook, technician, T3, escalation_level=EscalationLevel.L2, last_reviewed=date(2026, 3, 2))

    stored = Runbook.objects.get(pk=runbook.pk)
    assert (stored.revision, stored.updated_at, stored.updated_by) == (3, T3, technician)
    assert stored.standard_fix == "Re-issue the certificate from the portal, then reset the profile."
    revisions = list(stored.revisions.all())  # newest first
    assert [(r.revision, r.changed_at, r.changed_by) for r in revisions] == [
        (2, T2, manager),
        (1, T1, founder),
    ]
    second, first = revisions
    assert first.standard_fix == VPN["standard_fix"]
    assert (first.escalation_level, first.last_reviewed) == (EscalationLevel.L1, None)
    assert second.standard_fix == "Re-issue the certificate from the portal, then reset the profile."
    assert (second.escalation_level, second.last_reviewed) == (EscalationLevel.L1, None)
    for name, value in VPN.items():
        if name != "standard_fix":
            assert getattr(first, name) == value, name


def test_saving_an_unchanged_runbook_adds_no_revision(org, founder, manager):
    runbook = create(org, founder)
    change(runbook, manager, T2, title="VPN auth failure (remote staff)")
    as_before = runbook_row(runbook)

    change(runbook, founder, T3)

    assert runbook_row(runbook) == as_before  # revision 2, written at T2 by the manager
    assert RunbookRevision.objects.count() == 1


def test_an_unchanged_copy_cannot_reset_the_revision_or_its_author(org, founder, manager):
    """Nothing changed: the revision, time and author stay as stored, whatever the copy says."""
    runbook = create(org, founder)
    change(runbook, manager, T2, title="VPN auth failure (remote staff)")
    as_before = runbook_row(runbook)
    copy = Runbook.objects.get(pk=runbook.pk)
    copy.revision, copy.updated_at, copy.updated_by = 1, T1, None

    with time_machine.travel(T3, tick=False):
        saved = save_runbook(org=org, runbook=copy, user=founder)

    assert (saved.revision, saved.updated_at, saved.updated_by_id) == (2, T2, manager.pk)
    assert runbook_row(runbook) == as_before


def test_the_revision_number_of_a_copy_is_not_trusted(org, founder, manager):
    runbook = create(org, founder)
    copy = Runbook.objects.get(pk=runbook.pk)
    copy.revision, copy.title = 41, "VPN: certificate expired"

    with time_machine.travel(T2, tick=False):
        save_runbook(org=org, runbook=copy, user=manager)

    assert Runbook.objects.get(pk=runbook.pk).revision == 2
    assert list(RunbookRevision.objects.values_list("revision", flat=True)) == [1]


@pytest.mark.parametrize("name", ["vpn ", "  Vpn", "VPN"])
def test_one_runbook_per_ticket_category_compared_case_insensitively(org, founder, name):
    runbook = create(org, founder)
    as_before = runbook_row(runbook)

    with pytest.raises(BatchValidationError) as refused:
        save_runbooks(org=org, runbooks=[Runbook(**{**VPN, "ticket_category": name})], user=founder)

    assert refused.value.item_errors == [
        {"ticket_category": [f"Runbook #{runbook.pk} already covers ticket category '{name.strip()}'."]}
    ]
    assert Runbook.objects.count() == 1
    assert runbook_row(runbook) == as_before


def test_renaming_onto_another_runbooks_category_is_refused(org, founder):
    vpn = create(org, founder)
    backup = create(org, founder, ticket_category="Backup missing", title="Backup job missing")
    as_before = runbook_row(backup)
    copy = Runbook.objects.get(pk=backup.pk)
    copy.ticket_category = "vpn"

    with pytest.raises(ValidationError) as refused:
        save_runbook(org=org, runbook=copy, user=founder)

    assert refused.value.message_dict == {
        "ticket_category": [f"Runbook #{vpn.pk} already covers ticket category 'vpn'."]
    }
    assert runbook_row(backup) == as_before
    assert not RunbookRevision.objects.exists()


def test_a_runbook_may_change_the_case_of_its_own_category(org, founder, manager):
    runbook = create(org, founder)

    saved = change(runbook, manager, T2, ticket_category="vpn")

    assert (saved.ticket_category, saved.revision) == ("vpn", 2)
    assert RunbookRevision.objects.get().ticket_category == "VPN"


def test_one_category_twice_in_a_batch(org, founder):
    batch = [
        Runbook(**{**VPN, "ticket_category": "Backup missing"}),
        Runbook(**{**VPN, "ticket_category": "MFA issues"}),
        Runbook(**{**VPN, "ticket_category": " backup MISSING "}),
    ]

    with pytest.raises(BatchValidationError) as refused:
        save_runbooks(org=org, runbooks=batch, user=founder)

    assert refused.value.item_errors == [
        {},
        {},
        {"ticket_category": ["Ticket category 'backup MISSING' appears twice in this batch (item 1)."]},
    ]
    assert not Runbook.objects.exists()


def test_a_refused_batch_keeps_every_runbook_as_it_was(org, founder, manager):
    runbook = create(org, founder)
    as_before = runbook_row(runbook)
    edited = Runbook.objects.get(pk=runbook.pk)
    edited.standard_fix = "Changed in a batch that is refused."

    with pytest.raises(BatchValidationError) as refused:
        save_runbooks(org=org, runbooks=[edited, Runbook(**{**VPN, "ticket_category": ""})], user=manager)

    assert refused.value.item_errors == [{}, {"ticket_category": ["This field cannot be blank."]}]
    assert runbook_row(runbook) == as_before
    assert not RunbookRevision.objects.exists()


def test_another_organization_may_have_the_same_category(org, other_org, founder, stranger):
    create(org, founder)

    theirs = create(other_org, stranger)

    assert (theirs.organization, theirs.revision) == (other_org, 1)


def test_another_organizations_runbook_cannot_be_edited(org, other_org, founder, stranger):
    theirs = create(other_org, stranger)
    as_before = runbook_row(theirs)
    copy = Runbook.objects.get(pk=theirs.pk)
    copy.standard_fix = "Overwritten"

    with pytest.raises(ValidationError) as refused:
        save_runbook(org=org, runbook=copy, user=founder)

    assert refused.value.message_dict == {"__all__": [f"Runbook #{theirs.pk} does not exist."]}
    assert runbook_row(theirs) == as_before


def test_the_database_holds_one_runbook_per_category_too(org, founder):
    create(org, founder)

    with pytest.raises(IntegrityError), transaction.atomic():
        Runbook.objects.create(organization=org, ticket_category="vpn", updated_at=T2)
    assert Runbook.objects.count() == 1
