"""Every write of the KPI app: tickets, the SLA policy, KPI targets, to-dos and the rollup.

``roll_up_weeks`` is the one implementation behind the nightly task, ``manage.py rollup_kpis``
and the dashboard's "recompute now": it sums the raw figures of all the weeks asked for in
three set-based queries (SPEC 3), computes the statuses with ``kpis.formulas`` and replaces
each (org, week) row in a transaction of its own, so running it twice gives the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from psycopg.pq import TransactionStatus

from audits.models import TAG_FIELDS
from audits.selectors import founder_hours_by_week
from kpis import formulas
from kpis.models import (
    UNASSIGNED,
    KpiTargets,
    RollupRun,
    SlaPolicy,
    Ticket,
    Todo,
    WeeklyKpi,
)
from kpis.selectors import aged_at_moments, interruptions_by_window, rollup_settings, sla_policy
from msp_ops.lib import prepared, weeks
from msp_ops.lib.prepared import Prepared
from msp_ops.orgs.batches import Batch, Saved, check_members, save_batch
from msp_ops.orgs.models import Organization

# --- settings -----------------------------------------------------------------------------


def create_kpi_defaults(*, org: Organization) -> None:
    """SPEC's SLA policy and KPI targets for a new organization (its MspApp hook)."""
    SlaPolicy.objects.get_or_create(organization=org)
    KpiTargets.objects.get_or_create(organization=org)


@transaction.atomic
def update_settings(
    *, row: SlaPolicy | KpiTargets | Organization, values: dict[str, Any]
) -> SlaPolicy | KpiTargets | Organization:
    """Changes some fields of the SLA policy, the KPI targets or the organization's own settings
    (its number of managed clients), validated; refused: unchanged.
    ``row`` may be unsaved (an organization older than the settings): it is created then.

    The values go onto the row as stored now, locked until the commit: two writes at once
    (a PATCH of green and one of amber) are checked one after the other, never each against
    the row as it was before the other."""
    if row.pk is not None:
        row = type(row).objects.select_for_update().get(pk=row.pk)
    for name, value in values.items():
        setattr(row, name, value)
    row.full_clean(exclude=["organization"])
    row.save()
    return row


# --- tickets and to-dos -------------------------------------------------------------------


CLOSED_BEFORE_OPENED = "A ticket cannot be closed before it was opened."


def save_tickets(*, org: Organization, tickets: Sequence[Ticket]) -> list[Saved[Ticket]]:
    """Stores tickets, upserting on ``external_id`` (required: a PSA pushes its ids)."""
    return save_batch(org=org, items=tickets, rules=_ticket_rules, noun="ticket")


def _ticket_rules(batch: Batch[Ticket]) -> None:
    # The database's check constraint would refuse it too, but as an IntegrityError, which the
    # batch reads as a lost race (a 409) instead of this item's error.
    for index, ticket in enumerate(batch.items):
        opened, closed = ticket.opened_at, ticket.closed_at
        if not all(isinstance(t, datetime) and timezone.is_aware(t) for t in (opened, closed)):
            continue  # missing or naive: the field's own error
        if weeks.as_utc(closed) < weeks.as_utc(opened):  # in UTC: same-zone compares are wall-clock
            batch.add(index, "closed_at", CLOSED_BEFORE_OPENED)


def save_todos(*, org: Organization, todos: Sequence[Todo], now: datetime | None = None) -> list[Saved[Todo]]:
    """Stores Level-10 to-dos: a new one is of this week's agenda and due at the next weekly
    review (7 days after the day it is created, org timezone) unless given; ``done_at``
    follows ``done``."""
    now = now or timezone.now()
    today = weeks.today(org.tz, now)
    for todo in todos:
        if todo.pk is None:
            todo.created_week = todo.created_week or weeks.monday_of(today)
            todo.due_date = todo.due_date or today + timedelta(days=7)
        if todo.done and todo.done_at is None:
            todo.done_at = now
        elif not todo.done:
            todo.done_at = None
    return save_batch(org=org, items=todos, rules=_todo_rules, bulk_checked=["owner"], noun="to-do")


def _todo_rules(batch: Batch[Todo]) -> None:
    check_members(batch, "owner")


# --- the rollup ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekFigures:
    delegated: Decimal
    personal: Decimal
    logged: Decimal
    by_tag: dict[str, Decimal]
    previous_delegated: list[Decimal]  # the 4 weeks before, oldest first
    interruptions: list[int]  # this week and the 3 before, this week first
    interruptions_by_category: dict[str, int]  # most first
    interruptions_by_channel: dict[str, int]  # most first
    aged_by_team: dict[str, int]
    category_ages: list[formulas.CategoryAge]
    end: datetime  # when the week ends (UTC)


HISTORY_WEEKS = 4  # the delegated-hours regime and the 4-week average look this far back


def weeks_to_refresh(org: Organization, now: datetime | None = None) -> list[date]:
    """The previous week and the current one (late entries happen; SPEC 3)."""
    current = weeks.current_week(org.tz, now)
    return [current - timedelta(weeks=1), current]


def backlog_moment(org: Organization, monday: date, now: datetime) -> datetime:
    """When a week's aged backlog is counted: at its end once it has ended, else at ``now``."""
    return min(weeks.week_bounds(monday, org.tz)[1], now)


def weeks_figures(
    org: Organization, mondays: Sequence[date], *, now: datetime, policy: SlaPolicy | None = None
) -> dict[date, WeekFigures]:
    """The raw figures of SPEC 2 for each week given (ascending), summed in the database: one
    query for the hours, one for the interruptions and one for the aged backlog, whatever the
    number of weeks (each reads its rows once, grouped by local week).

    Hours: entries of members whose role is ``founder`` now, clipped to each week (an entry
    crossing a week boundary counts its part inside). Interruptions: ``about_ticket`` ones
    with ``occurred_at`` in each week. Aged backlog: at ``backlog_moment``, tickets opened
    before it, not closed at it, older than their severity's target.
    """
    tz = org.tz
    first = mondays[0] - timedelta(weeks=HISTORY_WEEKS)
    span = [first + timedelta(weeks=n) for n in range((mondays[-1] - first).days // 7 + 1)]
    bounds = [weeks.week_bounds(monday, tz)[0] for monday in span] + [weeks.week_bounds(span[-1], tz)[1]]
    index = {monday: n for n, monday in enumerate(span)}

    hours = founder_hours_by_week(org, bounds)
    interruptions = interruptions_by_window(org, bounds)

    ends = [bounds[index[monday] + 1] for monday in mondays]
    moments = [min(end, now) for end in ends]  # backlog_moment of each week
    aged = aged_at_moments(org, moments, policy or sla_policy(org))

    figures = {}
    for position, monday in enumerate(mondays):
        n = index[monday]
        week = hours[n]
        by_team: dict[str, int] = {}
        for row in aged[position]:
            by_team[row.team] = by_team.get(row.team, 0) + row.aged
        figures[monday] = WeekFigures(
            delegated=week["delegated"],
            personal=week["personal"],
            logged=week["logged"],
            by_tag={tag: week[f"tag_{tag}"] for tag in TAG_FIELDS},
            previous_delegated=[hours[n - back]["delegated"] for back in range(HISTORY_WEEKS, 0, -1)],
            interruptions=[interruptions[n - back].count for back in range(HISTORY_WEEKS)],
            interruptions_by_category=_most_first(interruptions[n].by_category),
            interruptions_by_channel=_most_first(interruptions[n].by_channel),
            aged_by_team=dict(sorted(by_team.items(), key=lambda kv: (kv[0] == UNASSIGNED, kv[0].lower()))),
            category_ages=aged[position],
            end=ends[position],
        )
    return figures


def _most_first(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower())))


def week_values(
    org: Organization, monday: date, figures: WeekFigures, targets: KpiTargets, now: datetime
) -> dict[str, Any]:
    """The (org, week) row's fields from its figures: statuses and the Level-10 review (SPEC 2)."""
    average = formulas.four_week_average(figures.interruptions)
    teams = formulas.level10_teams(figures.aged_by_team)
    return {
        "final": figures.end <= now,
        "computed_at": now,
        "delegated_hours": figures.delegated,
        "personal_hours": figures.personal,
        "logged_hours": figures.logged,
        "hours_by_tag": {tag: str(value) for tag, value in figures.by_tag.items()},
        "owner_interruptions": figures.interruptions[0],
        "owner_interruptions_4wk_avg": average,
        "aged_backlog": sum(figures.aged_by_team.values()),
        "aged_backlog_by_team": figures.aged_by_team,
        "level10_review": bool(teams),
        "level10_categories": formulas.top_aging_categories(figures.category_ages, teams),
        "managed_clients": org.managed_clients,
        "delegated_hours_previous_mean": formulas.previous_weeks_mean(figures.previous_delegated),
        "interruptions_by_category": figures.interruptions_by_category,
        "interruptions_by_channel": figures.interruptions_by_channel,
        "targets": targets.applied(),
        "status": {
            "delegated_hours": formulas.delegated_hours_status(
                figures.delegated,
                managed_clients=org.managed_clients,
                previous_weeks=figures.previous_delegated,
                green=targets.delegated_hours_green,
                amber=targets.delegated_hours_amber,
                managed_clients_threshold=targets.managed_clients_threshold,
            ),
            "owner_interruptions": formulas.interruptions_status(
                average, green_max=targets.interruptions_4wk_green_max
            ),
            "aged_backlog": formulas.aged_backlog_status(
                figures.aged_by_team, team_max=targets.aged_backlog_team_max
            ),
        },
    }


def roll_up_weeks(
    *,
    org: Organization,
    mondays: Sequence[date] | None = None,
    now: datetime | None = None,
    run: RollupRun | None = None,
) -> int:
    """Replaces the (org, week) rows of the weeks given (default: the previous and the current
    one) with figures computed now (SPEC 2-3); returns how many were written.

    The figures of all the weeks come from the same three queries (``weeks_figures``); each
    week's row is then upserted in a transaction of its own (``write_weeks``). The backlog is
    counted at the week's end for a week that has ended (the row is then ``final``), at ``now``
    for the current week.
    """
    now = now or timezone.now()
    mondays = sorted(set(mondays or weeks_to_refresh(org, now)))
    if run is not None:
        RollupRun.objects.filter(pk=run.pk).update(weeks_total=len(mondays))
    policy, targets = rollup_settings(org)
    figures = weeks_figures(org, mondays, now=now, policy=policy)
    write_weeks(org, {monday: week_values(org, monday, figures[monday], targets, now) for monday in mondays})
    if run is not None:
        RollupRun.objects.filter(pk=run.pk).update(weeks_done=len(mondays), finished_at=timezone.now())
    return len(mondays)


def roll_up_org(
    *,
    org: Organization,
    mondays: Sequence[date] | None = None,
    now: datetime | None = None,
    run: RollupRun | None = None,
) -> list[WeeklyKpi]:
    """``roll_up_weeks``, then the rows written, by week."""
    now = now or timezone.now()
    mondays = sorted(set(mondays or weeks_to_refresh(org, now)))
    roll_up_weeks(org=org, mondays=mondays, now=now, run=run)
    return list(WeeklyKpi.objects.for_org(org).filter(week__in=mondays).order_by("week"))


def roll_up_week(*, org: Organization, monday: date, now: datetime | None = None) -> WeeklyKpi:
    """One week's row (``roll_up_org`` of that week)."""
    [row] = roll_up_org(org=org, mondays=[monday], now=now)
    return row


_TABLE = WeeklyKpi._meta.db_table
_COLUMNS = ", ".join(
    ["organization_id", "week"]
    + [
        field.column
        for field in WeeklyKpi._meta.concrete_fields
        if field.name not in ("id", "organization", "week")
    ]
)
# A week's row travels as one JSON object (one literal to quote, not 18), which
# jsonb_populate_record turns into the table's row type, column by column.
_UPSERT_SQL = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}) SELECT {_COLUMNS} FROM jsonb_populate_record(NULL::{_TABLE}, %s)"
    " ON CONFLICT (organization_id, week) DO UPDATE SET "
    + ", ".join(f"{column} = EXCLUDED.{column}" for column in _COLUMNS.split(", ")[2:])
)


_UPSERT = Prepared("kpis_weekly_upsert", _UPSERT_SQL, ["jsonb"])


def write_weeks(org: Organization, rows: dict[date, dict[str, Any]]) -> None:
    """Upserts each week's row in a transaction of its own, all in one round trip.

    The upsert is a prepared statement (planned once per connection, not once per week;
    ``msp_ops.lib.prepared``), and the weeks go as one string: ``BEGIN; SET LOCAL
    synchronous_commit = off; EXECUTE upsert('{row}'); COMMIT;`` for each (PostgreSQL's simple
    query protocol). A failing week stops the ones after it; the weeks before it stay written.
    Inside a caller's transaction the upserts are part of it instead (the caller commits, or
    rolls back, and decides how).

    The rows are derived data, so their commits do not wait for the WAL to reach the disk: a
    crash of the database server within a fraction of a second of a rollup can lose its last
    weeks (each as a whole: the row before it stays, never a torn one), and the next rollup
    writes them again. On a server with fsync that saves a disk flush per week.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":  # SQLite, the embedded default: a statement a week
        for monday, values in rows.items():
            with transaction.atomic():
                WeeklyKpi.objects.update_or_create(organization=org, week=monday, defaults=values)
        return
    alone = not connection.in_atomic_block
    begin, end = ("BEGIN; SET LOCAL synchronous_commit = off; ", " COMMIT;") if alone else ("", "")
    upsert = _UPSERT.call if prepared.enabled() else _UPSERT_SQL
    text = " ".join(
        begin + upsert.replace("%s", _literal(_row_json(org, monday, values)), 1) + ";" + end
        for monday, values in rows.items()
    )

    with connection.cursor() as cursor:

        def rollback() -> None:
            if alone and connection.connection.info.transaction_status != TransactionStatus.IDLE:
                cursor.execute("ROLLBACK")  # the failed week's transaction

        try:
            if prepared.enabled():
                _UPSERT.run(cursor, text, retry=alone, recover=rollback)
            else:
                cursor.execute(text)
        except Exception:
            rollback()
            raise


def _row_json(org: Organization, monday: date, values: dict[str, Any]) -> str:
    """A week's row as the JSON object ``jsonb_populate_record`` reads (decimals as strings)."""
    return orjson.dumps({"organization_id": org.pk, "week": monday, **values}, default=str).decode()


def _literal(text: str) -> str:
    """``text`` as an SQL string literal: quotes doubled, nothing else to escape with
    ``standard_conforming_strings`` on (PostgreSQL's default since 9.1; Django keeps it), and
    no NUL in it (JSON writes one as ``\\u0000``). The query is sent as it is: no parameters."""
    return "'" + text.replace("'", "''") + "'"


def request_rollup(
    *, org: Organization, user: AbstractBaseUser | None, week: date | None = None
) -> RollupRun:
    """ "Recompute now": a run record the page polls, and the task, queued once the run is
    committed. A broker that is down fails the run with a message (nothing else waits on it).

    It recomputes the previous and the current week, and ``week`` too when that is an older
    one (the dashboard's button on a week the nightly rollup no longer refreshes: late data)."""
    from kpis.tasks import roll_up_requested

    run = RollupRun.objects.create(organization=org, requested_by=user, week=older_week(org, week))

    def enqueue() -> None:
        try:
            # One attempt, no reconnect loop: with the broker down the page says so at once
            # (kombu would otherwise retry for the connect timeout, 2 s).
            with roll_up_requested.app.connection_for_write(transport_options={"max_retries": 0}) as broker:
                roll_up_requested.apply_async((run.pk,), retry=False, connection=broker)
        except Exception as error:  # any broker failure: the run says so
            RollupRun.objects.filter(pk=run.pk).update(
                finished_at=timezone.now(), error=f"The task queue is unreachable ({type(error).__name__})."
            )

    transaction.on_commit(enqueue)
    return run


def older_week(org: Organization, week: date | None, now: datetime | None = None) -> date | None:
    """``week`` if it is older than the weeks the nightly rollup refreshes (a "recompute now"
    then recomputes it too), else None."""
    return week if week is not None and week < weeks_to_refresh(org, now)[0] else None


def requested_weeks(run: RollupRun, org: Organization) -> list[date]:
    """The Mondays a "recompute now" of ``org`` rolls up: the previous and the current week as
    of its request, and its older ``week`` if it has one."""
    found = weeks_to_refresh(org, run.requested_at)
    return sorted({*found, run.week} if run.week else found)


@transaction.atomic
def delete_ticket(*, ticket: Ticket) -> None:
    ticket.delete()


@transaction.atomic
def delete_todo(*, todo: Todo) -> None:
    todo.delete()
