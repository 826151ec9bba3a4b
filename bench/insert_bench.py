"""Where a batch write's time goes in PostgreSQL: the time-entry table's insert cost, part by part
(issue 12, item 3: batches at 3x the peer's rate).

One command (also ``bench/run insert [options]``)::

    .venv/bin/python bench/insert_bench.py [--rows 50000] [--runs 3] [--no-readme]

Starts a throwaway PostgreSQL (``tests.harness.Services``, fsync off, as the API benchmark's),
migrates, and fills a staging table with ``--rows`` time entries, non-overlapping per member,
half an hour to 40 minutes each, in two layouts: one organization of 7 members (the API
benchmark's), and 200 organizations of 7 members (a hosted deployment). Then, for each layout,
it times ``INSERT INTO t SELECT * FROM staging`` (the server's work alone: no client, no
parsing, no network) into a copy of ``audits_timeentry`` with:

- no index (the heap and the check constraints);
- the table's b-tree indexes (primary key, ``external_id`` per organization, the member index,
  the organization index and the two foreign-key indexes);
- the no-overlap exclusion constraint alone, as the table has it (organization, member, then
  the time range: GiST);
- that constraint with the time range first;
- every index and constraint of the table (the b-trees and the exclusion constraint);
- the table itself, with its three foreign keys too (one organization only: the rows need real
  organizations, members and categories).

Median of ``--runs`` (the copy emptied with TRUNCATE between runs), as rows per second and
microseconds per row, in a table written into ``bench/README.md`` between the insert-bench
markers. The sum is the ceiling of any batch through the API, whatever the client and the
driver: COPY and ``executemany`` in ``bench/run api`` land on the same table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import machine, write_readme  # noqa: E402
from kpi_bench import boot  # noqa: E402

from tests.harness import Services  # noqa: E402

MEMBERS = 7
LAYOUTS = {"one organization, 7 members": 1, "200 organizations, 7 members each": 200}
TABLE = "audits_timeentry"


def staging_sql(rows: int, orgs: int, org_id: int, user_ids: list[int], category_id: int) -> str:
    """A staging table of ``rows`` entries with the real table's columns: each member's entries
    an hour apart, 30 to 40 minutes long; organizations and members numbered from the real
    ones for one organization, made up for many (only the copy without foreign keys takes those)."""
    per_member = -(-rows // (orgs * MEMBERS))
    users = "ARRAY[" + ", ".join(str(user) for user in user_ids) + "]"
    return f"""
DROP TABLE IF EXISTS staging;
CREATE TABLE staging AS
SELECT * FROM {TABLE} WHERE false;
INSERT INTO staging (started_at, ended_at, activity, tag_repetitive, tag_outsourceable,
    tag_systemizable, tag_owner_by_habit, handling, urgent, important, client, ticket_ref, notes,
    external_id, source, created_at, updated_at, category_id, organization_id, user_id, id)
SELECT s, s + (30 + n % 11) * interval '1 minute', 'Ticket work #' || n, n % 3 = 0, n % 5 = 0,
       n % 7 = 0, n % 2 = 0, CASE WHEN n % 4 = 0 THEN 'delegated' ELSE 'personal' END, n % 2 = 0,
       NULL, 'Client ' || n % 40, 'T-' || n, '', 'psa-' || o || '-' || m || '-' || n, 'api',
       now(), now(), {category_id},
       CASE WHEN {orgs} = 1 THEN {org_id} ELSE 1000 + o END,
       CASE WHEN {orgs} = 1 THEN ({users})[m] ELSE 100000 + o * {MEMBERS} + m END,
       row_number() OVER ()
FROM generate_series(1, {orgs}) AS o, generate_series(1, {MEMBERS}) AS m,
     generate_series(1, {per_member}) AS n,
     LATERAL (SELECT timestamptz '2025-01-06 08:00+00' + n * interval '1 hour'
                     + (n * 7 + m) % 9 * interval '1 minute' AS s) AS starts
ORDER BY s, o, m
LIMIT {rows};
ANALYZE staging;
"""


# The copy's exclusion constraint (LIKE ... INCLUDING ALL names it after the copy).
DROP_EXCLUSION = """DO $$ BEGIN EXECUTE (
    SELECT format('ALTER TABLE t DROP CONSTRAINT %I', conname) FROM pg_constraint
    WHERE conrelid = 't'::regclass AND contype = 'x'
); END $$"""


def exclusion_definition(cursor) -> str:
    cursor.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'x'",
        [TABLE],
    )
    [(definition,)] = cursor.fetchall()
    return definition


def variants(cursor) -> dict[str, list[str]]:
    """Each copy's statements after ``CREATE TABLE t``."""
    exclusion = exclusion_definition(cursor)
    range_first = (
        "EXCLUDE USING gist (tstzrange(started_at, ended_at, '[)'::text) WITH &&,"
        " organization_id WITH =, user_id WITH =)"
    )
    plain = f"CREATE TABLE t (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    every = f"CREATE TABLE t (LIKE {TABLE} INCLUDING ALL)"
    return {
        "no index (heap, check constraints)": [plain],
        "the b-tree indexes (6)": [every, DROP_EXCLUSION],
        "the exclusion constraint alone (organization, member, range)": [
            plain,
            f"ALTER TABLE t ADD CONSTRAINT x {exclusion}",
        ],
        "the exclusion constraint, the range first": [plain, f"ALTER TABLE t ADD CONSTRAINT x {range_first}"],
        "every index and constraint (as the table)": [every],
    }


def timed_inserts(cursor, target: str, runs: int, empty: str) -> float:
    """The median seconds of ``INSERT INTO target SELECT * FROM staging`` over ``runs``."""
    times = []
    for _ in range(runs):
        cursor.execute(empty)
        started = time.perf_counter()
        cursor.execute(f"INSERT INTO {target} SELECT * FROM staging")
        times.append(time.perf_counter() - started)
    cursor.execute(empty)
    return statistics.median(times)


def measure(rows: int, runs: int) -> list[tuple[str, str, float]]:
    from django.db import connection

    from audits.models import Category
    from msp_ops.orgs.models import Organization
    from msp_ops.orgs.services import add_member, create_organization

    org: Organization = create_organization(slug="bench", name="Bench MSP", timezone_name="America/Chicago")
    user_ids = [
        add_member(org=org, username=f"member{n}", role="founder" if n == 1 else "technician")[0].user_id
        for n in range(1, MEMBERS + 1)
    ]
    category_id = Category.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True)[0]
    results = []
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        for layout, orgs in LAYOUTS.items():
            cursor.execute(staging_sql(rows, orgs, org.pk, user_ids, category_id))
            for label, statements in variants(cursor).items():
                cursor.execute("DROP TABLE IF EXISTS t")
                for statement in statements:
                    cursor.execute(statement)
                results.append((layout, label, timed_inserts(cursor, "t", runs, "TRUNCATE t")))
                print(f"  {layout}: {label}: {rows / results[-1][2]:,.0f} rows/s", flush=True)
            if orgs == 1:
                label = "the table itself, with its 3 foreign keys"
                seconds = timed_inserts(cursor, TABLE, runs, f"TRUNCATE {TABLE} CASCADE")
                results.append((layout, label, seconds))
                print(f"  {layout}: {label}: {rows / seconds:,.0f} rows/s", flush=True)
            cursor.execute("DROP TABLE IF EXISTS t")
    return results


def report(rows: int, runs: int, results: list[tuple[str, str, float]], where: str) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {where}; "
        f"`bench/run insert` ({rows:,} rows, median of {runs} runs; PostgreSQL with fsync off, "
        "`synchronous_commit = off`). `INSERT INTO copy SELECT * FROM staging`: the server's "
        "work alone, no client.",
        "",
        "| layout | indexes and constraints | rows/s | µs a row | over no index, µs a row |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    base = {layout: seconds for layout, label, seconds in results if label.startswith("no index")}
    for layout, label, seconds in results:
        extra = (seconds - base[layout]) / rows * 1e6
        lines.append(
            f"| {layout} | {label} | {rows / seconds:,.0f} | {seconds / rows * 1e6:.1f} | {extra:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    if args.rows < 1 or args.runs < 1:
        parser.error("--rows and --runs must be at least 1")
    services = Services()
    try:
        boot(services)
        where = machine()
        results = measure(args.rows, args.runs)
        section = report(args.rows, args.runs, results, where)
    finally:
        services.stop()
    print(section)
    if not args.no_readme:
        write_readme(
            section,
            start="<!-- insert-bench:start -->",
            end="<!-- insert-bench:end -->",
            heading="## Where a batch write's time goes in PostgreSQL (`bench/run insert`)",
        )


if __name__ == "__main__":
    main()
