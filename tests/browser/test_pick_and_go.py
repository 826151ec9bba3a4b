"""The two selects that go where they are set, in Chromium: the organization switcher (every
page's top bar) and the weekly plan's "Plan of". Chromium fires change on each arrow key through
a closed select: the keyboard walks the options and goes on Enter; the pointer goes at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from msp_ops.orgs.models import Role
from tests.conftest import log_in
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.browser

PLAN = "/delegation/time-blocks/"


@pytest.fixture
def coach(org, other_org):
    """Viewer at Acme IT, founder of Rival MSP and of Zenith MSP (the switcher lists by name)."""
    membership = MembershipFactory(organization=org, user__username="coach", role=Role.VIEWER)
    MembershipFactory(organization=other_org, user=membership.user, role=Role.FOUNDER)
    zenith = OrganizationFactory(slug="zenith-msp", name="Zenith MSP")
    MembershipFactory(organization=zenith, user=membership.user, role=Role.FOUNDER)
    return membership.user


@pytest.fixture
def founders(org, founder):
    """fran, gale and hana, founders of Acme IT (the plan lists them by username)."""
    others = [
        MembershipFactory(organization=org, role=Role.FOUNDER, user__username=name).user
        for name in ("gale", "hana")
    ]
    return [founder, *others]


def arrow_down_twice_stays(page, select) -> None:
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page
    select.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(select).to_be_focused()
    assert page.evaluate("window.__sameDocument") is True


def test_the_keyboard_walks_the_organizations_and_switches_on_enter(page, coach):
    log_in(page, "coach")
    switch = page.locator("#org-switch")
    expect(switch.locator("option:checked")).to_have_text("Acme IT")
    arrow_down_twice_stays(page, switch)
    expect(switch.locator("option:checked")).to_have_text("Zenith MSP")  # Rival MSP passed by

    page.keyboard.press("Enter")
    expect(page.get_by_text("Now working in Zenith MSP.")).to_be_visible()
    expect(page.locator("#org-switch option:checked")).to_have_text("Zenith MSP")


def test_a_key_picked_organization_waits_behind_a_button_tab_reaches(page, coach):
    log_in(page, "coach")
    switch = page.locator("#org-switch")
    go = page.locator(".org-switch").get_by_role("button", name="Switch")
    expect(go).to_be_hidden()  # nothing picked yet: the select alone
    arrow_down_twice_stays(page, switch)
    expect(go).to_be_visible()  # Zenith MSP waits, and says so

    page.keyboard.press("Tab")  # leaving the select: the pick is still in sight, one stop on
    expect(go).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Now working in Zenith MSP.")).to_be_visible()


def test_arrowing_back_to_the_current_organization_hides_the_button(page, coach):
    log_in(page, "coach")
    switch = page.locator("#org-switch")
    arrow_down_twice_stays(page, switch)
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(switch.locator("option:checked")).to_have_text("Acme IT")
    expect(page.locator(".org-switch").get_by_role("button", name="Switch")).to_be_hidden()


def test_the_pointer_switches_the_organization_at_once(page, coach):
    log_in(page, "coach")
    switch = page.locator("#org-switch")
    arrow_down_twice_stays(page, switch)  # a key pressed first does not hold back the pointer
    switch.click()
    switch.select_option(label="Rival MSP")
    expect(page.get_by_text("Now working in Rival MSP.")).to_be_visible()
    expect(page.locator("#org-switch option:checked")).to_have_text("Rival MSP")


def test_the_keyboard_walks_the_founders_and_shows_a_plan_on_enter(page, founders):
    hana = founders[2]
    log_in(page, "fran")
    page.goto(PLAN)
    member = page.locator("#member-select")
    expect(member.locator("option:checked")).to_have_text("fran")
    arrow_down_twice_stays(page, member)
    expect(member.locator("option:checked")).to_have_text("hana")  # gale passed by
    assert "member=" not in page.url

    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"member={hana.pk}"))
    expect(page.locator("h1")).to_contain_text("Weekly plan · hana")


def test_a_key_picked_founder_waits_behind_the_show_button(page, founders):
    gale = founders[1]
    log_in(page, "fran")
    page.goto(PLAN)
    member = page.locator("#member-select")
    member.focus()
    page.keyboard.press("ArrowDown")
    show = page.locator("#member-choice").get_by_role("button", name="Show")
    expect(show).to_be_visible()
    page.keyboard.press("Tab")
    expect(show).to_be_focused()
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(rf"member={gale.pk}"))
    expect(page.locator("#member-choice").get_by_role("button", name="Show")).to_be_hidden()


def test_the_pointer_shows_another_founders_plan_at_once(page, founders):
    gale = founders[1]
    log_in(page, "fran")
    page.goto(PLAN)
    member = page.locator("#member-select")
    member.click()
    member.select_option(label="gale")
    page.wait_for_url(re.compile(rf"member={gale.pk}"))
    expect(page.locator("h1")).to_contain_text("Weekly plan · gale")


def test_without_javascript_a_button_switches(browser, live_server, founders):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, "fran")
        page.goto(PLAN)
        page.locator("#member-select").select_option(label="gale")
        page.locator("#member-choice").get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(rf"member={founders[1].pk}"))
        expect(page.locator("h1")).to_contain_text("Weekly plan · gale")
    finally:
        context.close()
