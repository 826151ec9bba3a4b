"""The KPI arithmetic, once (SPEC 2; STYLE 6): pure functions over figures the database summed.

The rollup (``kpis.services``) aggregates in SQL and calls these; the API and the pages read
the stored rows and never recompute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

TWO_PLACES = Decimal("0.01")
LEVEL10_TEAM_MIN = 4  # a team with this many aged tickets triggers a Level-10 review (SPEC 2.3)
TOP_CATEGORIES = 3

GREEN, AMBER, RED = "green", "amber", "red"


def four_week_average(counts: Sequence[int]) -> Decimal:
    """This week and the three before; a week without a row counts as 0 (SPEC 2.2)."""
    return (Decimal(sum([*counts, 0, 0, 0, 0][:4])) / 4).quantize(TWO_PLACES, ROUND_HALF_UP)


def delegated_hours_status(
    hours: Decimal,
    *,
    managed_clients: int,
    previous_weeks: Sequence[Decimal],
    green: Decimal,
    amber: Decimal,
    managed_clients_threshold: int,
) -> str:
    """SPEC 2 targets: with at least ``managed_clients_threshold`` clients, green at ``green`` hours
    or more, amber at ``amber`` or more, red below. With fewer, the goal is a steady increase:
    green when at least the mean of the previous 4 weeks (missing weeks count 0), amber below."""
    if managed_clients >= managed_clients_threshold:
        if hours >= green:
            return GREEN
        return AMBER if hours >= amber else RED
    return GREEN if hours >= previous_weeks_mean(previous_weeks) else AMBER


def previous_weeks_mean(previous_weeks: Sequence[Decimal]) -> Decimal:
    """The steady-increase line: the mean of the previous 4 weeks' hours (missing weeks count 0),
    unrounded (hours in hundredths give at most 4 places: 1.01, 2, 0, 0 -> 0.7525)."""
    return sum([*previous_weeks, Decimal(0), Decimal(0), Decimal(0), Decimal(0)][:4], Decimal(0)) / 4


def interruptions_status(four_week_avg: Decimal, *, green_max: Decimal) -> str:
    """Green when the 4-week average is at most ``green_max`` (2), red above."""
    return GREEN if four_week_avg <= green_max else RED


def aged_backlog_status(by_team: Mapping[str, int], *, team_max: int) -> str:
    """Green when every team is at ``team_max`` (3) or fewer aged tickets, red otherwise."""
    return GREEN if all(count <= team_max for count in by_team.values()) else RED


def level10_teams(by_team: Mapping[str, int]) -> list[str]:
    """The teams with 4 or more aged tickets, by name."""
    return sorted(team for team, count in by_team.items() if count >= LEVEL10_TEAM_MIN)


@dataclass(frozen=True)
class CategoryAge:
    """One team's aged tickets of one category, as the database grouped them."""

    team: str
    category: str
    aged: int
    oldest_opened_at: datetime


def top_aging_categories(rows: Iterable[CategoryAge], teams: Iterable[str]) -> dict[str, list[str]]:
    """For each team given, its top 3 aging categories (SPEC 2.3): by number of aged tickets,
    ties broken by the oldest ticket (opened first ranks first), then by name."""
    wanted = set(teams)
    by_team: dict[str, list[CategoryAge]] = {team: [] for team in sorted(wanted)}
    for row in rows:
        if row.team in wanted:
            by_team[row.team].append(row)
    return {
        team: [
            row.category
            for row in sorted(
                found, key=lambda r: (-r.aged, r.oldest_opened_at, r.category.lower(), r.category)
            )
        ][:TOP_CATEGORIES]
        for team, found in by_team.items()
    }


def hours(value: Decimal) -> float:
    """Hours and averages as JSON numbers with 2 decimal places (SPEC 4)."""
    return float(value.quantize(TWO_PLACES, ROUND_HALF_UP))
