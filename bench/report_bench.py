"""Audit report and Today page benchmark (issue 4, item 9).

One command::

    .venv/bin/python bench/report_bench.py [--runs 200] [--no-readme]

Starts a throwaway PostgreSQL (``tests.harness.Services``), points ``DATABASE_URL`` at it
before ``django.setup()``, migrates, and seeds one founder (America/Chicago) with a year of
entries (about 15,000, written through ``save_time_entries``: 5 to 45 minutes each, tags,
categories, handling and quadrant flags drawn from a fixed seed). Then, in the same run:

- ``audit_report`` for the audit starting 2025-03-03 (the spring-forward week), p50/p95 over
  ``--runs`` calls and its query count, next to ONE hand-written SQL query computing the
  same figures (checked equal to the report's, figure by figure);
- the Today page, ``GET /audits/today/?day=2025-03-04`` through Django's test client (a day
  with 12 entries): p50/p95 and query count, next to one raw SQL query of that day's
  entries and total. If the page is not there, the ``day_entries`` selector is timed instead
  and the table says so.

Prints a table and writes it into ``bench/README.md`` between the report-bench markers.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import hours, machine, percentile, write_readme  # noqa: E402

from tests.harness import Services  # noqa: E402

README = ROOT / "bench" / "README.md"
START, END = "<!-- report-bench:start -->", "<!-- report-bench:end -->"
TZ_NAME = "America/Chicago"
TZ = ZoneInfo(TZ_NAME)
YEAR_FIRST_DAY = date(2024, 6, 3)  # a Monday; 364 days up to 2025-06-01
YEAR_DAYS = 364
AUDIT_MONDAY = date(2025, 3, 3)  # the week of 2025-03-09's spring forward: 167 hours
TODAY_DAY = date(2025, 3, 4)
TODAY_ENTRIES = 12
LENGTHS = [5, 5, 5, 10, 10, 10, 10, 15, 15, 15, 20, 20, 30, 45]  # minutes, about 15 on average
GAPS = [0, 0, 0, 0, 0, 5]  # minutes between entries
WEIGHTED_CATEGORIES = (
    ["tickets"] * 6
    + ["escalations"] * 4
    + ["approvals"] * 3
    + ["vendor-calls"] * 2
    + ["billing-admin"] * 2
    + ["sales", "client-retention", "service-delivery", "team", "onboarding", "backlog", "documentation"]
    + ["projects", "other"]
)
TAGS = ["repetitive", "outsourceable", "systemizable", "owner_by_habit"]
ACTIVITIES = [
    "Password resets for {client}",
    "Escalation: {client} firewall down",
    "Approve quote for {client}",
    "Vendor call with Pax8 about {client}",
    "Invoice questions from {client}",
    "QBR prep for {client}",
    "Backup failure at {client}",
    "New laptop onboarding for {client}",
]
CLIENTS = ["Acme Dental", "Baker Law", "Cole CPA", "Dunn Realty", "Eagle Clinic", "Fox Logistics"]


@dataclass
class Timing:
    p50: float  # milliseconds, whole call
    p95: float
    db_p50: float  # milliseconds spent waiting on PostgreSQL (execute and fetch)
    queries: int  # of one call
    result: object


def timed(fn: Callable[[], object], runs: int) -> Timing:
    """``runs`` calls after 3 warm-ups; the database share is timed around each cursor execute."""
    from django.db import connection

    executed: list[str] = []
    waited = [0.0]

    def watch(execute, sql, params, many, context):
        executed.append(sql)
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited[0] += time.perf_counter() - began

    for _ in range(3):
        result = fn()
    with connection.execute_wrapper(watch):
        result = fn()
        queries = len(executed)
        samples, db_samples = [], []
        for _ in range(runs):
            waited[0] = 0.0
            began = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - began) * 1000)
            db_samples.append(waited[0] * 1000)
    return Timing(
        statistics.median(samples), percentile(samples, 0.95), statistics.median(db_samples), queries, result
    )


def boot(services: Services) -> None:
    url = services.start_postgres()
    # The server starts with only the "postgres" database: create the app's.
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute("CREATE DATABASE msp_ops")
    os.environ["DATABASE_URL"] = url
    os.environ["MSP_OPS_DATA_DIR"] = str(services.root / "data")
    os.environ["DJANGO_SETTINGS_MODULE"] = "msp_ops.settings"
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["WHITENOISE_USE_FINDERS"] = "true"
    os.environ["STATIC_ROOT"] = str(services.root / "static")
    (services.root / "static").mkdir(exist_ok=True)
    os.environ.setdefault("SECRET_KEY", "report-bench-only")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def day_plan(rng: random.Random, day: date, cursor: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end) of one day's entries from about 06:00 local, continuing after ``cursor``."""
    count = TODAY_ENTRIES if day == TODAY_DAY else (50 if day.weekday() < 5 else 20) + rng.randint(-4, 4)
    moment = max(cursor, datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=6))
    times = []
    for _ in range(count):
        moment += timedelta(minutes=rng.choice(GAPS))
        end = moment + timedelta(minutes=rng.choice(LENGTHS))
        times.append((moment, end))
        moment = end
    return times


def seed(rng: random.Random):
    from audits.models import Category, TimeEntry
    from audits.services import save_time_entries, start_time_audit
    from msp_ops.orgs.services import add_member, create_organization

    org = create_organization(slug="bench-msp", name="Bench MSP", timezone_name=TZ_NAME, managed_clients=24)
    founder = add_member(org=org, username="founder", role="founder")[0].user
    categories = {c.slug: c for c in Category.objects.for_org(org)}
    entries: list[TimeEntry] = []
    cursor = datetime.combine(YEAR_FIRST_DAY, datetime.min.time(), TZ)
    for offset in range(YEAR_DAYS):
        day = YEAR_FIRST_DAY + timedelta(days=offset)
        for start, end in day_plan(rng, day, cursor):
            assessed = rng.random() < 0.6
            entry = TimeEntry(
                user=founder,
                started_at=start,
                ended_at=end,
                activity=rng.choice(ACTIVITIES).format(client=rng.choice(CLIENTS)),
                category=categories[rng.choice(WEIGHTED_CATEGORIES)],
                handling="delegated" if rng.random() < 0.2 else "personal",
                urgent=rng.random() < 0.5 if assessed else None,
                important=rng.random() < 0.5 if assessed else None,
                client=rng.choice(CLIENTS),
            )
            entry.tags = [tag for tag in TAGS if rng.random() < 0.3]
            entries.append(entry)
            cursor = end
    began = time.perf_counter()
    for first in range(0, len(entries), 1000):
        save_time_entries(org=org, entries=entries[first : first + 1000])
    seconds = time.perf_counter() - began
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum would have done by now on a live server
    audit = start_time_audit(org=org, user=founder, start_date=AUDIT_MONDAY)
    return org, founder, audit, len(entries), seconds


RAW_REPORT = """
WITH win AS (
    SELECT (%(first)s::date::timestamp AT TIME ZONE %(tz)s) AS ws,
           ((%(first)s::date + 7)::timestamp AT TIME ZONE %(tz)s) AS we
), e AS (
    SELECT t.*, c.slug, c.kind,
           LEAST(t.ended_at, win.we) - GREATEST(t.started_at, win.ws) AS inside,
           (t.tag_repetitive OR t.tag_outsourceable OR t.tag_systemizable OR t.tag_owner_by_habit) AS tagged
    FROM audits_timeentry t JOIN audits_category c ON c.id = t.category_id, win
    WHERE t.organization_id = %(org)s AND t.user_id = %(user)s
      AND t.started_at >= win.ws - interval '24 hours' AND t.started_at < win.we AND t.ended_at > win.ws
), d AS (
    SELECT g::date AS day, (g::date::timestamp AT TIME ZONE %(tz)s) AS ds,
           ((g::date + 1)::timestamp AT TIME ZONE %(tz)s) AS de
    FROM generate_series(%(first)s::date, %(first)s::date + 6, interval '1 day') AS g
), per_day AS (
    SELECT d.day, COALESCE(SUM(LEAST(e.ended_at, d.de) - GREATEST(e.started_at, d.ds)), interval '0') AS span
    FROM d LEFT JOIN e ON e.started_at < d.de AND e.ended_at > d.ds
    GROUP BY d.day
), per_cat AS (
    SELECT slug, SUM(inside) AS span, SUM(inside) FILTER (WHERE tagged) AS tagged_span,
           COUNT(*) FILTER (WHERE tagged) AS tagged_entries,
           SUM(inside) FILTER (WHERE tag_repetitive) AS repetitive,
           SUM(inside) FILTER (WHERE tag_outsourceable) AS outsourceable,
           SUM(inside) FILTER (WHERE tag_systemizable) AS systemizable,
           SUM(inside) FILTER (WHERE tag_owner_by_habit) AS owner_by_habit
    FROM e GROUP BY slug
)
SELECT
    (SELECT SUM(inside) FROM e),
    (SELECT json_object_agg(day, EXTRACT(EPOCH FROM span)) FROM per_day),
    (SELECT SUM(inside) FILTER (WHERE tag_repetitive) FROM e),
    (SELECT SUM(inside) FILTER (WHERE tag_outsourceable) FROM e),
    (SELECT SUM(inside) FILTER (WHERE tag_systemizable) FROM e),
    (SELECT SUM(inside) FILTER (WHERE tag_owner_by_habit) FROM e),
    (SELECT SUM(inside) FILTER (WHERE NOT tagged) FROM e),
    (SELECT SUM(inside) FILTER (WHERE tagged) FROM e),
    (SELECT SUM(inside) FILTER (WHERE kind = 'in_business') FROM e),
    (SELECT SUM(inside) FILTER (WHERE kind = 'on_business') FROM e),
    (SELECT SUM(inside) FILTER (WHERE handling = 'personal') FROM e),
    (SELECT SUM(inside) FILTER (WHERE handling = 'delegated') FROM e),
    (SELECT SUM(inside) FILTER (WHERE urgent AND important) FROM e),
    (SELECT SUM(inside) FILTER (WHERE urgent AND NOT important) FROM e),
    (SELECT SUM(inside) FILTER (WHERE NOT urgent AND important) FROM e),
    (SELECT SUM(inside) FILTER (WHERE NOT urgent AND NOT important) FROM e),
    (SELECT SUM(inside) FILTER (WHERE urgent IS NULL OR important IS NULL) FROM e),
    (SELECT json_object_agg(slug, EXTRACT(EPOCH FROM span)) FROM per_cat),
    (SELECT json_agg(json_build_object(
        'category', slug, 'hours', EXTRACT(EPOCH FROM tagged_span), 'entries', tagged_entries,
        'repetitive', EXTRACT(EPOCH FROM COALESCE(repetitive, interval '0')),
        'outsourceable', EXTRACT(EPOCH FROM COALESCE(outsourceable, interval '0')),
        'systemizable', EXTRACT(EPOCH FROM COALESCE(systemizable, interval '0')),
        'owner_by_habit', EXTRACT(EPOCH FROM COALESCE(owner_by_habit, interval '0'))
     ) ORDER BY tagged_span DESC, slug)
     FROM (SELECT * FROM per_cat WHERE tagged_span > interval '0'
           ORDER BY tagged_span DESC, slug LIMIT 5) top)
"""

RAW_DAY = """
SELECT t.id, t.started_at, t.ended_at, t.activity, c.slug, c.name,
       t.tag_repetitive, t.tag_outsourceable, t.tag_systemizable, t.tag_owner_by_habit,
       SUM(LEAST(t.ended_at, %(de)s) - GREATEST(t.started_at, %(ds)s)) OVER () AS day_total
FROM audits_timeentry t JOIN audits_category c ON c.id = t.category_id
WHERE t.organization_id = %(org)s AND t.user_id = %(user)s
  AND t.started_at >= %(ds)s - interval '24 hours' AND t.started_at < %(de)s AND t.ended_at > %(ds)s
ORDER BY t.started_at, t.id
"""


def raw_report(org, audit):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            RAW_REPORT, {"first": audit.start_date, "tz": org.timezone, "org": org.pk, "user": audit.user_id}
        )
        return cursor.fetchone()


def compare(report, row) -> list[str]:
    """The report's figures against the raw query's; returns the mismatches."""
    (logged, per_day, rep, out, sys_, obh, untagged, reclaimable, in_b, on_b, personal, delegated,
     q_ui, q_un, q_ni, q_nn, unflagged, per_cat, top) = row  # fmt: skip
    pairs = {
        "logged_hours": (report.logged_hours, hours(logged)),
        "hours_by_day": (
            {d.isoformat(): v for d, v in report.hours_by_day.items()},
            {d: hours(v) for d, v in per_day.items()},
        ),
        "hours_by_tag": (
            report.hours_by_tag,
            {
                "repetitive": hours(rep),
                "outsourceable": hours(out),
                "systemizable": hours(sys_),
                "owner_by_habit": hours(obh),
            },
        ),
        "untagged_hours": (report.untagged_hours, hours(untagged)),
        "reclaimable_hours": (report.reclaimable_hours, hours(reclaimable)),
        "in_business_hours": (report.in_business_hours, hours(in_b)),
        "on_business_hours": (report.on_business_hours, hours(on_b)),
        "personal_hours": (report.personal_hours, hours(personal)),
        "delegated_hours": (report.delegated_hours, hours(delegated)),
        "quadrants": (
            report.quadrants,
            {
                "urgent_important": hours(q_ui),
                "urgent_not_important": hours(q_un),
                "not_urgent_important": hours(q_ni),
                "not_urgent_not_important": hours(q_nn),
                "unflagged": hours(unflagged),
            },
        ),
        "hours_by_category": (
            report.hours_by_category,
            {slug: hours(v) for slug, v in (per_cat or {}).items() if hours(v)},
        ),
        "candidates": (
            [(c.category, c.hours, c.entries, c.hours_by_tag) for c in report.candidates],
            [
                (c["category"], hours(c["hours"]), c["entries"], {tag: hours(c[tag]) for tag in TAGS})
                for c in (top or [])
            ],
        ),
    }
    return [name for name, (ours, theirs) in pairs.items() if ours != theirs]


def bench_today(org, founder, runs: int) -> tuple[str, Timing]:
    """The Today page through the test client, or the day_entries selector when the page is missing."""
    from django.test import Client

    client = Client()
    client.force_login(founder)
    url = f"/audits/today/?day={TODAY_DAY.isoformat()}"
    try:
        response = client.get(url)
        ok = response.status_code == 200 and b"<html" in response.content.lower()
    except Exception as error:  # the page may not be built yet: fall back below
        print(f"Today page failed: {error!r}")
        ok = False
    if ok:
        return f"Today page `GET {url}`", timed(lambda: client.get(url), runs)
    from audits.selectors import day_entries

    return (
        "`day_entries` selector (Today page not available in this run)",
        timed(lambda: day_entries(org=org, user=founder, day=TODAY_DAY), runs),
    )


def raw_day(org, founder):
    from django.db import connection

    from msp_ops.lib.weeks import day_bounds

    ds, de = day_bounds(TODAY_DAY, org.tz)
    with connection.cursor() as cursor:
        cursor.execute(RAW_DAY, {"ds": ds, "de": de, "org": org.pk, "user": founder.pk})
        return cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed calls per measurement")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args()

    services = Services()
    try:
        boot(services)
        from audits.models import TimeAudit, TimeEntry
        from audits.selectors import audit_report
        from msp_ops.lib.weeks import range_bounds

        org, founder, audit, count, seed_seconds = seed(random.Random(20250303))
        audit = TimeAudit.objects.select_related("organization", "user").get(pk=audit.pk)
        report = timed(lambda: audit_report(audit), args.runs)
        raw = timed(lambda: raw_report(org, audit), args.runs)
        mismatches = compare(report.result, raw.result)
        today_label, today = bench_today(org, founder, args.runs)
        day = timed(lambda: raw_day(org, founder), args.runs)
        window = range_bounds(audit.start_date, audit.end_date, org.tz)
        in_window = TimeEntry.objects.for_org(org).filter(user=founder).overlapping(*window).count()

        rows = [
            ("`audit_report` (ORM, 7-day audit)", report),
            ("one raw SQL query, same figures", raw),
            (today_label, today),
            ("one raw SQL query: that day's entries and total", day),
        ]
        table = [
            "| measurement | p50 ms | p95 ms | of which PostgreSQL (p50 ms) | queries |",
            "| --- | ---: | ---: | ---: | ---: |",
            *[f"| {label} | {t.p50:.2f} | {t.p95:.2f} | {t.db_p50:.2f} | {t.queries} |" for label, t in rows],
        ]
        report_data = report.result
        section = "\n".join(
            [
                f"Measured on {machine()};"
                f" `{' '.join(['.venv/bin/python', 'bench/report_bench.py', *sys.argv[1:]])}`,"
                f" {args.runs} timed calls each after 3 warm-ups.",
                "",
                f"Seed: one founder in {TZ_NAME} with {count:,} entries over {YEAR_DAYS} days"
                f" ({YEAR_FIRST_DAY} to {YEAR_FIRST_DAY + timedelta(days=YEAR_DAYS - 1)}),"
                " 5 to 45 minutes each,"
                f" written through `save_time_entries` in batches of 1,000 in {seed_seconds:.1f} s.",
                f"The audit starts {AUDIT_MONDAY} (the spring-forward week, 167 h)"
                f" and holds {in_window} entries;"
                f" the Today day {TODAY_DAY} holds {len(day.result)} entries.",
                "",
                *table,
                "",
                "The report's figures equal the raw query's, figure by figure"
                if not mismatches
                else f"MISMATCH between the report and the raw query: {', '.join(mismatches)}",
                f"(logged {report_data.logged_hours} h, reclaimable {report_data.reclaimable_hours} h,"
                f" top candidate {report_data.candidates[0].category if report_data.candidates else '-'}).",
                "The report's query count does not depend on the number of entries"
                " (`tests/audits/test_report.py` asserts 2 queries for 1 and for 50 entries).",
                "",
                f"Reading: PostgreSQL answers the report's two queries in about {report.db_p50:.1f} ms"
                f" against {raw.db_p50:.1f} ms for the hand-written one; the rest of the ORM's time is Python"
                " building and compiling about 30 filtered `SUM(LEAST(...) - GREATEST(...))` expressions"
                " per call. The Today page spends"
                f" {today.db_p50:.1f} ms of its {today.p50:.1f} ms in the database; the rest is Python"
                " (middleware, forms, template rendering). The machine is shared and"
                " figures move by tens of percent from run to run; compare rows of one run.",
            ]
        )
        print(section)
        if not args.no_readme:
            write_readme(section, start=START, end=END, heading="## Audit report and Today page")
            print(f"\nWritten to {README.relative_to(ROOT)}")
        if mismatches:
            sys.exit(1)
    finally:
        from django.db import connections

        connections.close_all()
        services.stop()


if __name__ == "__main__":
    main()
