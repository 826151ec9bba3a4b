"""The escalation map: its three levels come with every organization; an update changes only the
levels it names, and a refused one changes none."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from delegation.models import EscalationStep
from delegation.services import DEFAULT_ESCALATION_MAP, update_escalation_map
from msp_ops.orgs.models import Organization
from msp_ops.orgs.services import create_organization
from tests.factories import UserFactory


def steps(org) -> dict[str, dict]:
    return {
        row["level"]: row
        for row in EscalationStep.objects.for_org(org).values(
            "level", "criteria", "approval_limit_amount", "approval_limit_hours"
        )
    }


def test_every_new_organization_gets_the_three_levels(db):
    org = create_organization(slug="lakeside-it", name="Lakeside IT", timezone_name="America/Chicago")

    assert steps(org) == {
        level: {"level": level, "criteria": text, "approval_limit_amount": None, "approval_limit_hours": None}
        for level, text in DEFAULT_ESCALATION_MAP.items()
    }
    assert list(DEFAULT_ESCALATION_MAP) == ["L1", "L2", "owner_only"]


def test_an_organization_added_in_the_admin_gets_them_too(db):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    request = RequestFactory().post("/admin/orgs/organization/add/")
    request.user = superuser
    org = Organization(slug="prairie-msp", name="Prairie MSP", timezone="America/Chicago")

    admin.site._registry[Organization].save_model(request, org, form=None, change=False)

    assert set(steps(org)) == {"L1", "L2", "owner_only"}


def test_an_update_changes_only_the_levels_given(org):
    as_before = steps(org)

    result = update_escalation_map(
        org=org,
        levels={
            "L2": {
                "criteria": "Site down, server or backup failure, anything without a runbook.",
                "approval_limit_amount": Decimal("250.00"),
                "approval_limit_hours": Decimal("2"),
            }
        },
    )

    assert [step.level for step in result] == ["L1", "L2", "owner_only"]
    after = steps(org)
    assert after["L2"] == {
        "level": "L2",
        "criteria": "Site down, server or backup failure, anything without a runbook.",
        "approval_limit_amount": Decimal("250.00"),
        "approval_limit_hours": Decimal("2.00"),
    }
    assert (after["L1"], after["owner_only"]) == (as_before["L1"], as_before["owner_only"])


def test_a_level_keeps_the_fields_not_given(org):
    update_escalation_map(org=org, levels={"L1": {"approval_limit_amount": Decimal("100")}})

    update_escalation_map(org=org, levels={"L1": {"criteria": "Password resets and printers."}})

    assert steps(org)["L1"]["approval_limit_amount"] == Decimal("100.00")


@pytest.mark.parametrize("field", ["approval_limit_amount", "approval_limit_hours"])
def test_a_negative_limit_is_refused_and_nothing_changes(org, field):
    as_before = steps(org)

    with pytest.raises(ValidationError) as refused:
        update_escalation_map(
            org=org,
            levels={"L1": {"criteria": "Changed with the refused limit"}, "L2": {field: Decimal("-1")}},
        )

    assert refused.value.message_dict == {field: ["Ensure this value is greater than or equal to 0."]}
    assert steps(org) == as_before  # L1 was saved first, then rolled back with the rest


def test_an_unknown_level_is_refused(org):
    as_before = steps(org)

    with pytest.raises(ValidationError) as refused:
        update_escalation_map(org=org, levels={"L3": {"criteria": "?"}, "L1": {"criteria": "Changed"}})

    assert refused.value.message_dict == {
        "level": ["Unknown escalation level(s): L3; the levels are L1, L2, owner_only."]
    }
    assert steps(org) == as_before


def test_an_organization_older_than_the_map_gets_it_on_its_first_update(org):
    EscalationStep.objects.for_org(org).delete()

    update_escalation_map(org=org, levels={"owner_only": {"criteria": "Security incidents only."}})

    assert steps(org)["owner_only"]["criteria"] == "Security incidents only."
    assert steps(org)["L1"]["criteria"] == DEFAULT_ESCALATION_MAP["L1"]


def test_another_organizations_map_is_untouched(org, other_org):
    theirs = steps(other_org)

    update_escalation_map(org=org, levels={"L1": {"criteria": "Ours"}})

    assert steps(other_org) == theirs
