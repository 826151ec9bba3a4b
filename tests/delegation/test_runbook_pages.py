"""Runbook pages: the list (gaps on top, interruptions in the last 4 weeks, the 90-day mark), the
editor, "mark reviewed today", the revision history and its diff; roles, another organization's
404s and the list's query count."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from delegation.models import Interruption, Runbook, RunbookRevision
from delegation.services import save_runbook
from tests.factories import RunbookFactory
from tests.pages import client_for, pinned_clock

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=CHI)  # Friday 14 March 2025, CDT (UTC-5)


_pinned_clock = pinned_clock(NOW)


def interrupt(org, user, category: str, days_ago: float, count: int = 1) -> None:
    for _ in range(count):
        Interruption.objects.create(
            organization=org,
            occurred_at=NOW - timedelta(days=days_ago),
            channel="call",
            category=category,
            logged_by=user,
        )


def stored(runbook: Runbook) -> dict:
    return Runbook.objects.filter(pk=runbook.pk).values().get()


FORM = {
    "ticket_category": "VPN",
    "title": "VPN down for one user",
    "first_checks": "Is the client's internet up?\nCan they reach the portal?",
    "decision_points": "",
    "standard_fix": "Reset the VPN profile.",
    "edge_cases": "",
    "sign_off_rules": "",
    "client_message_template": "Hi {name}, your VPN works again.",
    "escalation_level": "L1",
    "last_reviewed": "",
}


# --- the list -----------------------------------------------------------------------------


def test_gaps_come_first_then_runbooks_by_interruptions(founder_client, org, founder):
    """Last 4 weeks: Backup 3 (no runbook: a gap), MFA 1 (gap), VPN 2, Patching 0 (and 5 from
    before the window, which do not count)."""
    RunbookFactory(organization=org, ticket_category="VPN", last_reviewed=date(2025, 3, 1))
    RunbookFactory(organization=org, ticket_category="Patching", last_reviewed=date(2025, 3, 1))
    interrupt(org, founder, "backup", 1, 3)
    interrupt(org, founder, "MFA", 27)
    interrupt(org, founder, "vpn", 2, 2)
    interrupt(org, founder, "Patching", 29, 5)

    body = founder_client.get("/delegation/runbooks/").content.decode()

    gaps = re.findall(r'<li class="gap" data-category="([^"]+)">', body)
    assert gaps == ["backup", "MFA"]
    assert 'href="/delegation/runbooks/new/?ticket_category=backup"' in body
    assert "write this one next" in body
    assert "3 interruptions in 4 weeks" in body
    assert "1 interruption in 4 weeks" in body
    rows = re.findall(
        r'<tr id="runbook-\d+">\s*<td><a [^>]+>([^<]+)</a>.*?<td class="num">(\d+)</td>', body, re.S
    )
    assert rows == [("VPN", "2"), ("Patching", "0")]
    assert body.index('id="runbook-gaps"') < body.index('id="runbooks"')


def test_runbooks_not_reviewed_for_90_days_are_marked(founder_client, org):
    """Today 14 March 2025; 90 days before is 14 December 2024."""
    fresh = RunbookFactory(organization=org, ticket_category="A", last_reviewed=date(2024, 12, 14))
    old = RunbookFactory(organization=org, ticket_category="B", last_reviewed=date(2024, 12, 13))
    never = RunbookFactory(organization=org, ticket_category="C", last_reviewed=None)
    body = founder_client.get("/delegation/runbooks/").content.decode()

    def row(runbook):
        return re.search(rf'<tr id="runbook-{runbook.pk}"[^>]*>.*?</tr>', body, re.S).group(0)

    assert "not reviewed for 90 days" not in row(fresh)
    assert 'data-role="stale">not reviewed for 90 days</span>' in row(old)
    assert "never" in row(never)
    assert "not reviewed for 90 days" in row(never)


@pytest.mark.parametrize("runbooks", [1, 12])
def test_list_queries_do_not_grow(runbooks, founder_client, org, founder, django_assert_num_queries):
    for n in range(runbooks):
        RunbookFactory(organization=org, ticket_category=f"Cat {n}", updated_by=founder)
        interrupt(org, founder, f"Cat {n}", 1)
        interrupt(org, founder, f"Gap {n}", 1)
    # session, user, memberships (also the org switcher's), interruptions per category, runbooks
    # (+updated_by)
    with django_assert_num_queries(5):
        assert founder_client.get("/delegation/runbooks/").status_code == 200


# --- the editor ---------------------------------------------------------------------------


def test_a_gaps_button_opens_the_editor_prefilled(founder_client):
    body = founder_client.get("/delegation/runbooks/new/?ticket_category=Backup").content.decode()
    assert 'name="ticket_category" value="Backup"' in body
    for section in ("first_checks", "decision_points", "standard_fix", "edge_cases", "sign_off_rules",
                    "client_message_template", "escalation_level", "last_reviewed"):  # fmt: skip
        assert f'name="{section}"' in body


def test_create_a_runbook(founder_client, org, founder):
    response = founder_client.post("/delegation/runbooks/new/", FORM)
    runbook = Runbook.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/delegation/runbooks/{runbook.pk}/"
    assert (runbook.ticket_category, runbook.revision, runbook.updated_by) == ("VPN", 1, founder)
    assert runbook.first_checks == "Is the client's internet up?\nCan they reach the portal?"
    body = founder_client.get(response["Location"]).content.decode()
    assert "Runbook for VPN written (revision 1)." in body
    assert '<pre id="client-message">Hi {name}, your VPN works again.</pre>' in body


def test_a_second_runbook_for_a_category_is_refused(founder_client, org):
    first = RunbookFactory(organization=org, ticket_category="VPN")
    response = founder_client.post("/delegation/runbooks/new/", {**FORM, "ticket_category": " vpn "})
    assert response.status_code == 422
    assert f"Runbook #{first.pk} already covers ticket category &#x27;vpn&#x27;." in response.content.decode()
    assert Runbook.objects.count() == 1


def test_editing_keeps_the_previous_text_as_a_revision(founder_client, org, manager):
    with time_machine.travel(datetime(2025, 3, 3, 9, 30, tzinfo=CHI), tick=False):
        runbook = save_runbook(org=org, runbook=Runbook(**{**FORM, "last_reviewed": None}), user=manager)
    before = stored(runbook)
    response = founder_client.post(
        f"/delegation/runbooks/{runbook.pk}/edit/",
        {**FORM, "standard_fix": "Reset the VPN profile.\nReboot."},
    )
    assert response.status_code == 302
    after = stored(runbook)
    assert (after["revision"], after["standard_fix"]) == (2, "Reset the VPN profile.\nReboot.")
    kept = RunbookRevision.objects.get(runbook=runbook)
    assert (kept.revision, kept.standard_fix, kept.changed_by, kept.changed_at) == (
        1,
        before["standard_fix"],
        manager,
        before["updated_at"],
    )


def test_saving_unchanged_text_makes_no_revision(founder_client, org):
    runbook = save_runbook(org=org, runbook=Runbook(**{**FORM, "last_reviewed": None}), user=None)
    founder_client.post(f"/delegation/runbooks/{runbook.pk}/edit/", FORM)
    assert stored(runbook)["revision"] == 1
    assert not RunbookRevision.objects.exists()


def test_mark_reviewed_today(founder_client, org):
    runbook = RunbookFactory(organization=org, last_reviewed=date(2024, 1, 1))
    body = founder_client.get(f"/delegation/runbooks/{runbook.pk}/").content.decode()
    assert "not reviewed for 90 days" in body
    response = founder_client.post(f"/delegation/runbooks/{runbook.pk}/reviewed/")
    assert response.status_code == 302
    assert (stored(runbook)["last_reviewed"], stored(runbook)["revision"]) == (date(2025, 3, 14), 2)
    body = founder_client.get(f"/delegation/runbooks/{runbook.pk}/").content.decode()
    assert '<strong id="last-reviewed">14 Mar 2025</strong>' in body
    assert "Mark reviewed today" not in body
    assert "not reviewed for 90 days" not in body


# --- history and diff ---------------------------------------------------------------------


@pytest.fixture
def three_revisions(org, founder, manager) -> Runbook:
    """Revision 1 by sam on 3 March 09:30 (CST), 2 by fran on 10 March 14:00 (CDT, after the
    switch), 3 by sam now (14 March 12:00)."""
    with time_machine.travel(datetime(2025, 3, 3, 9, 30, tzinfo=CHI), tick=False):
        runbook = save_runbook(
            org=org,
            runbook=Runbook(
                ticket_category="VPN",
                title="VPN",
                first_checks="Internet up?\nPortal reachable?\nMFA prompt?",
                standard_fix="Reset the profile.",
            ),
            user=manager,
        )
    with time_machine.travel(datetime(2025, 3, 10, 14, 0, tzinfo=CHI), tick=False):
        runbook.first_checks = "Internet up?\nPortal reachable from the browser?\nMFA prompt?"
        runbook = save_runbook(org=org, runbook=runbook, user=founder)
    runbook.escalation_level = "L2"
    runbook.client_message_template = "Your VPN works again."
    return save_runbook(org=org, runbook=runbook, user=manager)


def test_history_lists_every_revision_with_who_and_when(founder_client, three_revisions):
    body = founder_client.get(f"/delegation/runbooks/{three_revisions.pk}/history/").content.decode()
    rows = re.findall(
        r'<tr id="revision-(\d)">\s*<td class="num">\d[^<]*(?:<span[^>]*>current</span>)?</td>\s*'
        r"<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td class=\"small\">([^<]+)</td>",
        body,
    )
    assert rows == [
        ("3", "14 Mar 2025 12:00", "sam", "Client message template, Escalation level"),
        ("2", "10 Mar 2025 14:00", "fran", "First checks"),
        ("1", "3 Mar 2025 09:30", "sam", "first version"),
    ]


def test_the_diff_shows_the_changed_lines_of_the_changed_sections(founder_client, three_revisions):
    body = founder_client.get(f"/delegation/runbooks/{three_revisions.pk}/history/2/").content.decode()
    assert "<h1>Revision 2 against 1</h1>" in body
    assert 'id="diff-first_checks"' in body
    assert 'id="diff-standard_fix"' not in body  # unchanged: hidden unless asked
    lines = re.findall(
        r'<tr class="diff-(\w+)">\s*<td class="diff-no">(\d*)</td>\s*<td class="diff-no">(\d*)</td>\s*'
        r'<td class="diff-sign"[^>]*>[^<]*</td>\s*<td class="diff-text">(?:<ins>|<del>)?([^<]*)',
        body,
    )
    assert lines == [
        ("same", "1", "1", "Internet up?"),
        ("removed", "2", "", "Portal reachable?"),
        ("added", "", "2", "Portal reachable from the browser?"),
        ("same", "3", "3", "MFA prompt?"),
    ]
    everything = founder_client.get(
        f"/delegation/runbooks/{three_revisions.pk}/history/2/?all=1"
    ).content.decode()
    assert 'id="diff-standard_fix"' in everything


def test_the_diff_of_the_current_revision_and_of_a_short_field(founder_client, three_revisions):
    body = founder_client.get(f"/delegation/runbooks/{three_revisions.pk}/history/3/").content.decode()
    assert '<del class="diff-removed">L1</del> → <ins class="diff-added">L2</ins>' in body
    assert "<ins>Your VPN works again.</ins>" in body
    assert "(the current text)" in body


def test_the_first_revision_is_all_new(founder_client, three_revisions):
    body = founder_client.get(f"/delegation/runbooks/{three_revisions.pk}/history/1/").content.decode()
    assert "The first version: everything is new." in body
    assert "<ins>Portal reachable?</ins>" in body
    assert "<ins>Reset the profile.</ins>" in body


def test_an_unknown_revision_is_404(founder_client, three_revisions):
    assert founder_client.get(f"/delegation/runbooks/{three_revisions.pk}/history/9/").status_code == 404


# --- roles and other organizations --------------------------------------------------------


@pytest.mark.parametrize("reader", ["technician", "viewer"])
def test_technicians_and_viewers_read_runbooks_but_do_not_write(reader, request, org, three_revisions):
    client = client_for(request.getfixturevalue(reader))
    pk = three_revisions.pk
    before = stored(three_revisions)
    for url in ("/delegation/runbooks/", f"/delegation/runbooks/{pk}/", f"/delegation/runbooks/{pk}/history/",
                f"/delegation/runbooks/{pk}/history/2/"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    body = client.get(f"/delegation/runbooks/{pk}/").content.decode()
    assert "Mark reviewed today" not in body
    assert f"/delegation/runbooks/{pk}/edit/" not in body
    assert "New runbook" not in client.get("/delegation/runbooks/").content.decode()
    assert client.get("/delegation/runbooks/new/").status_code == 403
    assert client.get(f"/delegation/runbooks/{pk}/edit/").status_code == 403
    assert client.post("/delegation/runbooks/new/", FORM).status_code == 403
    assert client.post(f"/delegation/runbooks/{pk}/edit/", FORM).status_code == 403
    assert client.post(f"/delegation/runbooks/{pk}/reviewed/").status_code == 403
    assert stored(three_revisions) == before
    assert Runbook.objects.count() == 1


def test_a_manager_writes_runbooks(manager):
    assert client_for(manager).post("/delegation/runbooks/new/", FORM).status_code == 302


def test_another_organizations_runbook_is_404(founder_client, other_org, stranger):
    foreign = save_runbook(org=other_org, runbook=Runbook(ticket_category="Rival VPN"), user=stranger)
    foreign.title = "changed"
    foreign = save_runbook(org=other_org, runbook=foreign, user=stranger)
    before = stored(foreign)
    base = f"/delegation/runbooks/{foreign.pk}"
    for url in (f"{base}/", f"{base}/edit/", f"{base}/history/", f"{base}/history/1/", f"{base}/history/2/"):
        assert founder_client.get(url).status_code == 404, url
    assert founder_client.post(f"{base}/edit/", FORM).status_code == 404
    assert founder_client.post(f"{base}/reviewed/").status_code == 404
    assert stored(foreign) == before
    assert "Rival VPN" not in founder_client.get("/delegation/runbooks/").content.decode()
