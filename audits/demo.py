"""Demo data for the time audit (SPEC 5 ``seed_demo``): a finished 7-day audit, 12 weeks of
entries up to yesterday, and the founder's entries of today so far (``seed_today``).

The demo founder logs a busy MSP owner's week: escalations, password resets, quoting,
vendor calls, QBR prep, approvals ... tagged the way a founder would tag them. Week after
week more of it is handed off, so the delegated hours grow. The service manager and the
technician log lighter weekday schedules. Everything is drawn from a seeded random
generator: the same date gives the same entries, so tests can assert on them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from audits.models import Category, Handling, RunningTimer, Source, Tag, TimeEntry
from audits.services import save_time_entries, start_time_audit
from msp_ops.lib.weeks import (
    as_utc,
    day_bounds,
    days,
    elapsed,
    local_midnight,
    local_moment,
    minus,
    monday_of,
    plus,
    today,
)
from msp_ops.orgs.models import Membership, Organization

HISTORY_WEEKS = 12
SEED = "northwind-demo"

REP, OUT, SYS, HAB = Tag.REPETITIVE, Tag.OUTSOURCEABLE, Tag.SYSTEMIZABLE, Tag.OWNER_BY_HABIT

CLIENTS = [
    "Lakeside Dental",
    "Harbor Logistics",
    "Prairie CPA Group",
    "Riverbend Clinic",
    "Summit Realty",
    "Oakwood Law",
    "Maple Manufacturing",
    "Cedar Credit Union",
    "Bluestem Veterinary",
    "Northgate Insurance",
]
TECHS = ["Dana", "Luis", "Priya"]


@dataclass(frozen=True)
class Work:
    """A kind of work a member does: its category, wordings, tags and usual length."""

    category: str
    activities: tuple[str, ...]
    tags: tuple[str, ...] = ()
    weight: int = 1
    minutes: tuple[int, int] = (15, 60)  # shortest, longest (15-minute steps)
    urgent: bool | None = None
    important: bool | None = None
    delegable: bool = False  # the founder can hand it off (then only assigns and reviews it)
    client: bool = False


FOUNDER_WORK = [
    Work(
        "escalations",
        (
            "Escalation: VPN auth failures at {client} after the firewall update",
            "Escalation: 'server is slow' at {client}, joined the bridge",
            "Escalation: backup missing at {client}, checked the job history",
            "Escalation: invoices stuck in email quarantine at {client}",
            "Escalation: Wi-Fi drops in {client}'s front office",
        ),
        (HAB, SYS),
        weight=6,
        minutes=(30, 60),
        urgent=True,
        important=True,
        delegable=True,
        client=True,
    ),
    Work(
        "tickets",
        (
            "Password resets for {client}",
            "MFA re-enrolment for two {client} users",
            "Antivirus alert triage",
            "Morning ticket triage",
            "Patch stuck on {client} workstations",
        ),
        (REP, OUT),
        weight=6,
        minutes=(15, 45),
        urgent=True,
        important=False,
        delegable=True,
        client=True,
    ),
    Work(
        "approvals",
        (
            "Approved firewall change request for {client}",
            "Signed off the patch window for {client}",
            "Rewrote a client email the team drafted for {client}",
            "Approved a $400 switch purchase for {client}",
        ),
        (HAB, REP),
        weight=4,
        minutes=(15, 30),
        urgent=True,
        important=False,
        client=True,
    ),
    Work(
        "sales",
        (
            "Quote for {client}'s laptop refresh",
            "Discovery call with a dental practice prospect",
            "Proposal for co-managed IT at {client}",
            "Pipeline review and follow-up emails",
        ),
        (SYS,),
        weight=3,
        minutes=(30, 90),
        urgent=False,
        important=True,
        client=True,
    ),
    Work(
        "vendor-calls",
        (
            "Distributor call about licence renewals",
            "Backup vendor support call about failed jobs",
            "Microsoft licensing true-up call",
            "ISP call about {client}'s circuit outage",
        ),
        (OUT,),
        weight=3,
        minutes=(30, 60),
        urgent=False,
        important=False,
        client=True,
    ),
    Work(
        "client-retention",
        (
            "QBR prep for {client}",
            "Quarterly business review with {client}",
            "Renewal check-in with {client}",
        ),
        weight=2,
        minutes=(45, 90),
        urgent=False,
        important=True,
        client=True,
    ),
    Work(
        "onboarding",
        ("Onboarding {client}: new user accounts", "New-site onboarding checklist for {client}"),
        (REP, SYS),
        weight=3,
        minutes=(30, 60),
        urgent=False,
        important=True,
        delegable=True,
        client=True,
    ),
    Work(
        "backlog",
        ("Backlog grooming with the service manager", "Closed stale tickets in the backlog"),
        (SYS, REP),
        weight=2,
        minutes=(30, 60),
        urgent=False,
        important=False,
        delegable=True,
    ),
    Work(
        "billing-admin",
        (
            "Invoicing and agreement reconciliation",
            "Chased an overdue invoice from {client}",
            "Payroll and expenses",
        ),
        (REP, OUT),
        weight=2,
        minutes=(30, 60),
        urgent=False,
        important=False,
        delegable=True,
        client=True,
    ),
    Work(
        "team",
        (
            "Interview: L1 help desk technician",
            "1:1 coaching with {tech}",
            "Hiring: wrote the NOC contractor brief",
        ),
        weight=2,
        minutes=(30, 60),
        urgent=False,
        important=True,
    ),
    Work(
        "service-delivery",
        ("Planned next week's time blocks", "Reviewed the SLA report with the service manager"),
        weight=1,
        minutes=(30, 45),
        urgent=False,
        important=True,
    ),
    Work(
        "documentation",
        ("Updated the VPN auth failure runbook", "Documented {client}'s network"),
        (SYS, OUT),
        weight=1,
        minutes=(30, 60),
        urgent=False,
        important=False,
        delegable=True,
        client=True,
    ),
    Work(
        "projects",
        ("Network redesign for {client}", "Server migration plan for {client}"),
        (HAB,),
        weight=1,
        minutes=(45, 60),
        urgent=False,
        important=True,
        delegable=True,
        client=True,
    ),
]
FOUNDER_WEEKEND_WORK = [
    w for w in FOUNDER_WORK if w.category in {"billing-admin", "escalations", "sales", "backlog"}
]

MANAGER_WORK = [
    Work(
        "service-delivery", ("Daily SLA stand-up", "Level-10 review prep", "Dispatch and schedule"), weight=4
    ),
    Work("tickets", ("Ticket triage", "Password resets for {client}"), (REP,), weight=4, client=True),
    Work("escalations", ("Escalation: patch stuck at {client}",), (SYS,), weight=2, urgent=True, client=True),
    Work("backlog", ("Backlog review",), weight=2),
    Work("team", ("1:1 with {tech}", "Onboarding a new technician"), weight=1),
    Work("documentation", ("Runbook review: MFA issues", "Escalation map update"), weight=1),
]
TECH_WORK = [
    Work(
        "tickets",
        ("Password resets for {client}", "MFA issue at {client}", "Printer mapping"),
        weight=6,
        client=True,
    ),
    Work("onboarding", ("New laptop setup for {client}",), weight=2, minutes=(45, 90), client=True),
    Work("projects", ("Firewall replacement at {client}",), weight=2, minutes=(60, 120), client=True),
    Work("documentation", ("Documented the fix for VPN auth failure",), weight=1),
]


def delegated_target_hours(week_index: int) -> float:
    """The founder's handed-off hours grow by 1.25 h a week; each handed-off entry lasts at most
    1 h, so the week's actual delegated hours (target plus less than 1 h) still grow every week."""
    return 1.5 + 1.25 * week_index


@dataclass
class _Block:
    start: datetime
    end: datetime
    work: Work
    activity: str
    client: str

    @property
    def hours(self) -> float:
        return elapsed(self.start, self.end).total_seconds() / 3600


def _day_blocks(
    rng: random.Random,
    day: date,
    tz: ZoneInfo,
    work: list[Work],
    begin: time,
    hours: float,
    until: datetime | None = None,
) -> list[_Block]:
    """A working day from about ``begin`` local time for ``hours``; with ``until``, only the
    blocks that have ended by then."""
    blocks: list[_Block] = []
    at = plus(local_moment(day, begin, tz), timedelta(minutes=5 * rng.randint(0, 6)))
    logged, lunch = 0.0, hours > 6
    weights = [w.weight for w in work]
    while logged < hours:
        chosen = rng.choices(work, weights)[0]
        shortest, longest = chosen.minutes
        minutes = 15 * rng.randint(shortest // 15, longest // 15)
        client = rng.choice(CLIENTS) if chosen.client else ""
        activity = rng.choice(chosen.activities).format(client=client or "a client", tech=rng.choice(TECHS))
        end = plus(at, timedelta(minutes=minutes))
        if until is not None and as_utc(end) > as_utc(until):
            break
        blocks.append(_Block(at, end, chosen, activity, client))
        logged += minutes / 60
        at = plus(end, timedelta(minutes=rng.choice([0, 0, 5, 10, 15])))
        if lunch and logged >= 4.5:
            at = plus(at, timedelta(minutes=30))
            lunch = False
    return blocks


def _founder_day(rng: random.Random, day: date, tz: ZoneInfo, until: datetime | None = None) -> list[_Block]:
    """Long weekdays from 7:30, a short Saturday morning from 9:00, an hour on Sunday from 16:00."""
    weekday = day.weekday()
    if weekday < 5:
        return _day_blocks(rng, day, tz, FOUNDER_WORK, time(7, 30), rng.uniform(9, 10.5), until)
    if weekday == 5:
        return _day_blocks(rng, day, tz, FOUNDER_WEEKEND_WORK, time(9, 0), rng.uniform(2, 3), until)
    return _day_blocks(rng, day, tz, FOUNDER_WEEKEND_WORK, time(16, 0), rng.uniform(1, 1.5), until)


def _entry(
    org: Organization, user, block: _Block, categories: dict[str, Category], rng: random.Random
) -> TimeEntry:
    work = block.work
    assessed = rng.random() < 0.85
    entry = TimeEntry(
        organization=org,
        user=user,
        started_at=block.start,
        ended_at=block.end,
        activity=block.activity[:500],
        category=categories[work.category],
        handling=Handling.PERSONAL,
        urgent=work.urgent if assessed else None,
        important=work.important if assessed else None,
        client=block.client,
        source=Source.TIMER if rng.random() < 0.2 else Source.WEB,
    )
    entry.tags = work.tags
    return entry


def _delegate(blocks: list[_Block], entries: list[TimeEntry], target: float, rng: random.Random) -> None:
    """Hands off delegable blocks (at most 1 h each) until the week reaches ``target`` hours."""
    order = [i for i, block in enumerate(blocks) if block.work.delegable and block.hours <= 1]
    rng.shuffle(order)
    delegated = 0.0
    for i in order:
        if delegated >= target:
            break
        entries[i].handling = Handling.DELEGATED
        entries[i].activity = f"Assigned to {rng.choice(TECHS)}, reviewed: {blocks[i].activity}"[:500]
        delegated += blocks[i].hours


def _founder_week(
    org: Organization, user, monday: date, last: date, week_index: int, categories, rng: random.Random
) -> list[TimeEntry]:
    blocks: list[_Block] = []
    for day in days(monday, min(last, monday + timedelta(days=6))):
        blocks += _founder_day(rng, day, org.tz)
    entries = [_entry(org, user, block, categories, rng) for block in blocks]
    full_week = last >= monday + timedelta(days=6)
    target = delegated_target_hours(week_index) * (1 if full_week else (last - monday).days / 7)
    _delegate(blocks, entries, target, rng)
    return entries


def _staff_week(
    org: Organization, user, monday: date, last: date, work: list[Work], begin: time, categories, rng
) -> list[TimeEntry]:
    blocks: list[_Block] = []
    for day in days(monday, min(last, monday + timedelta(days=4))):
        blocks += _day_blocks(rng, day, org.tz, work, begin, rng.uniform(7, 8.5))
    return [_entry(org, user, block, categories, rng) for block in blocks]


def demo_members(org: Organization, *, founder_stands_in: bool = False) -> dict | None:
    """The demo's ``founder``, ``manager`` and ``tech`` users of ``org`` by username (None without
    a founder); with ``founder_stands_in``, the founder also for whichever of the others is missing."""
    members = {
        m.user.username: m.user
        for m in Membership.objects.for_org(org)
        .select_related("user")
        .filter(user__username__in=["founder", "manager", "tech"])
    }
    if "founder" not in members:
        return None
    if founder_stands_in:
        for name in ("manager", "tech"):
            members.setdefault(name, members["founder"])
    return members


def audit_monday(org: Organization, on: date | None = None) -> date:
    """Monday of the most recent complete Monday-to-Sunday week before ``on`` (default today)."""
    return monday_of(on or today(org.tz)) - timedelta(days=7)


def seed_time_audit(org: Organization) -> str | None:
    """Adds the founder's finished audit, 12 weeks of entries up to yesterday for founder, manager
    and tech (the founder's entries of today come from ``seed_today``, run on every seed_demo)."""
    members = demo_members(org)
    if members is None:
        return None
    categories = {c.slug: c for c in Category.objects.for_org(org)}
    last_audit_monday = audit_monday(org)
    yesterday = today(org.tz) - timedelta(days=1)
    first_monday = last_audit_monday - timedelta(weeks=HISTORY_WEEKS - 1)
    mondays = [first_monday + timedelta(weeks=k) for k in range(HISTORY_WEEKS + 1)]
    total = 0
    for name in ("founder", "manager", "tech"):
        user = members.get(name)
        if user is None:
            continue
        rng = random.Random(f"{SEED}:{name}")
        for index, monday in enumerate(mondays):
            if monday > yesterday:
                break
            if name == "founder":
                batch = _founder_week(org, user, monday, yesterday, index, categories, rng)
            elif name == "manager":
                batch = _staff_week(org, user, monday, yesterday, MANAGER_WORK, time(8, 0), categories, rng)
            else:
                batch = _staff_week(org, user, monday, yesterday, TECH_WORK, time(8, 30), categories, rng)
            if batch:
                save_time_entries(org=org, entries=batch)
                total += len(batch)
    start_time_audit(org=org, user=members["founder"], start_date=last_audit_monday)
    first_day = local_midnight(first_monday, org.tz).date()
    return (
        f"Time audit: founder's finished 7-day audit from {last_audit_monday}; "
        f"{total} time entries since {first_day} for {', '.join(sorted(members))}."
    )


# Before the working day starts: one short check of what came in overnight.
EARLY_WORK = Work(
    "tickets",
    ("Checked the overnight alerts and the ticket queue", "Answered an after-hours email from {client}"),
    (REP, HAB),
    minutes=(15, 30),
    urgent=True,
    important=False,
    client=True,
)


def today_external_id(day: date, n: int) -> str:
    return f"demo-today-{day.isoformat()}-{n}"


def seed_today(org: Organization) -> str | None:
    """Gives the demo founder entries for today up to now, so that the Today page a new user
    first sees is not empty: the usual day (weekdays from about 7:30) cut at the current local
    time, or before it starts one short check of the overnight queue.

    Nothing in the future (nor after the start of a running timer), and nothing at all when
    the founder has an entry on today's date already: running it again the same day, or after
    the user logged time, adds nothing. Each entry's ``external_id`` is
    ``demo-today-<date>-<n>``. Returns a line for seed_demo's output, or None.
    """
    members = Membership.objects.for_org(org).select_related("user")
    membership = members.filter(user__username="founder").first()
    if membership is None:
        return None
    user, tz, now = membership.user, org.tz, timezone.now()
    day = today(tz, now)
    entries_of_founder = TimeEntry.objects.for_org(org).filter(user=user)
    if entries_of_founder.overlapping(*day_bounds(day, tz)).exists():
        return None
    until = now
    timer = RunningTimer.objects.for_org(org).filter(user=user).first()
    if timer is not None and as_utc(timer.started_at) < as_utc(until):
        until = timer.started_at
    rng = random.Random(f"{SEED}:founder:{day.isoformat()}")
    blocks = _founder_day(rng, day, tz, until=until) or _early_blocks(rng, day, tz, until)
    if not blocks:
        return None
    categories = {c.slug: c for c in Category.objects.for_org(org)}
    entries = [_entry(org, user, block, categories, rng) for block in blocks]
    _delegate(blocks, entries, delegated_target_hours(HISTORY_WEEKS) / 7, rng)
    for n, entry in enumerate(entries, start=1):
        entry.external_id = today_external_id(day, n)
    save_time_entries(org=org, entries=entries)
    first, last = blocks[0].start.astimezone(tz), blocks[-1].end.astimezone(tz)
    count = f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'}"
    return f"Today: {count} for the founder so far, {first:%H:%M} to {last:%H:%M}."


def _early_blocks(rng: random.Random, day: date, tz: ZoneInfo, until: datetime) -> list[_Block]:
    """One 15- or 30-minute block ending 5 to 10 minutes before ``until``, inside ``day``."""
    midnight = local_midnight(day, tz)
    end = as_utc(minus(until, timedelta(minutes=5)))
    end = end.replace(minute=end.minute - end.minute % 5, second=0, microsecond=0).astimezone(tz)
    available = elapsed(midnight, end)
    if available < timedelta(minutes=15):
        return []
    minutes = 30 if available >= timedelta(minutes=30) and rng.random() < 0.5 else 15
    client = rng.choice(CLIENTS)
    activity = rng.choice(EARLY_WORK.activities).format(client=client)
    return [_Block(minus(end, timedelta(minutes=minutes)), end, EARLY_WORK, activity, client)]
