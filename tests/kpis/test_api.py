"""The KPI endpoints, field for field as SPEC 4 gives them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from audits.models import Handling
from delegation.models import Interruption
from kpis.models import KpiTargets, Ticket, Todo
from kpis.services import roll_up_week, update_settings
from tests.api.conftest import patch, post, put
from tests.factories import TimeEntryFactory

CHI = ZoneInfo("America/Chicago")
V1 = "/api/v1"


def chi(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=CHI)


def ticket(**fields) -> dict:
    return {
        "external_id": "T-1",
        "title": "VPN down",
        "severity": "p2",
        "opened_at": chi(3, 9).isoformat(),
        **fields,
    }


def test_a_ticket_needs_an_external_id_and_upserts_on_it(api):
    missing = post(api, f"{V1}/tickets/", {k: v for k, v in ticket().items() if k != "external_id"})
    first = post(api, f"{V1}/tickets/", ticket())
    again = post(api, f"{V1}/tickets/", ticket(closed_at=chi(3, 12).isoformat()))

    assert missing.status_code == 400
    assert missing.json() == {"external_id": ["This field is required."]}
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {
        "id": first.json()["id"], "external_id": "T-1", "title": "VPN down", "client": "", "category": "",
        "severity": "p2", "team": "", "opened_at": "2025-03-03T09:00:00-06:00",
        "closed_at": "2025-03-03T12:00:00-06:00",
    }  # fmt: skip
    assert Ticket.objects.count() == 1


def test_tickets_filter_by_category_case_insensitively_uncategorized_for_none(api, org):
    for n, category in enumerate(["VPN", "vpn", "VPN client", "Backup", "", "uncategorized"]):
        Ticket.objects.create(organization=org, external_id=f"T{n}", title="x", severity="p2",
                              category=category, opened_at=chi(3, 9))  # fmt: skip

    def listed(query: str) -> list[str]:
        response = api.get(f"{V1}/tickets/{query}")
        assert response.status_code == 200, response.content
        return [t["external_id"] for t in response.json()["results"]]

    # Case-insensitive and exact, as the aged backlog groups categories (SPEC 1): no prefix match.
    assert listed("?category=VPN") == listed("?category=vPn") == ["T0", "T1"]
    assert listed("?category=backup&open=true") == ["T3"]
    assert listed("?category=MFA") == []
    # A ticket without a category counts as Uncategorized (SPEC 1), as in the aged backlog.
    assert listed("?category=Uncategorized") == ["T4", "T5"]
    assert listed("?category=") == [f"T{n}" for n in range(6)]  # an empty text: no filter


def test_the_sla_policy_has_specs_defaults_and_refuses_zero(api, tech_api):
    assert api.get(f"{V1}/sla-policy/").json() == {"p1": 4.0, "p2": 8.0, "p3": 24.0, "p4": 72.0}
    assert tech_api.get(f"{V1}/sla-policy/").status_code == 200

    refused = patch(api, f"{V1}/sla-policy/", {"p1": 0})
    changed = patch(api, f"{V1}/sla-policy/", {"p1": 2.5})

    assert refused.status_code == 400
    assert changed.json()["p1"] == 2.5
    assert patch(tech_api, f"{V1}/sla-policy/", {"p1": 3}).status_code == 403


def test_only_the_founder_writes_the_kpi_targets(api, manager_api):
    assert api.get(f"{V1}/kpi-targets/").json() == {
        "delegated_hours_green": 10.0, "delegated_hours_amber": 5.0, "managed_clients_threshold": 20,
        "interruptions_4wk_green_max": 2.0, "aged_backlog_team_max": 3,
    }  # fmt: skip
    assert patch(manager_api, f"{V1}/kpi-targets/", {"aged_backlog_team_max": 5}).status_code == 403
    assert patch(api, f"{V1}/kpi-targets/", {"aged_backlog_team_max": 5}).json()["aged_backlog_team_max"] == 5


AMBER_ABOVE_GREEN = {"delegated_hours_amber": ["Must be at most delegated_hours_green."]}


def test_a_patch_cannot_put_amber_above_the_stored_green_either_way(api, org):
    stored = put(api, f"{V1}/kpi-targets/", {
        "delegated_hours_green": 10, "delegated_hours_amber": 5, "managed_clients_threshold": 20,
        "interruptions_4wk_green_max": 2, "aged_backlog_team_max": 3,
    }).json()  # fmt: skip
    refused_put = put(api, f"{V1}/kpi-targets/", {**stored, "delegated_hours_amber": 12})
    amber_up = patch(api, f"{V1}/kpi-targets/", {"delegated_hours_amber": 12})  # green 10 stored
    green_down = patch(api, f"{V1}/kpi-targets/", {"delegated_hours_green": 1})  # amber 5 stored

    for refused in (refused_put, amber_up, green_down):
        assert refused.status_code == 400
        assert refused.json() == AMBER_ABOVE_GREEN
    assert api.get(f"{V1}/kpi-targets/").json() == stored
    targets = KpiTargets.objects.get(organization=org)
    assert (targets.delegated_hours_green, targets.delegated_hours_amber) == (Decimal("10"), Decimal("5"))
    # Up to the stored green line, and each line alone, still go through.
    assert patch(api, f"{V1}/kpi-targets/", {"delegated_hours_amber": 10}).status_code == 200
    assert patch(api, f"{V1}/kpi-targets/", {"delegated_hours_green": 12}).status_code == 200
    assert patch(api, f"{V1}/kpi-targets/", {"delegated_hours_amber": 12.5}).json() == AMBER_ABOVE_GREEN


def test_targets_are_checked_against_the_row_as_stored_at_the_write(org):
    # Two PATCHes at once: each validated against the row as its request read it (green 20),
    # the other one (green down to 10) committed in between. The second is checked again
    # against the stored row, under its lock, and refused.
    seen = KpiTargets.objects.get(organization=org)
    KpiTargets.objects.filter(pk=seen.pk).update(delegated_hours_green=Decimal("10"))
    seen.delegated_hours_green = Decimal("20")

    with pytest.raises(ValidationError) as refused:
        update_settings(row=seen, values={"delegated_hours_amber": Decimal("12")})

    assert refused.value.message_dict == AMBER_ABOVE_GREEN
    stored = KpiTargets.objects.get(pk=seen.pk)
    assert (stored.delegated_hours_green, stored.delegated_hours_amber) == (Decimal("10"), Decimal("5"))


def test_a_patch_of_targets_an_organization_never_saved_checks_specs_defaults(api, org):
    KpiTargets.objects.filter(organization=org).delete()  # an organization older than its targets
    refused = patch(api, f"{V1}/kpi-targets/", {"delegated_hours_amber": 10.5})  # default green 10

    assert (refused.status_code, refused.json()) == (400, AMBER_ABOVE_GREEN)
    assert not KpiTargets.objects.filter(organization=org).exists()
    assert patch(api, f"{V1}/kpi-targets/", {"delegated_hours_green": 4}).json() == AMBER_ABOVE_GREEN


def test_a_rolled_up_week_answers_specs_row(api, org, founder, manager):
    # Week of Monday 2025-03-03 (Chicago). The founder delegated 2 h and did 1.5 h himself;
    # the service manager's hours are not the founder's and do not count.
    TimeEntryFactory(
        organization=org,
        user=founder,
        handling=Handling.DELEGATED,
        tag_repetitive=True,
        started_at=chi(3, 9),
        ended_at=chi(3, 11),
    )
    TimeEntryFactory(organization=org, user=founder, started_at=chi(4, 9), ended_at=chi(4, 10, 30))
    TimeEntryFactory(
        organization=org, user=manager, handling=Handling.DELEGATED, started_at=chi(3, 9), ended_at=chi(3, 17)
    )
    for day in (3, 4, 5):  # 3 about tickets this week, one not about a ticket
        Interruption.objects.create(
            organization=org, occurred_at=chi(day, 10), channel="call", logged_by=founder
        )
    Interruption.objects.create(
        organization=org, occurred_at=chi(6, 10), channel="call", logged_by=founder, about_ticket=False
    )
    # Five p2 tickets of "Tier 1" opened Monday 08:00, target 8 h: aged at the week's end.
    for n in range(5):
        Ticket.objects.create(organization=org, external_id=f"T{n}", title="x", severity="p2", team="Tier 1",
                              category="VPN" if n < 3 else "Backup", opened_at=chi(3, 8))  # fmt: skip
    with time_machine.travel("2025-03-12T12:00:00Z", tick=False):
        roll_up_week(org=org, monday=chi(3, 0).date())

    body = api.get(f"{V1}/kpis/weekly/", {"week": "2025-03-03"}).json()

    assert body == {
        "week": "2025-03-03",
        "final": True,
        "computed_at": "2025-03-12T07:00:00-05:00",
        "delegated_hours": 2.0,
        "personal_hours": 1.5,
        "logged_hours": 3.5,
        "hours_by_tag": {"repetitive": 2.0, "outsourceable": 0.0, "systemizable": 0.0, "owner_by_habit": 0.0},
        "owner_interruptions": 3,
        "owner_interruptions_4wk_avg": 0.75,  # (3 + 0 + 0 + 0) / 4
        "aged_backlog": 5,
        "aged_backlog_by_team": {"Tier 1": 5},
        "level10_review": True,
        "level10_categories": {"Tier 1": ["VPN", "Backup"]},
        "managed_clients": 24,
        "status": {"delegated_hours": "red", "owner_interruptions": "green", "aged_backlog": "red"},
    }


def test_weekly_rows_refuse_a_day_that_is_no_monday_and_404_when_not_rolled_up(api):
    assert api.get(f"{V1}/kpis/weekly/", {"week": "2025-03-04"}).json() == {
        "week": ["2025-03-04 is a Tuesday; a week is named by its Monday."]
    }
    assert api.get(f"{V1}/kpis/weekly/", {"week": "2025-03-03"}).status_code == 404
    assert api.get(f"{V1}/kpis/weekly/", {"from": "2025-03-03", "to": "2025-03-10"}).json() == []


def test_the_rollup_is_accepted_for_managers_only(api, tech_api):
    response = post(api, f"{V1}/kpis/rollup/", {})

    assert response.status_code == 202
    assert post(tech_api, f"{V1}/kpis/rollup/", {}).status_code == 403


def test_the_standup_lists_breached_and_due_tickets_per_team(api, org, founder):
    # At 2025-03-04 12:00: a p1 opened 08:00 (target 4 h) is exactly at its target: not past it.
    Ticket.objects.create(
        organization=org, external_id="A", title="a", severity="p1", team="Tier 1", opened_at=chi(4, 8)
    )
    Ticket.objects.create(
        organization=org, external_id="B", title="b", severity="p1", team="", opened_at=chi(4, 7, 59)
    )
    Ticket.objects.create(
        organization=org, external_id="C", title="c", severity="p4", team="Tier 1", opened_at=chi(2, 12)
    )  # p4, 72 h: due 2025-03-05 12:00 = at + 24 h, just inside
    Ticket.objects.create(
        organization=org, external_id="D", title="d", severity="p4", team="Tier 1", opened_at=chi(2, 12, 1)
    )  # one minute too late for the next 24 h
    Interruption.objects.create(organization=org, occurred_at=chi(3, 10), channel="text", logged_by=founder)

    body = api.get(f"{V1}/standup/", {"at": chi(4, 12).isoformat()}).json()

    assert body["at"] == "2025-03-04T12:00:00-06:00"
    assert [team["team"] for team in body["teams"]] == ["Tier 1", "Unassigned"]
    tier1, unassigned = body["teams"]
    assert [t["external_id"] for t in tier1["breached"]] == []
    assert [t["external_id"] for t in tier1["due_within_24h"]] == ["C", "A"]
    assert [(t["external_id"], t["age_hours"], t["target_hours"]) for t in unassigned["breached"]] == [
        ("B", 4.02, 4.0)
    ]
    assert [i["channel"] for i in body["interruptions_yesterday"]] == ["text"]


@time_machine.travel("2025-03-05T15:00:00Z", tick=False)
def test_a_todo_is_due_at_the_next_weekly_review(api, founder):
    response = post(api, f"{V1}/todos/", {"title": "Fix VPN runbook", "owner": founder.username})

    assert response.status_code == 201, response.content
    assert response.json() == {
        "id": response.json()["id"], "title": "Fix VPN runbook", "owner": founder.username,
        "ticket_category": "", "due_date": "2025-03-12", "done": False, "created_week": "2025-03-03",
        "done_at": None,
    }  # fmt: skip
    done = patch(api, f"{V1}/todos/{response.json()['id']}/", {"done": True})
    assert done.json()["done_at"] == "2025-03-05T09:00:00-06:00"
    assert Todo.objects.get().done
