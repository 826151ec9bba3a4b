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
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpbench  # noqa: E402 (bench/, beside this file)

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


def _created(response) -> None:
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{response.status_code} {response.text[:300]}")


def push_batches(url: str, key: str, items: list[dict], threads: int) -> tuple[float, list[float]]:
    bodies = [json.dumps(items[i : i + BATCH]).encode() for i in range(0, len(items), BATCH)]
    return httpbench.send_all(
        url, _headers(key), "POST", "/api/v1/time-entries/", bodies, threads=threads, check=_created
    )


def push_singles(url: str, key: str, count: int) -> tuple[float, list[float]]:
    start = datetime(2023, 1, 2, 14, tzinfo=UTC)
    bodies = [
        json.dumps({**entry(900_000 + n, "fran", start + n * SLOT), "external_id": None}).encode()
        for n in range(count)
    ]
    return httpbench.send_all(url, _headers(key), "POST", "/api/v1/time-entries/", bodies, check=_created)


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}", "Content-Type": "application/json"}


def read_all(http, params: dict, path: str = "/api/v1/time-entries/") -> tuple[int, list[float]]:
    """Every page of a read, following ``next``: the entries and each page's latency."""
    page_times = []
    count = 0
    next_url: str | None = path
    query: dict | None = params
    while next_url:
        elapsed, body = httpbench.timed_get(http, next_url, query)
        page_times.append(elapsed)
        count += len(body["results"])
        next_url, query = body["next"], None
    return count, page_times


OTHER_LISTS = 2_000  # interruptions and tickets pushed, then read in pages of 1000

# The founder's owner-escalation windows, as the demo has them (11:00-12:00 and 16:00-16:30 on
# weekdays): with them every interruption read computes its out-of-window flag.
ESCALATION_WINDOWS = [
    {"kind": "owner_escalations", "weekday": day, "start_time": start, "end_time": end}
    for day in range(1, 6)
    for start, end in (("11:00", "12:00"), ("16:00", "16:30"))
]
WINDOWS_NOTE = {"/api/v1/interruptions/": "; the founder's 10 escalation windows flag each"}


def other_lists(n: int) -> dict[str, list[dict]]:
    """Interruptions and tickets (the other lists of issue 12), ``n`` of each, some fields blank."""
    start = datetime(2025, 1, 6, 15, tzinfo=UTC)
    return {
        "/api/v1/interruptions/": [
            {
                "occurred_at": (start + k * timedelta(minutes=41)).isoformat(),
                "channel": ("call", "text", "chat", "email")[k % 4],
                "ticket_ref": f"T-{k}" if k % 3 else "",
                "client": f"Client {k % 24}",
                "category": CATEGORIES[k % len(CATEGORIES)],
                "requested_by": "Tess",
                "external_id": f"int-{k}",
            }
            for k in range(n)
        ],
        "/api/v1/tickets/": [
            {
                "external_id": f"psa-ticket-{k}",
                "title": f"VPN drops at the front desk #{k}",
                "client": f"Client {k % 24}",
                "category": "VPN" if k % 2 else "",
                "severity": ("p1", "p2", "p3", "p4")[k % 4],
                "team": "Tier 1",
                "opened_at": (start + k * timedelta(minutes=53)).isoformat(),
                "closed_at": (start + k * timedelta(minutes=53) + timedelta(hours=5)).isoformat()
                if k % 3
                else None,
            }
            for k in range(n)
        ],
    }


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


def write_readme(table: str, start: str = START, end: str = END) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n\n`bench/run` runs every benchmark.\n"
    block = f"{start}\n{table}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n## API: pushing and reading time entries\n\n" + block + "\n"
    README.write_text(text)


# --- the peer: TimeTagger, right after msp-ops, in the same sitting ---------------------------

PEER_START, PEER_END = "<!-- api-peer:start -->", "<!-- api-peer:end -->"
PEER_DIR = Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / "msp-ops-peer"
PEER_REQUIREMENTS = ("timetagger>=26,<27", "httpx>=0.27")


def run_peer(args) -> dict:
    """TimeTagger from PyPI in a virtual environment of its own under $TMPDIR (made on the first
    run, never the app's), driven by ``bench/peer_timetagger.py`` with msp-ops's shapes."""
    venv = PEER_DIR / "venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"==> peer: a virtual environment in {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    print(f"==> peer: pip install {' '.join(PEER_REQUIREMENTS)}", flush=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEER_REQUIREMENTS],
        check=True,
    )
    command = [str(python), str(ROOT / "bench" / "peer_timetagger.py"), "--singles", str(args.singles)]
    command += ["--batch", str(BATCH), "--threads", str(args.threads)]
    if args.quick:
        command.append("--quick")
    print("==> peer: TimeTagger on loopback, the same requests", flush=True)
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=PEER_DIR)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ratio(ours: float, theirs: float, higher_is_better: bool) -> str:
    ratio = ours / theirs
    better = ratio >= 1 if higher_is_better else ratio <= 1
    factor = ratio if ratio >= 1 else 1 / ratio
    word = ("faster" if better else "slower") if factor >= 1.005 else "even"
    return f"**{ratio:.2f}** ({factor:.1f}x {word})" if word != "even" else f"**{ratio:.2f}** (even)"


def peer_table(ours: dict, peer: dict, args) -> str:
    best = max(peer["batches"], key=lambda size: peer["batches"][size]["records_per_s"])
    peer_rate = peer["batches"][best]["records_per_s"]
    same = peer["batches"].get(str(BATCH), {}).get("records_per_s")
    peer_read = peer["read_p50_ms"] * 1000 / peer["read_records"]
    our_read = ours["page_p50_ms"]  # µs per entry: ms per page of 1000
    peer_peak = max(peer[k]["peak"] for k in ("memory_writes_kib", "memory_reads_kib"))
    peer_rss = max(peer[k]["rss"] for k in ("memory_writes_kib", "memory_reads_kib"))
    cpu = _cpu_name()
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), Python "
        f"{sys.version.split()[0]}; commit {args.commit}; `bench/run api{' --quick' if args.quick else ''}`: "
        f"msp-ops (gunicorn, {args.workers} sync workers, PostgreSQL with fsync off), then TimeTagger "
        f"{peer['timetagger']} (uvicorn, one process, SQLite), both on loopback, both driven by "
        "`bench/httpbench.py` (httpx, keep-alive, answers decoded inside the timed span).",
        "",
        "| work | msp-ops | TimeTagger | msp-ops / peer |",
        "| --- | --- | --- | --- |",
        f"| single-entry write, p50 | {ours['single_p50_ms']:.1f} ms | {peer['single_p50_ms']:.1f} ms | "
        f"{_ratio(ours['single_p50_ms'], peer['single_p50_ms'], False)} |",
        f"| single-entry write, p95 | {ours['single_p95_ms']:.1f} ms | {peer['single_p95_ms']:.1f} ms | "
        f"{_ratio(ours['single_p95_ms'], peer['single_p95_ms'], False)} |",
        f"| batch write rate ({args.threads} client threads) | {ours['batch_rate']:,.0f} entries/s "
        f"(batches of {BATCH}) | {peer_rate:,.0f} records/s (batches of {best}"
        + (f"; {same:,.0f} in batches of {BATCH}" if same and best != str(BATCH) else "")
        + f") | {_ratio(ours['batch_rate'], peer_rate, True)} |",
        f"| msp-ops batches vs psycopg `executemany` (same table, same run) | "
        f"{ours['batch_rate']:,.0f} entries/s | {ours['executemany_rate']:,.0f} rows/s (executemany) | "
        f"**{100 * ours['batch_rate'] / ours['executemany_rate']:.0f} %** |",
        f"| bulk read, per entry | {our_read:.1f} µs (a page of 1000 in {ours['page_p50_ms']:.1f} ms p50) | "
        f"{peer_read:.1f} µs ({peer['read_records']:,.0f} records, a 7-day read, in "
        f"{peer['read_p50_ms']:.1f} ms p50) | {_ratio(our_read, peer_read, False)} |",
        *(
            f"| bulk read, per {path.strip('/').rsplit('/', 1)[-1][:-1]} | {p50:.1f} µs (a page of 1000 "
            f"in {p50:.1f} ms p50) | {peer_read:.1f} µs (as above) | {_ratio(p50, peer_read, False)} |"
            for path, p50 in ours["list_p50_ms"].items()
        ),
        f"| server memory (RSS), peak | {ours['worker_peak_kib'] / 1024:.0f} MiB (the larger of "
        f"{args.workers} workers) | {peer_peak / 1024:.0f} MiB (its one process) | "
        f"**{ours['worker_peak_kib'] / peer_peak:.2f}** |",
        f"| server memory (RSS) after the run, all processes | {ours['server_rss_kib'] / 1024:.0f} MiB "
        f"(master and {args.workers} workers) | {peer_rss / 1024:.0f} MiB | "
        f"**{ours['server_rss_kib'] / peer_rss:.2f}** |",
        "",
        f"Requests: {args.singles} single-entry writes each, one after the other; msp-ops "
        f"{args.entries:,} entries in batches, TimeTagger "
        f"{peer['batches'][best]['records']:,} records per batch size; reads: msp-ops's founder year "
        f"(15,000 entries) in pages of 1000, 3 times; TimeTagger {peer['reads']} random 7-day ranges "
        "of 15,000 records over 70 days. A ratio below 1 is msp-ops faster or smaller, except the "
        "batch rate (above 1: msp-ops faster). Load average (1 min) at the start and end of "
        f"msp-ops's requests: {ours['load']}; after the peer's: {peer['load']} (2 cores; above 1, "
        "other work shared them). Only ratios from one run compare: the machine is shared and its "
        "speed moves by tens of percent between runs.",
    ]
    return "\n".join(lines)


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


APP_PATHS = ("msp_ops", "audits", "delegation", "kpis")


def _commit() -> str:
    """The commit the server runs (read when it starts), ``+changes`` if the tree differs."""
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "--", *APP_PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (done.stdout.strip() or "unknown") + (" +changes" if changed else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="client threads pushing batches")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    parser.add_argument("--no-peer", action="store_true", help="msp-ops only, without TimeTagger after it")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run (16,000 entries, 200 singles; the peer's too), printed only: no README",
    )
    args = parser.parse_args()
    if args.quick:
        args.entries, args.singles = min(args.entries, FOUNDER_YEAR + 1000), min(args.singles, 200)
        args.no_readme = True  # a smoke run's figures never replace a measured table

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
        args.commit = _commit()
        load_before = _load()
        items = workload(args.entries)
        print(
            f"==> POST {len(items)} entries in batches of {BATCH} ({args.threads} client threads)", flush=True
        )
        batch_wall, batch_lat = push_batches(server.url, key, items, args.threads)
        print(f"==> {args.singles} single-entry POSTs", flush=True)
        single_wall, single_lat = push_singles(server.url, key, args.singles)

        print("==> reads", flush=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            # The statistics autovacuum gathers within a minute of the pushes (PostgreSQL
            # plans the reads of a member's entries from them), gathered now.
            conn.execute("ANALYZE audits_timeentry")
        http = httpbench.client(server.url, _headers(key))
        week = {
            "user": "fran",
            "from": WEEK_MONDAY.isoformat(),
            "to": (WEEK_MONDAY + timedelta(days=7)).isoformat(),
            "page_size": 1000,
        }
        week_lat = []
        for _ in range(30):
            count_week, pages = read_all(http, week)
            week_lat.append(sum(pages))
        year = {
            "user": "fran",
            "from": YEAR_START.isoformat(),
            "to": "2024-12-31T00:00:00+00:00",
            "page_size": 1000,
        }
        year_totals, year_pages = [], []
        for _ in range(3):
            count_year, pages = read_all(http, year)
            year_totals.append(sum(pages))
            year_pages.extend(pages)

        list_pages: dict[str, list[float]] = {}
        blocks = [json.dumps(ESCALATION_WINDOWS).encode()]
        httpbench.send_all(server.url, _headers(key), "POST", "/api/v1/time-blocks/", blocks, check=_created)
        for path, rows in other_lists(OTHER_LISTS).items():
            bodies = [json.dumps(rows[i : i + BATCH]).encode() for i in range(0, len(rows), BATCH)]
            httpbench.send_all(server.url, _headers(key), "POST", path, bodies, check=_created)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("ANALYZE")  # as for the entries: autovacuum's statistics
            list_pages[path] = []
            for _ in range(5):
                _, pages = read_all(http, {"page_size": 1000}, path)
                list_pages[path].extend(pages)
        memory = {pid: httpbench.memory_kib(pid) for pid in httpbench.children(server.proc.pid)}
        memory_master = httpbench.memory_kib(server.proc.pid)
        args.load = f"{load_before} then {_load()}"

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
        *(
            f"| `{path}`, one page of 1000 ({OTHER_LISTS} stored{WINDOWS_NOTE.get(path, '')}, 5 runs)"
            " | 1000 | 1 | "
            f"{ms(statistics.median(pages))} | {ms(percentile(pages, 0.95))} |"
            for path, pages in list_pages.items()
        ),
    ]
    workers = list(memory.values())
    lines += [
        "",
        f"Server memory after these requests: each of the {len(workers)} gunicorn workers "
        + ", ".join(f"{m['rss'] / 1024:.0f} MiB (peak {m['peak'] / 1024:.0f})" for m in workers)
        + f"; the master {memory_master['rss'] / 1024:.0f} MiB.",
    ]
    table = "\n".join(lines)
    print()
    print(table)
    if not args.no_readme:
        write_readme(table)
        print(f"\nWritten into {README.relative_to(ROOT)}")
    if args.no_peer:
        return
    ours = {
        "single_p50_ms": statistics.median(single_lat) * 1000,
        "single_p95_ms": httpbench.percentile(single_lat, 0.95) * 1000,
        "batch_rate": batch_rate,
        "executemany_rate": many_rate,
        "page_p50_ms": statistics.median(year_pages) * 1000,
        "list_p50_ms": {path: statistics.median(pages) * 1000 for path, pages in list_pages.items()},
        "load": args.load,
        "worker_peak_kib": max(m["peak"] for m in workers),
        "server_rss_kib": sum(m["rss"] for m in workers) + memory_master["rss"],
    }
    peer = run_peer(args)
    peer["load"] = _load()
    ratios = peer_table(ours, peer, args)
    print()
    print(ratios)
    if not args.no_readme:
        write_readme(ratios, PEER_START, PEER_END)
        print(f"\nWritten into {README.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
