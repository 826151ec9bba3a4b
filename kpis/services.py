"""Every write of the KPI app: tickets, the SLA policy, KPI targets, to-dos and the rollup.

``roll_up_week`` is the one implementation behind the nightly task, ``manage.py rollup_kpis``
and the dashboard's "recompute now": it sums the week's raw figures in a few set-based
queries (SPEC 3), computes the statuses with ``kpis.formulas`` and replaces the (org, week)
row in one transaction, so running it twice gives the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Min, Q
from django.db.models.functions import Lower
from django.utils import timezone

from audits.models import TAG_FIELDS, Handling
from audits.selectors import founder_entries, hours_in_windows
from delegation.models import Interruption
from kpis import formulas
from kpis.models import (
    UNASSIGNED,
    UNCATEGORIZED,
    KpiTargets,
    RollupRun,
    SlaPolicy,
    Ticket,
    Todo,
    WeeklyKpi,
)
from kpis.selectors import aged_tickets, kpi_targets
from msp_ops.lib import weeks
from msp_ops.orgs.batches import Batch, Saved, check_members, save_batch
from msp_ops.orgs.models import Organization

# --- settings -----------------------------------------------------------------------------


def create_kpi_defaults(*, org: Organization) -> None:
    """SPEC's SLA policy and KPI targets for a new organization (its MspApp hook)."""
    SlaPolicy.objects.get_or_create(organization=org)
    KpiTargets.objects.get_or_create(organization=org)


@transaction.atomic
def update_settings(*, row: SlaPolicy | KpiTargets, values: dict[str, Any]) -> SlaPolicy | KpiTargets:
    """Changes some fields of the SLA policy or the KPI targets (validated; refused: unchanged).
    ``row`` may be unsaved (an organization older than the settings): it is created then."""
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
    aged_by_team: dict[str, int]
    category_ages: list[formulas.CategoryAge]


def weeks_to_refresh(org: Organization, now: datetime | None = None) -> list[date]:
    """The previous week and the current one (late entries happen; SPEC 3)."""
    current = weeks.current_week(org.tz, now)
    return [current - timedelta(weeks=1), current]


def week_figures(org: Organization, monday: date, *, at: datetime) -> WeekFigures:
    """The raw figures of SPEC 2 for [S, E), summed in the database (3 queries).

    Hours: entries of members whose role is ``founder`` now, clipped to the week (an entry
    crossing a week boundary counts its part inside). Interruptions: ``about_ticket`` ones
    with ``occurred_at`` in each week. Aged backlog: at ``at``, tickets opened at or before it,
    not closed at it, older than their severity's target.
    """
    tz = org.tz
    start, end = weeks.week_bounds(monday, tz)
    windows: dict[Any, tuple[datetime, datetime, Q | None]] = {
        "logged": (start, end, None),
        "delegated": (start, end, Q(handling=Handling.DELEGATED)),
        "personal": (start, end, Q(handling=Handling.PERSONAL)),
    }
    for tag, column in TAG_FIELDS.items():
        windows[("tag", tag)] = (start, end, Q(**{column: True}))
    previous = [monday - timedelta(weeks=n) for n in range(4, 0, -1)]
    for before in previous:
        windows[("before", before)] = (*weeks.week_bounds(before, tz), Q(handling=Handling.DELEGATED))
    # Only the entries touching the 5 weeks summed (an index range, not the whole history).
    span_start = weeks.week_bounds(previous[0], tz)[0]
    hours = hours_in_windows(founder_entries(org).overlapping(span_start, end), windows)

    counted = {}
    for n in range(4):
        week_start, week_end = weeks.week_bounds(monday - timedelta(weeks=n), tz)
        counted[f"w{n}"] = Count("pk", filter=Q(occurred_at__gte=week_start, occurred_at__lt=week_end))
    first_start = weeks.week_bounds(monday - timedelta(weeks=3), tz)[0]
    interruptions = (
        Interruption.objects.for_org(org)
        .filter(about_ticket=True, occurred_at__gte=first_start, occurred_at__lt=end)
        .aggregate(**counted)
    )

    aged_rows = (
        aged_tickets(org, at)
        .values("team", "category")
        .annotate(aged=Count("pk"), oldest=Min("opened_at"))
        .order_by()
    )
    by_team: dict[str, int] = {}
    ages = []
    for row in aged_rows:
        team = row["team"] or UNASSIGNED
        category = row["category"] or UNCATEGORIZED
        by_team[team] = by_team.get(team, 0) + row["aged"]
        ages.append(formulas.CategoryAge(team, category, row["aged"], row["oldest"]))
    return WeekFigures(
        delegated=hours["delegated"],
        personal=hours["personal"],
        logged=hours["logged"],
        by_tag={tag: hours[("tag", tag)] for tag in TAG_FIELDS},
        previous_delegated=[hours[("before", before)] for before in previous],
        interruptions=[interruptions[f"w{n}"] for n in range(4)],
        aged_by_team=dict(sorted(by_team.items(), key=lambda kv: (kv[0] == UNASSIGNED, kv[0].lower()))),
        category_ages=_merge_categories(ages),
    )


def _merge_categories(ages: list[formulas.CategoryAge]) -> list[formulas.CategoryAge]:
    """Ticket categories compare case-insensitively (SPEC 1): "VPN" and "vpn" are one."""
    merged: dict[tuple[str, str], formulas.CategoryAge] = {}
    for row in ages:
        key = (row.team, row.category.lower())
        if key in merged:
            seen = merged[key]
            merged[key] = formulas.CategoryAge(
                row.team, min(seen.category, row.category), seen.aged + row.aged,
                min(seen.oldest_opened_at, row.oldest_opened_at),
            )  # fmt: skip
        else:
            merged[key] = row
    return list(merged.values())


def roll_up_week(*, org: Organization, monday: date, now: datetime | None = None) -> WeeklyKpi:
    """Replaces the (org, week) row with figures computed now (SPEC 2-3), in one transaction.

    The backlog is counted at the week's end for a week that has ended (the row is then
    ``final``), at ``now`` for the current week.
    """
    now = now or timezone.now()
    end = weeks.week_bounds(monday, org.tz)[1]
    final = end <= now
    figures = week_figures(org, monday, at=end if final else now)
    targets = kpi_targets(org)
    average = formulas.four_week_average(figures.interruptions)
    teams = formulas.level10_teams(figures.aged_by_team)
    values = {
        "final": final,
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
        **interruption_breakdown(org, monday),
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
    with transaction.atomic():
        row, _ = WeeklyKpi.objects.update_or_create(organization=org, week=monday, defaults=values)
    return row


def roll_up_org(
    *, org: Organization, mondays: Sequence[date] | None = None, run: RollupRun | None = None
) -> list[WeeklyKpi]:
    """The weeks given (default: the previous and the current one), a transaction each."""
    now = timezone.now()
    mondays = list(mondays or weeks_to_refresh(org, now))
    if run is not None:
        RollupRun.objects.filter(pk=run.pk).update(weeks_total=len(mondays))
    rows = []
    for done, monday in enumerate(mondays, start=1):
        rows.append(roll_up_week(org=org, monday=monday, now=now))
        if run is not None:
            RollupRun.objects.filter(pk=run.pk).update(weeks_done=done)
    if run is not None:
        RollupRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    return rows


def request_rollup(*, org: Organization, user: AbstractBaseUser | None) -> RollupRun:
    """ "Recompute now": a run record the page polls, and the task, queued once the run is
    committed. A broker that is down fails the run with a message (nothing else waits on it)."""
    from kpis.tasks import roll_up_requested

    run = RollupRun.objects.create(organization=org, requested_by=user)

    def enqueue() -> None:
        try:
            roll_up_requested.apply_async((run.pk,), retry=False)
        except Exception as error:  # any broker failure: the run says so
            RollupRun.objects.filter(pk=run.pk).update(
                finished_at=timezone.now(), error=f"The task queue is unreachable ({type(error).__name__})."
            )

    transaction.on_commit(enqueue)
    return run


@transaction.atomic
def delete_ticket(*, ticket: Ticket) -> None:
    ticket.delete()


@transaction.atomic
def delete_todo(*, todo: Todo) -> None:
    todo.delete()


def interruption_breakdown(org: Organization, monday: date) -> dict[str, dict[str, int]]:
    """The week's interruptions about tickets by category (case-insensitive, ``Uncategorized``
    for none; most first) and by channel, for the agenda (one GROUP BY query)."""
    start, end = weeks.week_bounds(monday, org.tz)
    rows = (
        Interruption.objects.for_org(org)
        .filter(about_ticket=True, occurred_at__gte=start, occurred_at__lt=end)
        .annotate(key=Lower("category"))
        .values("key", "channel")
        .annotate(count=Count("pk"), name=Min("category"))
        .order_by()
    )
    by_key: dict[str, int] = {}
    names: dict[str, str] = {}
    by_channel: dict[str, int] = {}
    for row in rows:
        # One name per category whatever the order of the groups ("VPN" for "VPN" and "vpn"),
        # so two rollups write the same row.
        key = row["key"]
        names[key] = min(names.get(key, row["name"]), row["name"])
        by_key[key] = by_key.get(key, 0) + row["count"]
        by_channel[row["channel"]] = by_channel.get(row["channel"], 0) + row["count"]
    by_category = {names[key] or UNCATEGORIZED: count for key, count in by_key.items()}

    def most_first(counts: dict[str, int]) -> dict[str, int]:
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].lower())))

    return {
        "interruptions_by_category": most_first(by_category),
        "interruptions_by_channel": most_first(by_channel),
    }
