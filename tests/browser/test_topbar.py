"""The top bar of every page (templates/base.html) in Chromium: on a phone the navigation folds
behind a ☰ menu the keyboard opens, walks and closes, with JavaScript or without; the favicon."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}

FOCUSED = """() => {
    const el = document.activeElement, style = getComputedStyle(el.labels?.[0] ?? el);
    const name = el === document.body ? "(the page)" : el.getAttribute("aria-label") || el.textContent;
    const outline = `${style.outlineStyle} ${style.outlineWidth}`;
    return {name: name.trim().replace(/\\s+/g, " ").slice(0, 40), outline};
}"""


def tab_to(page, name: str, presses: int = 20) -> list[str]:
    """Presses Tab until the focused control is called ``name``; returns the names passed on the way."""
    passed = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        passed.append(page.evaluate(FOCUSED)["name"])
        if passed[-1] == name:
            return passed
    raise AssertionError(f"Tab never reached {name!r}: {passed}")


def test_on_a_phone_the_keyboard_opens_the_menu_and_follows_a_link(page, founder):
    page.set_viewport_size(PHONE)
    log_in(page, "fran")
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    assert page.locator(".topbar").bounding_box()["height"] < 60  # one line: brand, quick log, ☰

    # Right after the quick-log button, before the page: the menu button, its focus ring showing.
    assert tab_to(page, "Menu") == ["Skip to content", "msp-ops", "Log an interruption", "Menu"]
    assert page.evaluate(FOCUSED)["outline"] == "solid 3px"
    expect(menu).to_have_attribute("aria-expanded", "false")

    # Enter opens it, Tab goes on into its links; Escape closes it and the focus goes back.
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Today")).to_be_focused()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")

    # Space opens it too; follow a link.
    page.keyboard.press("Space")
    expect(nav).to_be_visible()
    tab_to(page, "Delegates")
    page.keyboard.press("Enter")
    page.wait_for_url("**/delegation/delegates/")
    expect(page.locator("h1")).to_have_text("Delegates")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()  # a new page: closed again


def test_without_javascript_the_menu_is_a_checkbox_the_keyboard_reaches(browser, live_server, founder):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, "fran")
        nav = page.get_by_role("navigation", name="Main")
        expect(page.locator(".nav-toggle")).to_be_hidden()  # the button needs JavaScript
        expect(nav).to_be_hidden()
        assert page.locator(".topbar").bounding_box()["height"] < 60
        assert tab_to(page, "Menu") == ["Skip to content", "msp-ops", "Log an interruption", "Menu"]
        assert page.evaluate(FOCUSED)["outline"] == "solid 3px"  # on its ☰ label
        page.keyboard.press("Space")
        expect(nav).to_be_visible()
        tab_to(page, "Stand-up")
        page.keyboard.press("Enter")
        page.wait_for_url("**/kpis/standup/")
    finally:
        context.close()


def test_the_favicon_is_served_and_no_page_logs_an_error_for_it(page, founder):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    # Asked for at the root by whatever ignores the pages' link: sent to the static file.
    response = page.request.get("/favicon.ico", max_redirects=0)
    assert (response.status, response.headers.get("location")) == (302, "/static/favicon.svg")
    assert page.request.get("/favicon.ico").headers["content-type"] == "image/svg+xml"
    log_in(page, "fran")
    assert page.locator("link[rel=icon]").get_attribute("href") == "/static/favicon.svg"
    assert errors == []
