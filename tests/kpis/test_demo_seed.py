"""seed_demo's KPI data (issue 11 item 8): 12 weeks of tickets of 3 teams, Level-10 reviews and
to-dos, a stand-up with rows now, and every week of the history rolled up.

Pinned to Wednesday 2026-11-25 15:00 in Chicago, like the other apps' demo tests: the history
runs from Monday 2026-08-31 (week 0) to the audit week of 2026-11-16 (week 11), then the
current week of 2026-11-23; the Chicago DST change of 2026-11-01 lies inside it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.forms.models import model_to_dict

from kpis.demo import HELP_DESK, NOC, STUCK, TEAMS, TITLES, seed_kpis
from kpis.models import Ticket, Todo, WeeklyKpi
from kpis.selectors import agenda_todos, standup
from kpis.services import roll_up_org
from msp_ops.lib import weeks
from msp_ops.orgs.demo.seed import seed_demo
from msp_ops.orgs.services import add_member, create_organization

NOW = "2026-11-25T15:00:00-06:00"
FIRST = date(2026, 8, 31)
CURRENT = date(2026, 11, 23)
MONDAYS = [FIRST + timedelta(weeks=k) for k in range(13)]


@pytest.fixture
def demo(db):
    with time_machine.travel(NOW, tick=False):
        return seed_demo()


def now() -> datetime:
    return datetime.fromisoformat(NOW)


def test_every_week_of_the_history_and_the_current_one_is_rolled_up(demo):
    rows = list(WeeklyKpi.objects.for_org(demo.org).order_by("week"))
    assert [row.week for row in rows] == MONDAYS
    assert MONDAYS[-1] == CURRENT
    assert [row.final for row in rows] == [True] * 12 + [False]
    assert {row.computed_at for row in rows} == {now()}
    # Built on the other apps' demo data: the founder's delegated hours and the pings count.
    assert all(row.logged_hours > 0 for row in rows)
    assert rows[11].delegated_hours > rows[0].delegated_hours > 0
    assert sum(row.owner_interruptions for row in rows) > 50
    # What the nightly rollup would write now: the dashboard is up to date at first start.
    with time_machine.travel(NOW, tick=False):
        again = roll_up_org(org=demo.org, mondays=MONDAYS)
    assert [model_to_dict(row) for row in again] == [model_to_dict(row) for row in rows]
    [line] = [note for note in demo.notes if note.startswith("Weekly KPIs:")]
    assert line == (
        f"Weekly KPIs: {Ticket.objects.count()} tickets of 3 teams since 2026-08-31 (11 open now), "
        "12 Level-10 to-dos (10 done), 13 weeks rolled up (6 with a Level-10 review)."
    )


def test_each_weeks_aged_backlog_is_the_teams_stuck_tickets_and_some_weeks_have_a_review(demo):
    rows = {row.week: row for row in WeeklyKpi.objects.for_org(demo.org)}
    for k, monday in enumerate(MONDAYS[:12]):
        expected = {team or "Unassigned": counts[k] for team, counts in STUCK.items() if counts[k]}
        assert rows[monday].aged_backlog_by_team == expected, monday
    reviews = [k for k, monday in enumerate(MONDAYS) if rows[monday].level10_review]
    assert reviews == [2, 3, 4, 6, 7, 10]
    assert rows[MONDAYS[3]].level10_categories[HELP_DESK][0] == "MFA"  # the MFA rollout
    assert rows[MONDAYS[10]].level10_categories == {NOC: ["Backup"]}
    assert rows[MONDAYS[3]].status["aged_backlog"] == "red"
    assert rows[MONDAYS[11]].status["aged_backlog"] == "green"
    # Now: one ticket of each team (and one of nobody's) past its target.
    assert rows[CURRENT].aged_backlog_by_team == {
        "Field Services": 1, "Help Desk": 1, "NOC": 1, "Unassigned": 1,
    }  # fmt: skip


def test_three_teams_and_the_usual_ticket_categories(demo):
    tickets = Ticket.objects.for_org(demo.org)
    assert 300 < tickets.count() < 600
    assert set(tickets.values_list("team", flat=True)) == {*TEAMS, ""}
    categories = set(tickets.values_list("category", flat=True))
    assert categories <= set(TITLES)
    assert {
        "VPN",
        "Backup",
        "MFA",
        "Printers",
        "Email quarantine",
        "Onboarding",
        "Patching",
        "",
    } <= categories
    assert set(tickets.values_list("severity", flat=True)) == {"p1", "p2", "p3", "p4"}
    first = tickets.order_by("opened_at").first()
    assert weeks.local_date(first.opened_at, demo.org.tz) >= FIRST
    assert not tickets.filter(opened_at__gt=now()).exists()
    assert not tickets.filter(closed_at__gt=now()).exists()  # nothing closes in the future
    assert tickets.filter(closed_at__isnull=True).count() >= 7


def test_the_standup_has_breached_and_soon_due_tickets_now(demo):
    found = standup(demo.org, now())
    assert [team.team for team in found.teams] == ["Field Services", "Help Desk", "NOC", "Unassigned"]
    assert [len(team.breached) for team in found.teams] == [1, 1, 1, 1]
    assert sum(len(team.due_within_24h) for team in found.teams) >= 3
    assert found.interruptions_yesterday  # the delegation demo's pings of Tuesday


def test_level10_todos_some_done_some_carried_over_to_this_weeks_agenda(demo):
    todos = list(Todo.objects.for_org(demo.org).select_related("owner"))
    done = [todo for todo in todos if todo.done]
    still_open = [todo for todo in todos if not todo.done]
    assert len(todos) == 12
    assert (len(done), len(still_open)) == (10, 2)
    assert all(weeks.as_utc(todo.done_at) <= weeks.as_utc(now()) for todo in done)
    assert {todo.owner.username for todo in todos} == {"manager", "tech"}
    assert {todo.ticket_category for todo in todos} >= {"MFA", "Onboarding", "Backup"}
    # The review of week 4 left one undone; the latest review's (week 10) was made last week.
    assert sorted(todo.created_week for todo in still_open) == [MONDAYS[5], MONDAYS[11]]
    for todo in todos:
        assert todo.due_date == todo.created_week + timedelta(days=8)  # the Tuesday meeting + 7 days
    agenda = list(agenda_todos(demo.org, CURRENT))
    assert sorted(t.pk for t in agenda) == sorted(t.pk for t in still_open)


def test_a_second_run_adds_nothing_and_rolls_up_the_last_two_weeks(demo):
    tickets, todos = Ticket.objects.count(), Todo.objects.count()
    with time_machine.travel("2026-11-26T09:00:00-06:00", tick=False):
        again = seed_demo()
    assert "Weekly KPIs: rolled up the weeks of 2026-11-16 and 2026-11-23." in again.notes
    assert (Ticket.objects.count(), Todo.objects.count()) == (tickets, todos)
    computed = dict(WeeklyKpi.objects.for_org(demo.org).values_list("week", "computed_at"))
    assert computed[date(2026, 11, 23)] == datetime.fromisoformat("2026-11-26T09:00:00-06:00")
    assert computed[date(2026, 11, 9)] == now()


def _org(slug: str):
    org = create_organization(slug=slug, name=slug, timezone_name="America/Chicago", managed_clients=24)
    for username, role in [("founder", "founder"), ("manager", "service_manager"), ("tech", "technician")]:
        add_member(org=org, username=username, role=role)
    return org


def test_seed_kpis_is_deterministic_and_quick(db, django_assert_max_num_queries):
    def snapshot(org):
        return (
            list(
                Ticket.objects.for_org(org)
                .order_by("external_id")
                .values_list(
                    "external_id", "title", "client", "category", "severity", "team", "opened_at", "closed_at"
                )
            ),
            list(
                Todo.objects.for_org(org).order_by("id").values_list("title", "due_date", "done", "done_at")
            ),
        )

    first, second = _org("demo-a"), _org("demo-b")
    with time_machine.travel(NOW, tick=False):
        # One batch of tickets, the rollup of 13 weeks (12 queries each), a few per review meeting.
        with django_assert_max_num_queries(250):
            seed_kpis(first, created=True)
        seed_kpis(second, created=True)
    assert snapshot(first) == snapshot(second)
    assert snapshot(first)[0]


def test_nothing_without_a_founder(db):
    org = create_organization(slug="empty", name="Empty MSP")
    assert seed_kpis(org, created=True) is None
    assert not Ticket.objects.for_org(org).exists()
