"""Backlog aged past SLA (SPEC 2.3): at the week's end for a past week, at the rollup moment
for the current one; per team, the Level-10 trigger and the top 3 aging categories.

Acme IT is in America/Chicago. The SLA targets are SPEC's defaults (p1 4 h, p2 8 h, p3 24 h,
p4 72 h) unless a test changes them. A ticket is aged at A when ``opened_at <= A``, it is not
closed at A (``closed_at`` null or after A) and ``A - opened_at`` is greater than its target.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kpis.models import Ticket, WeeklyKpi
from kpis.selectors import aged_tickets, sla_policy
from kpis.services import roll_up_org, roll_up_week, save_tickets, update_settings
from tests.api.conftest import patch, post
from tests.factories import OrganizationFactory

CHI = ZoneInfo("America/Chicago")
WEEK = date(2025, 2, 24)  # [2025-02-24 00:00 CST, 2025-03-03 00:00 CST)
END = datetime(2025, 3, 3, tzinfo=CHI)  # = 2025-03-03 06:00Z
LATER = datetime(2025, 3, 20, tzinfo=UTC)


def chi(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=CHI)


def ticket(org, external_id: str, severity: str, opened_at, closed_at=None, *, team="Tier 1", category="VPN"):
    return Ticket.objects.create(
        organization=org, external_id=external_id, title=f"Ticket {external_id}", severity=severity,
        team=team, category=category, opened_at=opened_at, closed_at=closed_at,
    )  # fmt: skip


def aged_ids(org, at) -> list[str]:
    return sorted(aged_tickets(org, at).values_list("external_id", flat=True))


def test_a_past_weeks_backlog_is_counted_at_the_weeks_end(org):
    ticket(org, "closed-after", "p2", chi(2, 28, 10), chi(3, 3, 9))  # open at E (86 h), closed later
    ticket(org, "closed-before", "p2", chi(2, 28, 10), chi(3, 2, 23))
    ticket(org, "closed-at-end", "p2", chi(2, 28, 10), END)  # closed at A: not open at A
    ticket(org, "opened-after", "p1", chi(3, 3, 0, 0, 1))
    ticket(org, "at-target", "p3", chi(3, 2))  # exactly 24 h before E: not greater than the target
    ticket(org, "past-target", "p3", chi(3, 1, 23, 59, 59))  # 24 h + 1 s
    ticket(org, "p4-young", "p4", chi(2, 28, 6))  # 66 h
    ticket(org, "p4-old", "p4", chi(2, 27, 23), team="")  # 73 h, no team

    row = roll_up_week(org=org, monday=WEEK, now=LATER)

    assert aged_ids(org, END) == ["closed-after", "p4-old", "past-target"]
    assert (row.aged_backlog, row.aged_backlog_by_team) == (3, {"Tier 1": 2, "Unassigned": 1})
    assert (row.final, row.level10_review, row.status["aged_backlog"]) == (True, False, "green")


def test_the_current_weeks_backlog_is_counted_at_the_rollup_moment(org):
    now = chi(3, 5, 12)  # Wednesday of the week of 2025-03-03
    ticket(org, "at-target", "p2", chi(3, 5, 4))  # 8 h at now: not past it (yet)
    ticket(org, "past-target", "p2", chi(3, 5, 3, 59, 59))
    ticket(org, "p1-5h", "p1", chi(3, 5, 7))
    ticket(org, "p1-1h", "p1", chi(3, 5, 11))
    ticket(org, "closed", "p3", chi(3, 3, 9), chi(3, 5, 11))
    ticket(org, "last-week", "p4", chi(2, 25, 9))  # 72 h at 2025-02-28 09:00: aged at both instants

    with time_machine.travel(now, tick=False):
        previous, current = roll_up_org(org=org)
    assert (previous.week, previous.final, previous.aged_backlog) == (WEEK, True, 1)
    assert (current.week, current.final, current.aged_backlog) == (date(2025, 3, 3), False, 3)
    assert aged_ids(org, now) == ["last-week", "p1-5h", "past-target"]

    with time_machine.travel(now + timedelta(seconds=1), tick=False):
        previous, current = roll_up_org(org=org)
    assert (previous.aged_backlog, current.aged_backlog) == (1, 4)  # "at-target" is 8 h 1 s old now


# The week's end is a local midnight right after a 25-hour or a 23-hour Sunday: 72 h before it
# is an hour off the same wall-clock time three days earlier.
DST_ENDS = [
    # Week of 2025-10-27 in Chicago ends 2025-11-03 00:00 CST = 06:00Z (2025-11-02 had 25 h).
    # Opened 2025-10-31 00:30 CDT = 05:30Z: 72.5 h; 01:30 CDT = 06:30Z: 71.5 h.
    ("America/Chicago", date(2025, 10, 27), (10, 31, 0, 30), (10, 31, 1, 30)),
    # Week of 2025-03-24 in Berlin ends 2025-03-31 00:00 CEST = 2025-03-30 22:00Z (23-hour Sunday).
    # Opened 2025-03-27 22:30 CET = 21:30Z: 72.5 h; 23:30 CET = 22:30Z: 71.5 h.
    ("Europe/Berlin", date(2025, 3, 24), (3, 27, 22, 30), (3, 27, 23, 30)),
]


@pytest.mark.parametrize(("zone", "monday", "aged_at", "young_at"), DST_ENDS)
def test_age_is_real_time_across_a_dst_change(db, zone, monday, aged_at, young_at):
    tz = ZoneInfo(zone)
    org = OrganizationFactory(slug="dst", name="DST MSP", timezone=zone)
    ticket(org, "72.5h", "p4", datetime(2025, *aged_at, tzinfo=tz))
    ticket(org, "71.5h", "p4", datetime(2025, *young_at, tzinfo=tz))

    row = roll_up_week(org=org, monday=monday, now=datetime(2025, 12, 1, tzinfo=UTC))

    assert (row.final, row.aged_backlog, row.aged_backlog_by_team) == (True, 1, {"Tier 1": 1})
    assert aged_ids(org, datetime.combine(monday + timedelta(days=7), datetime.min.time(), tz)) == ["72.5h"]


def test_a_change_of_target_between_two_rollups_changes_the_count(org):
    ticket(org, "T-1", "p3", chi(3, 1, 18))  # 30 h old at the week's end
    ticket(org, "T-2", "p4", chi(2, 28, 6), team="NOC")  # 66 h old at the week's end

    assert roll_up_week(org=org, monday=WEEK, now=LATER).aged_backlog_by_team == {"Tier 1": 1}

    update_settings(row=sla_policy(org), values={"p3": Decimal("48")})  # the SLA policy changes
    row = roll_up_week(org=org, monday=WEEK, now=LATER)
    assert (row.aged_backlog, row.aged_backlog_by_team) == (0, {})

    update_settings(row=sla_policy(org), values={"p3": Decimal("29.99")})  # 30 h > 29.99 h
    assert roll_up_week(org=org, monday=WEEK, now=LATER).aged_backlog == 1

    # The PSA pushes T-2 again as a p2: its own target drops from 72 h to 8 h.
    pushed = Ticket(external_id="T-2", title="Ticket T-2", severity="p2", team="NOC", opened_at=chi(2, 28, 6))
    [saved] = save_tickets(org=org, tickets=[pushed])
    assert saved.created is False
    row = roll_up_week(org=org, monday=WEEK, now=LATER)
    assert (row.aged_backlog, row.aged_backlog_by_team) == (2, {"NOC": 1, "Tier 1": 1})
    assert WeeklyKpi.objects.for_org(org).count() == 1


def test_teams_categories_the_level10_trigger_and_the_top_three(org):
    # Tier 1: 3 aged tickets, no review. No team: 4, a review. NOC: 6, a review.
    for n in range(3):
        ticket(org, f"t1-{n}", "p2", chi(2, 24, 8 + n), team="Tier 1", category="MFA")
    for n, category in enumerate(["Printers", "Printers", "Email", "Printers"]):
        ticket(org, f"un-{n}", "p2", chi(2, 25, 8 + n), team="", category=category)
    noc = [
        ("VPN", chi(2, 24, 8)),
        ("vpn", chi(2, 24, 9)),  # the same category as "VPN" (SPEC 1: case-insensitive)
        ("Backup", chi(2, 25, 8)),  # 2 Backup tickets: as many as VPN, but VPN's oldest is older
        ("Backup", chi(2, 25, 9)),
        ("mfa", chi(2, 24, 7)),
        ("", chi(2, 24, 6)),  # Uncategorized: 1 ticket like "mfa", and older: third
    ]
    for n, (category, opened_at) in enumerate(noc):
        ticket(org, f"noc-{n}", "p2", opened_at, team="NOC", category=category)
    ticket(org, "field-ok", "p2", chi(2, 24, 8), chi(2, 24, 12), team="Field")  # closed in time

    row = roll_up_week(org=org, monday=WEEK, now=LATER)

    assert row.aged_backlog == 13  # 3 + 4 + 6
    assert row.aged_backlog_by_team == {"NOC": 6, "Tier 1": 3, "Unassigned": 4}
    assert row.level10_review is True
    assert row.level10_categories == {
        "NOC": ["VPN", "Backup", "Uncategorized"],
        "Unassigned": ["Printers", "Email"],
    }
    assert row.status["aged_backlog"] == "red"

    Ticket.objects.filter(external_id="un-3").update(closed_at=chi(3, 2))  # down to 3: no review
    row = roll_up_week(org=org, monday=WEEK, now=LATER)
    assert row.aged_backlog_by_team == {"NOC": 6, "Tier 1": 3, "Unassigned": 3}
    assert row.level10_categories == {"NOC": ["VPN", "Backup", "Uncategorized"]}


def test_a_ticket_closed_before_it_was_opened_is_refused_and_nothing_is_stored(api, org):
    # The database's check constraint would refuse it as well, but as an IntegrityError: the
    # batch took that for a lost race and answered 409 "send the request again".
    opened = "2025-03-03T09:00:00-06:00"  # 15:00Z
    body = [
        {"external_id": "PSA-1", "title": "VPN down", "severity": "p2", "opened_at": opened},
        {"external_id": "PSA-2", "title": "MFA loop", "severity": "p2", "opened_at": opened,
         "closed_at": "2025-03-03T14:59:59Z"},  # a second before it was opened
    ]  # fmt: skip
    refused = post(api, "/api/v1/tickets/", body)

    assert refused.status_code == 400
    assert refused.json() == [{}, {"closed_at": ["A ticket cannot be closed before it was opened."]}]
    assert not Ticket.objects.exists()

    body[1]["closed_at"] = "2025-03-03T15:00:00Z"  # closed the instant it was opened: fine
    assert post(api, "/api/v1/tickets/", body).status_code == 201
    stored = Ticket.objects.get(external_id="PSA-2")
    assert patch(api, f"/api/v1/tickets/{stored.pk}/", {"closed_at": "2025-03-02T09:00:00-06:00"}).json() == {
        "closed_at": ["A ticket cannot be closed before it was opened."]
    }
    stored.refresh_from_db()
    assert stored.closed_at == datetime(2025, 3, 3, 15, tzinfo=UTC)
