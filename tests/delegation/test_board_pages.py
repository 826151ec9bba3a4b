"""The delegation board's pages: columns and cards, moves by SPEC 1's rules (a refused one says why
and changes nothing), the checklist in place, create/edit/delete, the audit report's "Create
delegation candidate" button, roles, another organization's 404s and the board's query count."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audits.models import Category, Handling, TimeEntry
from audits.services import record_time_entry, start_time_audit
from delegation.models import Delegate, Delegation, DelegationStatus
from tests.factories import DelegateFactory, DelegationFactory
from tests.pages import client_for, pinned_clock
from tests.races import run_in_threads

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=CHI)  # Friday 14 March 2025: "today" on every page
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "board"}


_pinned_clock = pinned_clock(NOW)


def row(delegation: Delegation) -> dict:
    return Delegation.objects.filter(pk=delegation.pk).values().get()


def card_html(body: str, delegation: Delegation) -> str:
    """The <article> of one card."""
    match = re.search(
        rf'<article class="dcard[^"]*" id="delegation-{delegation.pk}".*?</article>', body, re.S
    )
    assert match, f"no card for delegation #{delegation.pk}"
    return match.group(0)


def column_html(body: str, status: str) -> str:
    match = re.search(rf'<section class="board-column" id="column-{status}".*?</section>', body, re.S)
    assert match
    return match.group(0)


def moves_of(card: str) -> list[str]:
    return re.findall(r'data-move="(\w+)"', card)


@pytest.fixture
def dana(org) -> Delegate:
    return DelegateFactory(organization=org, name="Dana Ortiz")


@pytest.fixture
def tickets(org) -> Category:
    return Category.objects.get(organization=org, slug="tickets")


def move(client, delegation, status, **headers):
    return client.post(f"/delegation/delegations/{delegation.pk}/move/", {"status": status}, **headers)


# --- columns and cards --------------------------------------------------------------------


def test_the_board_has_a_column_per_status_in_spec_order(founder_client):
    body = founder_client.get("/delegation/board/").content.decode()
    found = re.findall(r'<section class="board-column" id="column-(\w+)"', body)
    assert found == ["candidate", "planned", "handed_off", "done", "reverted"]


def test_a_card_shows_its_figures(founder_client, org, dana):
    delegation = DelegationFactory(
        organization=org,
        title="Password resets to the help desk",
        delegate=dana,
        status=DelegationStatus.HANDED_OFF,
        definition_of_done=[
            {"text": "Runbook written", "done": True},
            {"text": "NOC trained", "done": False},
        ],
        expected_hours_per_week=Decimal("3.50"),
        handoff_date=date(2025, 3, 10),
        review_date=date(2025, 4, 7),
    )
    card = card_html(
        column_html(founder_client.get("/delegation/board/").content.decode(), "handed_off"), delegation
    )
    assert "Password resets to the help desk" in card
    assert '<span class="badge">Tickets</span>' in card
    assert "→ Dana Ortiz" in card
    assert 'data-role="progress">1/2</span>' in card
    assert '<dd class="dcard-expected">3.50 h/wk</dd>' in card
    # Handed off this week: no week after it has ended yet, so no figure.
    assert re.search(r'<dd class="dcard-freed"[^>]*>—</dd>', card)
    assert '<dd class="dcard-handoff">10 Mar 2025</dd>' in card
    assert '<dd class="dcard-review">7 Apr 2025</dd>' in card
    assert "overdue review" not in card


def test_a_card_shows_the_hours_actually_freed(founder_client, org, founder, dana, tickets):
    """Handoff Wed 5 Feb 2025 (week of 3 Feb). Founder's personal tickets hours:
    the 4 weeks before (6, 13, 20, 27 Jan): 4 + 4 + 0 + 0 = 8 h -> mean 2.00 h;
    the 4 weeks after that have ended by 14 Mar (10, 17, 24 Feb, 3 Mar): 1 h -> mean 0.25 h;
    freed 2.00 - 0.25 = 1.75 h a week. A delegated entry (20 Jan, 3 h) does not count."""

    def log(day: date, hours: int, handling=Handling.PERSONAL):
        start = datetime(day.year, day.month, day.day, 9, tzinfo=CHI)
        entry = TimeEntry(user=founder, started_at=start, ended_at=start + timedelta(hours=hours))
        entry.activity, entry.category, entry.handling, entry.tags = "Resets", tickets, handling, []
        record_time_entry(org=org, entry=entry)

    log(date(2025, 1, 7), 4)
    log(date(2025, 1, 14), 4)
    log(date(2025, 1, 21), 3, Handling.DELEGATED)
    log(date(2025, 2, 11), 1)
    delegation = DelegationFactory(
        organization=org,
        delegate=dana,
        status=DelegationStatus.HANDED_OFF,
        handoff_date=date(2025, 2, 5),
        review_date=date(2025, 4, 1),
    )
    body = founder_client.get("/delegation/board/").content.decode()
    assert re.search(r'<dd class="dcard-freed"[^>]*>1.75 h/wk</dd>', card_html(body, delegation))
    assert '<strong id="freed-running">1.75 h/week</strong>' in body


def test_overdue_review_is_marked_on_handed_off_cards_only(founder_client, org, dana):
    """Today is 14 March (Chicago). Overdue: a handed-off delegation whose review date has passed.
    Done ones were reviewed (and stuck); candidates and planned ones have not started."""
    late = DelegationFactory(
        organization=org,
        delegate=dana,
        status="handed_off",
        handoff_date=date(2025, 2, 1),
        review_date=date(2025, 3, 13),
    )
    due_today = DelegationFactory(
        organization=org,
        delegate=dana,
        status="handed_off",
        handoff_date=date(2025, 2, 1),
        review_date=date(2025, 3, 14),
    )
    done = DelegationFactory(
        organization=org,
        delegate=dana,
        status="done",
        handoff_date=date(2025, 1, 1),
        review_date=date(2025, 2, 1),
    )
    planned = DelegationFactory(organization=org, status="planned", review_date=date(2025, 3, 1))
    body = founder_client.get("/delegation/board/").content.decode()
    assert 'data-role="overdue">overdue review</span>' in card_html(body, late)
    assert "overdue" not in card_html(body, due_today)
    assert "review today" in card_html(body, due_today)
    assert "overdue review" not in card_html(body, done)
    assert "overdue review" not in card_html(body, planned)
    assert '<span class="badge red" id="overdue-count">1 overdue review</span>' in body


def test_each_card_offers_only_the_allowed_moves(founder_client, org, dana):
    expected = {
        "candidate": ["planned", "handed_off"],
        "planned": ["candidate", "handed_off"],
        "handed_off": ["done", "reverted"],
        "done": ["reverted"],
        "reverted": ["planned"],
    }
    cards = {status: DelegationFactory(organization=org, delegate=dana, status=status) for status in expected}
    body = founder_client.get("/delegation/board/").content.decode()
    for status, moves in expected.items():
        assert moves_of(card_html(column_html(body, status), cards[status])) == moves, status
    assert "Plan again" in card_html(body, cards["reverted"])


def test_columns_put_the_biggest_win_first_among_candidates(founder_client, org):
    small = DelegationFactory(organization=org, title="Small", expected_hours_per_week=Decimal("1"))
    big = DelegationFactory(organization=org, title="Big", expected_hours_per_week=Decimal("6"))
    column = column_html(founder_client.get("/delegation/board/").content.decode(), "candidate")
    assert column.index(f'id="delegation-{big.pk}"') < column.index(f'id="delegation-{small.pk}"')
    assert "7.00 h/wk expected" in column


# --- moves --------------------------------------------------------------------------------


def test_a_move_redraws_the_board_with_the_card_in_its_new_column(founder_client, org, dana):
    delegation = DelegationFactory(organization=org, delegate=dana, status="candidate")
    response = move(founder_client, delegation, "planned", **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<div id="board"')  # the partial, swapped in place of the board
    assert f'id="delegation-{delegation.pk}"' in column_html(body, "planned")
    assert 'tabindex="-1" autofocus' in card_html(body, delegation)  # the keyboard follows the card
    assert "moved to Planned." in body
    assert row(delegation)["status"] == "planned"


def test_handing_off_sets_the_handoff_date_to_today_when_empty(founder_client, org, dana):
    delegation = DelegationFactory(organization=org, delegate=dana, status="planned", handoff_date=None)
    assert move(founder_client, delegation, "handed_off", **HTMX).status_code == 200
    assert (row(delegation)["status"], row(delegation)["handoff_date"]) == ("handed_off", date(2025, 3, 14))


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"delegate": None}, "handed_off", "Choose a delegate before handing this off."),
        (
            {"definition_of_done": []},
            "handed_off",
            "Write at least one definition-of-done item before handing this off.",
        ),
        (
            {"status": "handed_off", "definition_of_done": [{"text": "NOC trained", "done": False}]},
            "done",
            "Check every definition-of-done item first (1 open: NOC trained), or give "
            "a reason (“Done although items are open, because…”).",
        ),
        (
            {},
            "done",
            "A delegation cannot move from candidate to done; from candidate it moves to "
            "handed_off or planned.",
        ),
        (
            {"status": "done"},
            "planned",
            "A delegation cannot move from done to planned; from done it moves to reverted.",
        ),
    ],
    ids=["no-delegate", "no-definition-of-done", "open-items", "candidate-to-done", "done-to-planned"],
)
def test_a_refused_move_says_why_on_the_card_and_changes_nothing(
    founder_client, org, dana, fields, status, message
):
    values = {"delegate": dana, "status": "candidate", "handoff_date": None, **fields}
    if values["status"] in ("handed_off", "done"):
        values["handoff_date"] = date(2025, 3, 3)
    delegation = DelegationFactory(organization=org, **values)
    before = row(delegation)

    response = move(founder_client, delegation, status, **HTMX)

    assert response.status_code == 422
    card = card_html(response.content.decode(), delegation)
    assert f'<p class="error dcard-error" role="alert">{message}</p>' in card
    assert f'id="delegation-{delegation.pk}"' in column_html(response.content.decode(), before["status"])
    assert row(delegation) == before  # every field, updated_at included


def test_done_with_open_items_and_an_override_reason(founder_client, org, dana):
    delegation = DelegationFactory(
        organization=org,
        delegate=dana,
        status="handed_off",
        handoff_date=date(2025, 2, 3),
        definition_of_done=[{"text": "NOC trained", "done": False}],
        done_override_reason="The NOC contract changed; training is moot.",
    )
    assert move(founder_client, delegation, "done", **HTMX).status_code == 200
    assert row(delegation)["status"] == "done"


def test_an_unknown_status_is_refused(founder_client, org):
    delegation = DelegationFactory(organization=org)
    before = row(delegation)
    response = move(founder_client, delegation, "finished", **HTMX)
    assert response.status_code == 422
    assert "Unknown status &#x27;finished&#x27;." in response.content.decode()
    assert row(delegation) == before


def test_without_javascript_a_move_redirects_with_a_message(founder_client, org):
    delegation = DelegationFactory(organization=org, delegate=None, title="VPN escalations")
    response = move(founder_client, delegation, "handed_off")
    assert response.status_code == 302
    assert response["Location"] == f"/delegation/board/#delegation-{delegation.pk}"
    body = founder_client.get("/delegation/board/").content.decode()
    assert "“VPN escalations” did not move: Choose a delegate before handing this off." in body
    assert row(delegation)["status"] == "candidate"


def test_on_the_detail_page_a_move_redraws_the_card(founder_client, org, dana):
    delegation = DelegationFactory(organization=org, delegate=dana)
    response = founder_client.post(
        f"/delegation/delegations/{delegation.pk}/move/",
        {"status": "planned", "where": "detail"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith(f'<article class="dcard" id="delegation-{delegation.pk}"')
    assert 'data-role="status">Planned</span>' in body
    assert f'hx-target="#delegation-{delegation.pk}"' in body


# --- the definition of done, in place -------------------------------------------------------


def checklist(client, delegation, **data):
    return client.post(f"/delegation/delegations/{delegation.pk}/checklist/", data, HTTP_HX_REQUEST="true")


def test_the_checklist_is_edited_in_place(founder_client, org):
    delegation = DelegationFactory(organization=org, definition_of_done=[])
    response = checklist(founder_client, delegation, action="add", text="  Runbook   written ")
    assert response.status_code == 200
    assert 'data-role="progress">0/1</span>' in response.content.decode()
    checklist(founder_client, delegation, action="add", text="NOC trained")
    response = checklist(founder_client, delegation, action="check", index=0, text="Runbook written")
    body = response.content.decode()
    assert 'data-role="progress">1/2</span>' in body
    assert 'aria-pressed="true" autofocus>Runbook written</button>' in body  # focus stays on the item
    assert row(delegation)["definition_of_done"] == [
        {"text": "Runbook written", "done": True},
        {"text": "NOC trained", "done": False},
    ]
    checklist(founder_client, delegation, action="uncheck", index=0, text="Runbook written")
    checklist(founder_client, delegation, action="remove", index=1, text="NOC trained")
    assert row(delegation)["definition_of_done"] == [{"text": "Runbook written", "done": False}]


def test_a_checklist_changed_meanwhile_is_refused(founder_client, org):
    delegation = DelegationFactory(
        organization=org, definition_of_done=[{"text": "A", "done": False}, {"text": "B", "done": False}]
    )
    before = row(delegation)
    # Another tab removed "A": this tab's button for item 0 still says "A" but item 0 is now "B".
    response = checklist(founder_client, delegation, action="check", index=0, text="B")
    assert response.status_code == 422
    assert "The checklist changed meanwhile: reload and try again." in response.content.decode()
    response = checklist(founder_client, delegation, action="remove", index=5, text="A")
    assert response.status_code == 422
    response = checklist(founder_client, delegation, action="add", text="   ")
    assert "Write the item first." in response.content.decode()
    assert row(delegation) == before


def test_a_handed_off_delegation_keeps_its_last_item(founder_client, org, dana):
    delegation = DelegationFactory(
        organization=org, delegate=dana, status="handed_off", handoff_date=date(2025, 3, 3)
    )
    before = row(delegation)
    response = checklist(founder_client, delegation, action="remove", index=0, text="Runbook written")
    assert response.status_code == 422
    assert "A handed-off delegation keeps at least one definition-of-done item." in response.content.decode()
    assert row(delegation) == before


def test_a_done_delegation_keeps_its_last_item_without_an_override_reason(founder_client, org, dana):
    checked = [{"text": "Runbook written", "done": True}]
    done = DelegationFactory(
        organization=org,
        delegate=dana,
        status="done",
        handoff_date=date(2025, 3, 3),
        definition_of_done=checked,
    )
    overridden = DelegationFactory(
        organization=org, delegate=dana, status="done", handoff_date=date(2025, 3, 3),
        definition_of_done=checked, done_override_reason="The NOC took over the whole category.",
    )  # fmt: skip
    before = row(done)

    refused = checklist(founder_client, done, action="remove", index=0, text="Runbook written")
    allowed = checklist(founder_client, overridden, action="remove", index=0, text="Runbook written")

    assert refused.status_code == 422
    assert (
        "A delegation marked done keeps at least one definition-of-done item, or gives "
        "a reason (“Done although items are open, because…”)." in refused.content.decode()
    )
    assert row(done) == before
    assert allowed.status_code == 200
    assert row(overridden)["definition_of_done"] == []


STAYS_CHECKED = (
    # The service's message as the pages word it (the API names the field done_override_reason).
    "A done delegation keeps every definition-of-done item checked, or gives "
    "a reason (“Done although items are open, because…”); to reopen work, move it to reverted first."
)


@pytest.mark.parametrize(
    "change",
    [
        {"action": "uncheck", "index": 0, "text": "Runbook written"},
        {"action": "add", "text": "NOC trained"},
    ],
)
def test_a_done_delegation_keeps_every_item_checked_without_an_override_reason(
    founder_client, org, dana, change
):
    done = DelegationFactory(
        organization=org, delegate=dana, status="done", handoff_date=date(2025, 3, 3),
        definition_of_done=[{"text": "Runbook written", "done": True}],
    )  # fmt: skip
    before = row(done)

    refused = checklist(founder_client, done, **change)
    plain = founder_client.post(f"/delegation/delegations/{done.pk}/checklist/", change, follow=True)

    assert refused.status_code == 422
    assert STAYS_CHECKED in refused.content.decode()
    assert STAYS_CHECKED in plain.content.decode()  # without JavaScript: the message on top
    assert row(done) == before


def test_a_done_delegation_with_open_items_keeps_its_override_reason_on_the_edit_page(
    founder_client, org, dana
):
    done = DelegationFactory(
        organization=org, delegate=dana, status="done", handoff_date=date(2025, 3, 3),
        done_override_reason="The NOC took over the whole category.",
    )  # fmt: skip
    before = row(done)

    response = founder_client.post(
        f"/delegation/delegations/{done.pk}/edit/",
        {"title": "T", "category": "tickets", "delegate": dana.pk, "expected_hours_per_week": "2",
         "handoff_date": "2025-03-03", "done_override_reason": " "},
    )  # fmt: skip

    assert response.status_code == 422
    assert (
        "A done delegation with open definition-of-done items keeps its done_override_reason (1 open: "
        "Runbook written); to reopen work, move it to reverted first." in response.content.decode()
    )
    assert row(done) == before


def test_a_viewer_sees_the_checklist_but_cannot_change_it(viewer, org):
    delegation = DelegationFactory(
        organization=org, definition_of_done=[{"text": "NOC trained", "done": True}]
    )
    body = client_for(viewer).get(f"/delegation/delegations/{delegation.pk}/").content.decode()
    assert 'NOC trained</span><span class="visually-hidden"> (done)</span>' in body
    assert "check-toggle" not in body


# --- create, edit, delete -----------------------------------------------------------------


def test_create_a_delegation_with_its_definition_of_done(founder_client, org, dana):
    response = founder_client.post(
        "/delegation/delegations/new/",
        {
            "title": "Vendor calls to Sam",
            "category": "vendor-calls",
            "delegate": dana.pk,
            "status": "planned",
            "checklist": "Vendor contacts documented\n\n  Escalation path agreed  \n",
            "decision_boundary": "RMAs and replacement hardware",
            "approval_limit_amount": "500",
            "approval_limit_hours": "2.5",
            "escalation_triggers": "Client down",
            "expected_hours_per_week": "1.5",
            "review_date": "2025-04-14",
        },
    )
    delegation = Delegation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/delegation/board/#delegation-{delegation.pk}"
    assert (delegation.title, delegation.category.slug, delegation.delegate, delegation.status) == (
        "Vendor calls to Sam",
        "vendor-calls",
        dana,
        "planned",
    )
    assert delegation.definition_of_done == [
        {"text": "Vendor contacts documented", "done": False},
        {"text": "Escalation path agreed", "done": False},
    ]
    assert (delegation.approval_limit_amount, delegation.approval_limit_hours) == (
        Decimal("500"),
        Decimal("2.5"),
    )
    assert (delegation.expected_hours_per_week, delegation.review_date) == (Decimal("1.5"), date(2025, 4, 14))


def test_a_new_handed_off_delegation_needs_its_definition_of_done(founder_client, org, dana):
    response = founder_client.post(
        "/delegation/delegations/new/",
        {"title": "Backups", "category": "tickets", "delegate": dana.pk, "status": "handed_off",
         "expected_hours_per_week": "1"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Write at least one definition-of-done item before handing this off." in response.content.decode()
    assert not Delegation.objects.exists()


def test_the_form_offers_only_the_orgs_active_categories_and_delegates(founder_client, org, other_org, dana):
    Category.objects.filter(organization=org, slug="sales").update(archived=True)
    DelegateFactory(organization=org, name="Gone Gary", active=False)
    foreign = DelegateFactory(organization=other_org, name="Rival Rita")
    body = founder_client.get("/delegation/delegations/new/").content.decode()
    assert 'value="tickets"' in body
    assert 'value="sales"' not in body
    assert "Dana Ortiz" in body
    assert "Gone Gary" not in body
    assert "Rival Rita" not in body
    response = founder_client.post(
        "/delegation/delegations/new/",
        {"title": "X", "category": "tickets", "delegate": foreign.pk, "status": "candidate",
         "expected_hours_per_week": "1"},
    )  # fmt: skip
    assert response.status_code == 422
    assert not Delegation.objects.filter(organization=org).exists()


def test_edit_keeps_the_status_and_saves_the_rest(founder_client, org, dana):
    delegation = DelegationFactory(
        organization=org, delegate=dana, status="handed_off", handoff_date=date(2025, 3, 3)
    )
    response = founder_client.post(
        f"/delegation/delegations/{delegation.pk}/edit/",
        {"title": "Renamed", "category": "escalations", "delegate": dana.pk, "expected_hours_per_week": "4",
         "review_date": "2025-04-01", "handoff_date": "2025-03-03"},
    )  # fmt: skip
    assert response.status_code == 302
    stored = row(delegation)
    assert (stored["title"], stored["status"], stored["expected_hours_per_week"]) == (
        "Renamed",
        "handed_off",
        Decimal("4.00"),
    )
    assert stored["review_date"] == date(2025, 4, 1)


def test_a_handed_off_delegation_keeps_a_delegate(founder_client, org, dana):
    delegation = DelegationFactory(
        organization=org, delegate=dana, status="handed_off", handoff_date=date(2025, 3, 3)
    )
    before = row(delegation)
    response = founder_client.post(
        f"/delegation/delegations/{delegation.pk}/edit/",
        {"title": "T", "category": "tickets", "delegate": "", "expected_hours_per_week": "2"},
    )
    assert response.status_code == 422
    assert "A handed-off delegation keeps a delegate: choose who has it now." in response.content.decode()
    assert row(delegation) == before


def test_detail_page_shows_the_terms(founder_client, org, dana):
    delegation = DelegationFactory(
        organization=org,
        delegate=dana,
        decision_boundary="Approve RMAs",
        approval_limit_amount=Decimal("250"),
        escalation_triggers="Security incident",
    )
    body = founder_client.get(f"/delegation/delegations/{delegation.pk}/").content.decode()
    assert "Approve RMAs" in body
    assert "Security incident" in body
    assert '<dd id="limit-amount">250.00</dd>' in body
    assert f'href="/delegation/delegations/{delegation.pk}/edit/"' in body


def test_delete(founder_client, org):
    delegation = DelegationFactory(organization=org)
    response = founder_client.post(f"/delegation/delegations/{delegation.pk}/delete/")
    assert response.status_code == 302
    assert not Delegation.objects.filter(pk=delegation.pk).exists()


# --- a candidate from the audit report ----------------------------------------------------


def test_create_a_candidate_from_an_audit_report_candidate(founder_client, org, founder):
    """The audit of Mon 10 - Sun 16 March 2025, tickets entries (hours):
    Mon 09:00-10:30 repetitive (1.50), Tue 08:00-08:45 outsourceable (0.75), Wed 07:00-07:30
    untagged (0.50, not tagged so not counted). Tagged tickets hours: 1.50 + 0.75 = 2.25."""
    tickets = Category.objects.get(organization=org, slug="tickets")
    for day, (start, end), tags in [
        (10, ((9, 0), (10, 30)), ["repetitive"]),
        (11, ((8, 0), (8, 45)), ["outsourceable"]),
        (12, ((7, 0), (7, 30)), []),
    ]:
        entry = TimeEntry(
            user=founder,
            started_at=datetime(2025, 3, day, *start[:2], tzinfo=CHI),
            ended_at=datetime(2025, 3, day, *end[:2], tzinfo=CHI),
            activity="Password resets",
            category=tickets,
        )
        entry.tags = tags
        record_time_entry(org=org, entry=entry)
    audit = start_time_audit(org=org, user=founder, start_date=date(2025, 3, 10))

    report = founder_client.get(f"/audits/{audit.pk}/report/").content.decode()
    button = re.search(
        r'<form method="post" action="([^"]+)" class="candidate-delegate.*?</form>', report, re.S
    )
    assert button, "no Create delegation candidate button on the report"
    assert button.group(1) == f"/delegation/audits/{audit.pk}/candidate/"
    assert '<input type="hidden" name="category" value="tickets">' in button.group(0)
    assert '<input type="hidden" name="expected_hours_per_week" value="2.25">' in button.group(0)

    # One click: exactly what the button's form posts.
    response = founder_client.post(
        button.group(1), {"category": "tickets", "expected_hours_per_week": "2.25"}
    )
    delegation = Delegation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/delegation/board/#delegation-{delegation.pk}"
    assert (delegation.title, delegation.category, delegation.status) == ("Tickets", tickets, "candidate")
    assert delegation.expected_hours_per_week == Decimal("2.25")
    assert "Candidate “Tickets” created from the audit report: 2.25 founder hours a week to free." in (
        founder_client.get("/delegation/board/").content.decode()
    )

    # A second click opens that candidate instead of making another one.
    again = founder_client.post(button.group(1), {"category": "tickets", "expected_hours_per_week": "2.25"})
    assert again["Location"] == f"/delegation/board/#delegation-{delegation.pk}"
    assert Delegation.objects.count() == 1
    assert (
        "“Tickets” is already a candidate on the board."
        in founder_client.get("/delegation/board/").content.decode()
    )

    # Without the hours, the service reads the same figure from the report.
    delegation.delete()
    founder_client.post(button.group(1), {"category": "tickets"})
    assert Delegation.objects.get().expected_hours_per_week == Decimal("2.25")


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_the_candidate_button_makes_one_candidate(org, founder):
    audit = start_time_audit(org=org, user=founder, start_date=date(2025, 3, 10))
    url = f"/delegation/audits/{audit.pk}/candidate/"

    def click():
        return client_for(founder).post(url, {"category": "tickets", "expected_hours_per_week": "2.25"})

    responses = run_in_threads(click, click)

    [delegation] = Delegation.objects.all()
    assert [r.status_code for r in responses] == [302, 302]
    assert {r["Location"] for r in responses} == {f"/delegation/board/#delegation-{delegation.pk}"}


def test_no_candidate_button_for_a_viewer_and_no_candidate_either(viewer, org, founder):
    audit = start_time_audit(org=org, user=founder, start_date=date(2025, 3, 10))
    client = client_for(viewer)
    assert "Create delegation candidate" not in client.get(f"/audits/{audit.pk}/report/").content.decode()
    assert (
        client.post(f"/delegation/audits/{audit.pk}/candidate/", {"category": "tickets"}).status_code == 403
    )
    assert not Delegation.objects.exists()


def test_a_candidate_for_an_unknown_category_is_refused(founder_client, org, founder):
    audit = start_time_audit(org=org, user=founder, start_date=date(2025, 3, 10))
    response = founder_client.post(f"/delegation/audits/{audit.pk}/candidate/", {"category": "nope"})
    assert response.status_code == 302
    assert response["Location"] == f"/audits/{audit.pk}/report/"
    assert not Delegation.objects.exists()


# --- roles, other organizations, query counts ---------------------------------------------


def test_a_viewer_reads_the_board_but_moves_nothing(viewer, org, dana):
    delegation = DelegationFactory(organization=org, delegate=dana)
    client = client_for(viewer)
    body = client.get("/delegation/board/").content.decode()
    assert "data-move" not in body
    assert "New delegation" not in body
    assert "checklist-add" not in body
    assert client.get(f"/delegation/delegations/{delegation.pk}/").status_code == 200
    before = row(delegation)
    for url, data in [
        (f"/delegation/delegations/{delegation.pk}/move/", {"status": "planned"}),
        (f"/delegation/delegations/{delegation.pk}/checklist/", {"action": "add", "text": "X"}),
        (f"/delegation/delegations/{delegation.pk}/edit/", {"title": "X"}),
        (f"/delegation/delegations/{delegation.pk}/delete/", {}),
        ("/delegation/delegations/new/", {"title": "X"}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert client.get("/delegation/delegations/new/").status_code == 403
    assert row(delegation) == before


def test_a_technician_has_no_board(technician, org):
    delegation = DelegationFactory(organization=org)
    client = client_for(technician)
    assert client.get("/delegation/board/").status_code == 403
    assert client.get(f"/delegation/delegations/{delegation.pk}/").status_code == 403
    assert (
        client.post(f"/delegation/delegations/{delegation.pk}/move/", {"status": "planned"}).status_code
        == 403
    )


def test_a_service_manager_moves_cards(manager, org, dana):
    delegation = DelegationFactory(organization=org, delegate=dana)
    assert move(client_for(manager), delegation, "planned", **HTMX).status_code == 200
    assert row(delegation)["status"] == "planned"


def test_another_organizations_delegation_is_404_everywhere(founder_client, other_org):
    foreign = DelegationFactory(organization=other_org, status="candidate")
    before = row(foreign)
    base = f"/delegation/delegations/{foreign.pk}"
    assert founder_client.get(f"{base}/").status_code == 404
    assert founder_client.get(f"{base}/edit/").status_code == 404
    for url, data in [
        (f"{base}/move/", {"status": "planned"}),
        (f"{base}/checklist/", {"action": "add", "text": "X"}),
        (f"{base}/edit/", {"title": "X", "category": "tickets", "expected_hours_per_week": "1"}),
        (f"{base}/delete/", {}),
    ]:
        assert founder_client.post(url, data).status_code == 404, url
    assert row(foreign) == before
    body = founder_client.get("/delegation/board/").content.decode()
    assert foreign.title not in body


def test_another_organizations_audit_makes_no_candidate(founder_client, other_org, stranger):
    audit = start_time_audit(org=other_org, user=stranger, start_date=date(2025, 3, 10))
    assert (
        founder_client.post(f"/delegation/audits/{audit.pk}/candidate/", {"category": "tickets"}).status_code
        == 404
    )
    assert not Delegation.objects.exists()


@pytest.mark.parametrize("per_status", [1, 6])
def test_board_queries_do_not_grow_with_cards(
    per_status, founder_client, org, founder, django_assert_num_queries
):
    delegate = DelegateFactory(organization=org)
    for status in DelegationStatus.values:
        DelegationFactory.create_batch(
            per_status, organization=org, delegate=delegate, status=status, handoff_date=date(2025, 1, 6)
        )
    # session, user, memberships (also the org switcher's), the delegations (+category, delegate),
    # the founder hours of every handed-off and done one (one aggregate)
    with django_assert_num_queries(5):
        assert founder_client.get("/delegation/board/").status_code == 200
