"""kpis.formulas against hand-worked cases (SPEC 2; STYLE 6): pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kpis.formulas import (
    AMBER,
    GREEN,
    RED,
    CategoryAge,
    aged_backlog_status,
    delegated_hours_status,
    four_week_average,
    hours,
    interruptions_status,
    level10_teams,
    top_aging_categories,
)

D = Decimal


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([3], "0.75"),  # (3 + 0 + 0 + 0) / 4: the weeks without a row count as 0
        ([], "0.00"),  # no week at all
        ([0, 0, 0, 0], "0.00"),
        ([1, 0, 0, 0], "0.25"),
        ([1, 1, 0, 0], "0.50"),
        ([1, 1, 1], "0.75"),
        ([2, 2, 2, 2], "2.00"),
        ([3, 2, 2, 2], "2.25"),  # 9 / 4
        ([5, 4, 0, 0], "2.25"),  # 9 / 4
        ([8, 0, 0, 1], "2.25"),  # 9 / 4: the order does not matter
        ([5, 0, 0, 0, 9], "1.25"),  # a fifth week is not one of "this week and the 3 before"
        ([1, 2, 3, 4], "2.50"),  # 10 / 4
        ([7, 7, 7, 6], "6.75"),  # 27 / 4
    ],
)
def test_four_week_average(counts, expected):
    average = four_week_average(counts)
    assert isinstance(average, Decimal)
    assert str(average) == expected  # always 2 decimal places


# managed_clients >= threshold (20): green at 10 h or more, amber at 5 h or more, red below.
# Fewer clients: green when at least the mean of the previous 4 weeks (missing weeks 0), else amber.
@pytest.mark.parametrize(
    ("hours_", "clients", "previous", "expected"),
    [
        # -- at or above the threshold: the fixed targets; the previous weeks do not matter
        ("10.00", 20, [], GREEN),  # exactly 20 clients is "at least the threshold"
        ("10.00", 24, [], GREEN),  # exactly the green target
        ("10.00", 24, ["30", "30", "30", "30"], GREEN),  # a drop from 30 h is still green here
        ("9.99", 24, [], AMBER),
        ("5.00", 24, [], AMBER),  # exactly the amber target
        ("4.99", 24, ["0", "0", "0", "0"], RED),
        ("0.00", 24, [], RED),
        ("40.00", 24, [], GREEN),
        # -- fewer clients (19 < 20): a steady increase
        ("4.00", 19, ["2", "4", "6", "4"], GREEN),  # mean (2 + 4 + 6 + 4) / 4 = 4: at the mean
        ("3.99", 19, ["2", "4", "6", "4"], AMBER),  # just below it
        ("2.00", 0, ["8"], GREEN),  # (8 + 0 + 0 + 0) / 4 = 2: missing weeks count 0
        ("1.99", 0, ["8"], AMBER),
        ("0.00", 5, [], GREEN),  # mean of nothing is 0: 0 h is not below it
        ("0.00", 5, ["0.01"], AMBER),  # 0.0025 > 0
        ("1.00", 19, ["1.00", "1.00", "1.00", "1.01"], AMBER),  # mean 1.0025 > 1.00
        ("12.00", 19, ["10", "11", "12", "13"], GREEN),  # mean 11.5: above it, not the 10 h target
        ("9.00", 19, ["10", "11", "12", "13"], AMBER),  # never red in this regime
    ],
)
def test_delegated_hours_status_in_both_regimes(hours_, clients, previous, expected):
    status = delegated_hours_status(
        D(hours_),
        managed_clients=clients,
        previous_weeks=[D(p) for p in previous],
        green=D("10"),
        amber=D("5"),
        managed_clients_threshold=20,
    )
    assert status == expected


@pytest.mark.parametrize(
    ("hours_", "clients", "threshold", "expected"),
    [
        ("12.00", 30, 30, GREEN),  # the org's own targets: green 12, amber 6, threshold 30
        ("11.99", 30, 30, AMBER),
        ("6.00", 30, 30, AMBER),
        ("5.99", 30, 30, RED),
        ("5.99", 29, 30, GREEN),  # under the org's threshold: mean of [4, 4, 4, 4] = 4
        ("3.99", 29, 30, AMBER),
        ("0.00", 0, 0, RED),  # a threshold of 0: every organization has the fixed targets
    ],
)
def test_delegated_hours_status_reads_the_organizations_targets(hours_, clients, threshold, expected):
    status = delegated_hours_status(
        D(hours_),
        managed_clients=clients,
        previous_weeks=[D(4)] * 4,
        green=D("12"),
        amber=D("6"),
        managed_clients_threshold=threshold,
    )
    assert status == expected


@pytest.mark.parametrize(
    ("average", "green_max", "expected"),
    [
        ("2.00", "2", GREEN),  # "at most 2"
        ("2.01", "2", RED),
        ("2.25", "2", RED),  # the next value a 4-week average can take after 2.00
        ("0.00", "2", GREEN),
        ("1.75", "1.5", RED),  # the org's own target
        ("1.50", "1.5", GREEN),
        ("0.00", "0", GREEN),
        ("0.25", "0", RED),
    ],
)
def test_interruptions_status(average, green_max, expected):
    assert interruptions_status(D(average), green_max=D(green_max)) == expected


@pytest.mark.parametrize(
    ("by_team", "team_max", "expected"),
    [
        ({}, 3, GREEN),  # no aged ticket anywhere
        ({"Tier 1": 3}, 3, GREEN),  # "3 or fewer"
        ({"Tier 1": 4}, 3, RED),
        ({"Tier 1": 3, "Tier 2": 3, "Unassigned": 3}, 3, GREEN),  # 9 in all, but no team above 3
        ({"Tier 1": 0, "Tier 2": 4}, 3, RED),  # one team is enough
        ({"Tier 1": 5}, 5, GREEN),  # the org's own target
        ({"Tier 1": 6}, 5, RED),
        ({"Tier 1": 1}, 0, RED),
    ],
)
def test_aged_backlog_status(by_team, team_max, expected):
    assert aged_backlog_status(by_team, team_max=team_max) == expected


@pytest.mark.parametrize(
    ("by_team", "expected"),
    [
        ({}, []),
        ({"Tier 1": 3}, []),  # 3 does not trigger
        ({"Tier 1": 4}, ["Tier 1"]),  # 4 does
        ({"NOC": 9, "Help Desk": 4, "Field": 3, "Unassigned": 4}, ["Help Desk", "NOC", "Unassigned"]),
    ],
)
def test_level10_teams_are_those_with_4_or_more_by_name(by_team, expected):
    assert level10_teams(by_team) == expected


T0 = datetime(2025, 3, 3, 9, tzinfo=UTC)


def _age(team: str, category: str, aged: int, hours_after_t0: float) -> CategoryAge:
    return CategoryAge(team, category, aged, T0 + timedelta(hours=hours_after_t0))


def test_top_aging_categories_rank_by_count_then_oldest_ticket_then_name():
    rows = [
        _age("Help Desk", "Email", 1, 0),  # oldest of all, but only 1 aged ticket
        _age("Help Desk", "VPN", 3, 5),
        _age("Help Desk", "MFA", 3, 2),  # as many as VPN, with an older ticket: first
        _age("Help Desk", "Printers", 2, 1),
        _age("Help Desk", "Backup", 2, 1),  # as many as Printers, as old: by name, Backup first
        _age("NOC", "Patching", 4, 0),  # another team: not Help Desk's
    ]
    assert top_aging_categories(rows, ["Help Desk"]) == {"Help Desk": ["MFA", "VPN", "Backup"]}


def test_top_aging_categories_name_ties_ignore_case_and_teams_without_rows_get_none():
    rows = [
        _age("Tier 1", "backup", 2, 0),
        _age("Tier 1", "Antivirus", 2, 0),  # "antivirus" < "backup", though "b" > "A" in ASCII
        _age("Tier 1", "VPN", 1, 0),
        _age("Tier 1", "Wi-Fi", 1, 0),
        _age("Tier 2", "MFA", 5, 0),
    ]
    assert top_aging_categories(rows, ["Tier 1", "Unassigned"]) == {
        "Tier 1": ["Antivirus", "backup", "VPN"],  # VPN and Wi-Fi tie on count and age: by name
        "Unassigned": [],
    }
    assert top_aging_categories(rows, []) == {}


def test_top_aging_categories_keep_fewer_than_three_when_there_are_fewer():
    rows = [_age("Tier 1", "VPN", 4, 0)]
    assert top_aging_categories(rows, ["Tier 1"]) == {"Tier 1": ["VPN"]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.005", 2.01), ("2.004", 2.0), ("1.5", 1.5), ("0", 0.0), ("167.00", 167.0), ("0.125", 0.13)],
)
def test_hours_are_json_numbers_with_two_places_rounded_half_up(value, expected):
    assert hours(D(value)) == expected
