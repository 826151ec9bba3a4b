"""API benchmark (issue 6): push 100,000 time entries over HTTP and read them back.

One command (``bench/run`` runs it with the other benchmarks)::

    .venv/bin/python bench/api_bench.py [--entries 100000] [--singles 2000] [--workers 2]

A throwaway PostgreSQL (``tests.harness.Services``), ``migrate``, an organization with a
founder and six technicians, a founder token, and the app served by gunicorn on a free
loopback port. Then, in the same run and into the same table:

- ``POST /api/v1/time-entries/`` in batches of 500 (each item with an ``external_id``, so the
  idempotent upsert path is measured), founder pushing for every member with ``user``;
- single-entry POSTs, one at a time;
- psycopg ``executemany`` and ``COPY`` of the same rows (into two other organizations of the
  same table, so the no-overlap constraint holds);
- reading one founder's week (about 50 entries) and one founder's year (about 15,000,
  pages of 1000) through the API.

Prints a table and writes it into ``bench/README.md`` between the api-bench markers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import Services, _wait_for_port, free_port  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
README = ROOT / "bench" / "README.md"
START, END = "<!-- api-bench:start -->", "<!-- api-bench:end -->"
BATCH = 500
TECHS = [f"tech{n}" for n in range(1, 7)]
YEAR_START = datetime(2024, 1, 1, tzinfo=UTC)
WEEK_MONDAY = datetime(2025, 6, 2, 14, tzinfo=UTC)  # 09:00 in Chicago
FOUNDER_YEAR = 15_000  # 35-minute slots: 15,000 x 35 min = 364.6 days
SLOT = timedelta(minutes=35)
LENGTH = timedelta(minutes=30)
CATEGORIES = ["tickets", "escalations", "onboarding", "vendor-calls", "sales", "team", "billing-admin"]
TAGS = [[], ["repetitive"], ["repetitive", "outsourceable"], [], ["systemizable"], ["owner_by_habit"]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def entry(n: int, user: str, start: datetime, length: timedelta = LENGTH) -> dict:
    return {
        "user": user,
        "started_at": start.isoformat(),
        "ended_at": (start + length).isoformat(),
        "activity": f"Ticket work #{n}",
        "category": CATEGORIES[n % len(CATEGORIES)],
        "tags": TAGS[n % len(TAGS)],
        "handling": "delegated" if n % 5 == 0 else "personal",
        "urgent": n % 3 == 0,
        "important": n % 4 == 0,
        "client": f"Client {n % 24}",
        "ticket_ref": f"T-{n}",
        "external_id": f"psa-{n}",
    }


def workload(total: int) -> list[dict]:
    """The founder's year (15,000), one founder week (50), the rest spread over six techs."""
    items = [entry(n, "fran", YEAR_START + n * SLOT) for n in range(min(FOUNDER_YEAR, total))]
    for day in range(5):
        for k in range(10):
            if len(items) < total:
                start = WEEK_MONDAY + timedelta(days=day, minutes=50 * k)
                items.append(entry(len(items), "fran", start, timedelta(minutes=45)))
    per_tech = [0] * len(TECHS)
    while len(items) < total:
        t = len(items) % len(TECHS)
        items.append(entry(len(items), TECHS[t], YEAR_START + per_tech[t] * SLOT))
        per_tech[t] += 1
    return items


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


class Server:
    def __init__(self, env: dict, workers: int) -> None:
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "msp_ops.wsgi",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        _wait_for_port(self.port, "gunicorn", self.proc)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def push_batches(url: str, key: str, items: list[dict], threads: int) -> tuple[float, list[float]]:
    bodies = [json.dumps(items[i : i + BATCH]).encode() for i in range(0, len(items), BATCH)]
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(reversed(bodies))
    failures: list[str] = []

    def worker() -> None:
        session = requests.Session()
        headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            t0 = time.perf_counter()
            response = session.post(f"{url}/api/v1/time-entries/", data=body, headers=headers)
            elapsed = time.perf_counter() - t0
            if response.status_code not in (200, 201):
                failures.append(f"{response.status_code} {response.text[:300]}")
            with lock:
                latencies.append(elapsed)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} batch(es) refused, first: {failures[0]}")
    return wall, latencies


def push_singles(url: str, key: str, count: int) -> tuple[float, list[float]]:
    session = requests.Session()
    headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
    start = datetime(2023, 1, 2, 14, tzinfo=UTC)
    bodies = [
        json.dumps({**entry(900_000 + n, "fran", start + n * SLOT), "external_id": None}).encode()
        for n in range(count)
    ]
    latencies = []
    started = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        response = session.post(f"{url}/api/v1/time-entries/", data=body, headers=headers)
        latencies.append(time.perf_counter() - t0)
        if response.status_code != 201:
            raise SystemExit(f"single POST refused: {response.status_code} {response.text[:300]}")
    return time.perf_counter() - started, latencies


def read_all(session: requests.Session, url: str, key: str, params: dict) -> tuple[int, list[float]]:
    headers = {"Authorization": f"Token {key}"}
    page_times = []
    count = 0
    next_url: str | None = f"{url}/api/v1/time-entries/"
    query: dict | None = params
    while next_url:
        t0 = time.perf_counter()
        response = session.get(next_url, params=query, headers=headers)
        page_times.append(time.perf_counter() - t0)
        response.raise_for_status()
        body = response.json()
        count += len(body["results"])
        next_url, query = body["next"], None
    return count, page_times


COLUMNS = (
    "organization_id, user_id, started_at, ended_at, activity, category_id, tag_repetitive, "
    "tag_outsourceable, tag_systemizable, tag_owner_by_habit, handling, urgent, important, client, "
    "ticket_ref, notes, external_id, source, created_at, updated_at"
)


def raw_rows(conn: psycopg.Connection, org_slug: str, items: list[dict]) -> list[tuple]:
    org_id = conn.execute("SELECT id FROM orgs_organization WHERE slug = %s", (org_slug,)).fetchone()[0]
    users = dict(conn.execute("SELECT username, id FROM auth_user").fetchall())
    categories = dict(
        conn.execute("SELECT slug, id FROM audits_category WHERE organization_id = %s", (org_id,)).fetchall()
    )
    now = datetime.now(UTC)
    rows = []
    for item in items:
        tags = set(item["tags"])
        rows.append(
            (
                org_id,
                users[item["user"]],
                datetime.fromisoformat(item["started_at"]),
                datetime.fromisoformat(item["ended_at"]),
                item["activity"],
                categories[item["category"]],
                "repetitive" in tags,
                "outsourceable" in tags,
                "systemizable" in tags,
                "owner_by_habit" in tags,
                item["handling"],
                item["urgent"],
                item["important"],
                item["client"],
                item["ticket_ref"],
                "",
                item["external_id"],
                "api",
                now,
                now,
            )
        )
    return rows


def insert_executemany(dsn: str, rows: list[tuple]) -> float:
    placeholders = ", ".join(["%s"] * 20)
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        for i in range(0, len(rows), BATCH):
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO audits_timeentry ({COLUMNS}) VALUES ({placeholders})", rows[i : i + BATCH]
                )
        return time.perf_counter() - started


def insert_copy(dsn: str, rows: list[tuple]) -> float:
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(f"COPY audits_timeentry ({COLUMNS}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return time.perf_counter() - started


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def write_readme(table: str) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n\n`bench/run` runs every benchmark.\n"
    block = f"{START}\n{table}\n{END}"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n## API: pushing and reading time entries\n\n" + block + "\n"
    README.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="client threads pushing batches")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args()

    services = Services()
    server = None
    try:
        dsn = services.start_postgres()
        admin_dsn = dsn.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE msp_ops")
        env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "MSP_OPS_DATA_DIR": str(services.root / "data"),
            "API_THROTTLE_RATE": "100000000/min",  # measure the app, not the limit
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CELERY_BROKER_URL": "memory://",
        }
        print("==> migrate, organizations, members, token", flush=True)
        manage(env, "migrate", "--noinput")
        for slug in ("bench", "raw-executemany", "raw-copy"):
            manage(env, "create_org", slug, "--name", slug, "--timezone", "America/Chicago")
        manage(env, "add_member", "bench", "fran", "--role", "founder")
        for tech in TECHS:
            manage(env, "add_member", "bench", tech, "--role", "technician")
        key = manage(env, "create_api_token", "fran", "--org", "bench").strip().splitlines()[-1]

        server = Server(env, args.workers)
        items = workload(args.entries)
        print(
            f"==> POST {len(items)} entries in batches of {BATCH} ({args.threads} client threads)", flush=True
        )
        batch_wall, batch_lat = push_batches(server.url, key, items, args.threads)
        print(f"==> {args.singles} single-entry POSTs", flush=True)
        single_wall, single_lat = push_singles(server.url, key, args.singles)

        print("==> reads", flush=True)
        session = requests.Session()
        week = {
            "user": "fran",
            "from": WEEK_MONDAY.isoformat(),
            "to": (WEEK_MONDAY + timedelta(days=7)).isoformat(),
            "page_size": 1000,
        }
        week_lat = []
        for _ in range(30):
            count_week, pages = read_all(session, server.url, key, week)
            week_lat.append(sum(pages))
        year = {
            "user": "fran",
            "from": YEAR_START.isoformat(),
            "to": "2024-12-31T00:00:00+00:00",
            "page_size": 1000,
        }
        year_totals, year_pages = [], []
        for _ in range(3):
            count_year, pages = read_all(session, server.url, key, year)
            year_totals.append(sum(pages))
            year_pages.extend(pages)

        print("==> psycopg executemany and COPY of the same rows", flush=True)
        with psycopg.connect(dsn) as conn:
            rows_many = raw_rows(conn, "raw-executemany", items)
            rows_copy = raw_rows(conn, "raw-copy", items)
        many_s = insert_executemany(dsn, rows_many)
        copy_s = insert_copy(dsn, rows_copy)
    finally:
        if server:
            server.stop()
        services.stop()

    n = len(items)
    batch_rate = n / batch_wall
    many_rate = n / many_s
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU(s); "
        f"gunicorn {args.workers} sync workers, PostgreSQL (fsync off) and the client on the same machine.",
        "",
        "| what | entries | entries/s | request p50 ms | request p95 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| API POST, batches of {BATCH} ({args.threads} client threads) | {n} | {batch_rate:,.0f} | "
        f"{ms(statistics.median(batch_lat))} | {ms(percentile(batch_lat, 0.95))} |",
        f"| API POST, one entry per request (sequential) | {args.singles} | "
        f"{args.singles / single_wall:,.0f} | "
        f"{ms(statistics.median(single_lat))} | {ms(percentile(single_lat, 0.95))} |",
        f"| psycopg executemany, {BATCH} rows per transaction | {n} | {many_rate:,.0f} | | |",
        f"| psycopg COPY, one transaction | {n} | {n / copy_s:,.0f} | | |",
        "",
        f"API batches reach **{100 * batch_rate / many_rate:.0f} %** of executemany's rate (aim: >= 20 %); "
        f"single POST p95 **{ms(percentile(single_lat, 0.95))} ms** (aim: < 10 ms).",
        "",
        "| read through the API | entries | requests | p50 ms | p95 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| founder's week (`?user&from&to`, 30 runs) | {count_week} | 1 | "
        f"{ms(statistics.median(week_lat))} | {ms(percentile(week_lat, 0.95))} |",
        f"| founder's year, pages of 1000 (3 runs; whole read) | {count_year} | {len(year_pages) // 3} | "
        f"{ms(statistics.median(year_totals))} | {ms(max(year_totals))} (max) |",
        f"| founder's year: one page of 1000 | 1000 | 1 | {ms(statistics.median(year_pages))} | "
        f"{ms(percentile(year_pages, 0.95))} |",
    ]
    table = "\n".join(lines)
    print()
    print(table)
    if not args.no_readme:
        write_readme(table)
        print(f"\nWritten into {README.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
