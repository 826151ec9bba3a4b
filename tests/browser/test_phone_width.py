"""No page scrolls sideways on a 375 px phone: every page the navigation reaches, and one page of
each kind linked from those, and from those in turn (a delegation, a runbook's history and one of
its diffs, the KPI settings ...), for a founder and a viewer of the demo organization. Every link
followed answers 200: neither is shown a link it may not open."""

from __future__ import annotations

import re

import pytest

from msp_ops.orgs.demo.seed import DEMO_PASSWORD, seed_demo
from msp_ops.orgs.models import Role
from msp_ops.orgs.services import add_member
from tests.conftest import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
# Not pages: files, the API, the admin, another site.
NOT_A_PAGE = re.compile(r"^/(api|admin|static)/|\.(csv|json|txt)$|/export/?$")

LINKS = """(selector) => [...document.querySelectorAll(selector)]
    .filter((a) => a.origin === location.origin && !a.hasAttribute("download"))
    .map((a) => a.pathname)"""

WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def kind(path: str) -> str:
    """One page of each kind is enough: /delegation/runbooks/7/history/ stands for them all."""
    return re.sub(r"/\d+(?=/|$)", "/<id>", path)


DEPTH = 3  # the top bar's pages, the pages they link, and the pages those link


def too_wide(page) -> list[str]:
    """Visits the top bar's pages and one of each kind linked from them, to ``DEPTH`` links from
    the top bar; returns the wide ones."""
    layer = list(dict.fromkeys(page.evaluate(LINKS, ".topbar a[href]")))
    seen: dict[str, str] = {}  # kind -> the path visited
    offenders = []

    def visit(path: str) -> list[str]:
        if NOT_A_PAGE.search(path) or kind(path) in seen:
            return []
        seen[kind(path)] = path
        response = page.goto(path)
        assert response.ok, f"{path}: {response.status}"
        scroll, client = page.evaluate(WIDTH)
        if scroll > client:
            offenders.append(f"{path} ({scroll} px)")
        return page.evaluate(LINKS, "main a[href]")

    for _ in range(DEPTH):
        layer = [found for path in layer for found in visit(path)]
    assert len(seen) >= 23, sorted(seen)  # the walk really went through the app
    assert any(re.search(r"/runbooks/<id>/history/<id>", visited) for visited in seen), sorted(seen)
    return offenders


def test_no_page_is_wider_than_a_phone(page, live_server):
    demo = seed_demo()
    add_member(org=demo.org, username="viewer", role=Role.VIEWER, password=DEMO_PASSWORD)
    page.set_viewport_size(PHONE)
    offenders = {}
    for username in ("founder", "viewer"):
        page.context.clear_cookies()
        log_in(page, username, DEMO_PASSWORD)
        offenders[username] = too_wide(page)
    assert offenders == {"founder": [], "viewer": []}, f"wider than {PHONE['width']} px: {offenders}"
