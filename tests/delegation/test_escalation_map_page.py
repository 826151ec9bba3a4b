"""The escalation map page: the three levels side by side, read by every role, edited by founders
and service managers, printable on one page and stacked on a phone."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.html import escape

from delegation.models import EscalationStep
from delegation.services import DEFAULT_ESCALATION_MAP, update_escalation_map
from tests.factories import RunbookFactory
from tests.pages import client_for


def steps(org) -> dict[str, dict]:
    return {
        row["level"]: row
        for row in EscalationStep.objects.for_org(org).values(
            "level", "criteria", "approval_limit_amount", "approval_limit_hours"
        )
    }


EDIT = {
    "L1-criteria": "Single user, documented fix.",
    "L1-approval_limit_amount": "150",
    "L1-approval_limit_hours": "0.5",
    "L2-criteria": "Several users or a site down.",
    "L2-approval_limit_amount": "1000",
    "L2-approval_limit_hours": "4",
    "owner_only-criteria": "Security incident; a client threatening to leave.",
    "owner_only-approval_limit_amount": "",
    "owner_only-approval_limit_hours": "",
}


@pytest.mark.parametrize("role", ["founder", "manager", "technician", "viewer"])
def test_every_role_reads_the_three_levels_side_by_side(role, request, org):
    body = client_for(request.getfixturevalue(role)).get("/delegation/escalation-map/").content.decode()
    assert re.findall(r'<section class="card escalation-level level-(\w+)"', body) == [
        "L1",
        "L2",
        "owner_only",
    ]
    assert escape(DEFAULT_ESCALATION_MAP["L2"]) in body
    may_edit = role in ("founder", "manager")
    assert ('href="/delegation/escalation-map/edit/"' in body) is may_edit
    assert "data-print" in body


def test_the_limits_and_the_runbooks_at_each_level(founder_client, org):
    update_escalation_map(
        org=org,
        levels={"L1": {"approval_limit_amount": Decimal("150"), "approval_limit_hours": Decimal("0.5")}},
    )
    RunbookFactory(organization=org, ticket_category="Printers", escalation_level="L1")
    RunbookFactory(organization=org, ticket_category="Backup", escalation_level="L2")
    body = founder_client.get("/delegation/escalation-map/").content.decode()
    level_1 = re.search(r'id="level-L1".*?</section>', body, re.S).group(0)
    assert '<dd data-role="amount">150.00</dd>' in level_1
    assert '<dd data-role="hours">0.50 h</dd>' in level_1
    assert "Printers" in level_1
    assert "Backup" not in level_1
    level_owner = re.search(r'id="level-owner_only".*?</section>', body, re.S).group(0)
    assert '<dd data-role="amount">—</dd>' in level_owner


def test_a_manager_edits_the_map(manager, org):
    client = client_for(manager)
    assert client.get("/delegation/escalation-map/edit/").status_code == 200
    response = client.post("/delegation/escalation-map/edit/", EDIT)
    assert response.status_code == 302
    assert response["Location"] == "/delegation/escalation-map/"
    saved = steps(org)
    assert saved["L1"] == {
        "level": "L1",
        "criteria": "Single user, documented fix.",
        "approval_limit_amount": Decimal("150.00"),
        "approval_limit_hours": Decimal("0.50"),
    }
    assert (saved["owner_only"]["approval_limit_amount"], saved["owner_only"]["approval_limit_hours"]) == (
        None,
        None,
    )
    assert "Escalation map saved." in client.get("/delegation/escalation-map/").content.decode()


def test_the_edit_form_shows_the_stored_map(founder_client, org):
    body = founder_client.get("/delegation/escalation-map/edit/").content.decode()
    assert escape(DEFAULT_ESCALATION_MAP["owner_only"]) in body
    assert 'name="owner_only-approval_limit_hours"' in body


def test_a_negative_limit_is_refused_and_nothing_changes(founder_client, org):
    before = steps(org)
    response = founder_client.post(
        "/delegation/escalation-map/edit/", {**EDIT, "L2-approval_limit_amount": "-5"}
    )
    assert response.status_code == 422
    assert "Ensure this value is greater than or equal to 0." in response.content.decode()
    assert steps(org) == before


@pytest.mark.parametrize("role", ["technician", "viewer"])
def test_technicians_and_viewers_do_not_edit(role, request, org):
    before = steps(org)
    client = client_for(request.getfixturevalue(role))
    assert client.get("/delegation/escalation-map/edit/").status_code == 403
    assert client.post("/delegation/escalation-map/edit/", EDIT).status_code == 403
    assert steps(org) == before


def test_an_organization_without_a_map_gets_one_on_its_first_save(founder_client, org):
    EscalationStep.objects.for_org(org).delete()
    body = founder_client.get("/delegation/escalation-map/").content.decode()
    assert body.count("Not written yet.") == 3
    assert founder_client.post("/delegation/escalation-map/edit/", EDIT).status_code == 302
    assert set(steps(org)) == {"L1", "L2", "owner_only"}


def test_only_our_organizations_map(founder_client, org, other_org):
    update_escalation_map(org=other_org, levels={"L1": {"criteria": "Rival's secret rules"}})
    assert (
        "Rival&#x27;s secret rules" not in founder_client.get("/delegation/escalation-map/").content.decode()
    )
    founder_client.post("/delegation/escalation-map/edit/", EDIT)
    assert steps(other_org)["L1"]["criteria"] == "Rival's secret rules"


def test_the_stylesheet_prints_the_map_on_one_page_and_stacks_it_on_a_phone():
    css = (Path(settings.BASE_DIR) / "static/css/app.css").read_text()
    # Phones: one column by default; three side by side from 760 px and when printed.
    assert ".escalation-map { display: grid; gap: var(--gap); grid-template-columns: 1fr; }" in css
    assert (
        "@media (min-width: 760px) { .escalation-map { grid-template-columns: repeat(3, minmax(0, 1fr)); } }"
        in css
    )
    ours = css[css.index("/* --- delegation board, delegates, runbooks, escalation map") :]
    printed = ours[ours.index("@media print {") :]
    assert ".escalation-map { grid-template-columns: repeat(3, 1fr);" in printed
    assert ".escalation-level { border: 1px solid #999; border-top: 4px solid var(--ok);" in printed
    assert "break-inside: avoid; }" in printed
