"""The weekly KPI dashboard: who opens it, the exact figures of hand-made rows, the targets of both
delegated-hours regimes, the trend charts' data, week navigation, the "computed at" warnings,
the Level-10 agenda (teams, interruptions by category and channel, delegations due for review),
the CSV export, "Recompute now" and its progress, and a query count that does not grow."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from delegation.models import DelegationStatus
from kpis.models import KpiTargets, RollupRun, WeeklyKpi
from kpis.services import roll_up_week, update_settings
from kpis.tasks import roll_up_requested
from msp_ops.lib import weeks
from tests.factories import (
    DelegationFactory,
    InterruptionFactory,
    OrganizationFactory,
    RollupRunFactory,
    TimeEntryFactory,
    TodoFactory,
    WeeklyKpiFactory,
)
from tests.kpis.page_helpers import HTMX, body, elements, inner, text, texts
from tests.pages import client_for, pinned_clock

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=CHI)  # Wednesday 12 March 2025, 10:00 in Chicago
THIS_WEEK, LAST_WEEK = date(2025, 3, 10), date(2025, 3, 3)
DASHBOARD = "/kpis/"


_pinned_clock = pinned_clock(NOW)


def chi(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=CHI)


def last_weeks_row(org, **fields) -> WeeklyKpi:
    """The week of 3 March, rolled up again this morning (final, fresh): delegated 7.50 h (amber:
    5 <= 7.50 < 10), 5 interruptions with a 4-week average of 3.25 (red: above 2), 6 aged tickets,
    4 of them Tier 1's (red: above 3; a Level-10 review)."""
    values = {
        "organization": org,
        "week": LAST_WEEK,
        "final": True,
        "computed_at": chi(3, 12, 2),
        "delegated_hours": Decimal("7.50"),
        "personal_hours": Decimal("21.25"),
        "logged_hours": Decimal("28.75"),
        "hours_by_tag": {"repetitive": "3.00", "outsourceable": "1.50", "systemizable": "0.00",
                         "owner_by_habit": "2.25"},
        "owner_interruptions": 5,
        "owner_interruptions_4wk_avg": Decimal("3.25"),
        "aged_backlog": 6,
        "aged_backlog_by_team": {"Unassigned": 1, "Tier 2": 1, "Tier 1": 4},
        "level10_review": True,
        "level10_categories": {"Tier 1": ["VPN", "Backup", "Email"]},
        "managed_clients": 24,
        "status": {"delegated_hours": "amber", "owner_interruptions": "red", "aged_backlog": "red"},
        **fields,
    }  # fmt: skip
    return WeeklyKpiFactory(**values)


def card(html: str, key: str) -> dict[str, str]:
    section = inner(html, id=f"card-{key}")
    found = {role: text(section, data_role=role) for role in ("value", "status", "target")}
    for role in ("detail", "note"):
        found[role] = (texts(section, data_role=role) or [""])[0]
    return found


def chart_data(html: str) -> dict:
    return json.loads(inner(html, id="kpi-chart-data"))


# --- who opens it -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [("founder", 200), ("manager", 200), ("viewer", 200), ("technician", 403)]
)
def test_the_dashboard_by_role(request, role, status):
    response = client_for(request.getfixturevalue(role)).get(DASHBOARD)
    assert response.status_code == status
    if status == 403:
        assert "Your role may not view." in body(response)


def test_the_service_manager_lands_on_the_dashboard(manager, founder):
    assert client_for(manager).get("/").url == DASHBOARD
    assert client_for(founder).get("/").url == "/audits/today/"  # the founder logs time first


@pytest.mark.parametrize(("role", "links"), [("manager", True), ("viewer", True), ("technician", False)])
def test_the_nav_links_the_kpi_pages_to_those_who_may_view(request, role, links):
    html = body(client_for(request.getfixturevalue(role)).get("/org/tokens/"))
    nav = html.split('<nav class="nav"', 1)[1].split("</nav>", 1)[0]
    for label in ("KPIs", "Stand-up", "To-dos"):
        assert (f">{label}</a>" in nav) is links, label


def test_only_who_may_recompute_sees_the_button(founder, manager, viewer):
    assert 'id="recompute"' in body(client_for(founder).get(DASHBOARD))
    assert 'id="recompute"' in body(client_for(manager).get(DASHBOARD))
    assert 'id="recompute"' not in body(client_for(viewer).get(DASHBOARD))


# --- the figures ------------------------------------------------------------------------------


def test_the_cards_show_the_rows_figures_targets_and_statuses_in_words(org, viewer):
    last_weeks_row(org)
    html = body(client_for(viewer).get(DASHBOARD, {"week": "2025-03-03"}))

    # 24 managed clients, at least the threshold of 20: the fixed green/amber lines (SPEC 2).
    assert card(html, "delegated_hours") == {
        "value": "7.50 h",
        "status": "Amber: watch",
        "target": "Target: Green at 10 h or more, amber at 5 h or more.",
        "detail": "of 28.75 h logged; 21.25 h personal",
        "note": "24 managed clients: fixed targets (from 20 clients).",
    }
    assert card(html, "owner_interruptions") == {
        "value": "5",
        "status": "Red: off target",
        "target": "Target: Green when the 4-week average is at most 2.",
        "detail": "4-week average 3.25",
        "note": "Contacts about a ticket, Monday to Sunday.",
    }
    assert card(html, "aged_backlog") == {
        "value": "6",
        "status": "Red: off target",
        "target": "Target: Green when every team is at 3 or fewer.",
        "detail": "Level-10 review: Tier 1",
        "note": "A team at 4 or more triggers a Level-10 review.",
    }
    assert 'class="card kpi-card status-amber" id="card-delegated_hours"' in html
    assert text(html, id="computed-at") == "Final Computed Wed 12 Mar 2025, 02:00 (America/Chicago)"
    assert "stale-warning" not in html


def test_a_week_shows_the_targets_it_was_judged_by_after_they_change(org, viewer, manager):
    # Rolled up under green 10 h, amber 5 h (24 clients, fixed from 20), at most 2 interruptions
    # and 3 aged tickets a team; the targets were changed since: green 8 h, amber 7.50 h, fixed
    # from 30 clients (24 is now the steady-increase regime), at most 4 and 5.
    judged_by = {
        "delegated_hours_green": "10.00", "delegated_hours_amber": "5.00", "managed_clients_threshold": 20,
        "interruptions_4wk_green_max": "2.00", "aged_backlog_team_max": 3,
    }  # fmt: skip
    last_weeks_row(org, targets=judged_by)
    # 17 Feb: rolled up before the rows kept their targets: charted with the week shown's.
    WeeklyKpiFactory(organization=org, week=date(2025, 2, 17), delegated_hours=Decimal("10.25"))
    WeeklyKpiFactory(
        organization=org, week=date(2025, 2, 24), delegated_hours=Decimal("9.00"), managed_clients=24,
        targets={**judged_by, "delegated_hours_green": "9.00", "aged_backlog_team_max": 4},
    )  # fmt: skip
    update_settings(
        row=KpiTargets.objects.get(organization=org),
        values={
            "delegated_hours_green": Decimal("8"), "delegated_hours_amber": Decimal("7.5"),
            "managed_clients_threshold": 30, "interruptions_4wk_green_max": Decimal("4"),
            "aged_backlog_team_max": 5,
        },
    )  # fmt: skip
    html = body(client_for(viewer).get(DASHBOARD, {"week": "2025-03-03"}))

    delegated, interruptions = card(html, "delegated_hours"), card(html, "owner_interruptions")
    assert delegated["target"] == "Target: Green at 10 h or more, amber at 5 h or more."
    assert delegated["note"] == "24 managed clients: fixed targets (from 20 clients)."
    assert interruptions["target"] == "Target: Green when the 4-week average is at most 2."
    assert card(html, "aged_backlog")["target"] == "Target: Green when every team is at 3 or fewer."
    assert '<tr class="over" data-team="Tier 1">' in html  # 4 aged: over 3 (not today's 5)
    assert text(html, id="targets-changed") == (
        "The KPI targets have changed since this week was computed: its cards and charts show the"
        " targets it was judged by."
    )
    data = chart_data(html)
    assert data["delegated_hours"]["target"][-3:] == [10.0, 9.0, 10.0]
    assert data["delegated_hours"]["amber"][-3:] == [5.0, 5.0, 5.0]
    assert data["aged_backlog"]["target"][-3:] == [3, 4, 3]
    assert data["owner_interruptions"]["target"][-3:] == [2.0, 2.0, 2.0]

    # The week of 10 March has no row: today's targets, and nothing changed to say.
    html = body(client_for(manager).get(DASHBOARD))
    assert card(html, "delegated_hours")["target"].startswith("Target: Green at the previous 4 weeks' mean")
    assert card(html, "aged_backlog")["target"] == "Target: Green when every team is at 5 or fewer."
    assert "targets-changed" not in html


def test_the_backlog_per_team_sorts_unassigned_last_and_marks_the_review(org, viewer):
    last_weeks_row(org)
    table = inner(body(client_for(viewer).get(DASHBOARD, {"week": "2025-03-03"})), id="team-backlog")
    rows = elements(table, data_team="Tier 1") + elements(table, data_team="Tier 2")
    assert [r["text"] for r in rows] == ["Tier 1 4 Level-10 review", "Tier 2 1"]
    assert texts(table, data_role="aged") == ["4", "1", "1"]  # Tier 1, Tier 2, Unassigned
    assert table.index('data-team="Tier 2"') < table.index('data-team="Unassigned"')


def test_fewer_managed_clients_target_the_mean_of_the_previous_four_weeks_rows(org, viewer):
    # Week of 10 March with 12 managed clients (under 20): green at the mean delegated hours of
    # the 4 weeks before. Rows rolled up before the rollup kept its mean: from the rows before, a
    # week without a row counting 0: (2.00 + 4.00 + 0 + 6.50) / 4 = 3.125, shown unrounded.
    for week, hours in [(date(2025, 2, 10), "2.00"), (date(2025, 2, 17), "4.00"), (LAST_WEEK, "6.50")]:
        WeeklyKpiFactory(organization=org, week=week, delegated_hours=Decimal(hours), managed_clients=12)
    WeeklyKpiFactory(
        organization=org, week=THIS_WEEK, final=False, computed_at=chi(3, 12, 2), managed_clients=12,
        delegated_hours=Decimal("3.00"), personal_hours=Decimal("2.00"), logged_hours=Decimal("5.00"),
        status={"delegated_hours": "amber", "owner_interruptions": "green", "aged_backlog": "green"},
    )  # fmt: skip
    html = body(client_for(viewer).get(DASHBOARD))

    assert card(html, "delegated_hours") == {
        "value": "3.00 h",
        "status": "Amber: watch",
        "target": "Target: Green at the previous 4 weeks' mean or more (3.125 h), amber below.",
        "detail": "of 5.00 h logged; 2.00 h personal",
        "note": "12 managed clients: the goal is a steady increase (fixed targets from 20 clients).",
    }
    data = chart_data(html)["delegated_hours"]
    assert data["amber"] is None
    # Target line of each charted week: the mean of its own 4 previous weeks' rows.
    # 17 Feb: (0 + 0 + 0 + 2.00) / 4; 24 Feb: (0 + 0 + 2.00 + 4.00) / 4; 3 Mar: (0 + 2.00 + 4.00 + 0) / 4.
    assert data["target"][-4:] == [0.5, 1.5, 1.5, 3.125]


def test_the_steady_increase_target_is_the_mean_the_rollup_compared_with_unrounded(org, viewer):
    # Previous weeks 1.01, 2.00, 0, 0 h: a mean of 0.7525 h, stored by the rollup with the row.
    # This week's 0.75 h is below it (amber): the card must not say the target is 0.75 h.
    for week, hours in [(date(2025, 2, 3), "1.01"), (date(2025, 2, 10), "2.00")]:
        WeeklyKpiFactory(organization=org, week=week, delegated_hours=Decimal(hours), managed_clients=12)
    WeeklyKpiFactory(
        organization=org, week=LAST_WEEK, computed_at=chi(3, 12, 2), managed_clients=12,
        delegated_hours=Decimal("0.75"), delegated_hours_previous_mean=Decimal("0.7525"),
        status={"delegated_hours": "amber", "owner_interruptions": "green", "aged_backlog": "green"},
    )  # fmt: skip
    html = body(client_for(viewer).get(DASHBOARD, {"week": "2025-03-03"}))

    found = card(html, "delegated_hours")
    assert (found["value"], found["status"]) == ("0.75 h", "Amber: watch")
    assert found["target"] == "Target: Green at the previous 4 weeks' mean or more (0.7525 h), amber below."
    assert chart_data(html)["delegated_hours"]["target"][-1] == 0.7525


def test_the_steady_increase_target_comes_from_the_row_not_from_the_rows_before(org, founder, viewer):
    # The week of 3 March rolled up from entries; the 4 weeks before it never were (no rows):
    # the rollup's mean, (1.01 + 2.00 + 0 + 0) / 4 = 0.7525 h, is the one shown, not 0.
    org.managed_clients = 12
    org.save()
    for start, end in [
        (chi(2, 3, 9), chi(2, 3, 10) + timedelta(seconds=36)),  # 1.01 h
        (chi(2, 10, 9), chi(2, 10, 11)),  # 2.00 h
        (chi(3, 3, 9), chi(3, 3, 9, 45)),  # 0.75 h this week
    ]:
        TimeEntryFactory(organization=org, user=founder, started_at=start, ended_at=end, handling="delegated")
    roll_up_week(org=org, monday=LAST_WEEK, now=chi(3, 12, 2))
    html = body(client_for(viewer).get(DASHBOARD, {"week": "2025-03-03"}))

    found = card(html, "delegated_hours")
    assert (found["value"], found["status"]) == ("0.75 h", "Amber: watch")
    assert found["target"] == "Target: Green at the previous 4 weeks' mean or more (0.7525 h), amber below."
    assert chart_data(html)["delegated_hours"]["target"][-1] == 0.7525


def test_the_trend_charts_carry_twelve_weeks_of_rows_and_target_lines(org, viewer):
    last_weeks_row(org)
    WeeklyKpiFactory(organization=org, week=date(2024, 12, 9), delegated_hours=Decimal(11))  # 13 weeks back
    WeeklyKpiFactory(
        organization=org, week=date(2025, 2, 17), delegated_hours=Decimal("10.25"), owner_interruptions=1,
        owner_interruptions_4wk_avg=Decimal("0.75"), aged_backlog=3,
        aged_backlog_by_team={"Tier 1": 2, "Tier 2": 1},
    )  # fmt: skip
    html = body(client_for(viewer).get(DASHBOARD, {"week": "2025-03-03"}))
    data = chart_data(html)

    assert data["labels"][0] == "16 Dec" and data["labels"][-1] == "3 Mar"  # noqa: PT018
    assert len(data["labels"]) == 12
    empty = [None] * 12
    assert data["delegated_hours"] == {
        "values": [*empty[:9], 10.25, None, 7.5],
        "status": [*empty[:9], "green", None, "amber"],
        "target": [10.0] * 12,
        "amber": [5.0] * 12,
    }
    assert data["owner_interruptions"]["values"] == [*empty[:9], 1, None, 5]
    assert data["owner_interruptions"]["average"] == [*empty[:9], 0.75, None, 3.25]
    assert data["owner_interruptions"]["target"] == [2.0] * 12
    assert data["aged_backlog"]["values"] == [*empty[:9], 3, None, 6]
    assert data["aged_backlog"]["worst_team"] == [*empty[:9], 2, None, 4]
    assert data["aged_backlog"]["target"] == [3] * 12
    for key in ("delegated_hours", "owner_interruptions", "aged_backlog"):
        assert f'<canvas id="chart-{key}" data-kpi-chart="{key}" role="img"' in html
    # The same figures as a table, newest first.
    table = inner(html, id="trend-figures")
    assert '7.50 <span class="small muted">amber</span>' in table
    assert table.count("not rolled up") == 10
    assert 'src="/static/vendor/chart-4.6.1.umd.min.js"' in html


def test_week_navigation(org, viewer):
    client = client_for(viewer)
    current = body(client.get(DASHBOARD))
    assert "Weekly KPIs · Mon 10 Mar – Sun 16 Mar 2025" in current
    assert 'id="prev-week" rel="prev" href="?week=2025-03-03"' in current
    assert 'id="next-week"' not in current  # no week after the current one
    assert 'id="this-week"' not in current

    older = body(client.get(DASHBOARD, {"week": "2025-02-24"}))
    assert "Weekly KPIs · Mon 24 Feb – Sun 2 Mar 2025" in older
    assert 'id="next-week" rel="next" href="?week=2025-03-03"' in older
    assert 'id="this-week" href="/kpis/"' in older

    # A week still to come: no call for a recompute that cannot fill it, and no warning.
    later = body(client.get(DASHBOARD, {"week": "2025-03-17"}))
    assert "Weekly KPIs · Mon 17 Mar – Sun 23 Mar 2025" in later
    assert "This week has not begun: its figures come with the nightly rollup once it has." in later
    assert 'id="stale-warning"' not in later

    # Not a Monday, or not a date: the current week.
    assert "Mon 10 Mar – Sun 16 Mar 2025" in body(client.get(DASHBOARD, {"week": "2025-03-05"}))
    assert "Mon 10 Mar – Sun 16 Mar 2025" in body(client.get(DASHBOARD, {"week": "soon"}))


# --- when the figures were computed -----------------------------------------------------------


def test_a_week_without_a_row_says_so(org, manager):
    html = body(client_for(manager).get(DASHBOARD))
    assert text(html, id="computed-at") == "Not rolled up yet."
    assert text(html, id="stale-warning") == (
        "This week has no KPI figures yet: the nightly rollup has not run for it. "
        "Use “Recompute now” to compute them."
    )
    assert card(html, "delegated_hours")["value"] == "—"
    assert card(html, "delegated_hours")["status"] == "No status yet"


@pytest.mark.parametrize(
    ("computed_at", "warned"),
    [(NOW - timedelta(hours=24), False), (NOW - timedelta(hours=24, minutes=1), True)],
    ids=["24 hours old", "older than 24 hours"],
)
def test_figures_older_than_a_day_are_flagged(org, viewer, computed_at, warned):
    WeeklyKpiFactory(organization=org, week=THIS_WEEK, final=False, computed_at=computed_at)
    html = body(client_for(viewer).get(DASHBOARD))
    assert text(html, id="computed-at") == (
        f"Week to date Computed Tue 11 Mar 2025, {computed_at.astimezone(CHI):%H:%M} (America/Chicago)"
    )
    if warned:
        assert text(html, id="stale-warning") == (
            "These figures are more than 24 hours old: the nightly rollup may not be running."
        )
    else:
        assert "stale-warning" not in html


def test_last_weeks_final_figures_are_refreshed_nightly_too(org, viewer):
    # The previous week is rolled up every night of this week (late entries): its row of
    # Monday 02:00 is 56 hours old on Wednesday at 10:00.
    last_weeks_row(org, computed_at=chi(3, 10, 2))
    html = body(client_for(viewer).get(DASHBOARD, {"week": "2025-03-03"}))
    assert "These figures are more than 24 hours old" in text(html, id="stale-warning")


def test_an_older_weeks_final_figures_are_not_stale(org, viewer):
    WeeklyKpiFactory(
        organization=org, week=date(2025, 1, 6), computed_at=datetime(2025, 1, 19, 8, tzinfo=CHI)
    )
    html = body(client_for(viewer).get(DASHBOARD, {"week": "2025-01-06"}))
    assert text(html, id="computed-at") == "Final Computed Sun 19 Jan 2025, 08:00 (America/Chicago)"
    assert "stale-warning" not in html


def test_an_ended_week_computed_only_before_its_end_is_week_to_date(org, viewer):
    WeeklyKpiFactory(organization=org, week=date(2025, 1, 6), final=False, computed_at=chi(1, 10, 2))
    html = body(client_for(viewer).get(DASHBOARD, {"week": "2025-01-06"}))
    assert text(html, id="stale-warning") == (
        "These figures were computed before the week ended: they are week-to-date, not final."
    )


# --- the Level-10 agenda ----------------------------------------------------------------------


def test_the_agenda_names_the_teams_that_triggered_and_their_top_categories(org, manager):
    last_weeks_row(org, level10_categories={"Tier 1": ["VPN", "Backup", "Email"], "Unassigned": ["Printers"]},
                   aged_backlog_by_team={"Unassigned": 4, "Tier 1": 4})  # fmt: skip
    html = body(client_for(manager).get(DASHBOARD, {"week": "2025-03-03"}))
    agenda = inner(html, id="level10-teams")
    assert texts(agenda, class_="aging-name") == ["VPN", "Backup", "Email", "Printers"]  # Unassigned last
    assert "<strong>Tier 1</strong>: 4 aged tickets." in agenda
    # "Make a to-do" opens the small form in place, the title prefilled.
    assert (
        'hx-get="/kpis/todos/new/?title=Tier+1%3A+clear+the+aged+VPN+tickets+and+fix+the+cause'
        '&amp;ticket_category=VPN&amp;week=2025-03-03&amp;slot=1-1"'
    ) in agenda
    assert agenda.count("data-make-todo") == 4


def ids(html: str) -> list[str]:
    return re.findall(r'\sid="([^"]*)"', html)


def test_the_agenda_with_every_to_do_form_open_has_no_duplicate_id(org, manager):
    # Two teams share a category name (VPN): their forms' ids differ all the same.
    last_weeks_row(org, level10_categories={"Tier 1": ["VPN", "Backup"], "Tier 2": ["VPN"]},
                   aged_backlog_by_team={"Tier 1": 4, "Tier 2": 4})  # fmt: skip
    TodoFactory(organization=org, title="Carried", created_week=date(2025, 2, 24))
    client = client_for(manager)
    html = body(client.get(DASHBOARD, {"week": "2025-03-03"}))
    opened = [
        body(client.get(url.replace("&amp;", "&"), **HTMX))
        for url in re.findall(r'hx-get="(/kpis/todos/new/\?[^"]*)"', html)
    ]
    assert len(opened) == 3
    page = html + "".join(opened)  # what the page holds with the three forms in their slots
    assert [i for i in set(ids(page)) if ids(page).count(i) > 1] == []
    assert {"todo_1-1_title", "todo_1-2_title", "todo_2-1_title"} <= set(ids(page))
    # Each label still names its own form's field.
    for form in opened:
        for target in re.findall(r'<label for="([^"]+)"', form):
            assert f'id="{target}"' in form

    # A refusal and "Make another" keep the form's own ids.
    refused = client.post("/kpis/todos/new/", {"title": "", "owner": manager.pk, "slot": "2-1"}, **HTMX)
    assert refused.status_code == 422
    assert 'id="todo_2-1_title"' in body(refused)
    assert 'name="slot" value="2-1"' in body(refused)
    made = client.post(
        "/kpis/todos/new/", {"title": "VPN", "owner": manager.pk, "slot": "2-1", "week": "2025-03-03"}, **HTMX
    )
    another = re.search(r'hx-get="([^"]+)"', body(made)).group(1).replace("&amp;", "&")
    assert 'id="todo_2-1_title"' in body(client.get(another, **HTMX))


@pytest.mark.parametrize("slot", ['"><script>', "x" * 41, "1_1"])
def test_a_slot_that_is_not_a_plain_name_is_left_out(org, manager, slot):
    html = body(client_for(manager).get("/kpis/todos/new/", {"slot": slot}, **HTMX))
    assert 'id="todo_title"' in html
    assert 'name="slot"' not in html


def test_viewers_read_the_agenda_without_making_to_dos(org, viewer):
    last_weeks_row(org)
    agenda = inner(body(client_for(viewer).get(DASHBOARD, {"week": "2025-03-03"})), id="level10-teams")
    assert "VPN" in agenda
    assert "Make a to-do" not in agenda


def test_no_team_at_four_aged_tickets_needs_no_review(org, viewer):
    last_weeks_row(org, level10_review=False, level10_categories={}, aged_backlog_by_team={"Tier 1": 3})
    html = body(client_for(viewer).get(DASHBOARD, {"week": "2025-03-03"}))
    assert text(html, id="level10-teams") == "No team at 4 or more aged tickets: no review needed."


def test_the_weeks_interruptions_by_category_and_channel_from_its_row(org, viewer):
    # As the rollup stores them (services.interruption_breakdown); jsonb keeps no key order, so
    # the page orders them: most first, then by name, Uncategorized after its equals.
    last_weeks_row(
        org,
        interruptions_by_category={"Uncategorized": 1, "Backup": 1, "VPN": 3},
        interruptions_by_channel={"email": 1, "call": 2, "text": 1, "escalation": 1},
    )
    section = inner(
        body(client_for(viewer).get(DASHBOARD, {"week": "2025-03-03"})), id="interruptions-by-category"
    )
    assert text(section, data_role="total") == "5"
    assert texts(inner(section, id="interruptions-categories"), data_category="VPN") == ["VPN 3"]
    categories = inner(section, id="interruptions-categories").split("<tbody>")[1]
    assert [found["text"] for found in elements(categories) if found["html"].startswith("<th")] == [
        "VPN 3", "Backup 1", "Uncategorized 1",
    ]  # fmt: skip
    channels = inner(section, id="interruptions-channels").split("<tbody>")[1]
    assert [found["text"] for found in elements(channels) if found["html"].startswith("<th")] == [
        "Call 2", "Email 1", "Emergency escalation 1", "Text 1",
    ]  # fmt: skip


def test_a_week_without_interruptions_or_without_a_row_says_so(org, viewer):
    last_weeks_row(org)
    client = client_for(viewer)
    assert text(body(client.get(DASHBOARD, {"week": "2025-03-03"})), id="interruptions-by-category") == (
        "No interruption about a ticket this week."
    )
    assert text(body(client.get(DASHBOARD)), id="interruptions-by-category") == "Not rolled up yet."


def test_delegations_due_for_review_this_week_or_overdue(org, other_org, viewer):
    due = DelegationFactory(
        organization=org, title="Backups to the NOC", status=DelegationStatus.HANDED_OFF,
        review_date=date(2025, 3, 16), delegate__name="Dana",
    )  # fmt: skip
    overdue = DelegationFactory(
        organization=org, title="Password resets", status=DelegationStatus.HANDED_OFF,
        review_date=date(2025, 3, 1), delegate__name="Eli",
    )  # fmt: skip
    DelegationFactory(organization=org, title="Next week", status="handed_off", review_date=date(2025, 3, 17))
    DelegationFactory(organization=org, title="Already done", status="done", review_date=date(2025, 3, 12))
    DelegationFactory(organization=org, title="No date", status="handed_off", review_date=None)
    DelegationFactory(
        organization=other_org, title="Rival's delegation", status="handed_off", review_date=date(2025, 3, 10)
    )
    section = inner(body(client_for(viewer).get(DASHBOARD)), id="delegations-review")

    # Oldest review first; the one before today is overdue.
    assert texts(section, class_="overdue") == ["Password resets → Eli · Tickets · review Sat 1 Mar overdue"]
    assert texts(section, class_="") == ["Backups to the NOC → Dana · Tickets · review Sun 16 Mar"]
    assert section.index("Password resets") < section.index("Backups to the NOC")
    assert f'href="/delegation/delegations/{due.pk}/"' in section
    assert f'href="/delegation/delegations/{overdue.pk}/"' in section
    for absent in ("Next week", "Already done", "No date", "Rival's delegation"):
        assert absent not in section


# --- CSV export -------------------------------------------------------------------------------


def test_the_csv_export_has_the_api_rows_fields_flattened(org, viewer):
    last_weeks_row(org)
    WeeklyKpiFactory(
        organization=org, week=THIS_WEEK, final=False, computed_at=chi(3, 12, 2),
        delegated_hours=Decimal("1.5"), aged_backlog=2, aged_backlog_by_team={"Tier 3": 2},
        owner_interruptions=1, owner_interruptions_4wk_avg=Decimal("1.50"),
    )  # fmt: skip
    WeeklyKpiFactory(organization=OrganizationFactory(), week=THIS_WEEK)  # another org's: never exported
    response = client_for(viewer).get("/kpis/weekly.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="acme-it-weekly-kpis.csv"'
    assert body(response).split("\r\n") == [
        "week,final,computed_at,delegated_hours,personal_hours,logged_hours,hours_repetitive,"
        "hours_outsourceable,hours_systemizable,hours_owner_by_habit,owner_interruptions,"
        "owner_interruptions_4wk_avg,aged_backlog,level10_review,aged_backlog:Tier 1,aged_backlog:Tier 2,"
        "aged_backlog:Tier 3,aged_backlog:Unassigned,level10_categories:Tier 1,managed_clients,"
        "status_delegated_hours,status_owner_interruptions,status_aged_backlog",
        "2025-03-03,true,2025-03-12T02:00:00-05:00,7.50,21.25,28.75,3.00,1.50,0.00,2.25,5,3.25,6,true,"
        "4,1,0,1,VPN; Backup; Email,24,amber,red,red",
        "2025-03-10,false,2025-03-12T02:00:00-05:00,1.50,0.00,0.00,0.00,0.00,0.00,0.00,1,1.50,2,false,"
        "0,0,2,0,,24,green,green,green",
        "",
    ]


def test_the_csv_export_takes_a_range_of_weeks(org, viewer):
    for week in (date(2025, 2, 17), date(2025, 2, 24), LAST_WEEK):
        WeeklyKpiFactory(organization=org, week=week)
    lines = body(
        client_for(viewer).get("/kpis/weekly.csv", {"from": "2025-02-24", "to": "2025-03-03"})
    ).split()
    assert [line.split(",")[0] for line in lines[1:]] == ["2025-02-24", "2025-03-03"]


def test_technicians_get_no_csv(technician):
    assert client_for(technician).get("/kpis/weekly.csv").status_code == 403


# --- recompute now ----------------------------------------------------------------------------


def test_recompute_now_queues_a_run_once_committed_and_shows_it_queued(
    org, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = client_for(manager).post("/kpis/rollup/", {"week": "2025-03-10"}, **HTMX)

    run = RollupRun.objects.get()
    assert (run.organization, run.requested_by, run.finished_at) == (org, manager, None)
    assert len(queued) == 1  # the task is sent once the run is committed (services.request_rollup)
    assert response.status_code == 202
    html = body(response)
    assert f'hx-get="/kpis/rollup/{run.pk}/" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    assert text(html, id="rollup-progress") == "Queued: waiting for a worker…"


def test_a_second_click_while_a_run_is_under_way_shows_the_same_run(org, manager):
    running = RollupRunFactory(organization=org, weeks_total=2, weeks_done=1, finished_at=None)
    response = client_for(manager).post("/kpis/rollup/", **HTMX)
    assert RollupRun.objects.count() == 1
    assert f"/kpis/rollup/{running.pk}/" in body(response)


def test_a_reload_shows_the_run_under_way_not_a_lost_a_finished_or_another_orgs_one(org, other_org, manager):
    # A run not finished 15 minutes after it was requested is taken as lost (RUN_FRESH).
    def run(organization, minutes_ago: int, finished: bool = False) -> RollupRun:
        made = RollupRunFactory(organization=organization, weeks_total=2, weeks_done=1, finished_at=None)
        RollupRun.objects.filter(pk=made.pk).update(
            requested_at=NOW - timedelta(minutes=minutes_ago), finished_at=NOW if finished else None
        )
        return made

    lost, finished = run(org, 16), run(org, 1, finished=True)
    theirs = run(other_org, 1)
    client = client_for(manager)

    def shown() -> list[int]:
        html = body(client.get(DASHBOARD))
        return [r.pk for r in (lost, finished, theirs, *fresh) if f"/kpis/rollup/{r.pk}/" in html]

    fresh = []
    assert shown() == []
    fresh = [run(org, 15)]  # requested exactly 15 minutes ago: still under way
    assert shown() == [fresh[0].pk]
    fresh.append(run(org, 14))
    assert shown() == [fresh[1].pk]  # the latest of the two under way
    assert f"/kpis/rollup/{fresh[1].pk}/" in body(client.post("/kpis/rollup/", **HTMX))
    assert RollupRun.objects.count() == 5  # no new run while one is under way


@pytest.mark.parametrize("role", ["viewer", "technician"])
def test_only_founders_and_service_managers_recompute(request, role):
    response = client_for(request.getfixturevalue(role)).post("/kpis/rollup/", **HTMX)
    assert response.status_code == 403
    assert not RollupRun.objects.exists()


def test_the_progress_polls_until_the_run_finishes_then_reloads_the_figures(org, manager):
    run = RollupRunFactory(
        organization=org, requested_by=manager, weeks_total=0, weeks_done=0, finished_at=None
    )
    client = client_for(manager)
    url = f"/kpis/rollup/{run.pk}/"

    queued = client.get(url, **HTMX)
    assert text(body(queued), id="rollup-progress") == "Queued: waiting for a worker…"
    assert 'hx-trigger="every 1s"' in body(queued)
    assert "HX-Trigger" not in queued

    RollupRun.objects.filter(pk=run.pk).update(weeks_total=2, weeks_done=1)
    running = client.get(url, **HTMX)
    assert text(body(running), id="rollup-progress") == "1/2 Recomputing: 1 of 2 weeks done…"
    assert '<progress max="2" value="1"' in body(running)
    assert 'hx-trigger="every 1s"' in body(running)

    RollupRun.objects.filter(pk=run.pk).update(
        weeks_done=2, finished_at=datetime(2025, 3, 12, 9, 59, 58, tzinfo=CHI)
    )
    done = client.get(url, **HTMX)
    assert text(body(done), id="rollup-progress") == "✓ Recomputed the weeks of 3 Mar and 10 Mar at 09:59:58."
    assert "hx-trigger" not in body(done)  # polling stops
    assert done["HX-Trigger"] == "kpis-recomputed"  # the figures listen for it and reload
    assert 'hx-trigger="kpis-recomputed from:body"' in body(client.get(DASHBOARD))


def test_a_failed_run_says_why_and_stops_polling(org, manager):
    run = RollupRunFactory(organization=org, error="The task queue is unreachable (OperationalError).")
    response = client_for(manager).get(f"/kpis/rollup/{run.pk}/", **HTMX)
    assert text(body(response), id="rollup-progress") == (
        "Recompute failed: The task queue is unreachable (OperationalError). "
        "The nightly rollup will catch up."
    )
    assert "hx-trigger" not in body(response)
    assert "HX-Trigger" not in response


def test_the_figures_reload_after_the_task_ran(org, manager, founder):
    """The task itself (no worker here): the run's progress lands on it, the figures partial
    then shows this week's fresh row."""
    run = RollupRunFactory(
        organization=org, requested_by=manager, weeks_total=0, weeks_done=0, finished_at=None
    )
    InterruptionFactory(organization=org, occurred_at=chi(3, 11, 9), channel="text", category="VPN")
    roll_up_requested(run.pk)
    run.refresh_from_db()
    assert (run.weeks_total, run.weeks_done, run.error) == (2, 2, "")
    client = client_for(manager)
    assert client.get(f"/kpis/rollup/{run.pk}/", **HTMX)["HX-Trigger"] == "kpis-recomputed"

    figures = client.get(DASHBOARD, {"week": "2025-03-10"}, **HTMX)
    html = body(figures)
    assert html.lstrip().startswith("{# ") is False
    assert html.lstrip().startswith('<div id="kpi-figures"')
    assert text(html, id="computed-at") == "Week to date Computed Wed 12 Mar 2025, 10:00 (America/Chicago)"
    assert "stale-warning" not in html
    assert card(html, "owner_interruptions")["value"] == "1"
    assert texts(html, data_channel="Text") == ["Text 1"]  # the breakdown the rollup stored


@pytest.fixture
def eager_celery():
    from msp_ops.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.mark.django_db(transaction=True)  # as in production: the run commits, the task runs at once
def test_with_eager_celery_the_answer_is_already_done_and_reloads_the_figures(org, manager, eager_celery):
    response = client_for(manager).post("/kpis/rollup/", **HTMX)
    assert response.status_code == 202
    assert text(body(response), id="rollup-progress").startswith("✓ Recomputed the weeks of ")
    assert response["HX-Trigger"] == "kpis-recomputed"
    assert WeeklyKpi.objects.filter(organization=org).count() == 2


@pytest.mark.django_db(transaction=True)
def test_recompute_now_on_an_older_week_recomputes_that_week_too(org, manager, eager_celery):
    client = client_for(manager)
    current = weeks.current_week(org.tz)
    older = current - timedelta(weeks=5)
    assert f"the week shown ({older:%-d %b}), the previous and the current week" in body(
        client.get(DASHBOARD, {"week": older.isoformat()})
    )

    response = client.post("/kpis/rollup/", {"week": older.isoformat()}, **HTMX)

    assert response.status_code == 202
    previous = current - timedelta(weeks=1)
    assert text(body(response), id="rollup-progress").startswith(
        f"✓ Recomputed the weeks of {older:%-d %b}, {previous:%-d %b} and {current:%-d %b} at "
    )
    assert sorted(WeeklyKpi.objects.filter(organization=org).values_list("week", flat=True)) == [
        older, previous, current
    ]  # fmt: skip
    assert RollupRun.objects.get().week == older
    # The previous or the current week shown: those two only, as the API's recompute.
    client.post("/kpis/rollup/", {"week": previous.isoformat()}, **HTMX)
    assert RollupRun.objects.order_by("id").last().week is None


def test_without_javascript_recompute_redirects_to_the_dashboard_showing_the_run(org, manager):
    client = client_for(manager)
    response = client.post("/kpis/rollup/", {"week": "2025-03-03"})
    run = RollupRun.objects.get()
    assert response.status_code == 302
    assert response.url == f"/kpis/?week=2025-03-03&run={run.pk}"
    assert "Queued: waiting for a worker…" in text(body(client.get(response.url)), id="rollup-progress")


def test_a_reload_while_a_run_is_under_way_keeps_polling(org, viewer):
    run = RollupRunFactory(organization=org, weeks_total=2, weeks_done=0, finished_at=None)
    html = body(client_for(viewer).get(DASHBOARD))
    assert f'hx-get="/kpis/rollup/{run.pk}/" hx-trigger="every 1s"' in html


def test_another_organizations_run_is_404(org, manager, other_org):
    foreign = RollupRunFactory(organization=other_org)
    assert client_for(manager).get(f"/kpis/rollup/{foreign.pk}/", **HTMX).status_code == 404


# --- queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("running", [False, True], ids=["no run", "a run under way"])
@pytest.mark.parametrize("weeks_of_history", [1, 30])
def test_the_dashboard_query_count_does_not_grow_with_history(
    org, manager, weeks_of_history, running, django_assert_num_queries
):
    if running:  # its progress line names its weeks without reading the organization again
        RollupRunFactory(organization=org, weeks_total=2, weeks_done=1, finished_at=None)
    judged_by = KpiTargets(organization=org).applied()  # as the rollup keeps them on each row
    for n in range(weeks_of_history):
        WeeklyKpiFactory(
            organization=org,
            week=THIS_WEEK - timedelta(weeks=n),
            aged_backlog_by_team={"Tier 1": n},
            targets={**judged_by, "aged_backlog_team_max": n},
        )
    TodoFactory.create_batch(3, organization=org, created_week=THIS_WEEK - timedelta(weeks=1))
    DelegationFactory(organization=org, status="handed_off", review_date=date(2025, 3, 11))
    client = client_for(manager)
    # session, user, memberships (with their orgs: the page's and the switcher's); targets, the 16
    # rows, the to-dos on last week's or this week's agenda (with their owners), delegations due,
    # the run
    with django_assert_num_queries(8):
        response = client.get(DASHBOARD)
    assert response.status_code == 200


@pytest.mark.parametrize("weeks_of_history", [1, 30])
def test_the_csv_query_count_does_not_grow_with_history(
    org, viewer, weeks_of_history, django_assert_num_queries
):
    for n in range(weeks_of_history):
        WeeklyKpiFactory(organization=org, week=THIS_WEEK - timedelta(weeks=n))
    client = client_for(viewer)
    with django_assert_num_queries(4):  # session, user, membership, the rows
        response = client.get("/kpis/weekly.csv")
    assert body(response).count("\r\n") == weeks_of_history + 1


@pytest.mark.parametrize("value", ["²", "99999999999999999999"])
def test_a_run_that_is_no_row_id_shows_the_dashboard_without_a_run(org, viewer, value):
    # "²".isdigit() holds but int() refuses it (a 500 before); the second is past the bigint range.
    response = client_for(viewer).get(f"{DASHBOARD}?run={value}")
    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' not in body(response)
