"""The rollup's reads on SQLite (the embedded default) are the ORM's portable queries; on
PostgreSQL they are hand-written set-based ones. Both are run here, on the real PostgreSQL, on
the same irregular data, and must agree figure for figure: entries crossing week boundaries
(Sunday to Monday midnight), weeks with a DST change, categories in two spellings, tickets of
every severity opened and closed around the week ends."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from audits.models import Handling
from audits.selectors import _founder_hours_by_week_portable, founder_hours_by_week
from kpis.models import Severity
from kpis.selectors import (
    _aged_at_moments_portable,
    _interruptions_by_window_portable,
    aged_at_moments,
    interruptions_by_window,
    sla_policy,
)
from kpis.services import backlog_moment
from msp_ops.lib import weeks
from msp_ops.orgs.models import Role
from tests.factories import (
    InterruptionFactory,
    MembershipFactory,
    OrganizationFactory,
    TicketFactory,
    TimeEntryFactory,
)

# Ten weeks around the spring change of each zone (Chicago and Berlin in March, Sydney in April).
FIRST = {
    "America/Chicago": date(2025, 2, 17),
    "Europe/Berlin": date(2025, 3, 10),
    "Australia/Sydney": date(2025, 3, 17),
}
MONDAYS = 10


def irregular_data(org, rng: random.Random) -> None:
    founder = MembershipFactory(organization=org, role=Role.FOUNDER).user
    technician = MembershipFactory(organization=org, role=Role.TECHNICIAN).user
    start = datetime.combine(FIRST[org.timezone] - timedelta(days=9), datetime.min.time(), org.tz)
    for user in (founder, technician):
        moment = start.astimezone(UTC)
        for _ in range(400):
            moment += timedelta(minutes=rng.choice([0, 17, 45, 190, 600]))
            end = moment + timedelta(minutes=rng.choice([5, 25, 60, 150, 400]))
            TimeEntryFactory(
                organization=org, user=user, started_at=moment, ended_at=end,
                handling=rng.choice([Handling.DELEGATED, Handling.PERSONAL]),
                tag_repetitive=rng.random() < 0.4, tag_outsourceable=rng.random() < 0.3,
                tag_systemizable=rng.random() < 0.3, tag_owner_by_habit=rng.random() < 0.2,
            )  # fmt: skip
            moment = end
    for n in range(150):
        InterruptionFactory(
            organization=org, occurred_at=start + timedelta(hours=11 * n + rng.random()),
            about_ticket=rng.random() < 0.85,
            category=rng.choice(["VPN", "vpn", "Printer", "", "M365", "uncategorized"]),
            channel=rng.choice(["call", "email", "chat"]),
        )  # fmt: skip
    for n in range(120):
        opened = start + timedelta(hours=9 * n + rng.random() * 5)
        TicketFactory(
            organization=org, opened_at=opened, severity=rng.choice(Severity.values),
            team=rng.choice(["Tier 1", "Tier 2", ""]),
            category=rng.choice(["VPN", "vpn", "Backup", "", "uncategorized"]),
            closed_at=None if rng.random() < 0.3 else opened + timedelta(hours=rng.choice([1, 5, 30, 200])),
        )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("zone", sorted(FIRST))
def test_the_portable_reads_equal_the_postgresql_ones(zone):
    org = OrganizationFactory(timezone=zone)
    irregular_data(org, random.Random(zone))
    mondays = [FIRST[zone] + timedelta(weeks=n) for n in range(MONDAYS)]
    bounds = [weeks.week_bounds(m, org.tz)[0] for m in mondays] + [weeks.week_bounds(mondays[-1], org.tz)[1]]
    # Week ends, and a moment inside the last week (the current week of a rollup).
    moments = [backlog_moment(org, m, now=bounds[-1] - timedelta(days=2, minutes=13)) for m in mondays]

    hours = founder_hours_by_week(org, bounds)
    assert hours == _founder_hours_by_week_portable(org, bounds)
    assert all(week["logged"] for week in hours)

    def by_key(groups):
        return sorted(groups, key=lambda g: tuple(str(v) for v in vars(g).values()))

    windows = interruptions_by_window(org, bounds)
    assert windows == _interruptions_by_window_portable(org, bounds)
    assert sum(1 for window in windows if window.count) > 5
    assert any("VPN" in window.by_category for window in windows)  # "VPN" and "vpn": the smaller name

    aged = aged_at_moments(org, moments, sla_policy(org))
    assert [by_key(ages) for ages in aged] == [
        by_key(ages) for ages in _aged_at_moments_portable(org, moments, sla_policy(org))
    ]
    assert sum(1 for ages in aged if ages) > 5
    assert {age.team for ages in aged for age in ages} == {"Tier 1", "Tier 2", "Unassigned"}
    assert {age.category.lower() for ages in aged for age in ages} == {"vpn", "backup", "uncategorized"}
    for ages in aged:  # "VPN" and "vpn" one category of a team
        assert len({(age.team, age.category.lower()) for age in ages}) == len(ages)
