"""Reads worth a name: the weekly rows as clients see them, the SLA stand-up, the agenda's to-dos."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, Count, IntegerField, Min, Q, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf

from audits.models import Category
from delegation.models import Delegate, Delegation, DelegationStatus, Interruption
from kpis.formulas import CategoryAge, hours
from kpis.models import (
    UNASSIGNED,
    UNCATEGORIZED,
    KpiTargets,
    RollupRun,
    Severity,
    SlaPolicy,
    Ticket,
    Todo,
    WeeklyKpi,
)
from msp_ops.lib import weeks
from msp_ops.lib.pgvalues import from_micros, micros, timestamptz_array
from msp_ops.lib.rawrows import RowReader, db_dates, fetch_first, fetch_objects
from msp_ops.orgs.models import Organization

STANDUP_HORIZON = timedelta(hours=24)


def sla_policy(org: Organization) -> SlaPolicy:
    """The organization's SLA policy (SPEC's defaults, unsaved, for an organization without one)."""
    return SlaPolicy.objects.filter(organization=org).first() or SlaPolicy(organization=org)


def kpi_targets(org: Organization) -> KpiTargets:
    """The organization's KPI targets (SPEC's defaults, unsaved, for an organization without
    them); a statement of ``_dashboard_statements`` (every dashboard request reads them)."""
    sql, (reader,) = _dashboard_statements()["targets"]
    return fetch_first(sql, [org.pk], reader) or KpiTargets(organization=org)


def rollup_settings(org: Organization) -> tuple[SlaPolicy, KpiTargets]:
    """``sla_policy(org)`` and ``kpi_targets(org)`` in one query (the rollup reads both for every
    organization; ``msp_ops.lib.rawrows``)."""
    sql, readers = _settings_statement()
    [(policy, targets)] = fetch_objects(sql, [org.pk, org.pk], readers)
    return policy or SlaPolicy(organization=org), targets or KpiTargets(organization=org)


@cache
def _settings_statement() -> tuple[str, tuple[RowReader, RowReader]]:
    policy, targets = RowReader(SlaPolicy), RowReader(KpiTargets)
    sql = (
        f"SELECT {policy.columns('p')}, {targets.columns('t')} FROM (SELECT 1) AS one"
        f" LEFT JOIN {policy.table} p ON p.organization_id = %s"
        f" LEFT JOIN {targets.table} t ON t.organization_id = %s"
    )
    return sql, (policy, targets)


def open_tickets(org: Organization, at: datetime):
    """Tickets open at ``at``: opened at or before it, not closed at it."""
    return Ticket.objects.for_org(org).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gt=at), opened_at__lte=at
    )


def aged_tickets(org: Organization, at: datetime, policy: SlaPolicy | None = None):
    """Tickets open at ``at`` and older than their severity's target (SPEC 2.3): opened at or
    before ``at``, not closed at ``at``, and ``at - opened_at`` greater than the target."""
    policy = policy or sla_policy(org)
    older = Q()
    for severity in Severity.values:
        # In real time: ``at`` is often a local week end, and ``at - delta`` on a zone-aware
        # datetime subtracts wall-clock time (an hour off across a DST change).
        older |= Q(severity=severity, opened_at__lt=weeks.minus(at, _delta(policy.target_hours(severity))))
    return open_tickets(org, at).filter(older)


def weekly_row(row: WeeklyKpi, tz) -> dict[str, Any]:
    """SPEC 4's row of ``/kpis/weekly/``: hours and averages as numbers with 2 places."""
    return {
        "week": row.week.isoformat(),
        "final": row.final,
        "computed_at": weeks.to_local(row.computed_at, tz).isoformat(),
        "delegated_hours": hours(row.delegated_hours),
        "personal_hours": hours(row.personal_hours),
        "logged_hours": hours(row.logged_hours),
        "hours_by_tag": {tag: hours(Decimal(value)) for tag, value in row.hours_by_tag.items()},
        "owner_interruptions": row.owner_interruptions,
        "owner_interruptions_4wk_avg": hours(row.owner_interruptions_4wk_avg),
        "aged_backlog": row.aged_backlog,
        "aged_backlog_by_team": row.aged_backlog_by_team,
        "level10_review": row.level10_review,
        "level10_categories": row.level10_categories,
        "managed_clients": row.managed_clients,
        "status": row.status,
    }


# --- the daily SLA stand-up (SPEC 1) ------------------------------------------------------


@dataclass
class StandupTicket:
    ticket: Ticket
    age_hours: Decimal
    target_hours: Decimal


@dataclass
class StandupTeam:
    team: str
    breached: list[StandupTicket] = field(default_factory=list)
    due_within_24h: list[StandupTicket] = field(default_factory=list)


@dataclass
class Standup:
    at: datetime
    teams: list[StandupTeam]
    interruptions_yesterday: list[Interruption]


def standup(org: Organization, at: datetime) -> Standup:
    """Per team, the open tickets already past their target and those that pass it within 24 h,
    oldest first, and the previous local day's interruptions (3 queries).

    At ``at``, an open ticket is past its target when its age is greater than the target; it
    passes it within 24 h when it is not past it and ``opened_at + target <= at + 24 h``.
    """
    policy = sla_policy(org)
    targets = {severity: policy.target_hours(severity) for severity in Severity.values}
    soon = Q()
    for severity, target in targets.items():
        # Due within the horizon: opened_at + target <= at + 24 h (the breached ones included).
        # In real time (weeks.plus/minus), not on the wall clock of ``at``'s zone.
        soon |= Q(
            severity=severity, opened_at__lte=weeks.minus(weeks.plus(at, STANDUP_HORIZON), _delta(target))
        )
    teams: dict[str, StandupTeam] = {}
    for ticket in open_tickets(org, at).filter(soon).order_by("opened_at", "id"):
        target = targets[ticket.severity]
        age = weeks.elapsed(ticket.opened_at, at)
        row = StandupTicket(ticket, weeks.to_hours(age), target)
        team = teams.setdefault(ticket.team_name, StandupTeam(ticket.team_name))
        (team.breached if age > _delta(target) else team.due_within_24h).append(row)
    ordered = sorted(teams.values(), key=lambda t: (t.team == UNASSIGNED, t.team.lower(), t.team))
    yesterday = weeks.local_date(at, org.tz) - timedelta(days=1)
    start, end = weeks.day_bounds(yesterday, org.tz)
    interruptions = list(
        Interruption.objects.for_org(org)
        .filter(occurred_at__gte=start, occurred_at__lt=end)
        .order_by("occurred_at")
    )
    return Standup(at, ordered, interruptions)


def _delta(target_hours: Decimal) -> timedelta:
    """A target in hours as a duration, exact to the second (0.01 h is 36 s)."""
    return timedelta(seconds=int(target_hours * 3600))


# --- to-dos -------------------------------------------------------------------------------


def agenda_rule(monday: date, tz) -> Q:
    """A to-do is on a week's agenda when it was created in or before the week and was not done
    before the week began (open ones carry over to each next week until done; SPEC 1).

    The dashboard reads the same rule as SQL (``_AGENDA_RULE``, ``agenda_lists``);
    ``tests/kpis/test_todos.py`` holds both equal."""
    start = weeks.week_bounds(monday, tz)[0]
    return Q(created_week__lte=monday) & (Q(done=False) | Q(done_at__gte=start))


def on_agenda(todos, monday: date, tz):
    """The to-dos of ``todos`` on a week's agenda (``agenda_rule``)."""
    return todos.filter(agenda_rule(monday, tz))


def agenda_todos(org: Organization, monday: date):
    return on_agenda(Todo.objects.for_org(org), monday, org.tz).select_related("owner")


# --- the dashboard's reads ------------------------------------------------------------------
# Every dashboard request reads the targets, the rows of the weeks its charts show, the agenda's
# to-dos and the delegations due for review: small queries PostgreSQL answers in 0.2 to 0.6 ms
# each, for which the ORM spent 1 to 4 ms of Python each (building the queryset, compiling it,
# its joins) on every request (bench/README.md). They are statements written once per process
# from the models' columns, their rows read into model objects as the ORM makes them
# (``msp_ops.lib.rawrows``), on PostgreSQL and SQLite alike (parameters adapted as the ORM
# adapts them). Every one is scoped to the organization.

# ``agenda_rule`` in SQL: its two parameters are the week's Monday and the moment it began.
_AGENDA_RULE = "(t.created_week <= %s AND (NOT t.done OR t.done_at >= %s))"


@cache
def _dashboard_statements() -> dict[str, tuple[str, tuple[RowReader, ...]]]:
    targets, kpi, todo, owner = (RowReader(m) for m in (KpiTargets, WeeklyKpi, Todo, get_user_model()))
    delegation, category, delegate = (RowReader(m) for m in (Delegation, Category, Delegate))
    run = RowReader(RollupRun)
    return {
        "targets": (
            f"SELECT {targets.columns('t')} FROM {targets.table} t WHERE t.organization_id = %s",
            (targets,),
        ),
        "rows": (
            f"SELECT {kpi.columns('k')} FROM {kpi.table} k"
            " WHERE k.organization_id = %s AND k.week >= %s AND k.week <= %s ORDER BY k.week",
            (kpi,),
        ),
        # The to-dos on last week's agenda or this week's, each marked whether on last week's;
        # in ``Todo``'s order (due date, id).
        "agenda": (
            f"SELECT {todo.columns('t')}, {owner.columns('u')}, {_AGENDA_RULE}"
            f" FROM {todo.table} t JOIN {owner.table} u ON u.id = t.owner_id"
            f" WHERE t.organization_id = %s AND ({_AGENDA_RULE} OR {_AGENDA_RULE})"
            " ORDER BY t.due_date, t.id",
            (todo, owner),
        ),
        # The latest unfinished run requested since a moment, in ``RollupRun``'s order.
        "running": (
            f"SELECT {run.columns('r')} FROM {run.table} r"
            " WHERE r.organization_id = %s AND r.finished_at IS NULL AND r.requested_at >= %s"
            " ORDER BY r.requested_at DESC, r.id DESC LIMIT 1",
            (run,),
        ),
        "due": (
            f"SELECT {delegation.columns('d')}, {category.columns('c')}, {delegate.columns('e')}"
            f" FROM {delegation.table} d JOIN {category.table} c ON c.id = d.category_id"
            f" LEFT JOIN {delegate.table} e ON e.id = d.delegate_id"
            " WHERE d.organization_id = %s AND d.status = %s AND d.review_date <= %s"
            " ORDER BY d.review_date, d.id",
            (delegation, category, delegate),
        ),
    }


def weekly_rows(org: Organization, first: date, last: date) -> dict[date, WeeklyKpi]:
    """The organization's rolled-up rows of the Mondays ``first`` to ``last``, by week."""
    sql, readers = _dashboard_statements()["rows"]
    return {row.week: row for (row,) in fetch_objects(sql, [org.pk, *db_dates(first, last)], readers)}


def agenda_lists(org: Organization, monday: date) -> list[Todo]:
    """The to-dos on the agenda of the week before ``monday`` or of ``monday``'s (``agenda_rule``),
    each with its owner and ``on_last_agenda`` (whether it was on the week before's)."""
    sql, readers = _dashboard_statements()["agenda"]
    before = monday - timedelta(weeks=1)
    last = db_dates(before, weeks.week_bounds(before, org.tz)[0])
    this = db_dates(monday, weeks.week_bounds(monday, org.tz)[0])
    todos = []
    for todo, owner, on_last in fetch_objects(sql, [*last, org.pk, *last, *this], readers):
        Todo.owner.field.set_cached_value(todo, owner)
        todo.on_last_agenda = bool(on_last)
        todos.append(todo)
    return todos


def delegations_due(org: Organization, by: date) -> list[Delegation]:
    """Handed-off delegations whose review date is ``by`` or before, with category and delegate."""
    sql, readers = _dashboard_statements()["due"]
    found = []
    params = [org.pk, DelegationStatus.HANDED_OFF.value, *db_dates(by)]
    for delegation, category, delegate in fetch_objects(sql, params, readers):
        Delegation.category.field.set_cached_value(delegation, category)
        Delegation.delegate.field.set_cached_value(delegation, delegate)
        found.append(delegation)
    return found


def running_rollup(org: Organization, since: datetime) -> RollupRun | None:
    """The organization's latest "recompute now" not finished yet that was requested at or
    after ``since`` (an older unfinished one is taken as lost)."""
    sql, (reader,) = _dashboard_statements()["running"]
    return fetch_first(sql, [org.pk, *db_dates(since)], reader)


# --- the rollup's set-based reads (many weeks in one query each) ---------------------------


@dataclass(frozen=True)
class WindowInterruptions:
    """One window's interruptions about tickets (SPEC 2.2): how many, by category and by
    channel. Categories compare case-insensitively, each named by its smallest spelling
    ("VPN" for "VPN" and "vpn", code point order); no category is ``Uncategorized``."""

    count: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)


# One group a window (0 for [bounds[0], bounds[1])), lower-cased category and channel: the
# count and the smallest spelling of the category (code point order, as Python's ``min``). No
# category is ``Uncategorized`` before grouping, so it is one group with a category of that name.
_INTERRUPTIONS_SQL = f"""
SELECT width_bucket(occurred_at, %(bounds)s::timestamptz[]) - 1, lower(category), channel,
       COUNT(*), MIN(category COLLATE "C")
FROM (
    SELECT occurred_at, channel, COALESCE(NULLIF(category, ''), %(uncategorized)s) AS category
    FROM {Interruption._meta.db_table}
    WHERE organization_id = %(org)s AND about_ticket AND occurred_at >= %(start)s AND occurred_at < %(end)s
) AS i
GROUP BY 1, 2, 3
"""


def interruptions_by_window(org: Organization, bounds: list[datetime]) -> list[WindowInterruptions]:
    """The organization's interruptions about tickets (SPEC 2.2) in each of the consecutive
    windows [bounds[i], bounds[i + 1]), one ``WindowInterruptions`` a window, in one query."""
    if connection.vendor != "postgresql":
        return _interruptions_by_window_portable(org, bounds)
    with connection.cursor() as cursor:
        cursor.execute(
            _INTERRUPTIONS_SQL,
            {
                "org": org.pk,
                "bounds": timestamptz_array(bounds),
                "start": bounds[0],
                "end": bounds[-1],
                "uncategorized": UNCATEGORIZED,
            },
        )
        return _windows(cursor.fetchall(), len(bounds) - 1)


def _windows(groups, count: int) -> list[WindowInterruptions]:
    """The groups ``(window, category key, channel, count, smallest name)`` summed per window:
    over the channels for the categories, over the categories for the channels."""
    counts, names = [0] * count, [{} for _ in range(count)]
    by_key: list[dict[str, int]] = [{} for _ in range(count)]
    by_channel: list[dict[str, int]] = [{} for _ in range(count)]
    for n, key, channel, number, name in groups:
        counts[n] += number
        # One name per category whatever the order of the groups, so two rollups write the same row.
        names[n][key] = min(names[n].get(key, name), name)
        by_key[n][key] = by_key[n].get(key, 0) + number
        by_channel[n][channel] = by_channel[n].get(channel, 0) + number
    return [
        WindowInterruptions(counts[n], {names[n][key]: c for key, c in by_key[n].items()}, by_channel[n])
        for n in range(count)
    ]


# At each moment A of a sorted list, the tickets of ``aged_tickets(org, A)``: opened_at + target
# < A and not closed at A. For one ticket these moments are a run of the list: from the first
# one after its due time to the last one before it closed (``width_bucket`` counts the moments
# at or before a time), so each ticket is read once, its run found once (the OFFSET 0 fence),
# and it counts for each moment of its run: a join with the moments' numbers, whose size the
# planner knows (a per-ticket ``generate_series`` looked like 1000 rows a ticket to it, and at
# 200 organizations it started a parallel worker, 10 to 15 ms, for each organization's query).
_AGED_SQL = f"""
SELECT m.i, k.team, MIN(k.category COLLATE "C"), COUNT(*), {micros("MIN(k.opened_at)")}
FROM (
    SELECT team, category, opened_at, first, last
    FROM (
        SELECT COALESCE(NULLIF(team, ''), %(unassigned)s) AS team,
               COALESCE(NULLIF(category, ''), %(uncategorized)s) AS category, opened_at,
               width_bucket(
                   opened_at + make_interval(secs => CASE severity {
    " ".join(f"WHEN '{severity}' THEN %({severity})s" for severity in Severity.values)
} END),
                   %(moments)s::timestamptz[]
               ) AS first,
               COALESCE(
                   width_bucket(closed_at - INTERVAL '1 microsecond', %(moments)s::timestamptz[]), %(count)s
               ) - 1 AS last
        FROM {Ticket._meta.db_table}
        WHERE organization_id = %(org)s AND opened_at < %(last)s
          AND (closed_at IS NULL OR closed_at > %(first)s)
        OFFSET 0
    ) AS runs
    WHERE first <= last
) AS k
JOIN generate_series(0, %(count)s - 1) AS m(i) ON m.i BETWEEN k.first AND k.last
GROUP BY m.i, k.team, lower(k.category)
"""


def aged_at_moments(org: Organization, moments: list[datetime], policy: SlaPolicy) -> list[list[CategoryAge]]:
    """``aged_tickets`` at each of ``moments`` (ascending), in one query: for each moment, the
    aged tickets of each team and category. A ticket without a team is ``Unassigned``'s, one
    without a category ``Uncategorized``; categories compare case-insensitively (SPEC 1), each
    named by its smallest spelling ("VPN" for "VPN" and "vpn", code point order)."""
    if connection.vendor != "postgresql":
        return _aged_at_moments_portable(org, moments, policy)
    targets = {
        severity: int(_delta(policy.target_hours(severity)).total_seconds()) for severity in Severity.values
    }
    with connection.cursor() as cursor:
        cursor.execute(
            _AGED_SQL,
            {
                "org": org.pk,
                "moments": timestamptz_array(moments),
                "count": len(moments),
                "first": moments[0],
                "last": moments[-1],
                "unassigned": UNASSIGNED,
                "uncategorized": UNCATEGORIZED,
                **targets,
            },
        )
        ages: list[list[CategoryAge]] = [[] for _ in moments]
        for i, team, category, n, oldest in cursor:
            ages[i].append(CategoryAge(team, category, n, from_micros(oldest)))
        return ages


# The same reads in the ORM's portable SQL, for SQLite (the embedded default). Slower (the aged
# backlog takes a query per moment); the tests hold them equal to the PostgreSQL ones above.


_UNCATEGORIZED_IF_BLANK = Coalesce(NullIf("category", Value("")), Value(UNCATEGORIZED))


def _interruptions_by_window_portable(org: Organization, bounds: list[datetime]) -> list[WindowInterruptions]:
    window = Case(
        *[When(occurred_at__lt=end, then=Value(number)) for number, end in enumerate(bounds[1:])],
        output_field=IntegerField(),
    )
    groups = (
        Interruption.objects.for_org(org)
        .filter(about_ticket=True, occurred_at__gte=bounds[0], occurred_at__lt=bounds[-1])
        .annotate(window=window, named=_UNCATEGORIZED_IF_BLANK)
        .annotate(key=Lower("named"))
        .values("window", "key", "channel")
        .annotate(count=Count("pk"), name=Min("named"))
        .order_by()
        .values_list("window", "key", "channel", "count", "name")
    )
    return _windows(groups, len(bounds) - 1)


def _aged_at_moments_portable(
    org: Organization, moments: list[datetime], policy: SlaPolicy
) -> list[list[CategoryAge]]:
    team = Coalesce(NullIf("team", Value("")), Value(UNASSIGNED))
    category = _UNCATEGORIZED_IF_BLANK
    ages = []
    for moment in moments:
        rows = (
            aged_tickets(org, moment, policy)
            .annotate(name=team, key=Lower(category))
            .values("name", "key")
            .annotate(spelling=Min(category), aged=Count("pk"), oldest=Min("opened_at"))
            .order_by()
            .values_list("name", "spelling", "aged", "oldest")
        )
        ages.append([CategoryAge(*row) for row in rows])
    return ages
