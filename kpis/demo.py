"""seed_demo's KPI data (SPEC 5; issue 11 item 8): 12 weeks of PSA tickets, Level-10 to-dos and
the rollup of every week, so the dashboard is full at first start.

On the weeks of ``audits.demo`` (week 0 is its first Monday, week 11 the audit week, week 12
the current one) Northwind's PSA pushes the tickets of three technician teams: the Help Desk
(MFA, email quarantine, printers, accounts), Field Services (onboarding, Wi-Fi, the practice
software) and the NOC (backups, patching, VPN), plus a few nobody picked up (Unassigned).
Most tickets are resolved within their SLA target; ``STUCK`` says how many of each team's are
still open past it at each week's end. The Help Desk drowns in MFA tickets during the MFA
rollout (weeks 2-4), Field Services in a wave of new-client onboardings (weeks 6-7) and the NOC
in backup failures twice (weeks 4 and 10): a team at 4 or more triggers that week's Level-10
review. From each review's top aging categories the service manager makes to-dos at the next
Tuesday's meeting; most get done within days, one from week 4 and the latest ones are still
open and carry over to this week's agenda. Right now some tickets are past their target and
some pass it within 24 h, so the daily stand-up has rows.

Everything comes from a generator seeded like the other apps' demo data: the same date gives
the same tickets. Tickets and to-dos go through the services (``save_tickets``, ``save_todos``);
the rollup is ``roll_up_org``, as the nightly task runs it.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from audits.demo import CLIENTS, HISTORY_WEEKS, SEED, audit_monday, demo_members
from kpis.models import UNASSIGNED, UNCATEGORIZED, Severity, Ticket, Todo, WeeklyKpi
from kpis.selectors import sla_policy
from kpis.services import roll_up_org, save_tickets, save_todos, weeks_to_refresh
from msp_ops.lib import weeks
from msp_ops.orgs.models import Organization

HELP_DESK, FIELD, NOC = "Help Desk", "Field Services", "NOC"
TEAMS = [HELP_DESK, FIELD, NOC]

# Aged tickets at the end of weeks 0..11 per team ("" is Unassigned); 4 or more: a review.
STUCK = {
    HELP_DESK: [2, 3, 5, 6, 4, 2, 1, 2, 1, 0, 1, 1],
    FIELD: [1, 0, 1, 2, 1, 3, 4, 5, 2, 1, 1, 0],
    NOC: [3, 2, 2, 1, 4, 2, 1, 1, 0, 1, 4, 1],
    "": [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1],
}
# What a team's aging tickets are about, by weight, per stretch of weeks (first week it applies).
AGING = {
    HELP_DESK: [
        (0, {"MFA": 2, "Email quarantine": 2, "Printers": 1}),
        (2, {"MFA": 6, "Email quarantine": 2}),
    ],
    FIELD: [
        (0, {"Onboarding": 2, "Wi-Fi": 1}),
        (5, {"Onboarding": 5, "Wi-Fi": 2, "Line-of-business app": 1}),
    ],
    NOC: [(0, {"Backup": 2, "Patching": 2, "VPN": 1}), (10, {"Backup": 6, "Patching": 1})],
    "": [(0, {"": 2, "Server slow": 1})],
}
# The usual mix of each team's tickets (resolved in time), by weight, and how many a week.
MIX = {
    HELP_DESK: {"MFA": 3, "Email quarantine": 3, "Printers": 2, "M365 licensing": 1, "Offboarding": 1, "": 1},
    FIELD: {"Onboarding": 3, "Wi-Fi": 2, "Line-of-business app": 2, "Printers": 1, "Server slow": 1},
    NOC: {"Backup": 3, "Patching": 3, "VPN": 2, "Firewall change": 1, "Server slow": 1},
    "": {"": 2, "VPN": 1, "Printers": 1},
}
PER_WEEK = {HELP_DESK: (12, 16), FIELD: (5, 8), NOC: (6, 10), "": (1, 2)}
SEVERITY_WEIGHTS = {Severity.P1: 1, Severity.P2: 3, Severity.P3: 5, Severity.P4: 3}
STUCK_SEVERITY_WEIGHTS = {Severity.P2: 2, Severity.P3: 4, Severity.P4: 2}

TITLES = {
    "VPN": (
        "VPN auth failure for remote staff at {client}",
        "VPN tunnel to {client}'s branch keeps dropping",
    ),
    "Backup": ("Backup job missing for {client}'s file server", "Backup completed with warnings at {client}"),
    "Patching": ("Patch stuck on {client} front-desk PCs", "Feature update failed on a {client} workstation"),
    "MFA": ("MFA prompt loop for a {client} user", "New phone, no authenticator: {client}"),
    "Email quarantine": (
        "Supplier invoice held in quarantine at {client}",
        "Release quarantined email for {client}",
    ),
    "Printers": ("Printer offline at {client}", "Scan to email broken at {client}"),
    "Onboarding": ("New starter at {client}: accounts and laptop", "Onboard two users at {client}"),
    "Offboarding": (
        "Leaver at {client}: disable accounts, forward mail",
        "Offboard a contractor at {client}",
    ),
    "Line-of-business app": ("Practice software slow at {client}", "Practice software update at {client}"),
    "Wi-Fi": ("Wi-Fi drops in {client}'s front office", "Guest Wi-Fi portal down at {client}"),
    "Firewall change": ("Open a port for vendor support at {client}", "Firewall rule review for {client}"),
    "Server slow": ("'Everything is slow' at {client}", "File server at 95 % disk at {client}"),
    "M365 licensing": ("Two more E3 licences for {client}", "Licence true-up question from {client}"),
    "": ("Call back {client} about an invoice", "General question from {client}"),
}

# Open right now: (team, severity, category, hours past the target; negative: due in that many).
OPEN_NOW = [
    (HELP_DESK, Severity.P2, "MFA", 3),
    (NOC, Severity.P1, "Backup", 1.5),
    (FIELD, Severity.P3, "Wi-Fi", 5),
    ("", Severity.P2, "", 2),
    (HELP_DESK, Severity.P3, "Printers", -2),
    (NOC, Severity.P3, "Patching", -9),
    (FIELD, Severity.P4, "Onboarding", -20),
]

TODO_TITLES = (
    "Find why {category} tickets age past SLA in {team}",
    "{team}: clear the aged {category} tickets and update the runbook",
)
TODO_OWNERS = {HELP_DESK: "manager", FIELD: "tech", NOC: "manager", UNASSIGNED: "manager"}
LEVEL10_MEETING = (1, time(10, 0))  # Tuesday 10:00, the week after the review's week
STILL_OPEN_REVIEWS = {4}  # reviews whose first to-do is not done yet (besides the latest review's)


def seed_kpis(org: Organization, *, created: bool) -> str | None:
    """The demo organization's tickets, to-dos and weekly rows (all of its weeks) when it is new;
    afterwards only the previous and the current week are rolled up again (today's entries of
    ``seed_today`` count at once). Returns a line for seed_demo's output."""
    if not created:
        rows = roll_up_org(org=org, mondays=weeks_to_refresh(org))
        return f"Weekly KPIs: rolled up the weeks of {rows[0].week} and {rows[-1].week}."
    users = demo_members(org, founder_stands_in=True)
    if users is None:
        return None
    now = timezone.now()
    first_monday = audit_monday(org, weeks.today(org.tz, now)) - timedelta(weeks=HISTORY_WEEKS - 1)
    mondays = [first_monday + timedelta(weeks=k) for k in range(HISTORY_WEEKS + 1)]  # and the current one
    rng = random.Random(f"{SEED}:kpis")

    tickets = _tickets(org, mondays, now, rng)
    save_tickets(org=org, tickets=tickets)
    rows = roll_up_org(org=org, mondays=mondays)
    todos = _todos(org, rows, users, now, rng)

    open_now = sum(1 for t in tickets if t.closed_at is None)
    reviews = sum(1 for row in rows if row.level10_review)
    done = sum(1 for t in todos if t.done)
    return (
        f"Weekly KPIs: {len(tickets)} tickets of {len(TEAMS)} teams since {first_monday} "
        f"({open_now} open now), {len(todos)} Level-10 to-dos ({done} done), {len(rows)} weeks rolled up "
        f"({reviews} with a Level-10 review)."
    )


# --- tickets -------------------------------------------------------------------------------


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _aging_mix(team: str, week: int) -> dict[str, int]:
    return [mix for first, mix in AGING[team] if first <= week][-1]


def _working_moment(
    rng: random.Random, monday: date, tz, days: int, latest: datetime | None = None
) -> datetime:
    """A local working-hours moment (08:00-17:55) on one of the week's first ``days`` days, at or
    before ``latest`` (real time) when given."""
    for _ in range(200):
        day = monday + timedelta(days=rng.randrange(days))
        moment = weeks.local_moment(day, time(rng.randint(8, 17), 5 * rng.randrange(12)), tz)
        if latest is None or weeks.as_utc(moment) <= weeks.as_utc(latest):
            return moment
    return weeks.minus(latest, timedelta(minutes=5 * rng.randrange(1, 12)))


def _ticket(rng, team: str, category: str, severity: str, opened_at, closed_at) -> Ticket:
    client = rng.choice(CLIENTS)
    return Ticket(
        title=rng.choice(TITLES[category]).format(client=client),
        client=client,
        category=category,
        severity=severity,
        team=team,
        opened_at=opened_at,
        closed_at=closed_at,
    )


def _tickets(org: Organization, mondays: list[date], now: datetime, rng: random.Random) -> list[Ticket]:
    tz, policy = org.tz, sla_policy(org)

    def target(severity: str) -> timedelta:
        return timedelta(hours=float(policy.target_hours(severity)))

    def closed(at: datetime) -> datetime | None:
        return at if weeks.as_utc(at) <= weeks.as_utc(now) else None  # nothing closes in the future

    tickets: list[Ticket] = []
    for week, monday in enumerate(mondays):
        end = weeks.week_bounds(monday, tz)[1]
        for team in [*TEAMS, ""]:
            # Resolved within the target: never aged, whatever the instant.
            for _ in range(rng.randint(*PER_WEEK[team])):
                severity = _pick(rng, SEVERITY_WEIGHTS)
                opened_at = _working_moment(rng, monday, tz, days=6 if team == NOC else 5)
                if weeks.as_utc(opened_at) > weeks.as_utc(now):
                    continue
                took = target(severity) * rng.uniform(0.1, 0.85)
                category = _pick(rng, MIX[team])
                tickets.append(
                    _ticket(rng, team, category, severity, opened_at, closed(weeks.plus(opened_at, took)))
                )
            if week >= len(STUCK[team]):
                continue  # the current week: what is stuck now comes from OPEN_NOW
            # Past the target at the week's end, resolved early the next week.
            for _ in range(STUCK[team][week]):
                severity = _pick(rng, STUCK_SEVERITY_WEIGHTS)
                latest = weeks.minus(end, target(severity) + timedelta(hours=1))
                opened_at = _working_moment(rng, monday, tz, days=7, latest=latest)
                closed_at = weeks.plus(end, timedelta(minutes=15 * rng.randint(12, 160)))
                category = _pick(rng, _aging_mix(team, week))
                tickets.append(_ticket(rng, team, category, severity, opened_at, closed(closed_at)))
    for team, severity, category, hours_past in OPEN_NOW:
        opened_at = weeks.minus(now, target(severity) + timedelta(hours=hours_past))
        tickets.append(_ticket(rng, team, category, severity, weeks.to_local(opened_at, tz), None))
    tickets.sort(key=lambda t: (weeks.as_utc(t.opened_at), t.team, t.category))
    for n, ticket in enumerate(tickets):
        ticket.external_id = f"PSA-{24000 + n}"
    return tickets


# --- Level-10 to-dos -------------------------------------------------------------------------


def _todos(
    org: Organization, rows: list[WeeklyKpi], users: dict, now: datetime, rng: random.Random
) -> list[Todo]:
    """At each review's meeting (the next Tuesday), a to-do per triggered team for its top aging
    category (two for the team with the most aged tickets); done later that week (Wednesday to
    Friday), except those of the latest review and the first of each ``STILL_OPEN_REVIEWS``."""
    reviewed = [(k, row) for k, row in enumerate(rows) if row.level10_review and row.final]
    latest = reviewed[-1][0] if reviewed else None
    weekday, at = LEVEL10_MEETING
    stored: list[Todo] = []
    for week, row in reviewed:
        meeting_day = row.week + timedelta(weeks=1, days=weekday)
        meeting = weeks.local_moment(meeting_day, at, org.tz)
        if weeks.as_utc(meeting) > weeks.as_utc(now):
            continue
        by_team = row.aged_backlog_by_team
        busiest = max(row.level10_categories, key=lambda team: (by_team[team], team))
        todos = [
            Todo(
                title=rng.choice(TODO_TITLES).format(category=category, team=team)[:200],
                owner=users[TODO_OWNERS.get(team, "manager")],
                ticket_category="" if category == UNCATEGORIZED else category,
            )
            for team, categories in sorted(row.level10_categories.items())
            for category in categories[: 2 if team == busiest else 1]
        ]
        saved = [s.obj for s in save_todos(org=org, todos=todos, now=meeting)]
        stored += saved
        if week == latest:
            continue
        finished = []
        for n, todo in enumerate(saved):
            if n == 0 and week in STILL_OPEN_REVIEWS:
                continue  # the one nobody got to: it carries over week after week
            day = meeting_day + timedelta(days=rng.randint(1, 3))  # Wednesday to Friday
            done_at = weeks.local_moment(day, time(rng.randint(9, 16), 15 * rng.randrange(4)), org.tz)
            if weeks.as_utc(done_at) <= weeks.as_utc(now):
                todo.done, todo.done_at = True, done_at
                finished.append(todo)
        if finished:
            save_todos(org=org, todos=finished, now=now)
    return stored
