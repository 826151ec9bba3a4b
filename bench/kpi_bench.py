"""Weekly KPI rollup benchmark (issue 11, item 10).

One command (also ``bench/run kpis [options]``)::

    .venv/bin/python bench/kpi_bench.py [--orgs 200] [--stages 50,100,200] [--weeks 52]
                                        [--runs 200] [--quick] [--no-readme]

Starts a throwaway PostgreSQL (``tests.harness.Services``, fsync off, ``shared_buffers`` a
quarter of the memory up to 4 GB, as a tuned server has it), migrates, and grows
the database in stages (default 50, 100, then 200 organizations). Each organization gets
a timezone from a fixed list (US, Europe, Australia, India, New Zealand, UTC: both DST
directions and none), a founder, a service manager and three technicians, and one year
(``--weeks`` whole weeks, ending before the current one) of:

- time entries: 9 to 14 per weekday per member from about 07:30 local, 15 to 60 minutes
  each, the founder also on some Saturdays and some Sunday nights (entries crossing into
  Monday, i.e. across the week boundary): about 15,000 per organization;
- owner interruptions: about 1,000 (fewer towards the end of the year, as delegation works);
- tickets: about 1,450 over 3 teams and "Unassigned", resolution times spread around the
  SLA target (some aged past it, a few never closed).

Organizations are created through ``create_organization`` (so every app's defaults exist:
categories, SLA policy, KPI targets); users, memberships, entries, interruptions and tickets
are loaded with COPY (psycopg ``cursor.copy``) into the real tables, with every constraint
and index in place, then ``VACUUM ANALYZE``. At each stage, every table and index is read
into PostgreSQL's cache (``pg_prewarm``), then, in the same run:

- the rollup, ``kpis.services.roll_up_weeks`` for every organization and every week of the
  year (the nightly task's code; a fresh backfill: the KPI table is emptied first), timed as
  a whole, with its query count and the time spent in PostgreSQL;
- ONE hand-written SQL query computing the delegated hours (founder-role entries, handling
  delegated, clipped to each organization's local week with ``AT TIME ZONE``) and the
  interruption counts with their 4-week average, for every organization and week (median
  of 3 runs, ``jit = off``); and a second query computing every raw figure of the row (logged,
  personal, per-tag hours, aged backlog per team, interruptions by category and channel).
  Both are compared with the rollup's rows, every row, before any ratio is printed.

At the last stage also the nightly rollup (previous and current week of every
organization), and ``GET /api/v1/kpis/weekly/`` (``?week=``, ``?from=&to=``) and the
dashboard ``/kpis/`` (when it exists) through Django's test client: p50/p95 over ``--runs``
calls and the query count, with 4 and with 52 weeks of one organization rolled up, that
organization given an agenda like the demo's first (``give_an_agenda``: to-dos of the last four
meetings, delegations due for review).

Each phase reports the 1-minute load average (sampled every 5 s) and the cores other processes
used meanwhile (the machine's busy time from /proc/stat minus this process's and its PostgreSQL
backend's), and the rollup each organization's own pace (its median is robust to bursts of
other work). Every module measured is imported at start, so a tree that changes during the run
does not mix versions; the report names the commit (and says when the tree changed).
Prints a table and writes it into ``bench/README.md`` between the kpi-bench markers
(not with ``--quick``, a smoke run: 2, 4 and 8 organizations, 30 calls).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import hours, machine, percentile, write_readme  # noqa: E402

from tests.harness import Services  # noqa: E402

README = ROOT / "bench" / "README.md"
START, END = "<!-- kpi-bench:start -->", "<!-- kpi-bench:end -->"
HEADING = "## Weekly KPI rollup and the KPI API"
TIMEZONES = [
    "America/Chicago",
    "America/New_York",
    "Europe/London",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Australia/Sydney",
    "America/Denver",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "UTC",
]
TAGS = ["repetitive", "outsourceable", "systemizable", "owner_by_habit"]
FOUNDER_CATEGORIES = (
    ["tickets"] * 5
    + ["escalations"] * 5
    + ["approvals"] * 3
    + ["vendor-calls"] * 2
    + ["billing-admin"] * 2
    + ["sales", "client-retention", "service-delivery", "team", "onboarding", "backlog", "other"]
)
STAFF_CATEGORIES = ["tickets"] * 6 + [
    "onboarding",
    "projects",
    "projects",
    "backlog",
    "documentation",
    "other",
]
LENGTHS = [15, 20, 30, 30, 30, 45, 45, 60]  # minutes
GAPS = [0, 0, 0, 5, 5, 10, 15]
CLIENTS = [
    "Acme Dental",
    "Baker Law",
    "Cole CPA",
    "Dunn Realty",
    "Eagle Clinic",
    "Fox Logistics",
    "Gray Arch",
]
ACTIVITIES = [
    "Password reset for {client}",
    "Escalation: {client} firewall down",
    "Approve quote for {client}",
    "Vendor call about {client}",
    "Invoice questions from {client}",
    "Backup failure at {client}",
    "New laptop for {client}",
    "Patch review for {client}",
]
TICKET_CATEGORIES = ["VPN", "Backup", "Email", "Printer", "M365", "Network", "Firewall", "Laptop", "vpn", ""]
TICKET_CATEGORY_WEIGHTS = [14, 12, 16, 8, 14, 10, 6, 8, 2, 4]
TEAMS, TEAM_WEIGHTS = ["Team A", "Team B", "Team C", ""], [35, 35, 20, 10]
SEVERITIES, SEVERITY_WEIGHTS = ["p1", "p2", "p3", "p4"], [5, 15, 50, 30]
TARGET_HOURS = {"p1": 4, "p2": 8, "p3": 24, "p4": 72}  # SPEC's defaults (created with every org)
CHANNELS, CHANNEL_WEIGHTS = (
    ["call", "text", "chat", "email", "in_person", "escalation"],
    [30, 20, 20, 15, 10, 5],
)
ROLES = ["founder", "service_manager", "technician", "technician", "technician"]


# --- the load average, sampled while timing -----------------------------------------------------


def machine_ticks() -> tuple[int, int]:
    """(busy, steal) clock ticks of every CPU since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq, steal


class LoadSampler:
    """While a phase runs: the 1-minute load average every 5 s, and the CPU that other processes
    used (the machine's busy time from /proc/stat minus this process's and its PostgreSQL
    backend's), so the figures say how much other work shared the cores."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.others: dict[str, tuple[float, float]] = {}  # phase -> (other cores, steal cores)
        self._phase: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(5):
            if self._phase:
                self.samples[self._phase].append(os.getloadavg()[0])

    def phase(self, name: str):
        sampler = self

        class _Phase:
            def __enter__(self):
                self.cpu = Cpu()
                self.start = (time.perf_counter(), *machine_ticks(), sum(self.cpu.snapshot()))
                sampler._phase = name
                sampler.samples[name].append(os.getloadavg()[0])

            def __exit__(self, *exc):
                sampler.samples[name].append(os.getloadavg()[0])
                sampler._phase = None
                t0, busy0, steal0, ours0 = self.start
                t1, busy1, steal1, ours1 = time.perf_counter(), *machine_ticks(), sum(self.cpu.snapshot())
                elapsed = max(t1 - t0, 1e-9)
                others = ((busy1 - busy0) / sampler.TICK - (ours1 - ours0)) / elapsed
                sampler.others[name] = (max(others, 0.0), (steal1 - steal0) / sampler.TICK / elapsed)

        return _Phase()

    def summary(self, name: str) -> str:
        values = self.samples.get(name) or [os.getloadavg()[0]]
        others, steal = self.others.get(name, (float("nan"), float("nan")))
        return (
            f"{statistics.mean(values):.1f} (max {max(values):.1f}); others {others:.2f}, steal {steal:.2f}"
        )

    def all_values(self) -> list[float]:
        return [v for values in self.samples.values() for v in values]

    def stop(self) -> None:
        self._stop.set()


# --- the server and the data ---------------------------------------------------------------------


def shared_buffers() -> str:
    """PostgreSQL's cache as a tuned server has it: a quarter of the memory (its documented
    starting point), at most 4 GB, so that the whole year of 200 organizations (1.6 GB) stays
    in it. With the default 128 MB both the rollup and the SQL read from the operating
    system's cache, which this machine's host drops within minutes (the run measured the disk)."""
    with open("/proc/meminfo") as meminfo:
        kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    return f"{max(128, min(4096, kib // 4 // 1024))}MB"


def prewarm(url: str) -> float:
    """Reads every table and index of the app into PostgreSQL's cache (``pg_prewarm``), so the
    rollup and the SQL that follow both measure their work, not the disk; the seconds it took."""
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        conn.execute(
            "SELECT pg_prewarm(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't')"
        )
    return time.perf_counter() - began


def boot(services: Services) -> str:
    url = services.start_postgres({"shared_buffers": shared_buffers()})
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute("CREATE DATABASE msp_ops")
    os.environ["DATABASE_URL"] = url
    os.environ["MSP_OPS_DATA_DIR"] = str(services.root / "data")
    os.environ["DJANGO_SETTINGS_MODULE"] = "msp_ops.settings"
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["WHITENOISE_USE_FINDERS"] = "true"
    os.environ["STATIC_ROOT"] = str(services.root / "static")
    # The timed API calls come faster than the default 6000/min per token.
    os.environ["API_THROTTLE_RATE"] = "1000000/min"
    (services.root / "static").mkdir(exist_ok=True)
    os.environ.setdefault("SECRET_KEY", "kpi-bench-only")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Import every module measured now, so that the whole run measures one version of the
    # code even when the tree changes meanwhile (views are otherwise imported at first request).
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every urls module and its views)
    import kpis.services
    import kpis.views.dashboard  # noqa: F401

    return url


def data_weeks(count: int) -> list[date]:
    """``count`` Mondays ending with a week that has ended in every timezone."""
    today = datetime.now(UTC).date()
    last = today - timedelta(days=1)
    last = last - timedelta(days=last.weekday()) - timedelta(weeks=1)
    return [last - timedelta(weeks=n) for n in range(count - 1, -1, -1)]


def poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def iso(moment: datetime) -> str:
    return moment.isoformat()


B = {True: "t", False: "f", None: "\\N"}


@dataclass
class OrgPlan:
    index: int
    org_id: int
    tz: ZoneInfo
    users: list[int]  # in ROLES order
    categories: dict[str, int]


@dataclass
class Counts:
    entries: int = 0
    interruptions: int = 0
    tickets: int = 0


def entry_lines(
    rng: random.Random, plan: OrgPlan, mondays: list[date], now_dt: datetime, out: io.StringIO
) -> int:
    now, cats = iso(now_dt), plan.categories
    count = 0
    first, days_total = mondays[0], 7 * len(mondays)
    for offset in range(days_total):
        day = first + timedelta(days=offset)
        weekday = day.weekday()
        for position, user in enumerate(plan.users):
            founder = position == 0
            if weekday < 5:
                n, begin = rng.randint(9, 14), clock(7, rng.choice([15, 30, 45]))
            elif founder and weekday == 5 and rng.random() < 0.5:
                n, begin = rng.randint(1, 4), clock(9, 0)
            elif founder and weekday == 6 and rng.random() < 0.3:
                n, begin = rng.randint(1, 2), clock(22, rng.choice([30, 45, 50]))  # into Monday
            else:
                continue
            moment = datetime.combine(day, begin, tzinfo=plan.tz).astimezone(UTC)
            for _ in range(n):
                moment += timedelta(minutes=rng.choice(GAPS))
                end = moment + timedelta(minutes=rng.choice(LENGTHS))
                client = rng.choice(CLIENTS)
                assessed = rng.random() < 0.6
                tag_p = 0.3 if founder else 0.1
                external = f"e{plan.index}-{count}" if rng.random() < 0.5 else None
                out.write(
                    "\t".join(
                        (
                            str(plan.org_id),
                            str(user),
                            iso(moment),
                            iso(end),
                            rng.choice(ACTIVITIES).format(client=client),
                            str(cats[rng.choice(FOUNDER_CATEGORIES if founder else STAFF_CATEGORIES)]),
                            *(B[rng.random() < tag_p] for _ in TAGS),
                            "delegated" if rng.random() < (0.25 if founder else 0.05) else "personal",
                            B[rng.random() < 0.5 if assessed else None],
                            B[rng.random() < 0.5 if assessed else None],
                            client,
                            f"T-{rng.randint(1000, 99999)}" if rng.random() < 0.4 else "",
                            "",
                            external or "\\N",
                            "api" if external else "web",
                            now,
                            now,
                        )
                    )
                    + "\n"
                )
                count += 1
                moment = end
    return count


ENTRY_COLUMNS = (
    "organization_id, user_id, started_at, ended_at, activity, category_id, tag_repetitive,"
    " tag_outsourceable, tag_systemizable, tag_owner_by_habit, handling, urgent, important, client,"
    " ticket_ref, notes, external_id, source, created_at, updated_at"
)


def interruption_lines(
    rng: random.Random, plan: OrgPlan, mondays: list[date], now_dt: datetime, out: io.StringIO
) -> int:
    now, base = iso(now_dt), rng.uniform(3.5, 5.5)
    founder, manager = plan.users[:2]
    count = 0
    for week_index, monday in enumerate(mondays):
        trend = 1 - 0.4 * week_index / len(mondays)
        for weekday in range(7):
            day = monday + timedelta(days=weekday)
            lam = base * trend * (1 if weekday < 5 else 0.3)
            for _ in range(poisson(rng, lam)):
                local = datetime.combine(day, clock(rng.randint(7, 19), rng.randint(0, 59)), tzinfo=plan.tz)
                about = rng.random() < 0.85
                follow = rng.choices(["none", "rule_tightened", "runbook_updated"], [80, 10, 10])[0]
                out.write(
                    "\t".join(
                        (
                            str(plan.org_id),
                            iso(local.astimezone(UTC) + timedelta(seconds=rng.randint(0, 59))),
                            rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0],
                            B[about],
                            f"T{rng.randint(1, 1500)}" if about else "",
                            rng.choice(CLIENTS),
                            rng.choices(TICKET_CATEGORIES, TICKET_CATEGORY_WEIGHTS)[0],
                            f"tech {rng.randint(1, 3)}",
                            B[rng.choices([None, True, False], [70, 10, 20])[0]],
                            follow,
                            "",
                            f"i{plan.index}-{count}" if rng.random() < 0.3 else "\\N",
                            str(rng.choice([founder, founder, manager])),
                            now,
                            now,
                        )
                    )
                    + "\n"
                )
                count += 1
    return count


INTERRUPTION_COLUMNS = (
    "organization_id, occurred_at, channel, about_ticket, ticket_ref, client, category, requested_by,"
    " owner_level, follow_up, notes, external_id, logged_by_id, created_at, updated_at"
)


def ticket_lines(
    rng: random.Random, plan: OrgPlan, mondays: list[date], now_dt: datetime, out: io.StringIO
) -> int:
    now, rate = iso(now_dt), rng.uniform(4.5, 6.0)
    count = 0
    for monday in mondays:
        for weekday in range(7):
            day = monday + timedelta(days=weekday)
            for _ in range(poisson(rng, rate if weekday < 5 else 0.8)):
                severity = rng.choices(SEVERITIES, SEVERITY_WEIGHTS)[0]
                # P1s and monitoring alerts (about 15 %) open at any hour, the rest in office hours.
                anytime = severity == "p1" or rng.random() < 0.15
                hour = rng.randint(0, 23) if anytime else rng.randint(7, 18)
                local = datetime.combine(day, clock(hour, rng.randint(0, 59)), tzinfo=plan.tz)
                opened = local.astimezone(UTC) + timedelta(seconds=rng.randint(0, 59))
                if rng.random() < 0.004:
                    closed = None  # never closed: it ages for good
                else:
                    resolution = TARGET_HOURS[severity] * math.exp(rng.gauss(-0.5, 0.8))
                    closed = opened + timedelta(seconds=int(resolution * 3600) + 60)
                    if closed > now_dt:
                        closed = None
                category = rng.choices(TICKET_CATEGORIES, TICKET_CATEGORY_WEIGHTS)[0]
                out.write(
                    "\t".join(
                        (
                            str(plan.org_id),
                            f"T{count + 1}",
                            f"{category or 'General'} issue at {rng.choice(CLIENTS)}",
                            rng.choice(CLIENTS),
                            category,
                            severity,
                            rng.choices(TEAMS, TEAM_WEIGHTS)[0],
                            iso(opened),
                            iso(closed) if closed else "\\N",
                            now,
                            now,
                        )
                    )
                    + "\n"
                )
                count += 1
    return count


TICKET_COLUMNS = (
    "organization_id, external_id, title, client, category, severity, team, opened_at, closed_at,"
    " created_at, updated_at"
)


def load_orgs(url: str, first: int, last: int, mondays: list[date]) -> Counts:
    """Organizations ``first..last-1``: created through the service, their rows by COPY."""
    from django.contrib.auth import get_user_model

    from audits.models import Category, TimeEntry
    from delegation.models import Interruption
    from kpis.models import Ticket
    from msp_ops.orgs.models import Membership
    from msp_ops.orgs.services import create_organization

    user_table, member_table = get_user_model()._meta.db_table, Membership._meta.db_table
    counts = Counts()
    now_dt = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        for index in range(first, last):
            rng = random.Random(1_000_003 * (index + 1))
            tz_name = TIMEZONES[index % len(TIMEZONES)]
            org = create_organization(
                slug=f"msp-{index:03d}", name=f"MSP {index:03d}", timezone_name=tz_name,
                managed_clients=rng.choice([8, 12, 16, 20, 24, 30, 40]),
            )  # fmt: skip
            names = [f"o{index:03d}-{role}{n}" for n, role in enumerate(ROLES)]
            with conn.cursor() as cur:
                with cur.copy(
                    f"COPY {user_table} (password, is_superuser, username, first_name, last_name, email,"
                    " is_staff, is_active, date_joined) FROM STDIN"
                ) as copy:
                    for name in names:
                        copy.write_row(("!", False, name, "", "", "", False, True, now_dt))
                cur.execute(f"SELECT username, id FROM {user_table} WHERE username = ANY(%s)", [names])
                ids = dict(cur.fetchall())
                users = [ids[name] for name in names]
                member_copy = f"COPY {member_table} (organization_id, user_id, role, created_at) FROM STDIN"
                with cur.copy(member_copy) as copy:
                    for user, role in zip(users, ROLES, strict=True):
                        copy.write_row((org.pk, user, role, now_dt))
                plan = OrgPlan(
                    index, org.pk, ZoneInfo(tz_name), users,
                    {c.slug: c.pk for c in Category.objects.for_org(org)},
                )  # fmt: skip
                for table, columns, lines in (
                    (TimeEntry._meta.db_table, ENTRY_COLUMNS, entry_lines),
                    (Interruption._meta.db_table, INTERRUPTION_COLUMNS, interruption_lines),
                    (Ticket._meta.db_table, TICKET_COLUMNS, ticket_lines),
                ):
                    out = io.StringIO()
                    rows = lines(rng, plan, mondays, now_dt, out)
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        copy.write(out.getvalue())
                    if lines is entry_lines:
                        counts.entries += rows
                    elif lines is interruption_lines:
                        counts.interruptions += rows
                    else:
                        counts.tickets += rows
            conn.commit()
            if (index + 1) % 10 == 0 or index + 1 == last:
                print(f"  loaded {index + 1}/{last} organizations", file=sys.stderr, flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # what autovacuum would have done by now on a live server
    return counts


# --- the rollup, timed -----------------------------------------------------------------------------


def kind_of(sql: str) -> str:
    for table, kind in (
        ("audits_timeentry", "hours (entries)"),
        ("delegation_interruption", "interruptions"),
        ("kpis_ticket", "aged backlog (tickets)"),
        ("kpis_slapolicy", "SLA policy, KPI targets"),
        ("kpis_kpitargets", "SLA policy, KPI targets"),
        ("kpis_weeklykpi", "the row's upsert"),
    ):
        if table in sql:
            return kind
    return "savepoints, other"


@dataclass
class Watch:
    """Counts and times every query Django sends (``connection.execute_wrapper``)."""

    queries: int = 0
    waited: float = 0.0
    by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0]))

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - began
            self.queries += 1
            self.waited += spent
            kind = self.by_kind[kind_of(sql)]
            kind[0] += 1
            kind[1] += spent


class Cpu:
    """CPU seconds of this process and of its PostgreSQL backend (from /proc), so that the
    comparison holds when other work shares the cores: wall time then includes waiting."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = cursor.fetchone()[0]

    def backend_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.backend}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / self.TICK  # utime, stime
        except (OSError, IndexError, ValueError):
            return float("nan")

    def snapshot(self) -> tuple[float, float]:
        return time.process_time(), self.backend_seconds()


@dataclass
class RollupTiming:
    seconds: float
    org_weeks: int
    watch: Watch
    python_cpu: float = 0.0
    postgres_cpu: float = 0.0
    per_org_ms: list[float] = field(default_factory=list)  # each org's ms per org-week

    @property
    def median_ms(self) -> float:
        return statistics.median(self.per_org_ms) if self.per_org_ms else float("nan")


def run_rollup(orgs, mondays: list[date] | None) -> RollupTiming:
    from django.db import connection

    from kpis.services import roll_up_weeks
    from msp_ops.lib.heap import freeze_startup_heap

    # As a Celery worker process does once started (msp_ops.celery): what this process holds
    # (Django, the bench's own data) is left out of the garbage collector's passes.
    freeze_startup_heap()
    watch = Watch()
    rows = 0
    cpu = Cpu()
    py0, pg0 = cpu.snapshot()
    began = time.perf_counter()
    per_org = []
    with connection.execute_wrapper(watch):
        for number, org in enumerate(orgs, start=1):
            t0 = time.perf_counter()
            done = roll_up_weeks(org=org, mondays=mondays)
            per_org.append((time.perf_counter() - t0) / max(done, 1) * 1000)
            rows += done
            if mondays and (number % 25 == 0 or number == len(orgs)):
                print(f"  rolled up {number}/{len(orgs)} organizations", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - began
    py1, pg1 = cpu.snapshot()
    return RollupTiming(seconds, rows, watch, py1 - py0, pg1 - pg0, per_org)


# --- the hand-written SQL --------------------------------------------------------------------------

# Both queries read each row once: a row's local week comes from date_trunc('week', ... AT TIME
# ZONE the org's zone); an entry (at most 24 h long) touches at most two weeks, the week of its
# start and the week of its end, and is clipped to each. Parameters: the organizations, the
# Mondays, the first and last Monday, and a UTC range wide enough for every zone (lo, hi).
ENTRIES_CTE = """
WITH o AS (
    SELECT id, timezone AS tz FROM orgs_organization WHERE id = ANY(%(orgs)s)
), grid AS (
    SELECT o.id AS org, m.monday FROM o CROSS JOIN unnest(%(mondays)s::date[]) AS m(monday)
), e AS (
    SELECT t.*, o.tz,
           date_trunc('week', t.started_at AT TIME ZONE o.tz)::date AS w0,
           date_trunc('week', t.ended_at AT TIME ZONE o.tz)::date AS w1
    FROM audits_timeentry t
    JOIN o ON o.id = t.organization_id
    JOIN orgs_membership f
         ON f.organization_id = t.organization_id AND f.user_id = t.user_id AND f.role = 'founder'
    WHERE t.started_at < %(hi)s AND t.ended_at > %(lo)s {entry_filter}
), parts AS (
    SELECT e.*, wk.monday,
           LEAST(e.ended_at, (wk.monday + 7)::timestamp AT TIME ZONE e.tz)
           - GREATEST(e.started_at, wk.monday::timestamp AT TIME ZONE e.tz) AS part
    FROM e CROSS JOIN LATERAL (SELECT e.w0 AS monday UNION ALL SELECT e.w1 WHERE e.w1 <> e.w0) AS wk
    WHERE wk.monday BETWEEN %(first)s AND %(last)s
), ib AS (
    SELECT i.organization_id AS org, i.category, i.channel,
           date_trunc('week', i.occurred_at AT TIME ZONE o.tz)::date AS monday
    FROM delegation_interruption i JOIN o ON o.id = i.organization_id
    WHERE i.about_ticket AND i.occurred_at >= %(lo)s AND i.occurred_at < %(hi)s
), counts AS (
    SELECT org, monday, COUNT(*) AS n FROM ib GROUP BY org, monday
)"""

# Delegated hours and interruptions (the figures issue 11 names): every org, every week.
SQL_DELEGATED = (
    ENTRIES_CTE.replace("{entry_filter}", "AND t.handling = 'delegated'")
    + """, hours AS (
    SELECT organization_id AS org, monday, SUM(part) AS delegated FROM parts GROUP BY 1, 2
)
SELECT g.org, g.monday, EXTRACT(EPOCH FROM h.delegated), COALESCE(c.n, 0),
       SUM(COALESCE(c.n, 0)) OVER (PARTITION BY g.org ORDER BY g.monday ROWS 3 PRECEDING)
FROM grid g LEFT JOIN hours h USING (org, monday) LEFT JOIN counts c USING (org, monday)
ORDER BY g.org, g.monday
"""
)

# Every figure of the row: founder hours by handling and tag, interruptions with their
# breakdowns, and the aged backlog per team at each week's end. A ticket is aged at the end
# A of week m when A > opened_at + target and it is not closed at A: from the week holding
# opened_at + target to the last week ending before closed_at (one generate_series a ticket).
SQL_FULL = (
    ENTRIES_CTE.replace("{entry_filter}", "")
    + """, hours AS (
    SELECT organization_id AS org, monday,
           SUM(part) AS logged,
           SUM(part) FILTER (WHERE handling = 'delegated') AS delegated,
           SUM(part) FILTER (WHERE handling = 'personal') AS personal,
           SUM(part) FILTER (WHERE tag_repetitive) AS repetitive,
           SUM(part) FILTER (WHERE tag_outsourceable) AS outsourceable,
           SUM(part) FILTER (WHERE tag_systemizable) AS systemizable,
           SUM(part) FILTER (WHERE tag_owner_by_habit) AS owner_by_habit
    FROM parts GROUP BY 1, 2
), cats AS (
    SELECT org, monday, json_object_agg(name, n) AS by_category
    FROM (SELECT org, monday, MIN(named COLLATE "C") AS name, COUNT(*) AS n
          FROM (SELECT org, monday, COALESCE(NULLIF(category, ''), 'Uncategorized') AS named FROM ib) n
          GROUP BY org, monday, lower(named)) per_category
    GROUP BY org, monday
), chans AS (
    SELECT org, monday, json_object_agg(channel, n) AS by_channel
    FROM (SELECT org, monday, channel, COUNT(*) AS n FROM ib GROUP BY org, monday, channel) per_channel
    GROUP BY org, monday
), aged AS (
    SELECT org, monday, json_object_agg(team, n) AS by_team
    FROM (
        SELECT k.organization_id AS org, g.monday::date AS monday,
               COALESCE(NULLIF(k.team, ''), 'Unassigned') AS team, COUNT(*) AS n
        FROM kpis_ticket k
        JOIN o ON o.id = k.organization_id
        JOIN kpis_slapolicy p ON p.organization_id = k.organization_id
        CROSS JOIN LATERAL (SELECT k.opened_at + make_interval(secs => floor(3600 * CASE k.severity
                WHEN 'p1' THEN p.p1 WHEN 'p2' THEN p.p2 WHEN 'p3' THEN p.p3 ELSE p.p4 END)) AS due) AS d
        CROSS JOIN LATERAL generate_series(
            GREATEST(date_trunc('week', d.due AT TIME ZONE o.tz), %(first)s::timestamp),
            LEAST(
                COALESCE(
                    date_trunc('week', (k.closed_at - interval '1 microsecond') AT TIME ZONE o.tz)
                    - interval '7 days',
                    %(last)s::timestamp
                ),
                %(last)s::timestamp
            ),
            interval '7 days'
        ) AS g(monday)
        WHERE k.opened_at < %(hi)s
        GROUP BY 1, 2, 3
    ) per_team
    GROUP BY org, monday
)
SELECT g.org, g.monday, EXTRACT(EPOCH FROM h.delegated), COALESCE(c.n, 0),
       SUM(COALESCE(c.n, 0)) OVER (PARTITION BY g.org ORDER BY g.monday ROWS 3 PRECEDING),
       EXTRACT(EPOCH FROM h.logged), EXTRACT(EPOCH FROM h.personal),
       EXTRACT(EPOCH FROM h.repetitive), EXTRACT(EPOCH FROM h.outsourceable),
       EXTRACT(EPOCH FROM h.systemizable), EXTRACT(EPOCH FROM h.owner_by_habit),
       COALESCE(a.by_team, '{}'::json), COALESCE(ca.by_category, '{}'::json),
       COALESCE(ch.by_channel, '{}'::json)
FROM grid g
LEFT JOIN hours h USING (org, monday) LEFT JOIN counts c USING (org, monday)
LEFT JOIN aged a USING (org, monday) LEFT JOIN cats ca USING (org, monday)
LEFT JOIN chans ch USING (org, monday)
ORDER BY g.org, g.monday
"""
)


def sql_params(org_ids: list[int], mondays: list[date]) -> dict:
    first, last = mondays[0], mondays[-1]
    return {
        "orgs": org_ids,
        "mondays": mondays,
        "first": first,
        "last": last,
        # Every zone's weeks lie inside: UTC-12 to UTC+14, with a day to spare.
        "lo": datetime.combine(first - timedelta(days=2), clock.min, tzinfo=UTC),
        "hi": datetime.combine(last + timedelta(days=9), clock.min, tzinfo=UTC),
    }


@dataclass
class SqlTiming:
    seconds: float  # median of the runs, wall
    cpu: float  # median of the runs, CPU seconds of the PostgreSQL backend
    rows: list


def run_sql(sql: str, org_ids: list[int], mondays: list[date], repeat: int = 3) -> SqlTiming:
    """``repeat`` runs of one query; medians of wall time and backend CPU, and the rows."""
    from django.db import connection

    cpu = Cpu()
    samples, cpus, rows = [], [], []
    with connection.cursor() as cursor:
        # PostgreSQL's JIT compiles these many-expression queries for seconds (2.2 s of 2.9 s at
        # 20 organizations); the rollup's small queries stay below its threshold anyway.
        cursor.execute("SET jit = off")
    for _ in range(repeat):
        with connection.cursor() as cursor:
            pg0 = cpu.backend_seconds()
            began = time.perf_counter()
            cursor.execute(sql, sql_params(org_ids, mondays))
            rows = cursor.fetchall()
            samples.append(time.perf_counter() - began)
            cpus.append(cpu.backend_seconds() - pg0)
    with connection.cursor() as cursor:
        cursor.execute("RESET jit")
    return SqlTiming(statistics.median(samples), statistics.median(cpus), rows)


@dataclass
class Comparison:
    rows: int
    mismatches: list[str]

    @property
    def equal(self) -> bool:
        return not self.mismatches


def compare(sql_rows: list, *, full: bool) -> Comparison:
    """The hand-written query's figures against the rollup's rows, every (org, week)."""
    from kpis.models import WeeklyKpi

    stored = {
        (row.organization_id, row.week): row
        for row in WeeklyKpi.objects.filter(organization_id__in={r[0] for r in sql_rows})
    }
    mismatches = []
    for raw in sql_rows:
        org, monday, delegated, count, four = raw[:5]
        row = stored.get((org, monday))
        if row is None:
            mismatches.append(f"{org} {monday}: no rollup row")
            continue
        theirs = {
            "delegated_hours": hours(delegated),
            "owner_interruptions": count,
            "owner_interruptions_4wk_avg": (Decimal(four) / 4).quantize(Decimal("0.01"), ROUND_HALF_UP),
        }
        ours = {
            "delegated_hours": row.delegated_hours,
            "owner_interruptions": row.owner_interruptions,
            "owner_interruptions_4wk_avg": row.owner_interruptions_4wk_avg,
        }
        if full:
            logged, personal, *tags, by_team, by_category, by_channel = raw[5:]
            by_team, by_category, by_channel = (
                json.loads(v) if isinstance(v, str) else v for v in (by_team, by_category, by_channel)
            )
            theirs |= {
                "logged_hours": hours(logged),
                "personal_hours": hours(personal),
                "hours_by_tag": {tag: hours(value) for tag, value in zip(TAGS, tags, strict=True)},
                "aged_backlog_by_team": dict(sorted(by_team.items())),
                "interruptions_by_category": dict(sorted(by_category.items())),
                "interruptions_by_channel": dict(sorted(by_channel.items())),
            }
            ours |= {
                "logged_hours": row.logged_hours,
                "personal_hours": row.personal_hours,
                "hours_by_tag": {tag: Decimal(value) for tag, value in row.hours_by_tag.items()},
                "aged_backlog_by_team": dict(sorted(row.aged_backlog_by_team.items())),
                "interruptions_by_category": dict(sorted(row.interruptions_by_category.items())),
                "interruptions_by_channel": dict(sorted(row.interruptions_by_channel.items())),
            }
        for name, value in theirs.items():
            if ours[name] != value:
                mismatches.append(f"org {org} week {monday} {name}: rollup {ours[name]} vs SQL {value}")
    return Comparison(len(sql_rows), mismatches)


# --- the API and the dashboard ------------------------------------------------------------------------


@dataclass
class Timing:
    p50: float
    p95: float
    queries: int
    rows: int | str


def timed_get(client, url: str, runs: int) -> Timing:
    from django.db import connection

    for _ in range(3):
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code} {response.content[:200]!r}")
    watch = Watch()
    with connection.execute_wrapper(watch):
        response = client.get(url)
    payload = response.json() if response.get("Content-Type", "").startswith("application/json") else None
    rows = (len(payload) if isinstance(payload, list) else 1) if payload is not None else "page"
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - began) * 1000)
    return Timing(statistics.median(samples), percentile(samples, 0.95), watch.queries, rows)


def dashboard_url(client, monday: date) -> str | None:
    """The dashboard's URL when the page exists in this tree (it is being built), else None."""
    for url in (f"/kpis/?week={monday.isoformat()}", "/kpis/"):
        try:
            response = client.get(url)
        except Exception as error:  # a page half-built: say so, measure the API only
            print(f"dashboard {url} failed: {error!r}", file=sys.stderr)
            continue
        if response.status_code == 200 and b"<html" in response.content.lower():
            return url
    return None


AGENDA_TODOS = 12  # as many as the demo's: each week's Level-10 meeting adds a few
DUE_DELEGATIONS = 4  # handed off, their review in the week shown or overdue


def give_an_agenda(org, mondays: list[date]) -> None:
    """What a service manager's dashboard shows besides the figures, as in the demo: to-dos
    made at the last four weekly meetings (some done, the open ones carried over) and handed-off
    delegations due for review. Without them the agenda's lists are empty and cost nothing."""
    from audits.models import Category
    from delegation.models import Delegate, DelegateKind, Delegation, DelegationStatus
    from kpis.models import Todo
    from msp_ops.orgs.models import Membership

    members = list(Membership.objects.filter(organization=org).select_related("user"))
    last = mondays[-1]
    todos = []
    for n in range(AGENDA_TODOS):
        week = last - timedelta(weeks=3 - n % 4)
        done = n % 3 == 0
        todos.append(
            Todo(
                organization=org, title=f"Clear the aged VPN tickets and fix the cause #{n}",
                owner=members[n % len(members)].user, ticket_category="VPN", created_week=week,
                due_date=week + timedelta(days=7), done=done,
                done_at=datetime.combine(week + timedelta(days=3), clock(15), tzinfo=UTC) if done else None,
            )
        )  # fmt: skip
    Todo.objects.bulk_create(todos)
    categories = list(Category.objects.for_org(org)[:DUE_DELEGATIONS])
    delegates = Delegate.objects.bulk_create(
        [Delegate(organization=org, name=f"Tech {n}", kind=DelegateKind.TECHNICIAN) for n in range(2)]
    )
    Delegation.objects.bulk_create(
        [
            Delegation(
                organization=org, title=f"{category.name} handed to {delegates[n % 2].name}",
                category=category, delegate=delegates[n % 2], status=DelegationStatus.HANDED_OFF,
                handoff_date=last - timedelta(weeks=4), review_date=last + timedelta(days=n - 1),
            )
            for n, category in enumerate(categories)
        ]
    )  # fmt: skip


def bench_reads(org, mondays: list[date], runs: int) -> tuple[list[tuple[str, int, Timing]], str | None]:
    """``/api/v1/kpis/weekly/`` and the dashboard with 4, then 52 (all) weeks of ``org`` rolled up,
    the org given an agenda first (``give_an_agenda``)."""
    from django.test import Client

    from kpis.models import WeeklyKpi
    from kpis.services import roll_up_org
    from msp_ops.orgs.models import Membership
    from msp_ops.orgs.services import issue_api_token

    give_an_agenda(org, mondays)
    manager = Membership.objects.get(organization=org, role="service_manager")
    key = issue_api_token(membership=manager, name="kpi-bench").key
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    page = Client()
    page.force_login(manager.user)
    first, last = mondays[0], mondays[-1]
    recent = mondays[-4]
    base = "/api/v1/kpis/weekly/"
    requests = [
        (f"`{base}?week=` (the last week)", f"{base}?week={last}"),
        (f"`{base}?from=&to=`, the last 4 weeks", f"{base}?from={recent}&to={last}"),
        (f"`{base}?from=&to=`, the whole year ({len(mondays)} weeks)", f"{base}?from={first}&to={last}"),
    ]
    results: list[tuple[str, int, Timing]] = []
    dashboard = None
    for history in (4, len(mondays)):
        WeeklyKpi.objects.for_org(org).delete()
        roll_up_org(org=org, mondays=mondays[-history:])
        dashboard = dashboard_url(page, last)
        for label, url in requests:
            results.append((label, history, timed_get(api, url, runs)))
        if dashboard:
            label = f"dashboard `GET {dashboard.replace(str(last), 'YYYY-MM-DD')}`"
            results.append((label, history, timed_get(page, dashboard, runs)))
    return results, dashboard


# --- the report ----------------------------------------------------------------------------------------


@dataclass
class Stage:
    orgs: int
    counts: Counts
    load_seconds: float
    rollup: RollupTiming
    sql_delegated: SqlTiming
    sql_full: SqlTiming
    check_delegated: Comparison
    check_full: Comparison
    load: str


ROLLUP_FILES = [
    "kpis/services.py", "kpis/selectors.py", "kpis/formulas.py", "kpis/models.py", "kpis/api/views.py",
    "kpis/views", "audits/selectors.py", "audits/models.py", "delegation/models.py", "msp_ops/lib/weeks.py",
]  # fmt: skip


def code_state() -> str:
    """The commit measured, and the rollup's or the dashboard's files changed but not committed."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    dirty = [line[3:] for line in git("status", "--porcelain", "--", *ROLLUP_FILES).splitlines()]
    if not dirty:
        return f"commit {head}"
    return f"commit {head} with uncommitted work in progress in {', '.join(f'`{d}`' for d in dirty)}"


def report(
    args, stages: list[Stage], nightly: RollupTiming, reads, dashboard, mondays, sampler, began, code
) -> str:
    last = stages[-1]
    per = [s.rollup.seconds / s.rollup.org_weeks * 1000 for s in stages]
    lines = [
        f"Measured {began:%Y-%m-%d %H:%M} UTC on {machine()};"
        f" `{' '.join(['bench/run kpis', *sys.argv[1:]])}` (PostgreSQL with fsync off,"
        f" `shared_buffers` {shared_buffers()}, defaults otherwise; every table and index read into"
        " that cache with `pg_prewarm` before each stage's timings;"
        " the rollup in one process, organization after organization, as `rollup_kpis` does);"
        f" code: {code}"
        + ("." if code_state() == code else f" (**the tree changed during the run**: now {code_state()})."),
        "",
        f"Data: {len(mondays)} weeks ({mondays[0]} to {mondays[-1] + timedelta(days=6)}) per organization,"
        f" {len(TIMEZONES)} timezones in turn; at {last.orgs} organizations {last.counts.entries:,} time"
        f" entries, {last.counts.interruptions:,} interruptions and {last.counts.tickets:,} tickets,"
        " loaded with COPY into the real tables (constraints and indexes in place) in"
        f" {sum(s.load_seconds for s in stages):.0f} s."
        " Each stage empties the KPI table and rolls up every week of every organization loaded so far"
        " (`roll_up_weeks`, as the nightly task and `rollup_kpis` do); the SQL queries cover the same"
        " organizations and weeks in one statement each"
        " (median of 3 runs, with `jit = off`: PostgreSQL's JIT spent seconds compiling them).",
        "",
        "| organizations | entries | org-weeks | rollup s | ms per org-week | median ms per org-week, per org"
        " | queries per org-week | SQL: delegated hours + interruptions, s | rollup / that SQL"
        " | SQL: every figure of the row, s | load avg (1 min); cores used by other processes, steal |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for stage, ms in zip(stages, per, strict=True):
        r = stage.rollup
        lines.append(
            f"| {stage.orgs} | {stage.counts.entries:,} | {r.org_weeks:,} | {r.seconds:.1f} | {ms:.2f}"
            f" | {r.median_ms:.2f} | {r.watch.queries / r.org_weeks:.2f} | {stage.sql_delegated.seconds:.2f}"
            f" | **{r.seconds / stage.sql_delegated.seconds:.1f}x** | {stage.sql_full.seconds:.2f}"
            f" | {stage.load} |"
        )
    lines += [
        "",
        "The same in CPU seconds (this process, and its PostgreSQL backend, from `/proc`), which other work"
        " on the machine inflates much less than wall time (it still shares caches and memory bandwidth):",
        "",
        "| organizations | rollup: Python CPU s | rollup: PostgreSQL CPU s | rollup CPU ms per org-week"
        " | SQL: delegated + interruptions, PostgreSQL CPU s | rollup CPU / that SQL"
        " | SQL: every figure, PostgreSQL CPU s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for stage in stages:
        r = stage.rollup
        total = r.python_cpu + r.postgres_cpu
        lines.append(
            f"| {stage.orgs} | {r.python_cpu:.1f} | {r.postgres_cpu:.1f} | {total / r.org_weeks * 1000:.2f}"
            f" | {stage.sql_delegated.cpu:.2f} | {total / max(stage.sql_delegated.cpu, 0.01):.1f}x"
            f" | {stage.sql_full.cpu:.2f} |"
        )
    medians = [s.rollup.median_ms for s in stages]
    at_median = last.rollup.median_ms * last.rollup.org_weeks / 1000
    spread = (max(per) - min(per)) / min(per) * 100
    median_spread = (max(medians) - min(medians)) / min(medians) * 100
    lines += [
        "",
        f"Seconds per org-week {', '.join(f'{ms / 1000:.4f}' for ms in per)} at"
        f" {', '.join(str(s.orgs) for s in stages)} organizations (spread {spread:.0f} %);"
        f" the median organization's {', '.join(f'{m / 1000:.4f}' for m in medians)}"
        f" (spread {median_spread:.0f} %, robust to bursts of other work): "
        + (
            "the rollup's time grows linearly with the organizations."
            if median_spread <= 20
            else "**not flat**."
        ),
        f"Whole rollup at {last.orgs} organizations: {last.rollup.seconds:.1f} s against"
        f" {last.sql_delegated.seconds:.2f} s for the hand-written query of the same delegated-hours and"
        f" interruption figures: **{last.rollup.seconds / last.sql_delegated.seconds:.1f}x**"
        " (aim: within 2x),"
        f" and {last.rollup.seconds / last.sql_full.seconds:.1f}x the query of every raw figure of the row"
        f" (the rollup also writes its rows and the statuses; the queries only read); in CPU time"
        f" {(last.rollup.python_cpu + last.rollup.postgres_cpu) / last.sql_delegated.cpu:.1f}x.",
        f"At the median organization's pace the whole rollup would take {at_median:.0f} s"
        f" ({at_median / last.sql_delegated.seconds:.1f}x that query).",
        "Nightly rollup (previous and current week of every organization, rows already there):"
        f" {nightly.seconds:.1f} s for {nightly.org_weeks} org-weeks"
        f" ({nightly.seconds / nightly.org_weeks * 1000:.2f} ms each).",
        "",
        "Checked before the ratios, every org-week of every stage against the rollup's stored rows:",
        "",
    ]
    for stage in stages:
        checks = [
            ("delegated hours + interruptions", stage.check_delegated),
            ("every figure", stage.check_full),
        ]
        for name, check in checks:
            if check.equal:
                lines.append(
                    f"- {stage.orgs} organizations, query of {name}: equal to the rollup's rows,"
                    f" all {check.rows:,} org-weeks."
                )
            else:
                lines.append(
                    f"- {stage.orgs} organizations, query of {name}: **{len(check.mismatches)} mismatches**"
                    f" in {check.rows:,} org-weeks, e.g. {'; '.join(check.mismatches[:3])}."
                )
    kinds = last.rollup.watch.by_kind
    n = last.rollup.org_weeks
    lines += [
        "",
        f"The rollup's queries per org-week ({last.orgs} organizations; time waited on each, wall):",
        "",
        "| queries on | per org-week | ms per org-week |",
        "| --- | ---: | ---: |",
        *[
            f"| {kind} | {count / n:.2f} | {spent / n * 1000:.2f} |"
            for kind, (count, spent) in sorted(kinds.items(), key=lambda kv: -kv[1][1])
        ],
        f"| all queries | {last.rollup.watch.queries / n:.2f} | {last.rollup.watch.waited / n * 1000:.2f} |",
        f"| the rest (Python: the ORM, the driver, the formulas) | |"
        f" {per[-1] - last.rollup.watch.waited / n * 1000:.2f} |",
        "",
        f"Reads of one organization's rows ({args.runs} calls each after 3 warm-ups, Django's test client"
        " in-process, a service manager's token or session; load average"
        f" {sampler.summary('reads')}):",
        "",
        "| request | weeks rolled up | rows answered | p50 ms | p95 ms | queries |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {label} | {history} | {t.rows} | {t.p50:.2f} | {t.p95:.2f} | {t.queries} |"
            for label, history, t in reads
        ],
    ]
    if not dashboard:
        lines.append("| dashboard `/kpis/` | 4 and 52 | | not measured: page not built yet | | |")
    dash = [t for label, _, t in reads if label.startswith("dashboard")]
    api = [t for label, _, t in reads if not label.startswith("dashboard")]
    lines += [
        "",
        f"`/kpis/weekly/`: {min(t.queries for t in api)} to {max(t.queries for t in api)} queries whatever"
        " the history; "
        + (
            f"dashboard p95 {max(t.p95 for t in dash):.1f} ms (aim: under 50 ms),"
            f" {min(t.queries for t in dash)} to {max(t.queries for t in dash)} queries."
            if dash
            else "the dashboard is not measured: the page is not in this tree yet."
        ),
    ]
    loads = sampler.all_values()
    others = [cores for cores, _ in sampler.others.values()]
    lines += [
        "",
        f"Load average (1 min) while timing: {statistics.mean(loads):.2f} mean, {max(loads):.2f} max on"
        f" {os.cpu_count()} cores; other processes used {min(others):.2f} to {max(others):.2f} cores"
        " on average over the phases (the machine's busy time minus this benchmark's). The benchmark keeps"
        " about one core busy (Python and PostgreSQL take turns); other work (other engineers' test runs)"
        " stretches the wall times. Compare rows of one run.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orgs", type=int, default=200, help="organizations at the last stage")
    parser.add_argument("--stages", help="comma-separated organization counts (default orgs/4, orgs/2, orgs)")
    parser.add_argument("--weeks", type=int, default=52, help="weeks of data per organization, all rolled up")
    parser.add_argument("--runs", type=int, default=200, help="timed calls per read measurement")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2, 4, 8 orgs, 30 calls, no README")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args()
    if args.quick:
        args.orgs, args.runs, args.no_readme = 8, 30, True
        args.stages = args.stages or "2,4,8"
    sizes = (
        [int(s) for s in args.stages.split(",")]
        if args.stages
        else sorted({max(1, args.orgs // 4), max(1, args.orgs // 2), args.orgs})
    )
    if sizes != sorted(set(sizes)) or args.weeks < 4:
        parser.error("--stages must grow; --weeks at least 4")

    began = datetime.now(UTC)
    code = code_state()
    sampler = LoadSampler()
    services = Services()
    try:
        url = boot(services)
        from django.db import connection

        from kpis.models import WeeklyKpi
        from msp_ops.orgs.models import Organization

        mondays = data_weeks(args.weeks)
        stages: list[Stage] = []
        counts, loaded = Counts(), 0
        for size in sizes:
            print(f"==> {size} organizations: loading {size - loaded} more", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            added = load_orgs(url, loaded, size, mondays)
            load_seconds = time.perf_counter() - t0
            counts = Counts(
                counts.entries + added.entries,
                counts.interruptions + added.interruptions,
                counts.tickets + added.tickets,
            )
            loaded = size
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {WeeklyKpi._meta.db_table}")
            warm = prewarm(url)
            print(f"    prewarmed in {warm:.1f} s", file=sys.stderr, flush=True)
            orgs = list(Organization.objects.order_by("slug"))
            org_ids = [org.pk for org in orgs]
            print(f"==> rollup of {size} organizations x {len(mondays)} weeks", file=sys.stderr, flush=True)
            phase = f"stage {size}"
            with sampler.phase(phase):
                rollup = run_rollup(orgs, mondays)
                sql_delegated = run_sql(SQL_DELEGATED, org_ids, mondays)
                sql_full = run_sql(SQL_FULL, org_ids, mondays)
            stages.append(
                Stage(
                    size, counts, load_seconds, rollup, sql_delegated, sql_full,
                    compare(sql_delegated.rows, full=False), compare(sql_full.rows, full=True),
                    sampler.summary(phase),
                )
            )  # fmt: skip
            s = stages[-1]
            print(
                f"    rollup {rollup.seconds:.1f} s"
                f" ({rollup.seconds / rollup.org_weeks * 1000:.2f} ms/org-week;"
                f" CPU {rollup.python_cpu:.1f} s Python, {rollup.postgres_cpu:.1f} s PostgreSQL),"
                f" SQL {sql_delegated.seconds:.2f} s / {sql_full.seconds:.2f} s, checks"
                f" {len(s.check_delegated.mismatches)} / {len(s.check_full.mismatches)} mismatches",
                file=sys.stderr,
                flush=True,
            )
        print("==> nightly rollup (previous and current week)", file=sys.stderr, flush=True)
        with sampler.phase("nightly"):
            nightly = run_rollup(orgs, None)
        print("==> reads", file=sys.stderr, flush=True)
        with sampler.phase("reads"):
            reads, dashboard = bench_reads(orgs[0], mondays, args.runs)
        section = report(args, stages, nightly, reads, dashboard, mondays, sampler, began, code)
        print(section)
        if not args.no_readme:
            write_readme(section, start=START, end=END, heading=HEADING)
            print(f"\nWritten to {README.relative_to(ROOT)}")
        if not all(s.check_delegated.equal for s in stages):
            sys.exit(1)
    finally:
        sampler.stop()
        from django.db import connections

        connections.close_all()
        services.stop()


if __name__ == "__main__":
    main()
