"""The daily SLA stand-up page: per team (Unassigned last) the open tickets past their target and
those passing it within 24 h, oldest first, with age, target and severity; yesterday's owner
interruptions; ``?at=`` a local time; roles; printable and phone-ready markup; query count."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.factories import InterruptionFactory, TicketFactory
from tests.kpis.page_helpers import body, elements, inner, text, texts
from tests.pages import client_for, pinned_clock

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2025, 3, 4, 8, 30, tzinfo=CHI)  # Tuesday 4 March 2025, 08:30 in Chicago
STANDUP = "/kpis/standup/"


_pinned_clock = pinned_clock(NOW)


def chi(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=CHI)


def ticket(org, ref: str, severity: str, opened_at: datetime, team: str = "Tier 1", **fields):
    return TicketFactory(
        organization=org, external_id=ref, title=f"Ticket {ref}", severity=severity, team=team,
        opened_at=opened_at, **fields,
    )  # fmt: skip


@pytest.fixture
def board(org):
    """SPEC's default targets: P1 4 h, P2 8 h, P3 24 h, P4 72 h. At Tue 08:30:"""
    return {
        # 12.5 h old, target 8: past it by 4.50 h.
        "T1": ticket(org, "T1", "p2", chi(3, 20)),
        # 23 h old, target 24: passes it within the hour.
        "T2": ticket(org, "T2", "p3", chi(3, 9, 30), category="Backup", client="Bayside Law"),
        # 2.5 h old, target 4: passes it at 10:00.
        "T3": ticket(org, "T3", "p1", chi(4, 6)),
        # Exactly 72 h old, target 72: not past it (older than the target is), due now.
        "T4": ticket(org, "T4", "p4", chi(1, 8, 30), team=""),
        # 24.5 h old, target 72: passes it on Thursday, beyond the 24 h horizon.
        "T5": ticket(org, "T5", "p4", chi(3, 8), team="Tier 2"),
        # Closed, and opened after the moment: not on the list.
        "T6": ticket(org, "T6", "p2", chi(3, 8), closed_at=chi(3, 15)),
        "T7": ticket(org, "T7", "p1", chi(4, 9)),
        # 22.5 h old, target 4: past it by 18.50 h.
        "T8": ticket(org, "T8", "p1", chi(3, 10), team="Alpha team", category=""),
    }


@pytest.mark.parametrize(
    ("role", "status"), [("founder", 200), ("manager", 200), ("viewer", 200), ("technician", 403)]
)
def test_the_standup_by_role(request, role, status):
    assert client_for(request.getfixturevalue(role)).get(STANDUP).status_code == status


def test_each_team_lists_its_breached_and_due_tickets_oldest_first(board, viewer):
    html = body(client_for(viewer).get(STANDUP))

    teams = [found["attrs"]["data-team"] for found in elements(html, class_="card standup-team")]
    assert teams == ["Alpha team", "Tier 1", "Unassigned"]
    assert text(html, id="standup-summary") == (
        "2 tickets past the SLA target, 3 passing it within 24 h. "
        "Oldest first, per team. Times in America/Chicago."
    )
    tier1 = inner(html, data_team="Tier 1")
    breached, due = tier1.split("Passing it within")
    assert texts(breached, data_label="Ticket") == ["T1 Ticket T1"]
    assert texts(due, data_label="Ticket") == ["T2 Ticket T2", "T3 Ticket T3"]  # oldest first

    row = inner(html, id=f"ticket-{board['T1'].pk}")
    assert [text(row, data_label=label) for label in ("Severity", "Category", "Client", "Opened")] == [
        "P2", "VPN", "Acme Dental", "Mon 3 Mar 20:00",
    ]  # fmt: skip
    assert (text(row, data_role="age"), text(row, data_role="target"), text(row, data_role="over")) == (
        "12.50 h", "8 h", "4.50 h",
    )  # fmt: skip
    t2 = inner(html, id=f"ticket-{board['T2'].pk}")
    assert (text(t2, data_role="age"), text(t2, data_role="target"), text(t2, data_role="left")) == (
        "23.00 h", "24 h", "1.00 h",
    )  # fmt: skip
    assert text(t2, data_label="Category") == "Backup"
    t4 = inner(html, id=f"ticket-{board['T4'].pk}")
    assert (text(t4, data_role="age"), text(t4, data_role="left")) == ("72.00 h", "0.00 h")
    assert text(inner(html, id=f"ticket-{board['T8'].pk}"), data_label="Category") == "Uncategorized"
    for absent in ("T5", "T6", "T7"):
        assert f"Ticket {absent}" not in html


def test_yesterdays_owner_interruptions(org, viewer):
    # Yesterday is Monday 3 March in Chicago: from 00:00 to 24:00 local.
    InterruptionFactory(organization=org, occurred_at=chi(3, 0), channel="call", ticket_ref="48001",
                        category="VPN", client="Acme Dental", requested_by="Tess")  # fmt: skip
    InterruptionFactory(organization=org, occurred_at=chi(3, 23, 59), channel="text", about_ticket=False,
                        category="", ticket_ref="", client="", requested_by="")  # fmt: skip
    InterruptionFactory(organization=org, occurred_at=chi(2, 23, 59))  # Sunday
    InterruptionFactory(organization=org, occurred_at=chi(4, 7))  # today
    section = inner(body(client_for(viewer).get(STANDUP)), id="interruptions-yesterday")
    assert "Owner interruptions yesterday, Mon 3 Mar" in section
    items = [item.strip() for item in section.split("<li>")[1:]]
    assert len(items) == 2
    assert text(f"<li>{items[0]}", class_="entry-time") == "00:00"
    assert 'Call · <span class="badge">VPN</span> · ticket 48001 · Acme Dental · asked by Tess' in items[0]
    assert 'Text <span class="muted">(not about a ticket)</span>' in items[1]


def test_the_list_as_of_another_local_time(board, viewer):
    # Wednesday 5 March, 08:30: T5 (opened Mon 08:00, P4) passes its target on Thursday 08:00.
    html = body(client_for(viewer).get(STANDUP, {"at": "2025-03-05T08:30"}))
    assert "SLA stand-up · Wed 5 Mar 2025, 08:30" in html
    assert 'name="at" id="id_at" value="2025-03-05T08:30"' in html
    assert 'href="/kpis/standup/">Now</a>' in html
    assert "Ticket T5" in inner(html, data_team="Tier 2")


def test_a_time_the_clocks_skip_is_refused_and_now_is_shown(board, viewer):
    html = body(client_for(viewer).get(STANDUP, {"at": "2025-03-09T02:30"}))
    assert text(inner(html, id="standup-at"), class_="error") == (
        "2:30 does not exist on 2025-03-09 in America/Chicago: clocks jump from 2:00 to 3:00 "
        "(daylight saving time starts)."
    )
    assert "SLA stand-up · Tue 4 Mar 2025, 08:30" in html


def test_a_garbled_time_is_refused(board, viewer):
    html = body(client_for(viewer).get(STANDUP, {"at": "tomorrow"}))
    assert text(inner(html, id="standup-at"), class_="error") == (
        "Give a local date and time, e.g. 2025-03-04T08:30."
    )


def test_nothing_due_says_so(org, viewer):
    html = body(client_for(viewer).get(STANDUP))
    assert text(html, id="standup-clear") == "No open ticket is past its SLA target or due within 24 hours."
    assert "None: the owner was not pulled in." in html


def test_printable_and_phone_ready(board, viewer):
    html = body(client_for(viewer).get(STANDUP))
    assert "data-print" in html  # the Print button
    assert '<span class="print-only"> · Acme IT</span>' in html
    # Every cell carries its label: a phone shows each ticket as labelled lines (static/css/app.css).
    assert 'data-label="Over by"' in html and 'data-label="Due in"' in html  # noqa: PT018
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


@pytest.mark.parametrize("count", [1, 20])
def test_the_query_count_does_not_grow(org, viewer, count, django_assert_num_queries):
    for n in range(count):
        ticket(org, f"Q{n}", "p1", chi(3, 9, n), team=f"Team {n % 3}")
    InterruptionFactory(organization=org, occurred_at=chi(3, 12))
    client = client_for(viewer)
    # session, user, memberships (also the org switcher's), SLA policy, tickets, yesterday's interruptions
    with django_assert_num_queries(6):
        response = client.get(STANDUP)
    assert body(response).count('data-label="Ticket"') == count
