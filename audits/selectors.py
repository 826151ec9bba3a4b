"""Reads worth a name: the audit report (SPEC 1 "Time audit", SPEC 4 ``/audits/{id}/report/``).

``audit_report`` is the one implementation behind the report page, its print view and the
API. It aggregates in the database (two queries, whatever the number of entries); only
entries crossing the window's edge or a midnight count for their part inside.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from itertools import pairwise
from typing import Any

from django.db import connection
from django.db.models import Count, Q, Sum

from audits.models import (
    MAX_ENTRY_DURATION,
    TAG_FIELDS,
    Category,
    CategoryKind,
    Handling,
    TimeAudit,
    TimeEntry,
    any_tag,
    duration_inside,
)
from msp_ops.lib.pgvalues import micros, timestamptz_array
from msp_ops.lib.prepared import Prepared
from msp_ops.lib.rawrows import RowReader
from msp_ops.lib.weeks import day_bounds, days, micros_to_hours, range_bounds, to_hours
from msp_ops.orgs.models import Membership, Organization, Role

MAX_CANDIDATES = 5


# Each organization's categories as this process last read them: (the organization's
# created_at, its categories_version then, the categories by slug). At most this many kept.
_KEPT: dict[int, tuple[datetime, int, dict[str, Category]]] = {}
KEPT_ORGANIZATIONS = 1000


def current_categories(org: Organization, slugs: Collection[str]) -> dict[str, Category]:
    """The organization's categories with these slugs, by slug (``Category.objects.for_org(org)
    .filter(slug__in=slugs)``), for an ``org`` read in this request (the API's token lookup reads
    it on every request), without a query while its categories are the ones this process read
    last time: on PostgreSQL every change to a category gives the organization a new
    ``categories_version`` (a trigger, audits migration 0006), so the same number means the same
    categories. A new number, or an organization not seen yet, reads all its categories again
    in one statement (prepared). An API write thus spends no round trip on categories while
    nobody edits them (issue 12). The objects are shared by the requests of this process:
    read them, never change them. SQLite (no trigger) reads them every time."""
    if connection.vendor != "postgresql":
        return {c.slug: c for c in Category.objects.for_org(org).filter(slug__in=slugs)}
    kept = _KEPT.get(org.pk)
    if kept is None or kept[0] != org.created_at or kept[1] != org.categories_version:
        reader = _org_categories_statement()[1]
        with connection.cursor() as cursor:
            _ORG_CATEGORIES.execute(cursor, [org.pk])
            rows = cursor.fetchall()
        if not rows:  # the organization is gone
            return {}
        categories = (reader.read(row, 1) for row in rows if row[1] is not None)
        if len(_KEPT) >= KEPT_ORGANIZATIONS:
            _KEPT.clear()
        kept = _KEPT[org.pk] = (org.created_at, rows[0][0], {c.slug: c for c in categories})
    by_slug = kept[2]
    return {slug: by_slug[slug] for slug in slugs if slug in by_slug}


@cache
def _org_categories_statement() -> tuple[str, RowReader]:
    reader = RowReader(Category)
    quote, organization = connection.ops.quote_name, Organization._meta
    sql = (
        f"SELECT o.{quote(organization.get_field('categories_version').column)}, {reader.columns('c')}"
        f" FROM {quote(organization.db_table)} o LEFT JOIN {quote(Category._meta.db_table)} c"
        f" ON c.{quote(Category._meta.get_field('organization').column)} = o.{quote(organization.pk.column)}"
        f" WHERE o.{quote(organization.pk.column)} = %s"
    )
    return sql, reader


_ORG_CATEGORIES = Prepared("msp_org_categories", lambda: _org_categories_statement()[0], ["bigint"])


QUADRANTS: dict[str, Q] = {
    "urgent_important": Q(urgent=True, important=True),
    "urgent_not_important": Q(urgent=True, important=False),
    "not_urgent_important": Q(urgent=False, important=True),
    "not_urgent_not_important": Q(urgent=False, important=False),
}


def _sum(start: datetime, end: datetime, condition: Q | None = None) -> Sum:
    return duration_inside(start, end, condition)


@dataclass
class Candidate:
    category: str
    name: str
    hours: Decimal
    hours_by_tag: dict[str, Decimal]
    entries: int


@dataclass
class AuditReport:
    audit: int
    user: str
    start_date: date
    end_date: date
    logged_hours: Decimal
    hours_by_day: dict[date, Decimal]
    empty_days: list[date]
    hours_by_tag: dict[str, Decimal]
    untagged_hours: Decimal
    reclaimable_hours: Decimal
    hours_by_category: dict[str, Decimal]
    in_business_hours: Decimal
    on_business_hours: Decimal
    personal_hours: Decimal
    delegated_hours: Decimal
    quadrants: dict[str, Decimal]
    candidates: list[Candidate]
    # For the page only (not in the API): category slug -> display name.
    category_names: dict[str, str] = field(default_factory=dict)
    # For the page only: hours in categories neither in nor on the business (SPEC 1 "other").
    neither_hours: Decimal = Decimal("0.00")

    def as_api_dict(self) -> dict[str, Any]:
        """SPEC 4's JSON shape: dates as ISO strings, hours as Decimals with 2 places."""
        data = asdict(self)
        data.pop("category_names")
        data.pop("neither_hours")
        data["start_date"] = self.start_date.isoformat()
        data["end_date"] = self.end_date.isoformat()
        data["hours_by_day"] = {day.isoformat(): hours for day, hours in self.hours_by_day.items()}
        data["empty_days"] = [day.isoformat() for day in self.empty_days]
        for candidate in data["candidates"]:
            candidate.pop("name")
        return data


def audit_report(audit: TimeAudit) -> AuditReport:
    """Every figure of SPEC 1 "Time audit" for the audit's 7 local days, in two queries.

    One aggregate over the member's entries touching the window (totals, days, tags,
    kinds, handling, quadrants), one GROUP BY category (hours per category and the
    candidates). Each sum clips the entry to the window (or the day), so an entry crossing
    the edge or a midnight counts only its part inside; DST days are 23 or 25 hours.
    Loading ``audit.organization``/``audit.user`` costs a query each unless already cached
    (``select_related``).
    """
    tz = audit.organization.tz
    start, end = range_bounds(audit.start_date, audit.end_date, tz)
    entries = TimeEntry.objects.for_org(audit.organization).filter(user=audit.user).overlapping(start, end)
    window_days = list(days(audit.start_date, audit.end_date))

    figures: dict[str, Sum] = {"logged": _sum(start, end)}
    for day in window_days:
        day_start, day_end = day_bounds(day, tz)
        # Clip to the day as well as select the entries touching it: one column per day.
        figures[f"day_{day:%Y%m%d}"] = _sum(
            day_start, day_end, Q(started_at__lt=day_end, ended_at__gt=day_start)
        )
    for tag, column in TAG_FIELDS.items():
        figures[f"sum_tag_{tag}"] = _sum(start, end, Q(**{column: True}))
    figures["untagged"] = _sum(start, end, ~any_tag())
    figures["reclaimable"] = _sum(start, end, any_tag())
    figures["in_business"] = _sum(start, end, Q(category__kind=CategoryKind.IN_BUSINESS))
    figures["on_business"] = _sum(start, end, Q(category__kind=CategoryKind.ON_BUSINESS))
    figures["neither"] = _sum(start, end, Q(category__kind=CategoryKind.NEITHER))
    figures["personal"] = _sum(start, end, Q(handling=Handling.PERSONAL))
    figures["delegated"] = _sum(start, end, Q(handling=Handling.DELEGATED))
    for name, condition in QUADRANTS.items():
        figures[f"q_{name}"] = _sum(start, end, condition)
    figures["q_unflagged"] = _sum(start, end, Q(urgent__isnull=True) | Q(important__isnull=True))
    sums = entries.aggregate(**figures)
    totals = {key: to_hours(value) for key, value in sums.items()}

    per_category = (
        entries.values("category__slug", "category__name")
        .annotate(
            hours=_sum(start, end),
            tagged_hours=_sum(start, end, any_tag()),
            tagged_entries=Count("pk", filter=any_tag()),
            **{f"sum_tag_{tag}": _sum(start, end, Q(**{column: True})) for tag, column in TAG_FIELDS.items()},
        )
        .order_by("category__slug")
    )
    rows = list(per_category)
    hours_by_day = {day: totals[f"day_{day:%Y%m%d}"] for day in window_days}
    candidates = sorted(
        (row for row in rows if row["tagged_hours"]),
        key=lambda row: (-row["tagged_hours"], row["category__slug"]),
    )[:MAX_CANDIDATES]

    return AuditReport(
        audit=audit.pk,
        user=audit.user.get_username(),
        start_date=audit.start_date,
        end_date=audit.end_date,
        logged_hours=totals["logged"],
        hours_by_day=hours_by_day,
        # Empty: no part of an entry on the day, however short (10 s reads 0.00 h, yet logged).
        empty_days=[day for day in window_days if not sums[f"day_{day:%Y%m%d}"]],
        hours_by_tag={tag: totals[f"sum_tag_{tag}"] for tag in TAG_FIELDS},
        untagged_hours=totals["untagged"],
        reclaimable_hours=totals["reclaimable"],
        hours_by_category={row["category__slug"]: to_hours(row["hours"]) for row in rows if row["hours"]},
        in_business_hours=totals["in_business"],
        on_business_hours=totals["on_business"],
        personal_hours=totals["personal"],
        delegated_hours=totals["delegated"],
        quadrants={name: totals[f"q_{name}"] for name in [*QUADRANTS, "unflagged"]},
        candidates=[
            Candidate(
                category=row["category__slug"],
                name=row["category__name"],
                hours=to_hours(row["tagged_hours"]),
                hours_by_tag={tag: to_hours(row[f"sum_tag_{tag}"]) for tag in TAG_FIELDS},
                entries=row["tagged_entries"],
            )
            for row in candidates
        ],
        category_names={row["category__slug"]: row["category__name"] for row in rows},
        neither_hours=totals["neither"],
    )


def audit_day(audit: TimeAudit, today: date) -> int | None:
    """Which day of the audit ``today`` is (1..7), or None outside the window."""
    if audit.start_date <= today <= audit.end_date:
        return (today - audit.start_date).days + 1
    return None


# --- page reads: the Today page and the audit list ---------------------------------------


@dataclass
class DayEntries:
    """A member's entries touching one local day, with the day's total (their parts inside it)."""

    day: date
    entries: list[TimeEntry]
    total_hours: Decimal
    last_end: datetime | None  # where the day's last entry ends: quick-add durations start there


def day_entries(*, org, user, day: date) -> DayEntries:
    """One query, whatever the number of entries (the category comes along)."""
    from msp_ops.lib.weeks import clip, elapsed

    day_start, day_end = day_bounds(day, org.tz)
    entries = list(
        TimeEntry.objects.for_org(org)
        .filter(user=user)
        .overlapping(day_start, day_end)
        .select_related("category")
        .order_by("started_at", "pk")
    )
    total = sum(
        (elapsed(*part) for e in entries if (part := clip(e.started_at, e.ended_at, day_start, day_end))),
        start=elapsed(day_start, day_start),
    )
    return DayEntries(
        day=day,
        entries=entries,
        total_hours=to_hours(total),
        last_end=max((e.ended_at for e in entries), default=None),
    )


def visible_audits(*, org, user=None) -> list[TimeAudit]:
    """The org's audits, newest first; only ``user``'s when given. One query."""
    audits = TimeAudit.objects.for_org(org).select_related("user")
    if user is not None:
        audits = audits.filter(user=user)
    return list(audits.order_by("-start_date", "user__username"))


def hours_in_windows(
    entries, windows: dict[Any, tuple[datetime, datetime, Q | None]], *, exact: bool = False
) -> dict[Any, Decimal | Fraction]:
    """Hours of ``entries`` inside each window [start, end), clipped at its edges, in one query.

    ``windows`` maps a key to (start, end, condition); the condition narrows the entries of
    that window (e.g. one category). The delegation's "hours freed" and the weekly KPIs
    split entries at local week boundaries with it (SPEC 1 "Weeks"). ``exact``: each figure
    unrounded, a ``Fraction`` of whole microseconds, for a caller that combines several
    figures and rounds once (hours freed averages weeks).
    """
    if not windows:
        return {}
    figures = {}
    for number, (start, end, condition) in enumerate(windows.values()):
        touching = Q(started_at__lt=end, ended_at__gt=start)
        figures[f"w{number}"] = _sum(start, end, touching & condition if condition is not None else touching)
    totals = entries.order_by().aggregate(**figures)
    if exact:
        micro = timedelta(microseconds=1)
        return {
            key: Fraction((totals[f"w{number}"] or timedelta(0)) // micro, 3_600_000_000)
            for number, key in enumerate(windows)
        }
    return {key: to_hours(totals[f"w{number}"]) for number, key in enumerate(windows)}


def founder_entries(org):
    """Entries of the members whose role is ``founder`` now (SPEC 2: "their role when the rollup
    runs"; SPEC 1 "Hours freed")."""
    return TimeEntry.objects.for_org(org).filter(
        user__memberships__organization=org, user__memberships__role=Role.FOUNDER
    )


# --- founder hours week by week (the weekly KPIs, SPEC 2.1) ---------------------------------

# What each sum counts, beside the whole logged time: the handling and the four tags.
_WEEK_SUMS: dict[str, str] = {
    "delegated": f"handling = '{Handling.DELEGATED}'",
    "personal": f"handling = '{Handling.PERSONAL}'",
    **{f"tag_{tag}": column for tag, column in TAG_FIELDS.items()},
}


def _week_sum(name: str, part: str) -> str:
    conditions = [c for c in (f"{part} IS NOT NULL" if part == "tail" else None, _WEEK_SUMS.get(name)) if c]
    return micros(f"SUM({part})" + (f" FILTER (WHERE {' AND '.join(conditions)})" if conditions else ""))


# Each entry is read once. ``width_bucket`` finds the window holding its start (k: bounds[k] <=
# started_at < bounds[k + 1]); the entry's part inside that window is clipped at the window's
# end (``head``), and the part past it (``tail``, for an entry crossing into the next window,
# never further: no entry lasts over 24 h) counts in the next one. The same clipping as
# ``duration_inside``, for consecutive windows: one pass instead of one sum per window. Each
# part is computed once per entry (OFFSET 0 keeps the subqueries from being merged into the
# sums, which would compute it once per sum).
_HOURS_BY_WEEK_SUMS = ", ".join(
    f"{_week_sum(name, 'head')}, {_week_sum(name, 'tail')}" for name in ["logged", *_WEEK_SUMS]
)
_HOURS_BY_WEEK_SQL = f"""
SELECT k, {_HOURS_BY_WEEK_SUMS}
FROM (
    SELECT k, handling, {", ".join(TAG_FIELDS.values())},
           LEAST(e, next) - s AS head, CASE WHEN e > next THEN e - next END AS tail
    FROM (
        SELECT t.started_at AS s, t.ended_at AS e, t.handling, {", ".join(TAG_FIELDS.values())},
               b.k, (%(bounds)s::timestamptz[])[b.k + 1] AS next
        FROM {TimeEntry._meta.db_table} t
        CROSS JOIN LATERAL (SELECT width_bucket(t.started_at, %(bounds)s::timestamptz[]) AS k) b
        WHERE t.organization_id = %(org)s
          AND t.user_id IN (
              SELECT user_id FROM {Membership._meta.db_table}
              WHERE organization_id = %(org)s AND role = %(role)s
          )
          AND t.started_at >= %(earliest)s AND t.started_at < %(end)s AND t.ended_at > %(start)s
        OFFSET 0
    ) AS entries
    OFFSET 0
) AS parts
GROUP BY k
"""


def founder_hours_by_week(org, bounds: list[datetime]) -> list[dict[str, Decimal]]:
    """Hours of the organization's founder-role members (``founder_entries``) inside each of the
    consecutive windows [bounds[i], bounds[i + 1]), clipped at their edges, in one query: for
    each window, ``logged``, ``delegated``, ``personal`` and ``tag_<tag>`` hours."""
    if connection.vendor != "postgresql":
        return _founder_hours_by_week_portable(org, bounds)
    names = ["logged", *_WEEK_SUMS]
    windows = len(bounds) - 1
    totals = [dict.fromkeys(names, 0) for _ in range(windows + 1)]  # microseconds
    with connection.cursor() as cursor:
        cursor.execute(
            _HOURS_BY_WEEK_SQL,
            {
                "org": org.pk,
                "role": Role.FOUNDER.value,
                "bounds": timestamptz_array(bounds),
                "start": bounds[0],
                "end": bounds[-1],
                "earliest": bounds[0] - MAX_ENTRY_DURATION,
            },
        )
        for k, *sums in cursor.fetchall():
            # k == 0: an entry started before the first window (only its tail counts).
            for number, name in enumerate(names):
                head, tail = sums[2 * number], sums[2 * number + 1]
                if 1 <= k <= windows and head:
                    totals[k - 1][name] += head
                if k < windows and tail:
                    totals[k][name] += tail
    return [{name: micros_to_hours(value) for name, value in window.items()} for window in totals[:windows]]


_WEEK_CONDITIONS: dict[str, Q | None] = {
    "logged": None,
    "delegated": Q(handling=Handling.DELEGATED),
    "personal": Q(handling=Handling.PERSONAL),
    **{f"tag_{tag}": Q(**{column: True}) for tag, column in TAG_FIELDS.items()},
}


def _founder_hours_by_week_portable(org, bounds: list[datetime]) -> list[dict[str, Decimal]]:
    """``founder_hours_by_week`` in the ORM's portable SQL (SQLite, the embedded default): one
    filtered sum per window and figure, in one query (slower; the tests hold both equal)."""
    windows = {
        (number, name): (start, end, condition)
        for number, (start, end) in enumerate(pairwise(bounds))
        for name, condition in _WEEK_CONDITIONS.items()
    }
    hours = hours_in_windows(founder_entries(org).overlapping(bounds[0], bounds[-1]), windows)
    return [{name: hours[(number, name)] for name in _WEEK_CONDITIONS} for number in range(len(bounds) - 1)]
