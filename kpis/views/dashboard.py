"""The service manager's weekly KPI dashboard (issue 11, item 4) and its "Recompute now".

It reads the rolled-up ``WeeklyKpi`` rows only (SPEC 3), never recomputing a figure: the 16 rows
up to the week shown in one query (12 for the trend charts, 4 more for the steady-increase
target line; the week's row also holds its interruptions by category and by channel), the
targets, the delegations due for review, the agenda's to-dos (last week's and this week's) and
a running recompute: a constant number of queries whatever the history (docs/kpis.md).

"Recompute now" (``Perm.RUN_ROLLUP``) calls ``services.request_rollup`` and answers the run's
progress, polled every second (``rollup_progress``) until it finishes; the finished poll fires
``kpis-recomputed`` (HX-Trigger) and the figures reload in place.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from audits.models import TAG_FIELDS
from delegation.models import UNCATEGORIZED, Channel, Delegation
from kpis import formulas, services
from kpis.forms import monday_or_none
from kpis.models import KpiTargets, RollupRun, WeeklyKpi
from kpis.selectors import (
    agenda_lists,
    delegations_due,
    kpi_targets,
    running_rollup,
    weekly_row,
    weekly_rows,
)
from kpis.views.common import STATUS_TEXT, render_local, team_order, week_arg
from msp_ops.lib import weeks
from msp_ops.lib.htmx import wants_partial
from msp_ops.lib.ids import parse_id
from msp_ops.orgs.access import can, org_view
from msp_ops.orgs.models import Organization
from msp_ops.orgs.roles import Perm
from msp_ops.orgs.scoping import org_object_or_404

TREND_WEEKS = 12
MEAN_WEEKS = 4  # the steady-increase target: the mean of the previous 4 weeks (SPEC 2)
STALE_AFTER = timedelta(hours=24)
POLL_SECONDS = 1
RUN_FRESH = timedelta(minutes=15)  # an unfinished run older than this is taken as lost
RECOMPUTED = "kpis-recomputed"  # HX-Trigger: a recompute finished, the figures reload
KPI_KEYS = ("delegated_hours", "owner_interruptions", "aged_backlog")
CHANNEL_LABELS = dict(Channel.choices)


@dataclass
class Card:
    key: str
    title: str
    value: str  # as shown, with its unit
    status: str | None  # green | amber | red; None without a row
    target: str
    detail: str = ""  # the figure beside it: logged hours, the 4-week average, the teams to review
    note: str = ""  # how the target applies: the regime, the Level-10 rule

    @property
    def status_text(self) -> str:
        return STATUS_TEXT.get(self.status or "", "")


# --- reading the rows -----------------------------------------------------------------------


def _rows_up_to(org: Organization, week: date) -> dict[date, WeeklyKpi]:
    return weekly_rows(org, week - timedelta(weeks=TREND_WEEKS + MEAN_WEEKS - 1), week)


def week_targets(row: WeeklyKpi | None, current: KpiTargets) -> KpiTargets:
    """The targets a week was judged by: those its row kept (the rollup's, ``WeeklyKpi.targets``),
    else today's (a week not rolled up, or rolled up before the rows kept them)."""
    if row is not None and row.targets:
        return KpiTargets.from_applied(row.targets, organization_id=current.organization_id)
    return current


def _fixed_regime(row: WeeklyKpi | None, org: Organization, targets: KpiTargets) -> bool:
    """SPEC 2: with at least the threshold of managed clients, fixed green/amber lines."""
    clients = row.managed_clients if row is not None else org.managed_clients
    return clients >= targets.managed_clients_threshold


def _previous_mean(rows: dict[date, WeeklyKpi], week: date) -> Decimal:
    """The steady-increase line of ``week``: the mean of the 4 weeks before, as its row stored it
    (the one the rollup compared with, from the entries). A row rolled up before the mean was
    kept, or a week without a row: from the stored rows before it (a week without a row counts
    0, as in the rollup)."""
    row = rows.get(week)
    if row is not None and row.delegated_hours_previous_mean is not None:
        return row.delegated_hours_previous_mean
    before = [rows.get(week - timedelta(weeks=n)) for n in range(1, MEAN_WEEKS + 1)]
    return formulas.previous_weeks_mean([row.delegated_hours if row else Decimal(0) for row in before])


def _number(value: Decimal) -> str:
    """2.50 -> "2.5", 10.00 -> "10": targets as people write them."""
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.2f}".rstrip("0")


def _exact_hours(value: Decimal) -> str:
    """3.5 -> "3.50", 0.7525 -> "0.7525": every place of a mean (up to 4), not rounded to 2,
    so the line shown is the one the status was computed from."""
    return f"{value:.2f}" if value == value.quantize(formulas.TWO_PLACES) else f"{value.normalize():f}"


def _cards(row: WeeklyKpi | None, rows, week: date, org: Organization, targets: KpiTargets) -> list[Card]:
    status = row.status if row is not None else {}
    fixed = _fixed_regime(row, org, targets)
    clients = row.managed_clients if row is not None else org.managed_clients
    if fixed:
        delegated_target = (
            f"Green at {_number(targets.delegated_hours_green)} h or more, "
            f"amber at {_number(targets.delegated_hours_amber)} h or more"
        )
        regime = (
            f"{clients} managed clients: fixed targets (from {targets.managed_clients_threshold} clients)"
        )
    else:
        delegated_target = (
            f"Green at the previous 4 weeks' mean or more ({_exact_hours(_previous_mean(rows, week))} h), "
            "amber below"
        )
        regime = (
            f"{clients} managed clients: the goal is a steady increase "
            f"(fixed targets from {targets.managed_clients_threshold} clients)"
        )
    team_max = targets.aged_backlog_team_max
    if row is None:
        delegated_detail = interruptions_detail = backlog_detail = ""
    else:
        delegated_detail = f"of {row.logged_hours:.2f} h logged; {row.personal_hours:.2f} h personal"
        interruptions_detail = f"4-week average {row.owner_interruptions_4wk_avg:.2f}"
        reviewed = sorted(row.level10_categories, key=team_order)
        backlog_detail = f"Level-10 review: {', '.join(reviewed)}" if reviewed else "No Level-10 review"
    return [
        Card(
            "delegated_hours",
            "Delegated hours",
            f"{row.delegated_hours:.2f} h" if row is not None else "—",
            status.get("delegated_hours"),
            delegated_target,
            delegated_detail,
            regime,
        ),
        Card(
            "owner_interruptions",
            "Owner interruptions",
            str(row.owner_interruptions) if row is not None else "—",
            status.get("owner_interruptions"),
            f"Green when the 4-week average is at most {_number(targets.interruptions_4wk_green_max)}",
            interruptions_detail,
            "Contacts about a ticket, Monday to Sunday",
        ),
        Card(
            "aged_backlog",
            "Backlog aged past SLA",
            str(row.aged_backlog) if row is not None else "—",
            status.get("aged_backlog"),
            f"Green when every team is at {team_max} or fewer",
            backlog_detail,
            f"A team at {formulas.LEVEL10_TEAM_MIN} or more triggers a Level-10 review",
        ),
    ]


def _trend(rows: dict[date, WeeklyKpi], week: date, org: Organization, targets: KpiTargets) -> dict:
    """The 12 weeks up to ``week`` for Chart.js (json_script): values from the rows (null for a
    week not rolled up), each week's status, and the target lines, each week's as it was judged
    (``week_targets``; a week without a row by ``targets``, the week shown's)."""
    mondays = [week - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
    picked = [rows.get(monday) for monday in mondays]
    judged = [week_targets(row, targets) for row in picked]

    def each(read) -> list:
        return [read(row) if row is not None else None for row in picked]

    def statuses(key: str) -> list:
        return each(lambda row: row.status.get(key))

    delegated_target, amber_line = [], []
    for monday, row, lines in zip(mondays, picked, judged, strict=True):
        # Each week by its own row's managed clients; a week without a row as the week shown.
        if _fixed_regime(row if row is not None else rows.get(week), org, lines):
            delegated_target.append(formulas.hours(lines.delegated_hours_green))
            amber_line.append(formulas.hours(lines.delegated_hours_amber))
        else:
            delegated_target.append(float(_previous_mean(rows, monday)))  # as the card shows it
            amber_line.append(None)
    return {
        "labels": [f"{monday:%-d %b}" for monday in mondays],
        "weeks": [monday.isoformat() for monday in mondays],
        "delegated_hours": {
            "values": each(lambda row: formulas.hours(row.delegated_hours)),
            "status": statuses("delegated_hours"),
            "target": delegated_target,
            "amber": amber_line if any(v is not None for v in amber_line) else None,
        },
        "owner_interruptions": {
            "values": each(lambda row: row.owner_interruptions),
            "average": each(lambda row: formulas.hours(row.owner_interruptions_4wk_avg)),
            "status": statuses("owner_interruptions"),
            "target": [formulas.hours(lines.interruptions_4wk_green_max) for lines in judged],
        },
        "aged_backlog": {
            "values": each(lambda row: row.aged_backlog),
            "worst_team": each(lambda row: max(row.aged_backlog_by_team.values(), default=0)),
            "status": statuses("aged_backlog"),
            "target": [lines.aged_backlog_team_max for lines in judged],
        },
    }


def _trend_table(trend: dict) -> list[dict]:
    """The charts' figures as a table (screen readers, print), newest week first."""
    table = []
    for index, monday in enumerate(trend["weeks"]):
        table.append(
            {
                "week": date.fromisoformat(monday),
                **{key: trend[key]["values"][index] for key in KPI_KEYS},
                "average": trend["owner_interruptions"]["average"][index],
                "status": {key: trend[key]["status"][index] for key in KPI_KEYS},
            }
        )
    return table[::-1]


def _teams(row: WeeklyKpi | None, targets: KpiTargets) -> list[dict]:
    if row is None:
        return []
    triggered = row.level10_categories
    return [
        {
            "team": team,
            "aged": count,
            "over": count > targets.aged_backlog_team_max,
            "level10": team in triggered,
        }
        for team, count in sorted(row.aged_backlog_by_team.items(), key=lambda kv: team_order(kv[0]))
    ]


def _level10(row: WeeklyKpi | None, week: date) -> list[dict]:
    """The teams that triggered a review and their top 3 aging categories, each with the query
    its "Make a to-do" opens the form with (the title prefilled)."""
    if row is None:
        return []

    def query(team: str, name: str, slot: str) -> str:
        title = f"{team}: clear the aged {name} tickets and fix the cause"
        # ``slot``: the form's own ids, apart from the other categories' forms open at once.
        return urlencode({"title": title, "ticket_category": name, "week": week.isoformat(), "slot": slot})

    teams = sorted(row.level10_categories.items(), key=lambda kv: team_order(kv[0]))
    return [
        {
            "team": team,
            "aged": row.aged_backlog_by_team.get(team, 0),
            "categories": [
                {"name": name, "query": query(team, name, f"{t}-{c}")} for c, name in enumerate(categories, 1)
            ],
        }
        for t, (team, categories) in enumerate(teams, 1)
    ]


def _interruptions(row: WeeklyKpi | None) -> dict[str, Any]:
    """The week's interruptions about a ticket by ticket category and by channel, as the rollup
    stored them (``services.interruption_breakdown``), most first (jsonb keeps no key order)."""
    if row is None:
        return {"categories": [], "channels": [], "total": 0}

    def most_first(counts: dict[str, int], label=lambda key: key) -> list[tuple[str, int]]:
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] == UNCATEGORIZED, kv[0].lower()))
        return [(label(key), count) for key, count in ordered if count]

    return {
        "categories": most_first(row.interruptions_by_category),
        "channels": most_first(row.interruptions_by_channel, lambda key: CHANNEL_LABELS.get(key, key)),
        "total": sum(row.interruptions_by_channel.values()),
    }


def _due_delegations(org: Organization, week: date, today: date) -> list[Delegation]:
    """Handed-off delegations whose review date falls in the week or before it (overdue)."""
    found = delegations_due(org, week + timedelta(days=6))
    for delegation in found:
        delegation.overdue = delegation.review_date < today
    return found


def agenda_todo_lists(org: Organization, week: date) -> tuple[list, list]:
    """Last week's agenda to-dos (done or not: the review) and the ones new this week, in one
    query: the to-dos on either agenda, each marked whether it was on last week's.

    An open to-do carries over to each next agenda until done (SPEC 1, ``selectors.agenda_rule``):
    every to-do on this week's agenda that was not created this week was on last week's too."""
    todos = agenda_lists(org, week)
    reviewed = [todo for todo in todos if todo.on_last_agenda]
    new = [todo for todo in todos if not todo.on_last_agenda]
    for todo in (*reviewed, *new):
        todo.carried_from = todo.created_week if todo.created_week < week else None
    return reviewed, new


def _freshness(row: WeeklyKpi | None, org: Organization, week: date, now: datetime) -> str:
    """``not_begun`` (a week still to come), ``missing`` (not rolled up), ``week_to_date``
    (computed before the week ended, and never again), ``stale`` (a week the nightly rollup
    refreshes, computed more than a day ago) or ``fresh``. Older final weeks are not refreshed
    any more: their figures are final."""
    if row is None:
        return "not_begun" if weeks.week_bounds(week, org.tz)[0] > now else "missing"
    if not row.final and weeks.week_bounds(week, org.tz)[1] <= now:
        return "week_to_date"
    if week in services.weeks_to_refresh(org, now) and weeks.elapsed(row.computed_at, now) > STALE_AFTER:
        return "stale"
    return "fresh"


def _active_run(request: HttpRequest, now: datetime) -> RollupRun | None:
    """The run of ``?run=`` (the no-JavaScript redirect after "Recompute now"), else one still
    running that was requested lately: a reload keeps showing its progress."""
    if (run_id := parse_id(request.GET.get("run", ""))) is not None:
        return RollupRun.objects.for_org(request.org).filter(pk=run_id).first()
    return running_rollup(request.org, now - RUN_FRESH)


def figures_context(request: HttpRequest, week: date, now: datetime) -> dict[str, Any]:
    org = request.org
    current = kpi_targets(org)
    rows = _rows_up_to(org, week)
    row = rows.get(week)
    targets = week_targets(row, current)  # the ones the week was judged by
    trend = _trend(rows, week, org, targets)
    today = weeks.today(org.tz, now)
    reviewed, new = agenda_todo_lists(org, week)
    freshness = _freshness(row, org, week, now)
    return {
        "week": week,
        "week_end": week + timedelta(days=6),
        "row": row,
        "cards": _cards(row, rows, week, org, targets),
        "trend": trend,
        "trend_table": _trend_table(trend),
        "teams": _teams(row, targets),
        "targets_changed": targets is not current and targets.applied() != current.applied(),
        "level10": _level10(row, week),
        "interruptions": _interruptions(row),
        "due_delegations": _due_delegations(org, week, today),
        "todos_reviewed": reviewed,
        "todos_new": new,
        "freshness": freshness,
        "warn": freshness not in ("fresh", "not_begun"),
        "stale_hours": STALE_AFTER // timedelta(hours=1),
        "today": today,
        "may_manage_todos": can(request, Perm.MANAGE_TICKETS),
        "may_recompute": can(request, Perm.RUN_ROLLUP),
        "tz_name": weeks.zone_name(org.tz),
        "level10_min": formulas.LEVEL10_TEAM_MIN,
    }


# --- pages ----------------------------------------------------------------------------------


@org_view(Perm.VIEW)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    # A later week may be opened (?week=): its agenda already holds the to-dos that carry over.
    week = week_arg(request)
    context = figures_context(request, week, now)
    if wants_partial(request):  # the figures again, after a recompute
        return render_local(request, "kpis/partials/figures.html", context)
    this_week = weeks.current_week(request.org.tz, now)
    run = _active_run(request, now)
    context.update(
        {
            "nav": "kpis",
            "this_week": this_week,
            "previous_week": week - timedelta(weeks=1),
            "next_week": week + timedelta(weeks=1) if week < this_week else None,
            "recomputes_shown_week": services.older_week(request.org, week, now) is not None,
            "run": run,
            **(_run_context(run, request.org) if run is not None else {}),
        }
    )
    return render_local(request, "kpis/dashboard.html", context)


# The CSV layout: SPEC 4's row (``selectors.weekly_row``), nested fields flattened (docs/kpis.md).
CSV_HEAD = ["week", "final", "computed_at", "delegated_hours", "personal_hours", "logged_hours"]
CSV_MIDDLE = ["owner_interruptions", "owner_interruptions_4wk_avg", "aged_backlog", "level10_review"]
CSV_TAIL = ["managed_clients", *(f"status_{key}" for key in KPI_KEYS)]
HOUR_COLUMNS = {"delegated_hours", "personal_hours", "logged_hours", "owner_interruptions_4wk_avg"}


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


@org_view(Perm.VIEW)
@require_GET
def weekly_csv(request: HttpRequest) -> HttpResponse:
    """Every rolled-up week (or ``?from=&to=`` Mondays), oldest first: one query for the rows.

    Hours by tag become ``hours_<tag>`` columns; the backlog per team ``aged_backlog:<team>``
    columns (every team seen in the file, 0 in a week without it) and the Level-10 categories
    ``level10_categories:<team>`` columns (the team's top 3, joined by "; ")."""
    org = request.org
    selected = WeeklyKpi.objects.for_org(org).order_by("week")
    first, last = monday_or_none(request.GET.get("from")), monday_or_none(request.GET.get("to"))
    if first:
        selected = selected.filter(week__gte=first)
    if last:
        selected = selected.filter(week__lte=last)
    rows = [weekly_row(row, org.tz) for row in selected]
    tags = list(TAG_FIELDS)  # SPEC's order (jsonb keeps none)
    teams = sorted({team for row in rows for team in row["aged_backlog_by_team"]}, key=team_order)
    reviewed = sorted({team for row in rows for team in row["level10_categories"]}, key=team_order)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{org.slug}-weekly-kpis.csv"'
    writer = csv.writer(response, lineterminator="\r\n")
    writer.writerow(
        [
            *CSV_HEAD,
            *(f"hours_{tag}" for tag in tags),
            *CSV_MIDDLE,
            *(f"aged_backlog:{team}" for team in teams),
            *(f"level10_categories:{team}" for team in reviewed),
            *CSV_TAIL,
        ]
    )
    for row in rows:
        writer.writerow(
            [
                *(_csv_cell(row[name]) for name in CSV_HEAD),
                *(_csv_cell(row["hours_by_tag"].get(tag, 0.0)) for tag in tags),
                *(_csv_cell(row[name]) for name in CSV_MIDDLE),
                *(str(row["aged_backlog_by_team"].get(team, 0)) for team in teams),
                *("; ".join(row["level10_categories"].get(team, [])) for team in reviewed),
                _csv_cell(row["managed_clients"]),
                *(row["status"].get(key, "") for key in KPI_KEYS),
            ]
        )
    return response


# --- recompute now ----------------------------------------------------------------------------


def _run_state(run: RollupRun) -> str:
    if run.finished_at is not None:
        return "failed" if run.error else "done"
    return "running" if run.weeks_total else "queued"


def _run_context(run: RollupRun, org: Organization) -> dict[str, Any]:
    state = _run_state(run)
    return {
        "run": run,
        "run_weeks": services.requested_weeks(run, org),
        "run_state": state,
        "polling": state in ("queued", "running"),
        "poll_seconds": POLL_SECONDS,
    }


def _progress_response(request: HttpRequest, run: RollupRun, status: int = 200) -> HttpResponse:
    context = _run_context(run, request.org)
    headers = {"HX-Trigger": RECOMPUTED} if context["run_state"] == "done" else {}
    return render_local(request, "kpis/partials/rollup_progress.html", context, status, **headers)


@org_view(Perm.RUN_ROLLUP)
@require_POST
def rollup_request(request: HttpRequest) -> HttpResponse:
    """Queues the recompute of the previous and the current week (and of the older week shown,
    ``week``), unless one is running."""
    now = timezone.now()
    running = running_rollup(request.org, now - RUN_FRESH)
    run = running or services.request_rollup(org=request.org, user=request.user, week=week_arg(request))
    run.refresh_from_db()  # the queue may have refused it already (or an eager task finished it)
    if wants_partial(request):
        return _progress_response(request, run, 202)
    week = week_arg(request)
    return redirect(f"{reverse('kpis:dashboard')}?week={week.isoformat()}&run={run.pk}")


@org_view(Perm.VIEW)
@require_GET
def rollup_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's progress, polled every second by the dashboard until it finishes."""
    run = org_object_or_404(request, RollupRun, pk=pk)
    if not wants_partial(request):
        return redirect("kpis:dashboard")
    return _progress_response(request, run)
