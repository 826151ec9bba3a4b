"""Level-10 to-dos (SPEC 1): due at the next weekly review by default (7 days after the day it is
created, org timezone), done_at following done, open ones carried over to each next week's
agenda until done. Acme IT is in America/Chicago."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kpis.models import Todo
from kpis.selectors import agenda_lists, agenda_todos, on_agenda
from kpis.services import save_todos
from msp_ops.lib import weeks
from msp_ops.orgs.batches import BatchValidationError
from tests.api.conftest import patch, post

CHI = ZoneInfo("America/Chicago")
V1 = "/api/v1"


def chi(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=CHI)


def new_todo(owner, title: str = "Write the VPN runbook", **fields) -> Todo:
    return Todo(title=title, owner=owner, ticket_category="VPN", **fields)


@pytest.mark.parametrize(
    ("now", "created_week", "due_date"),
    [
        # 2025-03-05 03:00Z is Wednesday in UTC, still Tuesday 2025-03-04 21:00 in Chicago.
        (datetime(2025, 3, 5, 3, tzinfo=UTC), date(2025, 3, 3), date(2025, 3, 11)),
        # 2025-03-10 03:00Z is Monday in UTC, still Sunday 2025-03-09 22:00 CDT: last week's.
        (datetime(2025, 3, 10, 3, tzinfo=UTC), date(2025, 3, 3), date(2025, 3, 16)),
        # Monday 00:00 local: the new week's first instant.
        (chi(3, 10), date(2025, 3, 10), date(2025, 3, 17)),
    ],
)
def test_a_new_todo_is_of_this_local_week_and_due_seven_local_days_later(
    org, founder, now, created_week, due_date
):
    [saved] = save_todos(org=org, todos=[new_todo(founder)], now=now)

    stored = Todo.objects.get(pk=saved.obj.pk)
    assert saved.created is True
    assert (stored.created_week, stored.due_date, stored.done, stored.done_at) == (
        created_week,
        due_date,
        False,
        None,
    )


def test_a_given_due_date_is_kept(org, founder):
    [saved] = save_todos(org=org, todos=[new_todo(founder, due_date=date(2025, 4, 1))], now=chi(3, 5, 9))
    assert Todo.objects.get(pk=saved.obj.pk).due_date == date(2025, 4, 1)


def test_done_at_is_set_when_done_kept_on_later_edits_and_cleared_when_reopened(org, founder):
    [saved] = save_todos(org=org, todos=[new_todo(founder)], now=chi(3, 4, 9))
    todo = saved.obj

    todo.done = True
    save_todos(org=org, todos=[todo], now=chi(3, 6, 15))
    assert Todo.objects.get(pk=todo.pk).done_at == chi(3, 6, 15)

    todo.title = "Write the VPN runbook (with screenshots)"  # an edit of a done to-do
    save_todos(org=org, todos=[todo], now=chi(3, 7, 10))
    stored = Todo.objects.get(pk=todo.pk)
    assert (stored.done, stored.done_at, stored.created_week) == (True, chi(3, 6, 15), date(2025, 3, 3))

    todo.done = False
    save_todos(org=org, todos=[todo], now=chi(3, 8, 10))
    assert Todo.objects.get(pk=todo.pk).done_at is None


def test_a_todo_done_when_created_has_done_at_then(org, founder):
    [saved] = save_todos(org=org, todos=[new_todo(founder, done=True)], now=chi(3, 4, 9))
    assert Todo.objects.get(pk=saved.obj.pk).done_at == chi(3, 4, 9)


def test_an_owner_from_another_organization_is_refused_and_nothing_is_stored(org, founder, stranger):
    with pytest.raises(BatchValidationError) as refused:
        save_todos(org=org, todos=[new_todo(founder), new_todo(stranger)], now=chi(3, 4, 9))
    assert refused.value.item_errors == [{}, {"owner": ["Not a member of this organization."]}]
    assert Todo.objects.count() == 0


def _agenda(org, monday: date) -> list[str]:
    return [todo.title for todo in agenda_todos(org, monday).order_by("created_at", "id")]


def test_open_todos_carry_over_to_each_next_weeks_agenda_until_done(org, founder, manager):
    # Created in the week of 2025-03-03: "backup" (done during the week of 2025-03-10), "vpn"
    # (done at the first instant of the week of 2025-03-17), "mfa" (still open).
    todos = [new_todo(founder, title) for title in ("backup", "vpn", "mfa")]
    save_todos(org=org, todos=todos, now=chi(3, 4, 10))
    save_todos(org=org, todos=[new_todo(manager, "printers")], now=chi(3, 11, 10))
    backup, vpn, _ = todos
    backup.done = True
    save_todos(org=org, todos=[backup], now=chi(3, 12, 16))
    vpn.done = True
    save_todos(org=org, todos=[vpn], now=chi(3, 17))

    assert _agenda(org, date(2025, 2, 24)) == []  # before any was created
    assert _agenda(org, date(2025, 3, 3)) == ["backup", "vpn", "mfa"]
    assert _agenda(org, date(2025, 3, 10)) == ["backup", "vpn", "mfa", "printers"]  # backup done in it
    assert _agenda(org, date(2025, 3, 17)) == ["vpn", "mfa", "printers"]  # done at its first instant
    assert _agenda(org, date(2025, 3, 24)) == ["mfa", "printers"]
    assert _agenda(org, date(2025, 6, 2)) == ["mfa", "printers"]  # until done, however long


def test_the_agenda_week_is_local(org, founder):
    # Done 2025-03-10 03:00Z: Sunday 22:00 CDT, before the week of 2025-03-10 began in Chicago.
    [saved] = save_todos(org=org, todos=[new_todo(founder)], now=chi(3, 4, 10))
    saved.obj.done = True
    save_todos(org=org, todos=[saved.obj], now=datetime(2025, 3, 10, 3, tzinfo=UTC))

    todos = Todo.objects.for_org(org)
    assert on_agenda(todos, date(2025, 3, 3), org.tz).count() == 1
    assert on_agenda(todos, date(2025, 3, 10), org.tz).count() == 0


def test_the_api_lists_a_weeks_agenda_and_sets_done_at(api, org, founder):
    with time_machine.travel(chi(3, 4, 21), tick=False):  # 2025-03-05 03:00Z
        created = post(api, f"{V1}/todos/", {"title": "Clear the MFA backlog", "owner": "fran"}).json()
    assert (created["created_week"], created["due_date"]) == ("2025-03-03", "2025-03-11")

    with time_machine.travel(chi(3, 19, 11), tick=False):
        done = patch(api, f"{V1}/todos/{created['id']}/", {"done": True}).json()
    assert done["done_at"] == "2025-03-19T11:00:00-05:00"

    def week(monday: str) -> list[int]:
        return [t["id"] for t in api.get(f"{V1}/todos/", {"week": monday}).json()["results"]]

    assert (week("2025-03-03"), week("2025-03-17"), week("2025-03-24")) == (
        [created["id"]],
        [created["id"]],
        [],
    )
    assert api.get(f"{V1}/todos/", {"week": "2025-03-04"}).json() == {
        "week": ["2025-03-04 is a Tuesday; a week is named by its Monday."]
    }

    with time_machine.travel(chi(3, 20, 9), tick=False):
        reopened = patch(api, f"{V1}/todos/{created['id']}/", {"done": False}).json()
    assert (reopened["done"], reopened["done_at"]) == (False, None)
    assert week("2025-03-24") == [created["id"]]


def test_todo_due_dates_in_the_week_before_a_review_stay_calendar_days(org, founder):
    # Created on Saturday 2025-03-08, the night before Chicago springs forward: due Saturday.
    [saved] = save_todos(org=org, todos=[new_todo(founder)], now=chi(3, 8, 23, 30))
    assert Todo.objects.get(pk=saved.obj.pk).due_date == date(2025, 3, 15)
    assert Todo.objects.get(pk=saved.obj.pk).created_week == date(2025, 3, 3)


def test_the_dashboards_agenda_reads_the_same_rule_as_the_orm(org, other_org, founder, stranger):
    # The dashboard reads agenda_rule as SQL of its own (kpis.selectors.agenda_lists). To-dos
    # created in each of four weeks around Chicago's spring-forward (2025-03-09), open or done at
    # each week's first instant, 1 µs either side of it, or mid-week; the same in another org.
    mondays = [date(2025, 2, 24) + timedelta(weeks=n) for n in range(5)]
    step = timedelta(microseconds=1)
    moments = [None, chi(3, 12, 15, 30)]
    for monday in mondays:
        start = weeks.week_bounds(monday, CHI)[0]
        moments += [start - step, start, start + step]
    for owner, owner_org in ((founder, org), (stranger, other_org)):
        Todo.objects.bulk_create(
            Todo(
                organization=owner_org, title=f"{created} {done_at}", owner=owner, ticket_category="VPN",
                created_week=created, due_date=created + timedelta(days=8 - n % 3),
                done=done_at is not None, done_at=done_at,
            )
            for created in mondays[:4]
            for n, done_at in enumerate(moments)
        )  # fmt: skip
    todos = Todo.objects.for_org(org)
    flags = set()
    for monday in [*mondays, mondays[-1] + timedelta(weeks=1)]:
        last = set(on_agenda(todos, monday - timedelta(weeks=1), CHI).values_list("pk", flat=True))
        this = set(on_agenda(todos, monday, CHI).values_list("pk", flat=True))
        by_the_orm = todos.filter(pk__in=last | this).select_related("owner").order_by("due_date", "id")

        read = [(t.pk, t.on_last_agenda, t.owner.username) for t in agenda_lists(org, monday)]

        assert read == [(t.pk, t.pk in last, t.owner.username) for t in by_the_orm], monday
        flags |= {on_last for _, on_last, _ in read}
    assert flags == {True, False}
