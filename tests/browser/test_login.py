import pytest

from tests.conftest import log_in

pytestmark = pytest.mark.browser


def test_founder_logs_in_and_lands_on_today(page, founder):
    log_in(page, "fran")
    assert page.url.endswith("/audits/today/")
    assert page.locator(".topbar").inner_text().count("fran") == 1


def test_wrong_password_is_refused(page, founder):
    log_in(page, "fran", "nope")
    assert "didn't match" in page.locator("[role=alert]").inner_text()
