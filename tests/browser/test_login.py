"""Logging in and out, the organization switcher and the phone menu, in a real Chromium."""

import pytest

from msp_ops.orgs.models import Role
from tests.conftest import log_in
from tests.factories import MembershipFactory

pytestmark = pytest.mark.browser


def test_founder_logs_in_and_lands_on_today(page, founder):
    log_in(page, "fran")
    assert page.url.endswith("/audits/today/")
    assert page.locator(".topbar").inner_text().count("fran") == 1


def test_wrong_password_is_refused(page, founder):
    log_in(page, "fran", "nope")
    assert "didn't match" in page.locator("[role=alert]").inner_text()


def test_a_page_asked_for_before_login_opens_after_it(page, founder):
    page.goto("/org/tokens/")
    assert "/login/?next=/org/tokens/" in page.url
    page.fill("#id_username", "fran")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url("**/org/tokens/")
    assert page.locator("h1").inner_text() == "API tokens"


def test_logging_out_ends_the_session(page, founder):
    log_in(page, "fran")
    page.click("text=Log out")
    page.wait_for_url("**/login/")
    assert page.locator(".messages").inner_text() == "You are logged out."
    page.goto("/audits/today/")
    assert "/login/?next=/audits/today/" in page.url


def test_switching_organization_from_the_top_bar(page, org, other_org):
    coach = MembershipFactory(organization=org, user__username="coach", role=Role.VIEWER).user
    MembershipFactory(organization=other_org, user=coach, role=Role.FOUNDER)
    log_in(page, "coach")
    assert "coach · Viewer" in page.locator(".topbar").inner_text()
    with page.expect_navigation():
        page.select_option("#org-switch", label="Rival MSP")
    assert page.locator(".messages").inner_text() == "Now working in Rival MSP."
    assert "coach · Founder" in page.locator(".topbar").inner_text()
    assert page.url.endswith("/audits/today/")  # a founder there: Today opens


def test_on_a_phone_the_menu_opens_from_the_toggle(page, founder):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "fran")
    api_link = page.get_by_role("link", name="API tokens")
    assert not api_link.is_visible()
    page.get_by_role("button", name="Menu").click()
    assert api_link.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
