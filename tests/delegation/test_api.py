"""The delegation endpoints, field for field as SPEC 4 gives them: defaults, rules, roles."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from audits.models import Category
from delegation.models import Delegate, Delegation, Drill, Interruption, Runbook, TimeBlock
from tests.api.conftest import patch, post, put
from tests.factories import TimeAuditFactory, TimeEntryFactory

CHI = ZoneInfo("America/Chicago")
V1 = "/api/v1"


def chi(day: int, hour: int, minute: int = 0) -> str:
    """A Chicago time in March 2025 (CST, -06:00 until the 9th)."""
    return datetime(2025, 3, day, hour, minute, tzinfo=CHI).isoformat()


# --- interruptions ------------------------------------------------------------------------


def test_an_interruption_answers_every_field_with_its_defaults(api):
    response = post(api, f"{V1}/interruptions/", {"occurred_at": chi(3, 9, 15), "channel": "call"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "occurred_at": "2025-03-03T09:15:00-06:00",
        "channel": "call",
        "about_ticket": True,
        "ticket_ref": "",
        "client": "",
        "category": "",
        "requested_by": "",
        "owner_level": None,
        "follow_up": "none",
        "runbook": None,
        "notes": "",
        "external_id": None,
        "out_of_window": False,
        "drill": None,
    }


def test_a_replayed_interruption_updates_and_answers_200(api):
    first = post(
        api, f"{V1}/interruptions/", {"occurred_at": chi(3, 9), "channel": "text", "external_id": "p-1"}
    )
    again = post(
        api, f"{V1}/interruptions/", {"occurred_at": chi(3, 9), "channel": "chat", "external_id": "p-1"}
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Interruption.objects.get().channel == "chat"


def test_a_batch_with_one_bad_interruption_stores_nothing(api):
    response = post(
        api,
        f"{V1}/interruptions/",
        [
            {"occurred_at": chi(3, 9), "channel": "call"},
            {"occurred_at": "2025-03-03T10:00:00", "channel": "fax"},
        ],
    )

    assert response.status_code == 400
    assert response.json() == [
        {},
        {
            "occurred_at": ["Give the time with a UTC offset, e.g. 2025-03-03T09:00:00-06:00."],
            "channel": ['"fax" is not a valid choice.'],
        },
    ]
    assert Interruption.objects.count() == 0


def test_a_runbook_link_needs_the_runbook_updated_follow_up(api, org):
    runbook = Runbook.objects.create(organization=org, ticket_category="VPN", updated_at=datetime.now(CHI))
    body = {"occurred_at": chi(3, 9), "channel": "call", "runbook": runbook.pk}

    refused = post(api, f"{V1}/interruptions/", body)
    accepted = post(api, f"{V1}/interruptions/", {**body, "follow_up": "runbook_updated"})

    assert refused.status_code == 400
    assert refused.json() == {"runbook": ["Link a runbook only with the follow-up runbook_updated."]}
    assert accepted.status_code == 201
    assert accepted.json()["runbook"] == runbook.pk


def test_a_technician_logs_and_reads_only_its_own_interruptions(api, tech_api, founder, technician):
    post(api, f"{V1}/interruptions/", {"occurred_at": chi(3, 8), "channel": "call", "external_id": "f-1"})
    own = post(tech_api, f"{V1}/interruptions/", {"occurred_at": chi(3, 9), "channel": "chat"})
    takeover = post(
        tech_api, f"{V1}/interruptions/", {"occurred_at": chi(3, 9), "channel": "chat", "external_id": "f-1"}
    )

    assert own.status_code == 201
    assert [row["id"] for row in tech_api.get(f"{V1}/interruptions/").json()["results"]] == [own.json()["id"]]
    assert takeover.status_code == 400
    assert takeover.json() == {
        "external_id": [
            "external_id 'f-1' names another member's interruption; your role may change only your own."
        ]
    }
    assert Interruption.objects.get(external_id="f-1").channel == "call"


def test_out_of_window_and_drill_are_computed_and_filter(api, org, founder):
    # The founder takes owner escalations Monday 11:00-12:00 (Chicago).
    TimeBlock.objects.create(organization=org, user=founder, kind="owner_escalations", weekday=1,
                             start_time="11:00", end_time="12:00")  # fmt: skip
    drill = Drill.objects.create(
        organization=org,
        starts_at=datetime(2025, 3, 3, 0, tzinfo=CHI),
        ends_at=datetime(2025, 3, 6, 0, tzinfo=CHI),
    )
    inside = post(api, f"{V1}/interruptions/", {"occurred_at": chi(3, 11, 30), "channel": "call"}).json()
    outside = post(api, f"{V1}/interruptions/", {"occurred_at": chi(3, 12), "channel": "call"}).json()
    later = post(api, f"{V1}/interruptions/", {"occurred_at": chi(10, 11, 30), "channel": "call"}).json()

    assert (inside["out_of_window"], outside["out_of_window"], later["out_of_window"]) == (False, True, False)
    assert (inside["drill"], outside["drill"], later["drill"]) == (drill.pk, drill.pk, None)
    listed = api.get(f"{V1}/interruptions/", {"out_of_window": "true"}).json()["results"]
    assert [row["id"] for row in listed] == [outside["id"]]
    in_drill = api.get(f"{V1}/interruptions/", {"drill": drill.pk}).json()["results"]
    assert [row["id"] for row in in_drill] == [inside["id"], outside["id"]]
    window = api.get(f"{V1}/interruptions/", {"from": chi(3, 12), "to": chi(10, 12)}).json()["results"]
    assert [row["id"] for row in window] == [outside["id"], later["id"]]


def _escalations_and_a_drill(org, founder) -> Drill:
    """Owner escalations Monday 11:00-12:00 (Chicago) and a drill from Monday 3 to Thursday 6 March."""
    TimeBlock.objects.create(organization=org, user=founder, kind="owner_escalations", weekday=1,
                             start_time="11:00", end_time="12:00")  # fmt: skip
    return Drill.objects.create(
        organization=org,
        starts_at=datetime(2025, 3, 3, 0, tzinfo=CHI),
        ends_at=datetime(2025, 3, 6, 0, tzinfo=CHI),
    )


def test_an_edit_answers_the_flags_of_the_interruption_as_stored_now(api, org, founder):
    drill = _escalations_and_a_drill(org, founder)
    created = post(api, f"{V1}/interruptions/", {"occurred_at": chi(3, 11, 30), "channel": "call"}).json()
    url = f"{V1}/interruptions/{created['id']}/"

    moved = patch(api, url, {"occurred_at": chi(10, 12)})  # a week later, after 12:00
    after_patch = api.get(url).json()
    back = put(api, url, {"occurred_at": chi(3, 11, 30), "channel": "call"})
    after_put = api.get(url).json()

    assert (created["out_of_window"], created["drill"]) == (False, drill.pk)
    assert moved.status_code == 200, moved.content
    assert (moved.json()["out_of_window"], moved.json()["drill"]) == (True, None)
    assert moved.json() == after_patch
    assert back.status_code == 200, back.content
    assert (back.json()["out_of_window"], back.json()["drill"]) == (False, drill.pk)
    assert back.json() == after_put


def test_a_replay_that_moves_an_interruption_answers_its_new_flags(api, org, founder):
    drill = _escalations_and_a_drill(org, founder)
    first = post(
        api, f"{V1}/interruptions/", {"occurred_at": chi(3, 11, 30), "channel": "call", "external_id": "p-1"}
    ).json()

    single = post(
        api, f"{V1}/interruptions/", {"occurred_at": chi(10, 12), "channel": "call", "external_id": "p-1"}
    )
    batch = post(
        api,
        f"{V1}/interruptions/",
        [
            {"occurred_at": chi(3, 11, 30), "channel": "call", "external_id": "p-1"},  # moved back
            {"occurred_at": chi(4, 9), "channel": "text"},  # new: in the drill, out of the window
        ],
    )

    assert (first["out_of_window"], first["drill"]) == (False, drill.pk)
    assert single.status_code == 200, single.content
    assert (single.json()["id"], single.json()["out_of_window"], single.json()["drill"]) == (
        first["id"],
        True,
        None,
    )
    assert batch.status_code == 201, batch.content
    assert [(row["out_of_window"], row["drill"]) for row in batch.json()] == [
        (False, drill.pk),
        (True, drill.pk),
    ]
    assert batch.json() == [api.get(f"{V1}/interruptions/{row['id']}/").json() for row in batch.json()]


@pytest.mark.parametrize("rows", [1, 30])
def test_a_batch_answer_reads_the_flags_in_one_query(rows, api, org, founder, django_assert_num_queries):
    _escalations_and_a_drill(org, founder)
    items = [
        {"occurred_at": chi(3, 11, minute), "channel": "call", "external_id": f"p-{minute}"}
        for minute in range(rows)
    ]
    post(api, f"{V1}/interruptions/", items)  # stored: the next batch replays every item
    moved = [{**item, "occurred_at": chi(10, 12, index)} for index, item in enumerate(items)]

    # token, savepoint, the stored external_ids, the upsert, release, the drills a pending
    # interruption reopens (none here), the flags; the token's member is known: no members query
    with django_assert_num_queries(7):
        response = post(api, f"{V1}/interruptions/", moved)

    assert response.status_code == 200, response.content
    assert {(row["out_of_window"], row["drill"]) for row in response.json()} == {(True, None)}


@pytest.mark.parametrize("rows", [1, 30])
def test_a_batch_that_reopens_a_drill_costs_the_same_queries_whatever_its_size(
    rows, api, org, founder, django_assert_num_queries
):
    drill = _escalations_and_a_drill(org, founder)
    Drill.objects.filter(pk=drill.pk).update(completed_at=datetime(2025, 3, 6, 9, tzinfo=CHI))
    items = [{"occurred_at": chi(4, 9, minute), "channel": "call"} for minute in range(rows)]
    api.get(f"{V1}/drills/")  # the token's last use is stored once: not in the count

    # token, savepoint, the inserts, release, the drills reopened (one UPDATE), the flags
    with django_assert_num_queries(6):
        response = post(api, f"{V1}/interruptions/", items)

    assert response.status_code == 201, response.content
    assert Drill.objects.get(pk=drill.pk).completed_at is None


@time_machine.travel("2025-03-07T12:00:00Z", tick=False)
def test_a_late_interruption_sends_a_completed_drill_back_to_review(api, org):
    drill = post(api, f"{V1}/drills/", {"starts_at": chi(3, 8)}).json()  # ended 2025-03-06 08:00
    drill_url = f"{V1}/drills/{drill['id']}/"
    post(api, f"{drill_url}complete/", {})
    completed = api.get(drill_url).json()

    late = post(api, f"{V1}/interruptions/", {"occurred_at": chi(4, 9), "channel": "call"})
    reopened = api.get(drill_url).json()
    review = api.get(f"{drill_url}review/").json()
    refused = post(api, f"{drill_url}complete/", {})
    patch(api, f"{V1}/interruptions/{late.json()['id']}/", {"follow_up": "rule_tightened"})
    again = post(api, f"{drill_url}complete/", {})

    assert (completed["status"], completed["completed_at"]) == ("complete", "2025-03-07T06:00:00-06:00")
    assert late.status_code == 201, late.content
    assert late.json()["drill"] == drill["id"]
    assert (reopened["status"], reopened["completed_at"]) == ("in_review", None)
    assert review["pending"] == [late.json()["id"]]
    assert refused.status_code == 400
    assert refused.json() == {
        "non_field_errors": [
            f"1 interruption(s) still need a follow-up or the owner-level mark: #{late.json()['id']}."
        ]
    }
    assert again.status_code == 200, again.content
    assert (again.json()["status"], again.json()["completed_at"]) == ("complete", "2025-03-07T06:00:00-06:00")


OWNER_LEVEL_PING = {"occurred_at": chi(4, 9), "channel": "call", "owner_level": True, "external_id": "p-1"}
DAY_BEFORE_PING = {"occurred_at": chi(2, 9), "channel": "text", "external_id": "p-2"}  # pending
FOLLOWED_UP = {"occurred_at": chi(5, 9), "channel": "chat", "follow_up": "rule_tightened"}

# (method, which stored ping it edits: None for the collection, body, whether the drill reopens)
LATE_WRITES = {
    "batch-with-one-pending": (
        "post",
        None,
        [FOLLOWED_UP, {"occurred_at": chi(5, 10), "channel": "chat"}],
        True,
    ),
    "batch-followed-up": (
        "post",
        None,
        [
            FOLLOWED_UP,
            {"occurred_at": chi(5, 10), "channel": "chat", "owner_level": True},
            {"occurred_at": chi(6, 8), "channel": "chat"},  # pending, at the window's end: outside
        ],
        False,
    ),
    "replay-moves-in": (
        "post",
        None,
        [OWNER_LEVEL_PING, {**DAY_BEFORE_PING, "occurred_at": chi(5, 10)}],
        True,
    ),
    "patch-moves-in": ("patch", 1, {"occurred_at": chi(3, 8)}, True),
    "owner-level-false": ("patch", 0, {"owner_level": False}, True),
    "owner-level-null": ("patch", 0, {"owner_level": None}, True),
    "put-without-owner-level": ("put", 0, {**OWNER_LEVEL_PING, "owner_level": None}, True),
    "notes-only": ("patch", 0, {"notes": "Server room flood."}, False),
}


@pytest.mark.parametrize(("method", "which", "data", "reopened"), LATE_WRITES.values(), ids=LATE_WRITES)
@time_machine.travel("2025-03-07T12:00:00Z", tick=False)
def test_a_write_leaving_a_pending_interruption_in_the_window_reopens_the_drill(
    api, org, method, which, data, reopened
):
    drill = post(api, f"{V1}/drills/", {"starts_at": chi(3, 8)}).json()  # ended 2025-03-06 08:00
    drill_url = f"{V1}/drills/{drill['id']}/"
    ids = [row["id"] for row in post(api, f"{V1}/interruptions/", [OWNER_LEVEL_PING, DAY_BEFORE_PING]).json()]
    assert post(api, f"{drill_url}complete/", {}).status_code == 200
    send = {"post": post, "patch": patch, "put": put}[method]

    response = send(api, f"{V1}/interruptions/" + ("" if which is None else f"{ids[which]}/"), data)

    assert response.status_code in (200, 201), response.content
    stored = api.get(drill_url).json()
    pending = api.get(f"{drill_url}review/").json()["pending"]
    if reopened:
        assert (stored["status"], stored["completed_at"]) == ("in_review", None)
        assert len(pending) == 1
    else:
        assert (stored["status"], stored["completed_at"]) == ("complete", "2025-03-07T06:00:00-06:00")
        assert pending == []


@time_machine.travel("2025-03-07T12:00:00Z", tick=False)
def test_only_a_drill_that_has_not_started_yet_can_be_deleted(api, org):
    ended = post(api, f"{V1}/drills/", {"starts_at": chi(3, 8)}).json()
    completed = post(api, f"{V1}/drills/", {"starts_at": chi(1, 8), "ends_at": chi(3, 8)}).json()
    post(api, f"{V1}/drills/{completed['id']}/complete/", {})
    running = post(api, f"{V1}/drills/", {"starts_at": chi(7, 5)}).json()
    scheduled = post(api, f"{V1}/drills/", {"starts_at": chi(20, 8)}).json()
    as_before = list(Drill.objects.order_by("pk").values())

    refused = [api.delete(f"{V1}/drills/{drill['id']}/") for drill in (running, ended, completed)]
    unchanged = list(Drill.objects.order_by("pk").values())
    cancelled = api.delete(f"{V1}/drills/{scheduled['id']}/")

    message = {"non_field_errors": ["Only a drill that has not started yet can be cancelled."]}
    assert [(r.status_code, r.json()) for r in refused] == [(400, message)] * 3
    assert unchanged == as_before
    assert cancelled.status_code == 204
    assert sorted(Drill.objects.values_list("pk", flat=True)) == sorted(
        drill["id"] for drill in (ended, completed, running)
    )


# --- delegates and delegations ------------------------------------------------------------


def test_a_delegate_answers_its_fields_and_refuses_a_negative_cost(api):
    created = post(api, f"{V1}/delegates/", {"name": "Dana (NOC)", "kind": "noc", "hourly_cost": 45.5})
    refused = post(api, f"{V1}/delegates/", {"name": "X", "kind": "noc", "hourly_cost": -1})
    text = post(api, f"{V1}/delegates/", {"name": "X", "kind": "noc", "hourly_cost": "45"})

    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"], "name": "Dana (NOC)", "kind": "noc", "email": None,
        "hourly_cost": 45.5, "active": True,
    }  # fmt: skip
    assert refused.json() == {"hourly_cost": ["Ensure this value is greater than or equal to 0."]}
    assert text.json() == {"hourly_cost": ["Must be a JSON number."]}
    assert Delegate.objects.count() == 1


def test_a_delegation_starts_as_a_candidate(api):
    response = post(api, f"{V1}/delegations/", {"title": "Password resets", "category": "tickets"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "title": "Password resets",
        "category": "tickets",
        "delegate": None,
        "status": "candidate",
        "definition_of_done": [],
        "decision_boundary": "",
        "approval_limit_amount": None,
        "approval_limit_hours": None,
        "escalation_triggers": "",
        "expected_hours_per_week": 0.0,
        "handoff_date": None,
        "review_date": None,
        "done_override_reason": "",
        "hours_freed_per_week": None,
    }


def test_a_refused_move_is_a_400_on_status_and_changes_nothing(api, org):
    created = post(api, f"{V1}/delegations/", {"title": "Backups", "category": "tickets"}).json()
    url = f"{V1}/delegations/{created['id']}/"

    handoff = patch(api, url, {"status": "handed_off", "decision_boundary": "Restores under 1 h"})
    done = patch(api, url, {"status": "done"})

    assert handoff.status_code == 400
    assert handoff.json() == {
        "status": [
            "Choose a delegate before handing this off.",
            "Write at least one definition-of-done item before handing this off.",
        ]
    }
    assert done.json() == {
        "status": [
            "A delegation cannot move from candidate to done; "
            "from candidate it moves to handed_off or planned."
        ]
    }
    stored = Delegation.objects.get()
    assert (stored.status, stored.decision_boundary, stored.handoff_date) == ("candidate", "", None)


def test_done_with_the_checklist_emptied_in_the_same_request_is_refused(api, org):
    delegate = Delegate.objects.create(organization=org, name="Tess", kind="technician")
    created = post(
        api,
        f"{V1}/delegations/",
        {"title": "Patching", "category": "tickets", "delegate": delegate.pk, "status": "handed_off",
         "definition_of_done": [{"text": "Runbook written"}]},
    ).json()  # fmt: skip
    url = f"{V1}/delegations/{created['id']}/"
    as_before = Delegation.objects.filter(pk=created["id"]).values().get()

    emptied = patch(api, url, {"definition_of_done": []})
    done = patch(api, url, {"status": "done", "definition_of_done": []})
    blank_reason = patch(api, url, {"status": "done", "definition_of_done": [], "done_override_reason": " "})
    unchanged = Delegation.objects.filter(pk=created["id"]).values().get()
    overridden = patch(
        api, url, {"status": "done", "definition_of_done": [], "done_override_reason": "NOC took it all."}
    )
    reason_dropped = patch(api, url, {"done_override_reason": ""})

    assert (emptied.status_code, emptied.json()) == (
        400,
        {"definition_of_done": ["A handed-off delegation keeps at least one definition-of-done item."]},
    )
    refused = {
        "definition_of_done": [
            "A delegation marked done keeps at least one definition-of-done item, or gives a "
            "done_override_reason."
        ]
    }
    assert (done.status_code, done.json()) == (400, refused)
    assert (blank_reason.status_code, blank_reason.json()) == (400, refused)
    assert unchanged == as_before
    assert overridden.status_code == 200, overridden.content
    assert (overridden.json()["status"], overridden.json()["definition_of_done"]) == ("done", [])
    assert (reason_dropped.status_code, reason_dropped.json()) == (400, refused)
    assert Delegation.objects.get(pk=created["id"]).done_override_reason == "NOC took it all."


def test_a_done_delegation_keeps_its_items_checked_or_its_override_reason(api, org):
    delegate = Delegate.objects.create(organization=org, name="Tess", kind="technician")
    checked = [{"text": "Runbook written", "done": True}, {"text": "NOC trained", "done": True}]
    created = post(
        api,
        f"{V1}/delegations/",
        {"title": "Patching", "category": "tickets", "delegate": delegate.pk, "status": "handed_off",
         "definition_of_done": checked},
    ).json()  # fmt: skip
    url = f"{V1}/delegations/{created['id']}/"
    done = patch(api, url, {"status": "done"}).json()
    as_before = Delegation.objects.filter(pk=created["id"]).values().get()
    unchecked = [checked[0], {"text": "NOC trained", "done": False}]
    added = [*checked, {"text": "Monthly patch report sent"}]

    refused = [
        patch(api, url, {"definition_of_done": unchecked}),
        patch(api, url, {"definition_of_done": added}),
        put(api, url, {**done, "definition_of_done": unchecked}),
        patch(api, url, {"definition_of_done": unchecked, "done_override_reason": "  "}),
    ]
    unchanged = Delegation.objects.filter(pk=created["id"]).values().get()
    reason = "Patch report moved to the quarterly review."
    overridden = patch(api, url, {"definition_of_done": added, "done_override_reason": reason})
    reason_cleared = patch(api, url, {"done_override_reason": ""})
    after_override = Delegation.objects.filter(pk=created["id"]).values().get()
    reverted = patch(api, url, {"status": "reverted", "done_override_reason": ""})

    message = (
        "A done delegation keeps every definition-of-done item checked, or gives a done_override_reason; "
        "to reopen work, move it to reverted first."
    )
    assert [(r.status_code, r.json()) for r in refused] == [(400, {"definition_of_done": [message]})] * 4
    assert unchanged == as_before
    assert overridden.status_code == 200, overridden.content
    assert (reason_cleared.status_code, reason_cleared.json()) == (
        400,
        {
            "done_override_reason": [
                "A done delegation with open definition-of-done items keeps its done_override_reason "
                "(1 open: Monthly patch report sent); to reopen work, move it to reverted first."
            ]
        },
    )
    assert (after_override["done_override_reason"], after_override["definition_of_done"]) == (
        reason,
        [*checked, {"text": "Monthly patch report sent", "done": False}],
    )
    assert reverted.status_code == 200, reverted.content
    assert (reverted.json()["status"], reverted.json()["done_override_reason"]) == ("reverted", "")


@time_machine.travel("2025-03-05T05:30:00Z", tick=False)  # still March 4 in Chicago
def test_handing_off_sets_the_handoff_date_to_the_orgs_today(api, org):
    delegate = Delegate.objects.create(organization=org, name="Tess", kind="technician")
    created = post(
        api,
        f"{V1}/delegations/",
        {"title": "Patching", "category": "tickets", "delegate": delegate.pk,
         "definition_of_done": [{"text": "Runbook written"}]},
    ).json()  # fmt: skip

    moved = patch(api, f"{V1}/delegations/{created['id']}/", {"status": "handed_off"})

    assert moved.status_code == 200, moved.content
    assert moved.json()["handoff_date"] == "2025-03-04"
    assert moved.json()["definition_of_done"] == [{"text": "Runbook written", "done": False}]


def test_from_audit_fills_title_and_the_categorys_tagged_hours(api, org, founder):
    audit = TimeAuditFactory(organization=org, user=founder, start_date=date(2025, 3, 3))
    tickets = Category.objects.get(organization=org, slug="tickets")
    # 1.5 h tagged + 0.5 h untagged in tickets: the tagged 1.5 h count.
    TimeEntryFactory(
        organization=org,
        user=founder,
        category=tickets,
        tag_repetitive=True,
        started_at=datetime(2025, 3, 3, 9, tzinfo=CHI),
        ended_at=datetime(2025, 3, 3, 10, 30, tzinfo=CHI),
    )
    TimeEntryFactory(
        organization=org,
        user=founder,
        category=tickets,
        started_at=datetime(2025, 3, 3, 11, tzinfo=CHI),
        ended_at=datetime(2025, 3, 3, 11, 30, tzinfo=CHI),
    )

    response = post(api, f"{V1}/delegations/", {"from_audit": audit.pk, "category": "tickets"})
    given = post(api, f"{V1}/delegations/", {"from_audit": audit.pk, "category": "tickets", "title": "Mine"})

    assert response.status_code == 201, response.content
    assert (response.json()["title"], response.json()["expected_hours_per_week"]) == ("Tickets", 1.5)
    assert given.json()["title"] == "Mine"


# --- runbooks and the escalation map ------------------------------------------------------


def test_each_runbook_change_keeps_the_previous_revision(api, founder):
    created = post(api, f"{V1}/runbooks/", {"ticket_category": "VPN", "standard_fix": "Restart the tunnel"})
    url = f"{V1}/runbooks/{created.json()['id']}/"
    changed = patch(api, url, {"standard_fix": "Re-key the tunnel"})

    assert created.json()["revision"] == 1
    assert created.json()["escalation_level"] == "L1"
    assert created.json()["updated_by"] == founder.username
    assert changed.json()["revision"] == 2
    revisions = api.get(f"{url}revisions/").json()
    assert [(r["revision"], r["standard_fix"], r["changed_by"]) for r in revisions] == [
        (1, "Restart the tunnel", founder.username)
    ]


def test_a_second_runbook_for_a_category_is_refused_whatever_its_case(api):
    first = post(api, f"{V1}/runbooks/", {"ticket_category": "VPN"}).json()
    second = post(api, f"{V1}/runbooks/", {"ticket_category": "vpn "})

    assert second.status_code == 400
    assert second.json() == {
        "ticket_category": [f"Runbook #{first['id']} already covers ticket category 'vpn'."]
    }
    assert Runbook.objects.count() == 1


def test_technicians_read_runbooks_and_the_map_but_do_not_change_them(tech_api, api):
    post(api, f"{V1}/runbooks/", {"ticket_category": "Backup"})

    assert tech_api.get(f"{V1}/runbooks/").status_code == 200
    assert tech_api.get(f"{V1}/escalation-map/").status_code == 200
    assert post(tech_api, f"{V1}/runbooks/", {"ticket_category": "MFA"}).status_code == 403
    assert patch(tech_api, f"{V1}/escalation-map/", {"L1": {"criteria": "x"}}).status_code == 403


def test_the_escalation_map_has_three_levels_and_patches_one(api):
    body = api.get(f"{V1}/escalation-map/").json()
    assert list(body) == ["L1", "L2", "owner_only"]
    assert set(body["L1"]) == {"criteria", "approval_limit_amount", "approval_limit_hours"}

    changed = patch(api, f"{V1}/escalation-map/", {"L2": {"approval_limit_amount": 500}})
    incomplete = put(api, f"{V1}/escalation-map/", {"L1": {"criteria": "x"}})

    assert changed.status_code == 200, changed.content
    assert changed.json()["L2"]["approval_limit_amount"] == 500.0
    assert changed.json()["L1"] == body["L1"]
    assert incomplete.status_code == 400


# --- drills and time blocks ---------------------------------------------------------------


@time_machine.travel("2025-03-20T12:00:00Z", tick=False)
def test_a_drill_lasts_three_days_by_default_and_never_overlaps(api):
    created = post(api, f"{V1}/drills/", {"starts_at": chi(3, 8)})
    overlapping = post(api, f"{V1}/drills/", {"starts_at": chi(5, 8)})

    assert created.status_code == 201, created.content
    assert created.json()["ends_at"] == "2025-03-06T08:00:00-06:00"
    assert created.json()["status"] == "in_review"
    assert overlapping.status_code == 400
    assert overlapping.json() == {
        "starts_at": [f"Overlaps drill #{created.json()['id']} (2025-03-03 08:00 to 2025-03-06 08:00)."]
    }


@time_machine.travel("2025-03-01T12:00:00Z", tick=False)
def test_the_default_drill_ends_at_the_same_local_time_across_the_dst_change(api):
    # Clocks spring forward on Sunday 2025-03-09 in Chicago: Friday 09:00 CST to Monday 09:00
    # CDT is 3 local days, 71 real hours.
    created = post(api, f"{V1}/drills/", {"starts_at": chi(7, 9)})

    assert created.status_code == 201, created.content
    assert (created.json()["starts_at"], created.json()["ends_at"]) == (
        "2025-03-07T09:00:00-06:00",
        "2025-03-10T09:00:00-05:00",
    )
    stored = Drill.objects.get()
    assert stored.ends_at - stored.starts_at == timedelta(hours=71)  # both read in UTC


def test_a_drill_completes_only_after_its_window_and_its_review(api, org):
    with time_machine.travel("2025-03-04T12:00:00Z", tick=False):
        drill = post(api, f"{V1}/drills/", {"starts_at": chi(3, 8)}).json()
        ping = post(api, f"{V1}/interruptions/", {"occurred_at": chi(4, 9), "channel": "call"}).json()
        early = post(api, f"{V1}/drills/{drill['id']}/complete/", {})
    with time_machine.travel("2025-03-07T12:00:00Z", tick=False):
        review = api.get(f"{V1}/drills/{drill['id']}/review/").json()
        pending = post(api, f"{V1}/drills/{drill['id']}/complete/", {})
        patch(api, f"{V1}/interruptions/{ping['id']}/", {"owner_level": True})
        done = post(api, f"{V1}/drills/{drill['id']}/complete/", {})

    assert early.status_code == 400
    assert early.json() == {
        "non_field_errors": ["The drill's window has not ended yet: it ends 2025-03-06 08:00."]
    }
    assert review["pending"] == [ping["id"]]
    assert [i["id"] for i in review["interruptions"]] == [ping["id"]]
    assert review["by_day"] == {"2025-03-03": 0, "2025-03-04": 1, "2025-03-05": 0, "2025-03-06": 0}
    assert review["by_category"] == {"Uncategorized": 1}
    assert pending.json() == {
        "non_field_errors": [
            f"1 interruption(s) still need a follow-up or the owner-level mark: #{ping['id']}."
        ]
    }
    assert done.status_code == 200
    assert done.json()["status"] == "complete"


def test_a_completed_drills_window_cannot_change_but_its_notes_can(api, org):
    with time_machine.travel("2025-03-07T12:00:00Z", tick=False):
        drill = post(api, f"{V1}/drills/", {"starts_at": chi(3, 8)}).json()
        post(api, f"{V1}/drills/{drill['id']}/complete/", {})
        url = f"{V1}/drills/{drill['id']}/"
        as_before = Drill.objects.filter(pk=drill["id"]).values().get()

        later = patch(api, url, {"ends_at": chi(10, 8)})  # not ended yet: 2025-03-07 is "now"
        earlier = patch(api, url, {"starts_at": chi(1, 8)})
        both = put(api, url, {"starts_at": chi(4, 8), "ends_at": chi(5, 8), "notes": "moved"})
        unchanged = Drill.objects.filter(pk=drill["id"]).values().get()
        notes = patch(api, url, {"notes": "Two calls, both owner-level.", "ends_at": "2025-03-06T14:00:00Z"})

    message = ["A completed drill's window cannot change."]
    assert (later.status_code, later.json()) == (400, {"ends_at": message})
    assert (earlier.status_code, earlier.json()) == (400, {"starts_at": message})
    assert (both.status_code, both.json()) == (400, {"starts_at": message, "ends_at": message})
    assert unchanged == as_before
    assert notes.status_code == 200, notes.content
    assert notes.json() == {
        **drill,
        "notes": "Two calls, both owner-level.",
        "status": "complete",
        "completed_at": notes.json()["completed_at"],
    }
    assert notes.json()["completed_at"] == "2025-03-07T06:00:00-06:00"


def test_time_blocks_of_one_member_on_one_weekday_never_overlap(api, founder):
    first = post(api, f"{V1}/time-blocks/", {"kind": "owner_escalations", "weekday": 1, "start_time": "11:00",
                                            "end_time": "12:00"})  # fmt: skip
    clash = post(
        api, f"{V1}/time-blocks/", {"kind": "team", "weekday": 1, "start_time": "11:30", "end_time": "13:00"}
    )
    touching = post(
        api, f"{V1}/time-blocks/", {"kind": "team", "weekday": 1, "start_time": "12:00", "end_time": "13:00"}
    )
    backwards = post(
        api, f"{V1}/time-blocks/", {"kind": "team", "weekday": 2, "start_time": "12:00", "end_time": "11:00"}
    )

    assert first.status_code == 201, first.content
    assert first.json() == {
        "id": first.json()["id"], "user": founder.username, "kind": "owner_escalations", "weekday": 1,
        "start_time": "11:00", "end_time": "12:00",
    }  # fmt: skip
    assert clash.json() == {
        "start_time": [f"Overlaps block #{first.json()['id']}: Owner escalations Monday 11:00-12:00."]
    }
    assert touching.status_code == 201
    assert backwards.json() == {"end_time": ["A block must end after it starts."]}
    assert TimeBlock.objects.count() == 2


def test_a_filter_sent_empty_is_refused_but_an_empty_text_is_a_text(api):
    empty_choice = api.get(f"{V1}/delegations/", {"status": ""})
    empty_boolean = api.get(f"{V1}/delegates/", {"active": ""})
    empty_text = api.get(f"{V1}/interruptions/", {"category": ""})

    assert empty_choice.status_code == empty_boolean.status_code == 400
    assert empty_choice.json() == {
        "status": ["Select a valid choice. '' is not one of the available choices."]
    }
    assert empty_boolean.json() == {
        "active": ["This parameter may not be empty; leave it out to not filter by it."]
    }
    assert empty_text.status_code == 200
