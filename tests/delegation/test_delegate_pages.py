"""Delegates' pages: the list with the founder hours each took over, add, edit, deactivate,
delete, a delegate's page; roles and another organization's 404s."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audits.models import Category, TimeEntry
from audits.services import record_time_entry
from delegation.models import Delegate
from tests.factories import DelegateFactory, DelegationFactory
from tests.pages import client_for, pinned_clock

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=CHI)


_pinned_clock = pinned_clock(NOW)


def stored(delegate: Delegate) -> dict:
    return Delegate.objects.filter(pk=delegate.pk).values().get()


def log(org, user, slug: str, day: date, hours: float) -> None:
    start = datetime(day.year, day.month, day.day, 9, tzinfo=CHI)
    entry = TimeEntry(user=user, started_at=start, ended_at=start + timedelta(hours=hours), activity="Work")
    entry.category = Category.objects.get(organization=org, slug=slug)
    entry.tags = []
    record_time_entry(org=org, entry=entry)


@pytest.fixture
def dana_with_delegations(org, founder):
    """Dana took over tickets (handed off Wed 5 Feb) and escalations (done, handed off Wed 5 Feb),
    and has a planned one. Founder's personal hours, weeks before (6 Jan - 27 Jan) and after
    (10 Feb - 3 Mar, all ended by 14 Mar):
      tickets:     8 h in the weeks before -> mean 2.00; 2 h after -> mean 0.50; freed 1.50
      escalations: 4 h before -> mean 1.00; none after -> freed 1.00
    Taken over: 1.50 + 1.00 = 2.50 h a week; the planned one counts for nothing."""
    dana = DelegateFactory(
        organization=org, name="Dana Ortiz", email="dana@acme.test", hourly_cost=Decimal("45")
    )
    log(org, founder, "tickets", date(2025, 1, 7), 4)
    log(org, founder, "tickets", date(2025, 1, 14), 4)
    log(org, founder, "tickets", date(2025, 2, 12), 2)
    log(org, founder, "escalations", date(2025, 1, 21), 4)
    escalations = Category.objects.get(organization=org, slug="escalations")
    common = {"organization": org, "delegate": dana, "handoff_date": date(2025, 2, 5)}
    DelegationFactory(title="Resets", status="handed_off", expected_hours_per_week=Decimal("2"), **common)
    DelegationFactory(
        title="Escalations",
        status="done",
        category=escalations,
        expected_hours_per_week=Decimal("1.5"),
        definition_of_done=[{"text": "Runbook written", "done": True}],
        **common,
    )
    DelegationFactory(organization=org, delegate=dana, title="Vendor calls", status="planned")
    return dana


def test_the_list_shows_kind_active_email_cost_and_hours_taken_over(
    founder_client, org, dana_with_delegations
):
    DelegateFactory(organization=org, name="Old NOC", kind="noc", active=False)
    body = founder_client.get("/delegation/delegates/").content.decode()
    row = re.search(rf'<tr id="delegate-{dana_with_delegations.pk}".*?</tr>', body, re.S).group(0)
    assert "Technician" in row
    assert "dana@acme.test" in row
    assert '<td class="num">45.00</td>' in row
    assert '<td class="num">3</td>' in row  # delegations
    assert '<td class="num">3.50 h/wk</td>' in row  # expected from the handed-off and done ones: 2 + 1.5
    assert '<td class="num taken-over">2.50 h/wk</td>' in row
    assert re.search(r'<tr id="delegate-\d+" class="inactive">.*?Old NOC.*?inactive', body, re.S)


def test_a_delegates_page_lists_their_delegations_and_hours(founder_client, dana_with_delegations):
    body = founder_client.get(f"/delegation/delegates/{dana_with_delegations.pk}/").content.decode()
    assert '<div class="stat" id="taken-over">2.50 h</div>' in body
    titles = re.findall(r'<tr id="delegation-row-\d+">\s*<td><a [^>]+>([^<]+)</a>', body)
    assert titles == ["Vendor calls", "Resets", "Escalations"]  # by status: planned, handed off, done
    assert "1.50 h/wk" in body
    assert "1.00 h/wk" in body


def test_no_figure_yet_is_a_dash(founder_client, org):
    dana = DelegateFactory(organization=org)
    DelegationFactory(organization=org, delegate=dana, status="handed_off", handoff_date=date(2025, 3, 12))
    body = founder_client.get(f"/delegation/delegates/{dana.pk}/").content.decode()
    assert '<div class="stat" id="taken-over">—</div>' in body


def test_add_a_delegate(founder_client, org):
    response = founder_client.post(
        "/delegation/delegates/",
        {"name": " Northwind NOC ", "kind": "noc", "email": "", "hourly_cost": "30", "active": "on"},
    )
    assert response.status_code == 302
    delegate = Delegate.objects.get(organization=org)
    assert (delegate.name, delegate.kind, delegate.email, delegate.hourly_cost, delegate.active) == (
        "Northwind NOC",
        "noc",
        None,
        Decimal("30"),
        True,
    )


def test_a_bad_delegate_is_refused(founder_client, org):
    response = founder_client.post(
        "/delegation/delegates/", {"name": "", "kind": "robot", "email": "nope", "hourly_cost": "-1"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "This field is required." in body
    assert "Select a valid choice. robot is not one of the available choices." in body
    assert "Enter a valid email address." in body
    assert "Ensure this value is greater than or equal to 0." in body
    assert not Delegate.objects.exists()


def test_edit_a_delegate(founder_client, org):
    dana = DelegateFactory(organization=org, name="Dana")
    response = founder_client.post(
        f"/delegation/delegates/{dana.pk}/edit/",
        {"name": "Dana Ortiz", "kind": "contractor", "email": "d@x.test", "hourly_cost": "", "active": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/delegation/delegates/{dana.pk}/"
    row = stored(dana)
    assert (row["name"], row["kind"], row["email"], row["hourly_cost"]) == (
        "Dana Ortiz",
        "contractor",
        "d@x.test",
        None,
    )


def test_deactivate_and_reactivate(founder_client, org):
    dana = DelegateFactory(organization=org)
    offered = f'<option value="{dana.pk}">'
    assert offered in founder_client.get("/delegation/delegations/new/").content.decode()
    assert founder_client.post(f"/delegation/delegates/{dana.pk}/active/", {"active": "0"}).status_code == 302
    assert stored(dana)["active"] is False
    # An inactive delegate is no longer offered for new delegations.
    assert (
        f'<option value="{dana.pk}">'
        not in founder_client.get("/delegation/delegations/new/").content.decode()
    )
    founder_client.post(f"/delegation/delegates/{dana.pk}/active/", {"active": "1"})
    assert stored(dana)["active"] is True


def test_a_delegate_with_delegations_is_not_deleted(founder_client, org):
    dana = DelegateFactory(organization=org, name="Dana")
    DelegationFactory(organization=org, delegate=dana)
    response = founder_client.post(f"/delegation/delegates/{dana.pk}/delete/")
    assert response.status_code == 302
    assert Delegate.objects.filter(pk=dana.pk).exists()
    body = founder_client.get(response["Location"]).content.decode()
    assert "Dana has 1 delegation: deactivate instead, so their history stays." in body
    spare = DelegateFactory(organization=org)
    founder_client.post(f"/delegation/delegates/{spare.pk}/delete/")
    assert not Delegate.objects.filter(pk=spare.pk).exists()


def test_a_viewer_reads_delegates_but_changes_nothing(viewer, org):
    dana = DelegateFactory(organization=org)
    before = stored(dana)
    client = client_for(viewer)
    assert client.get("/delegation/delegates/").status_code == 200
    assert "Add a delegate" not in client.get("/delegation/delegates/").content.decode()
    assert client.get(f"/delegation/delegates/{dana.pk}/").status_code == 200
    assert client.get(f"/delegation/delegates/{dana.pk}/edit/").status_code == 403
    for url, data in [
        ("/delegation/delegates/", {"name": "X", "kind": "noc"}),
        (f"/delegation/delegates/{dana.pk}/edit/", {"name": "X", "kind": "noc"}),
        (f"/delegation/delegates/{dana.pk}/active/", {"active": "0"}),
        (f"/delegation/delegates/{dana.pk}/delete/", {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert stored(dana) == before
    assert Delegate.objects.count() == 1


def test_a_technician_sees_no_delegates(technician, org):
    dana = DelegateFactory(organization=org)
    client = client_for(technician)
    assert client.get("/delegation/delegates/").status_code == 403
    assert client.get(f"/delegation/delegates/{dana.pk}/").status_code == 403


def test_a_manager_edits_delegates(manager, org):
    dana = DelegateFactory(organization=org)
    response = client_for(manager).post(f"/delegation/delegates/{dana.pk}/active/", {"active": "0"})
    assert response.status_code == 302
    assert stored(dana)["active"] is False


def test_another_organizations_delegate_is_404(founder_client, other_org):
    foreign = DelegateFactory(organization=other_org, name="Rival Rita")
    before = stored(foreign)
    base = f"/delegation/delegates/{foreign.pk}"
    assert founder_client.get(f"{base}/").status_code == 404
    assert founder_client.get(f"{base}/edit/").status_code == 404
    for url in (f"{base}/edit/", f"{base}/active/", f"{base}/delete/"):
        assert founder_client.post(url, {"name": "X", "kind": "noc", "active": "0"}).status_code == 404, url
    assert stored(foreign) == before
    assert "Rival Rita" not in founder_client.get("/delegation/delegates/").content.decode()


@pytest.mark.parametrize("delegates", [1, 8])
def test_list_queries_do_not_grow(delegates, founder_client, org, django_assert_num_queries):
    for _ in range(delegates):
        dana = DelegateFactory(organization=org)
        DelegationFactory(organization=org, delegate=dana, status="handed_off", handoff_date=date(2025, 1, 6))
    # session, user, memberships (also the org switcher's), delegates, their delegations, founder hours
    with django_assert_num_queries(6):
        assert founder_client.get("/delegation/delegates/").status_code == 200
