"""The daily SLA stand-up (SPEC 1): per team the open tickets past their target and those that
pass it within 24 h, oldest first, Unassigned last, and the previous local day's interruptions.

At ``at`` an open ticket (opened at or before ``at``, not closed at ``at``) is past its target
when its age is greater than the target; it passes it within 24 h when it is not past it and
``opened_at + target <= at + 24 h``. Acme IT is in America/Chicago; SPEC's default targets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kpis.models import Ticket
from kpis.selectors import standup
from tests.factories import InterruptionFactory

CHI = ZoneInfo("America/Chicago")
AT = datetime(2025, 3, 4, 12, tzinfo=CHI)  # Tuesday 12:00 CST = 18:00Z
SECOND = timedelta(seconds=1)


def chi(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=CHI)


def ticket(org, external_id: str, severity: str, opened_at, closed_at=None, *, team="Tier 1"):
    return Ticket.objects.create(
        organization=org, external_id=external_id, title=f"Ticket {external_id}", severity=severity,
        team=team, category="VPN", opened_at=opened_at, closed_at=closed_at,
    )  # fmt: skip


def listed(found) -> dict[str, tuple[list[str], list[str]]]:
    return {
        team.team: (
            [row.ticket.external_id for row in team.breached],
            [row.ticket.external_id for row in team.due_within_24h],
        )
        for team in found.teams
    }


def test_the_24_hour_horizon_includes_its_last_instant_only(org):
    ticket(org, "due-at-horizon", "p4", AT - timedelta(hours=48))  # due at AT + 24 h exactly
    ticket(org, "due-after-horizon", "p4", AT - timedelta(hours=48) + SECOND)  # a second later
    ticket(org, "p3-now", "p3", AT)  # opened at AT: due at AT + 24 h, included
    ticket(org, "opened-after", "p1", AT + SECOND)

    assert listed(standup(org, AT)) == {"Tier 1": ([], ["due-at-horizon", "p3-now"])}


def test_exactly_at_the_target_is_not_past_it(org):
    ticket(org, "at-target", "p1", AT - timedelta(hours=4))
    ticket(org, "past-target", "p1", AT - timedelta(hours=4) - SECOND)

    found = standup(org, AT)

    assert listed(found) == {"Tier 1": (["past-target"], ["at-target"])}
    [team] = found.teams
    assert (team.breached[0].age_hours, team.breached[0].target_hours) == (Decimal("4.00"), Decimal("4"))
    assert team.due_within_24h[0].age_hours == Decimal("4.00")


def test_only_tickets_open_at_the_instant_oldest_first_and_unassigned_last(org):
    ticket(org, "p2-monday", "p2", chi(3, 3, 9))  # 27 h old: past 8 h
    ticket(org, "p3-sunday", "p3", chi(3, 2, 9))  # 51 h old: past 24 h, and older
    ticket(org, "closed-before", "p1", chi(3, 3, 9), chi(3, 4, 11, 59))
    ticket(org, "closed-at", "p1", chi(3, 3, 9), AT)  # closed at AT: not open at it
    ticket(org, "closed-later", "p1", chi(3, 3, 9, 30), chi(3, 4, 15))  # open at AT
    ticket(org, "fresh-p4", "p4", AT - timedelta(hours=1), team="Quiet")  # due in 71 h: not listed
    ticket(org, "nobody", "p2", chi(3, 4, 3), team="")  # 9 h old: past 8 h
    ticket(org, "field", "p2", chi(3, 4, 6), team="field")  # 6 h old: due in 2 h
    ticket(org, "alpha", "p1", chi(3, 4, 9), team="Alpha")  # 3 h old, due in 1 h

    found = standup(org, AT)

    assert [team.team for team in found.teams] == ["Alpha", "field", "Tier 1", "Unassigned"]
    assert listed(found) == {
        "Alpha": ([], ["alpha"]),
        "field": ([], ["field"]),
        "Tier 1": (["p3-sunday", "p2-monday", "closed-later"], []),
        "Unassigned": (["nobody"], []),
    }
    ages = [(row.ticket.external_id, row.age_hours) for row in found.teams[2].breached]
    assert ages == [
        ("p3-sunday", Decimal("51.00")),
        ("p2-monday", Decimal("27.00")),
        ("closed-later", Decimal("26.50")),
    ]


def test_the_horizon_and_the_ages_are_real_time_across_a_dst_change(org):
    # At Sunday 2025-03-09 12:00 CDT (17:00Z), hours after Chicago sprang forward (02:00 CST ->
    # 03:00 CDT), given on the org's wall clock. AT + 24 h is 2025-03-10 17:00Z.
    at = chi(3, 9, 12)
    ticket(org, "due-at-horizon", "p4", chi(3, 7, 11))  # 17:00Z Friday + 72 h = AT + 24 h
    ticket(org, "due-after-horizon", "p4", chi(3, 7, 11, 30))  # 30 minutes later
    ticket(org, "before-the-jump", "p1", chi(3, 9, 1, 30))  # 01:30 CST = 07:30Z: 9.5 h (not 10.5)

    found = standup(org, at)

    assert listed(found) == {"Tier 1": (["before-the-jump"], ["due-at-horizon"])}
    assert found.teams[0].breached[0].age_hours == Decimal("9.50")
    assert found.teams[0].due_within_24h[0].age_hours == Decimal("48.00")  # 17:00Z Fri to 17:00Z Sun


def test_yesterdays_interruptions_are_the_previous_local_day(org, founder, other_org, stranger):
    at = chi(3, 4, 0, 30)  # 06:30Z: Tuesday in Chicago and in UTC; yesterday is Monday 2025-03-03
    for moment, fields in [
        (chi(3, 3), {}),  # Monday's first instant (06:00Z)
        (chi(3, 3, 12), {"about_ticket": False}),  # not about a ticket: still an interruption
        (chi(3, 3, 23, 59, 59), {}),  # Monday's last second
        (chi(3, 4), {}),  # today
        (chi(3, 2, 23, 59, 59), {}),  # Sunday
        (datetime(2025, 3, 3, 3, tzinfo=UTC), {}),  # Monday in UTC, Sunday 21:00 in Chicago
    ]:
        InterruptionFactory(organization=org, logged_by=founder, occurred_at=moment, **fields)
    InterruptionFactory(organization=other_org, logged_by=stranger, occurred_at=chi(3, 3, 12))

    found = standup(org, at)

    assert [i.occurred_at for i in found.interruptions_yesterday] == [
        chi(3, 3),
        chi(3, 3, 12),
        chi(3, 3, 23, 59, 59),
    ]
    assert found.teams == []


@pytest.mark.parametrize("rows", [1, 30])
def test_the_standup_takes_three_queries_whatever_the_data(rows, org, founder, django_assert_num_queries):
    for n in range(rows):
        ticket(
            org, f"T-{n}", ["p1", "p2", "p3", "p4"][n % 4], AT - timedelta(hours=n + 1), team=f"Team {n % 5}"
        )
        InterruptionFactory(
            organization=org, logged_by=founder, occurred_at=chi(3, 3, 8) + timedelta(minutes=n)
        )
    with django_assert_num_queries(3):  # the SLA policy, the open tickets, yesterday's interruptions
        found = standup(org, AT)
    assert len(found.interruptions_yesterday) == rows
