"""The settings page: the SLA policy (founders and service managers edit it) and the KPI targets
(the founder only); everyone else who may view reads them; each refused value is named under
its field and nothing is stored."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from kpis.models import KpiTargets, SlaPolicy
from tests.kpis.page_helpers import body, elements, inner, text
from tests.pages import client_for

SETTINGS = "/kpis/settings/"
SLA = {"section": "sla", "p1": "4", "p2": "8", "p3": "24", "p4": "72"}
TARGETS = {
    "section": "targets",
    "delegated_hours_green": "10",
    "delegated_hours_amber": "5",
    "managed_clients_threshold": "20",
    "interruptions_4wk_green_max": "2",
    "aged_backlog_team_max": "3",
}


def policy(org) -> dict:
    return SlaPolicy.objects.filter(organization=org).values("p1", "p2", "p3", "p4").get()


def targets(org) -> dict:
    return KpiTargets.objects.filter(organization=org).values(*[k for k in TARGETS if k != "section"]).get()


DEFAULT_POLICY = {"p1": Decimal("4"), "p2": Decimal("8"), "p3": Decimal("24"), "p4": Decimal("72")}
DEFAULT_TARGETS = {
    "delegated_hours_green": Decimal("10"),
    "delegated_hours_amber": Decimal("5"),
    "managed_clients_threshold": 20,
    "interruptions_4wk_green_max": Decimal("2"),
    "aged_backlog_team_max": 3,
}


def field_errors(html: str) -> dict[str, list[str]]:
    """Each field's error lines by field name (``<ul class="errorlist" id="id_<name>_error">``)."""
    return {
        found["attrs"]["id"].removeprefix("id_").removesuffix("_error"): re.findall(
            r"<li>(.*?)</li>", found["html"]
        )
        for found in elements(html, class_="errorlist")
        if found["attrs"].get("id", "").endswith("_error")
    }


@pytest.mark.parametrize(
    ("role", "status"), [("founder", 200), ("manager", 200), ("viewer", 200), ("technician", 403)]
)
def test_the_settings_page_by_role(request, role, status):
    assert client_for(request.getfixturevalue(role)).get(SETTINGS).status_code == status


def test_the_founder_edits_both(founder):
    html = body(client_for(founder).get(SETTINGS))
    assert 'id="sla-form"' in html and 'id="targets-form"' in html  # noqa: PT018
    assert 'name="p1" value="4.00"' in html
    assert 'name="managed_clients_threshold" value="20"' in html


def test_the_service_manager_edits_the_sla_policy_and_reads_the_targets(manager):
    html = body(client_for(manager).get(SETTINGS))
    assert 'id="sla-form"' in html
    assert 'id="targets-form"' not in html
    values = inner(html, id="target-values")
    assert text(values, data_field="delegated_hours_green") == "10 h or more"
    assert text(values, data_field="interruptions_4wk_green_max") == "2 (4-week average)"
    assert text(values, data_field="aged_backlog_team_max") == "3 per team"
    assert "Only the founder changes the KPI targets." in html
    # Acme IT has 24 managed clients, at least the threshold of 20.
    assert "has 24 managed clients: the fixed delegated-hours targets apply" in html


def test_a_viewer_reads_both(viewer):
    html = body(client_for(viewer).get(SETTINGS))
    assert "<form" not in inner(html, id="sla-policy") and "<form" not in inner(html, id="kpi-targets")  # noqa: PT018
    assert text(inner(html, id="sla-values"), data_field="p3") == "24 h"


def test_the_service_manager_saves_the_sla_policy(org, manager):
    client = client_for(manager)
    response = client.post(SETTINGS, {**SLA, "p1": "2.5", "p4": "96"})
    assert response.status_code == 302
    assert response.url == SETTINGS
    assert policy(org) == {**DEFAULT_POLICY, "p1": Decimal("2.50"), "p4": Decimal("96.00")}
    assert "SLA policy saved. It applies from the next rollup (nightly, or Recompute now)." in body(
        client.get(SETTINGS)
    )


def test_refused_sla_values_are_named_per_field_and_nothing_is_stored(org, founder):
    response = client_for(founder).post(SETTINGS, {**SLA, "p1": "0", "p2": "2", "p3": "abc", "p4": "1.234"})
    assert response.status_code == 422
    assert field_errors(body(response)) == {
        "p1": ["Give more than 0 hours."],
        "p3": ["Enter a number."],
        "p4": ["Ensure that there are no more than 2 decimal places."],
    }
    assert 'name="p3" value="abc"' in body(response)  # what was typed stays, to correct it
    assert policy(org) == DEFAULT_POLICY  # p2's valid 2 h is not stored either


def test_a_negative_target_hour_is_refused(org, manager):
    response = client_for(manager).post(SETTINGS, {**SLA, "p2": "-8"})
    assert field_errors(body(response)) == {"p2": ["Give more than 0 hours."]}
    assert policy(org) == DEFAULT_POLICY


@pytest.mark.parametrize("role", ["viewer", "technician"])
def test_who_may_not_manage_tickets_cannot_change_the_sla_policy(request, org, role):
    response = client_for(request.getfixturevalue(role)).post(SETTINGS, {**SLA, "p1": "1"})
    assert response.status_code == 403
    assert policy(org) == DEFAULT_POLICY


def test_the_founder_saves_the_kpi_targets(org, founder):
    response = client_for(founder).post(
        SETTINGS, {**TARGETS, "delegated_hours_green": "12.5", "managed_clients_threshold": "30"}
    )
    assert response.status_code == 302
    assert targets(org) == {
        **DEFAULT_TARGETS,
        "delegated_hours_green": Decimal("12.50"),
        "managed_clients_threshold": 30,
    }


def test_the_service_manager_cannot_change_the_kpi_targets(org, manager):
    response = client_for(manager).post(SETTINGS, {**TARGETS, "aged_backlog_team_max": "5"})
    assert response.status_code == 403
    assert "Only the founder may change the KPI targets." in body(response)
    assert targets(org) == DEFAULT_TARGETS


def test_refused_targets_are_named_per_field_and_nothing_is_stored(org, founder):
    response = client_for(founder).post(
        SETTINGS,
        {**TARGETS, "delegated_hours_green": "4", "delegated_hours_amber": "6",
         "managed_clients_threshold": "-1", "aged_backlog_team_max": "2.5",
         "interruptions_4wk_green_max": ""},
    )  # fmt: skip
    assert response.status_code == 422
    assert field_errors(body(response)) == {
        "delegated_hours_amber": ["The amber line must be at most the green one."],
        "managed_clients_threshold": ["Give 0 or more."],
        "interruptions_4wk_green_max": ["This field is required."],
        "aged_backlog_team_max": ["Enter a whole number."],
    }
    assert targets(org) == DEFAULT_TARGETS


def test_an_unknown_section_is_a_bad_request(org, founder):
    assert client_for(founder).post(SETTINGS, {"section": "org", "p1": "1"}).status_code == 400
    assert policy(org) == DEFAULT_POLICY


# --- the organization's managed clients (which delegated-hours targets apply) ---------------------


def test_the_founder_changes_the_managed_clients_and_with_them_the_regime(org, founder):
    client = client_for(founder)
    assert 'name="managed_clients" value="24"' in inner(body(client.get(SETTINGS)), id="clients-form")

    response = client.post(SETTINGS, {"section": "clients", "managed_clients": "12"})

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.managed_clients == 12
    html = body(client.get(SETTINGS))
    assert "Managed clients saved. It applies from the next rollup" in html
    assert "has 12 managed clients: the delegated-hours goal is a steady increase" in html


@pytest.mark.parametrize("value", ["-1", "2.5", "", "1000001"])
def test_a_refused_number_of_managed_clients_changes_nothing(org, founder, value):
    response = client_for(founder).post(SETTINGS, {"section": "clients", "managed_clients": value})

    assert response.status_code == 422
    assert list(field_errors(body(response))) == ["managed_clients"]
    org.refresh_from_db()
    assert org.managed_clients == 24
    assert "has 24 managed clients" in body(response)


@pytest.mark.parametrize("role", ["manager", "technician", "viewer"])
def test_only_the_founder_changes_the_managed_clients(request, org, role):
    response = client_for(request.getfixturevalue(role)).post(
        SETTINGS, {"section": "clients", "managed_clients": "3"}
    )

    assert response.status_code == 403
    org.refresh_from_db()
    assert org.managed_clients == 24
    assert 'id="clients-form"' not in body(client_for(request.getfixturevalue(role)).get(SETTINGS))
