"""The delegation board in Chromium: move a delegation across the board, where each refused move
shows why on the card and changes nothing; the definition of done edited in place; on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from delegation.models import Delegation
from msp_ops.lib.weeks import today
from tests.conftest import log_in
from tests.factories import DelegateFactory, DelegationFactory

pytestmark = pytest.mark.browser


def card(page, delegation):
    return page.locator(f"#delegation-{delegation.pk}")


def column(page, status):
    return page.locator(f"#column-{status}")


def test_move_a_delegation_across_the_board_a_refused_move_shows_why(page, org, founder):
    dana = DelegateFactory(organization=org, name="Dana Ortiz")
    delegation = DelegationFactory(
        organization=org,
        title="Password resets to the help desk",
        delegate=None,
        definition_of_done=[],
        expected_hours_per_week="2.50",
    )
    log_in(page, "fran")
    page.get_by_role("link", name="Delegations").click()
    expect(page.locator("h1")).to_have_text("Delegation board")
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page
    the_card = card(page, delegation)
    expect(column(page, "candidate").locator(f"#delegation-{delegation.pk}")).to_be_visible()
    expect(the_card.locator("[data-move]")).to_have_text(["Plan", "Hand off"])  # the allowed moves only

    # Hand off without a delegate or a definition of done: refused, the card says why, stays put.
    the_card.get_by_role("button", name="Hand off").click()
    expect(the_card.locator(".dcard-error")).to_have_text(
        ["Choose a delegate before handing this off.",
         "Write at least one definition-of-done item before handing this off."]
    )  # fmt: skip
    expect(column(page, "candidate").locator(f"#delegation-{delegation.pk}")).to_be_visible()
    assert Delegation.objects.get(pk=delegation.pk).status == "candidate"

    # Plan it: it moves to the next column, and the keyboard follows it.
    the_card.get_by_role("button", name="Plan").click()
    expect(column(page, "planned").locator(f"#delegation-{delegation.pk}")).to_be_visible()
    expect(the_card).to_be_focused()
    expect(column(page, "planned").locator("[data-role=count]")).to_have_text("1")
    expect(the_card.locator(".dcard-error")).to_have_count(0)

    # Choose the delegate on the edit page, come back, write the definition of done in place.
    the_card.get_by_role("link", name="Password resets to the help desk").click()
    page.get_by_role("link", name="Edit").click()
    page.select_option("#id_delegate", str(dana.pk))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".msg-success")).to_have_text("Saved “Password resets to the help desk”.")
    page.get_by_role("link", name="Delegation board").click()
    page.evaluate("window.__sameDocument = true")
    expect(the_card).to_contain_text("→ Dana Ortiz")
    the_card.locator("summary").click()
    the_card.get_by_label("New definition-of-done item for “Password resets to the help desk”").fill(
        "Runbook written"
    )
    page.keyboard.press("Enter")
    expect(the_card.locator("[data-role=progress]")).to_have_text("0/1")
    # The new-item line keeps the focus for the next one.
    expect(the_card.get_by_label(re.compile("New definition-of-done item"))).to_be_focused()
    page.keyboard.type("Help desk trained on the reset tool")
    page.keyboard.press("Enter")
    expect(the_card.locator("[data-role=progress]")).to_have_text("0/2")

    # Hand off: accepted now; the handoff date becomes today.
    the_card.get_by_role("button", name="Hand off").click()
    expect(column(page, "handed_off").locator(f"#delegation-{delegation.pk}")).to_be_visible()
    expect(the_card.locator(".dcard-handoff")).to_have_text(f"{today(org.tz):%-d %b %Y}")

    # Done with open items: refused, naming them.
    the_card.get_by_role("button", name="Mark done").click()
    expect(the_card.locator(".dcard-error")).to_have_text(
        "Check every definition-of-done item first (2 open: Runbook written; Help desk trained on the "
        "reset tool), or give a reason (“Done although items are open, because…”)."
    )
    expect(column(page, "handed_off").locator(f"#delegation-{delegation.pk}")).to_be_visible()

    # Check both items in place (keyboard: the focus stays on the item), then done.
    the_card.locator("summary").click()
    the_card.get_by_role("button", name="Runbook written", exact=True).click()
    expect(the_card.get_by_role("button", name="Runbook written", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(the_card.get_by_role("button", name="Runbook written", exact=True)).to_be_focused()
    the_card.get_by_role("button", name="Help desk trained on the reset tool", exact=True).press("Enter")
    expect(the_card.locator("[data-role=progress]")).to_have_text("2/2")
    the_card.get_by_role("button", name="Mark done").click()
    expect(column(page, "done").locator(f"#delegation-{delegation.pk}")).to_be_visible()
    expect(the_card.locator("[data-move]")).to_have_text(["Revert"])

    assert page.evaluate("window.__sameDocument") is True
    stored = Delegation.objects.get(pk=delegation.pk)
    assert (stored.status, stored.delegate, stored.handoff_date) == ("done", dana, today(org.tz))
    assert stored.definition_of_done == [
        {"text": "Runbook written", "done": True},
        {"text": "Help desk trained on the reset tool", "done": True},
    ]


def test_the_board_fits_a_phone(page, org, founder):
    dana = DelegateFactory(organization=org, name="Dana Ortiz")
    for status in ("candidate", "planned", "handed_off", "done", "reverted"):
        DelegationFactory(
            organization=org,
            title=f"A long delegation title that has to wrap on a phone ({status})",
            delegate=dana,
            status=status,
            handoff_date=today(org.tz) if status != "candidate" else None,
        )
    moved = Delegation.objects.get(status="candidate")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "fran")
    page.goto("/delegation/board/")
    overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) == 0
    # The columns stack, one under the other, in SPEC's order.
    boxes = [
        column(page, s).bounding_box() for s in ("candidate", "planned", "handed_off", "done", "reverted")
    ]
    assert len({round(box["x"]) for box in boxes}) == 1
    assert [box["y"] for box in boxes] == sorted(box["y"] for box in boxes)
    card(page, moved).get_by_role("button", name="Plan").click()
    expect(column(page, "planned").locator(f"#delegation-{moved.pk}")).to_be_visible()
    assert page.evaluate(overflow) == 0


def test_dragging_a_card_onto_a_column_moves_it_by_the_same_rules(page, org, founder):
    delegation = DelegationFactory(organization=org, title="Backup checks", delegate=None)
    log_in(page, "fran")
    page.goto("/delegation/board/")
    the_card = card(page, delegation)

    the_card.drag_to(column(page, "done"))  # no button for this move: the server says why
    expect(the_card.locator(".dcard-error")).to_have_text(
        "A delegation cannot move from candidate to done; from candidate it moves to handed_off or planned."
    )
    expect(column(page, "candidate").locator(f"#delegation-{delegation.pk}")).to_be_visible()

    the_card.drag_to(column(page, "planned"))
    expect(column(page, "planned").locator(f"#delegation-{delegation.pk}")).to_be_visible()
    assert Delegation.objects.get(pk=delegation.pk).status == "planned"
