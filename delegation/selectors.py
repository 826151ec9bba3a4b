"""Reads worth a name: hours freed, drill reviews, the out-of-window flag, the runbook list."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    Expression,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractIsoWeekDay, Lower, TruncTime
from django.utils import timezone

from audits.models import Handling
from audits.selectors import founder_entries, hours_in_windows
from delegation.models import (
    RUNBOOK_STALE_AFTER,
    UNCATEGORIZED,
    BlockKind,
    Delegation,
    Drill,
    FollowUp,
    Interruption,
    Runbook,
    TimeBlock,
)
from msp_ops.lib import weeks
from msp_ops.orgs.models import Organization, Role

HOURS_FREED_WEEKS = 4


# --- hours freed (SPEC 1) -----------------------------------------------------------------


def hours_freed(
    delegations: Sequence[Delegation], *, now: datetime | None = None
) -> dict[int, Decimal | None]:
    """Founder hours per week each delegation actually freed, in one query for all of them
    (per organization; its row is loaded once unless ``select_related``).

    For a handoff date H: the founder's mean weekly ``personal`` hours in the delegation's
    category over the 4 whole weeks before H's week, minus the same mean over the whole
    weeks after H's week that have ended (up to 4). None without a handoff date or before a
    week after it has ended. Hours of members with role ``founder``, split at local weeks.
    """
    now = now or timezone.now()
    result: dict[int, Decimal | None] = {d.pk: None for d in delegations}
    orgs: dict[int, Organization] = {}
    windows: dict[int, dict[tuple[int, date], tuple[datetime, datetime, Q]]] = {}
    plans: dict[int, tuple[list[date], list[date]]] = {}
    for delegation in delegations:
        if delegation.handoff_date is None:
            continue
        if delegation.organization_id not in orgs:
            orgs[delegation.organization_id] = delegation.organization
        org = orgs[delegation.organization_id]
        tz = org.tz
        handoff_week = weeks.monday_of(delegation.handoff_date)
        before = [handoff_week - timedelta(weeks=n) for n in range(HOURS_FREED_WEEKS, 0, -1)]
        after = [
            monday
            for n in range(1, HOURS_FREED_WEEKS + 1)
            if weeks.week_bounds(monday := handoff_week + timedelta(weeks=n), tz)[1] <= now
        ]
        if not after:
            continue
        plans[delegation.pk] = (before, after)
        for monday in [*before, *after]:
            start, end = weeks.week_bounds(monday, tz)
            windows.setdefault(org.pk, {})[(delegation.category_id, monday)] = (
                start,
                end,
                Q(category_id=delegation.category_id),
            )
    if not plans:
        return result
    hours: dict[tuple[int, date], Fraction] = {}
    for org_pk, org_windows in windows.items():  # a category belongs to one organization: keys differ
        personal = founder_entries(orgs[org_pk]).filter(handling=Handling.PERSONAL)
        # Exact weekly hours: weeks of 1.0054, 1.0054, 1.0054 and 1.0 h average 1.00405 (1.00);
        # rounded week by week first they would give 1.0075 (1.01).
        hours.update(hours_in_windows(personal, org_windows, exact=True))
    by_pk = {d.pk: d for d in delegations}
    for pk, (before, after) in plans.items():
        category = by_pk[pk].category_id
        mean_before = sum(hours[(category, m)] for m in before) / len(before)
        mean_after = sum(hours[(category, m)] for m in after) / len(after)
        freed = mean_before - mean_after
        # Rounded once, half up, like every figure of the app (weeks.to_hours). The division
        # is exact at a half (a terminating decimal) and too precise to cross one otherwise.
        result[pk] = (Decimal(freed.numerator) / freed.denominator).quantize(weeks.TWO_PLACES, ROUND_HALF_UP)
    return result


# --- interruptions ------------------------------------------------------------------------


@dataclass(frozen=True)
class InterruptionFlags:
    out_of_window: bool
    drill: int | None


def flags_at(org: Organization, moment: datetime) -> InterruptionFlags:
    """The flags an interruption at ``moment`` gets, by the one rule of ``with_flags`` (a query)."""
    annotations = _flag_annotations(org, Value(moment, output_field=DateTimeField()))
    row = Organization.objects.filter(pk=org.pk).annotate(**annotations).values(*annotations).get()
    return InterruptionFlags(row["flag_out_of_window"], row["flag_drill"])


def with_flags(interruptions, org: Organization):
    """The interruptions annotated in SQL with ``flag_out_of_window`` and ``flag_drill`` (SPEC 4's
    read-only ``out_of_window`` and ``drill``), so lists filter and paginate on them.

    Out of window (SPEC 1 "Time blocks"): the local time (org zone, DST-aware) falls inside no
    ``owner_escalations`` block of the organization's founders; with no such block at all,
    nothing is flagged. The drill: the one whose window [starts_at, ends_at) holds it. The one
    rule (``_flag_annotations``): pages, API and ``flags_at`` all read it from here, the
    annotations as SQL compiled once (``_CompiledFlag``); on PostgreSQL each flag is read in SQL
    of its own that does not run a subquery for each row (``_OutOfWindow``, ``_DrillAt``).
    """
    moment = F("occurred_at")
    return interruptions.annotate(**{name: _CompiledFlag(name, org, moment) for name in _FLAGS})


_FLAGS = ("flag_out_of_window", "flag_drill")
_SOME_ORG = -(2**62)  # the organization id the flags are compiled for, then replaced by the real one
_SLOT = "__interruption_moment__"  # in the compiled SQL: where the interruption's column goes


class _Moment(Expression):
    """Compiles to ``_SLOT``: the interruption's moment in ``_compiled_flags``."""

    output_field = DateTimeField()

    def as_sql(self, compiler, connection):
        return _SLOT, []


class _CompiledFlag(Expression):
    """A flag of ``_flag_annotations`` as the SQL of ``_compiled_flags``, with the organization's
    id and the query's own column of the moment put in.

    Building the flags' nested subqueries and compiling them cost 4 to 5 ms of CPU on every
    request, more than reading a page of 1,000 interruptions; their SQL differs only by the
    database, the zone and the query's alias prefix (a queryset used inside another query has
    its own), so it is compiled once for each of those.
    """

    def __init__(self, name: str, org: Organization, moment) -> None:
        self.name, self.org, self.moment = name, org, moment
        super().__init__(output_field=_flag_fields()[name])

    def get_source_expressions(self) -> list:
        return [self.moment]

    def set_source_expressions(self, exprs) -> None:
        (self.moment,) = exprs

    def as_sql(self, compiler, connection):
        parts, params, org_at = _compiled_flags(
            connection.alias, self.org.timezone, compiler.query.alias_prefix
        )[self.name]
        moment, moment_params = compiler.compile(self.moment)
        if moment_params:  # a column: nothing to put between the compiled params
            raise ValueError("with_flags reads the moment from a column of the interruption")
        params = list(params)
        for index in org_at:
            params[index] = self.org.pk
        return moment.join(parts), params


def _flag_queryset(zone: str, moment, prefix: str = "T"):
    queryset = Interruption.objects.all()
    queryset.query.alias_prefix = prefix
    return queryset.annotate(**_flag_annotations(Organization(pk=_SOME_ORG, timezone=zone), moment))


@functools.cache
def _flag_fields() -> dict:
    annotations = _flag_queryset("UTC", F("occurred_at")).query.annotations
    return {name: annotations[name].output_field for name in _FLAGS}


@functools.cache
def _compiled_flags(alias: str, zone: str, prefix: str) -> dict[str, tuple[list[str], tuple, list[int]]]:
    """Each flag's SQL split where the moment goes, its params, and which of them are the
    organization's id: as Django compiles ``_flag_annotations`` in a query of alias prefix
    ``prefix`` on database ``alias`` for an organization in ``zone``."""
    query = _flag_queryset(zone, _Moment(), prefix).query
    compiler = query.get_compiler(using=alias)
    compiled = {}
    for name in _FLAGS:
        sql, params = compiler.compile(query.annotations[name])
        org_at = [i for i, value in enumerate(params) if type(value) is int and value == _SOME_ORG]
        compiled[name] = (sql.split(_SLOT), tuple(params), org_at)
    return compiled


def _flag_annotations(org: Organization, moment) -> dict:
    blocks = _escalation_blocks(org)
    local = {
        "local_weekday": ExtractIsoWeekDay(moment, tzinfo=org.tz),
        "local_time": TruncTime(moment, tzinfo=org.tz),
    }
    inside = blocks.filter(
        weekday=OuterRef("local_weekday"),
        start_time__lte=OuterRef("local_time"),
        end_time__gt=OuterRef("local_time"),
    )
    drill = Drill.objects.for_org(org).filter(
        starts_at__lte=OuterRef("moment"), ends_at__gt=OuterRef("moment")
    )
    return {
        **local,
        "moment": moment,
        "flag_out_of_window": _OutOfWindow(
            Case(
                When(Exists(blocks) & ~Exists(inside), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            blocks,
            moment,
            org.timezone,
        ),
        "flag_drill": _DrillAt(Subquery(drill.values("pk")[:1]), Drill.objects.for_org(org), moment),
    }


class _RuleOnPostgresql(Expression):
    """A flag: its rule as the ORM writes it (``rule``, compiled on any database but PostgreSQL)
    and, on PostgreSQL, the same answer in SQL of its own (``as_postgresql``) over ``rows`` (a
    subquery of the organization's rows the flag reads) and the interruption's ``moment``."""

    def __init__(self, rule, rows, moment, *, output_field) -> None:
        super().__init__(output_field=output_field)
        self.rule, self.rows, self.moment = rule, rows, moment

    def get_source_expressions(self) -> list:
        return [self.rule, self.rows, self.moment]

    def set_source_expressions(self, exprs) -> None:
        self.rule, self.rows, self.moment = exprs

    def as_sql(self, compiler, connection):
        return compiler.compile(self.rule)


_BLOCK_SPAN = ("start_time", "end_time")


class _OutOfWindow(_RuleOnPostgresql):
    """``flag_out_of_window``.

    The ORM's ``NOT EXISTS`` runs a subquery for each interruption that joins the founders' blocks
    again and converts the moment to local time three times for each block it compares: 14 µs a
    row with the ten escalation windows of a typical week, 17 ms of a page of 1,000. On
    PostgreSQL the founders' escalation blocks become one multirange of seconds since Monday
    00:00 (``range_agg``: a subquery that does not depend on the row, so it runs once a query),
    and each moment's local second of the week is looked up in it: two zone conversions a row.
    With no block the multirange is NULL, and nothing is flagged, as the rule says.
    ``tests/delegation/test_interruptions.py`` holds both readings equal on a grid of moments.
    """

    def __init__(self, rule, blocks, moment, zone: str) -> None:
        rows = Subquery(blocks.order_by().values("weekday", *_BLOCK_SPAN))
        super().__init__(rule, rows, moment, output_field=BooleanField())
        self.zone = zone

    def as_postgresql(self, compiler, connection):
        blocks, blocks_params = compiler.compile(self.rows)
        moment, moment_params = compiler.compile(self.moment)
        local = f"({moment} AT TIME ZONE %s)"
        start, end = (f"(b.weekday - 1) * 86400 + EXTRACT(EPOCH FROM b.{f})" for f in _BLOCK_SPAN)
        sql = (
            "COALESCE(NOT ("
            f"(SELECT range_agg(numrange({start}, {end})) FROM {blocks} AS b)"
            f" @> EXTRACT(EPOCH FROM {local} - date_trunc('week', {local}))"
            "), false)"
        )
        local_params = [*moment_params, self.zone]
        return sql, [*blocks_params, *local_params, *local_params]


class _DrillAt(_RuleOnPostgresql):
    """``flag_drill``: the drill whose window holds the moment.

    The ORM's subquery runs for each interruption (2 µs a row, a tenth of a page of 1,000). On
    PostgreSQL the organization's drills are read once a query into three arrays ordered by start
    (subqueries that do not depend on the row); ``width_bucket`` finds the last drill that started
    at or before the moment, and it holds the moment if it has not ended by then. Drills of one
    organization never overlap (their exclusion constraint, delegation's migration 0002), so no
    earlier one can hold it. ``tests/delegation/test_interruptions.py`` holds both equal.
    """

    def __init__(self, rule, drills, moment) -> None:
        rows = Subquery(drills.order_by().values("id", "starts_at", "ends_at"))
        super().__init__(rule, rows, moment, output_field=rule.output_field)

    def as_postgresql(self, compiler, connection):
        drills, drills_params = compiler.compile(self.rows)
        moment, moment_params = compiler.compile(self.moment)

        def each(column: str) -> str:
            return f"(SELECT array_agg(d.{column} ORDER BY d.starts_at, d.id) FROM {drills} AS d)"

        last = f"width_bucket({moment}, {each('starts_at')})"
        sql = f"CASE WHEN {moment} < {each('ends_at')}[{last}] THEN {each('id')}[{last}] END"
        # In the order of the placeholders: moment, ends, (moment, starts), ids, (moment, starts).
        started = [*moment_params, *drills_params]
        return sql, [*moment_params, *drills_params, *started, *drills_params, *started]


def _escalation_blocks(org: Organization):
    return TimeBlock.objects.for_org(org).filter(
        kind=BlockKind.OWNER_ESCALATIONS,
        user__memberships__organization=org,
        user__memberships__role=Role.FOUNDER,
    )


def has_escalation_windows(org: Organization) -> bool:
    """Whether the founders have an ``owner_escalations`` block (without one nothing is flagged)."""
    return _escalation_blocks(org).exists()


# --- drills -------------------------------------------------------------------------------


def drills_with_counts(org: Organization):
    """The org's drills, newest first, each with ``interruption_count`` (interruptions inside its
    window), in one query."""
    inside = (
        Interruption.objects.filter(
            organization=OuterRef("organization"),
            occurred_at__gte=OuterRef("starts_at"),
            occurred_at__lt=OuterRef("ends_at"),
        )
        .order_by()
        .values("organization")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Drill.objects.for_org(org).annotate(interruption_count=Coalesce(Subquery(inside), 0))


def drill_interruptions(drill: Drill) -> list[Interruption]:
    return list(
        Interruption.objects.for_org(drill.organization)
        .filter(occurred_at__gte=drill.starts_at, occurred_at__lt=drill.ends_at)
        .select_related("runbook", "logged_by")
        .order_by("occurred_at", "id")
    )


@dataclass
class DrillReview:
    drill: Drill
    interruptions: list[Interruption]
    pending: list[int]
    by_day: dict[date, int]
    by_category: dict[str, int]
    runbooks_updated: list[Runbook]
    rules_tightened: int


def drill_review(drill: Drill) -> DrillReview:
    """SPEC 4 ``/drills/{id}/review/``: every interruption in the window, oldest first, the ones
    still needing a follow-up, counts per local day (every day of the window) and category."""
    tz = drill.organization.tz
    interruptions = drill_interruptions(drill)
    first = weeks.local_date(drill.starts_at, tz)
    last = weeks.local_date(drill.ends_at - timedelta(microseconds=1), tz)
    by_day = {day: 0 for day in weeks.days(first, last)}
    by_day.update(Counter(weeks.local_date(i.occurred_at, tz) for i in interruptions))
    # Ticket categories compare case-insensitively (SPEC 1): "VPN" and "vpn" count together,
    # under the name the first of them gave.
    names: dict[str, str] = {}
    by_category: Counter[str] = Counter()
    for interruption in interruptions:
        name = interruption.category or UNCATEGORIZED
        by_category[names.setdefault(name.lower(), name)] += 1
    runbooks = {i.runbook.pk: i.runbook for i in interruptions if i.runbook is not None}
    return DrillReview(
        drill=drill,
        interruptions=interruptions,
        pending=[i.pk for i in interruptions if i.needs_follow_up],
        by_day=dict(sorted(by_day.items())),
        by_category=dict(sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0].lower()))),
        runbooks_updated=sorted(runbooks.values(), key=lambda r: r.ticket_category.lower()),
        rules_tightened=sum(1 for i in interruptions if i.follow_up == FollowUp.RULE_TIGHTENED),
    )


@dataclass(frozen=True)
class DrillSchedule:
    last_completed: Drill | None
    next_due: date | None  # one month after the start of the last completed drill
    overdue: bool


def drill_schedule(org: Organization, *, today: date | None = None) -> DrillSchedule:
    """SPEC 1: the next drill is due one month after the start of the last completed one and
    is overdue after that day. No completed drill yet: due now (the first one)."""
    today = today or weeks.today(org.tz)
    last = Drill.objects.for_org(org).filter(completed_at__isnull=False).order_by("-starts_at").first()
    if last is None:
        return DrillSchedule(None, None, False)
    due = weeks.add_months(weeks.local_date(last.starts_at, org.tz), 1)
    return DrillSchedule(last, due, today > due)


# --- runbooks -----------------------------------------------------------------------------


@dataclass
class RunbookRow:
    ticket_category: str
    interruptions: int  # in the last 4 weeks
    runbook: Runbook | None  # None: a gap ("write this one next")
    stale: bool = False  # not reviewed for 90 days


def runbook_list(org: Organization, *, now: datetime | None = None) -> list[RunbookRow]:
    """Gaps first (categories that caused interruptions in the last 4 weeks but have no
    runbook), then runbooks, each by how many interruptions its category caused (2 queries)."""
    now = now or timezone.now()
    today = weeks.today(org.tz, now)
    recent = (
        Interruption.objects.for_org(org)
        .filter(occurred_at__gt=now - timedelta(weeks=4), occurred_at__lte=now)
        .exclude(category="")
        .annotate(key=Lower("category"))
        .values("key")
        .annotate(count=Count("pk"), name=Min("category"))
        .order_by()
    )
    counts = {row["key"]: (row["name"], row["count"]) for row in recent}
    rows, gaps = [], []
    for runbook in Runbook.objects.for_org(org).select_related("updated_by"):
        _, count = counts.pop(runbook.ticket_category.lower(), ("", 0))
        stale = runbook.last_reviewed is None or runbook.last_reviewed < today - RUNBOOK_STALE_AFTER
        rows.append(RunbookRow(runbook.ticket_category, count, runbook, stale))
    gaps = [RunbookRow(name, count, None) for name, count in counts.values()]
    order = lambda row: (-row.interruptions, row.ticket_category.lower())  # noqa: E731
    return sorted(gaps, key=order) + sorted(rows, key=order)


def ticket_categories(org: Organization) -> list[str]:
    """Ticket categories in use (runbooks and interruptions), for suggestions; one per name
    compared case-insensitively."""
    seen: dict[str, str] = {}
    for name in Runbook.objects.for_org(org).values_list("ticket_category", flat=True):
        seen.setdefault(name.lower(), name)
    for name in (
        Interruption.objects.for_org(org).exclude(category="").values_list("category", flat=True).distinct()
    ):
        seen.setdefault(name.lower(), name)
    return sorted(seen.values(), key=str.lower)
