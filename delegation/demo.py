"""seed_demo's delegation data (SPEC 5, issue 10 item 11), on top of the time-audit history.

The story of the 12 weeks of ``audits.demo`` (week 0 is its first Monday, week 11 the audit
week): the founder writes the ten runbooks of the most common ticket categories one after
another and updates them after real incidents, sets an escalation map and owner-escalation
windows, and hands work off. The owner interruptions of each ticket category fall once its
runbook exists, and more of them land inside the founder's escalation windows as the team
learns to hold them; three categories still have no runbook (the "write this one next"
gaps). An owner offline drill ran in week 6 and was completed with a follow-up on every ping,
so a month later the next one is overdue.

The handed-off delegations take categories whose founder hours really drop in that history:
``audits.demo`` hands off more of the founder's work every week, and its entries depend on
the week's index only (a seeded generator), so for any date the founder's personal hours in
escalations drop by about 4.3 h a week after week 6 and in tickets by about 1.9 h after week
7 (tests/delegation/test_demo_seed.py checks the figures). Everything else is drawn from a
generator seeded the same way: the same date gives the same data. Writes go through the
services (runbook revisions are real revisions); only the timestamps of runbook versions are
moved back to the day each was written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from audits.demo import CLIENTS, HISTORY_WEEKS, SEED, audit_monday, demo_members
from audits.models import Category, TimeAudit
from audits.selectors import audit_report
from delegation.models import (
    BlockKind,
    Channel,
    Delegate,
    DelegateKind,
    Delegation,
    DelegationStatus,
    Drill,
    EscalationLevel,
    FollowUp,
    Interruption,
    Runbook,
    TimeBlock,
)
from delegation.selectors import with_flags
from delegation.services import (
    complete_drill,
    save_delegates,
    save_delegations,
    save_drills,
    save_interruptions,
    save_runbooks,
    save_time_blocks,
    update_escalation_map,
)
from msp_ops.lib import weeks
from msp_ops.orgs.models import Organization

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)  # offsets from a week's Monday


# --- delegates and delegations ------------------------------------------------------------

DELEGATES = [
    ("Morgan Lee", DelegateKind.SERVICE_MANAGER, "morgan@northwind-it.example", "55.00"),
    ("Dana Ortiz", DelegateKind.TECHNICIAN, "dana@northwind-it.example", "42.00"),
    ("Luis Moreno", DelegateKind.TECHNICIAN, "luis@northwind-it.example", "46.00"),
    ("Tier One Help Desk", DelegateKind.HELP_DESK, "support@tierone-helpdesk.example", "29.00"),
    ("NightShift NOC", DelegateKind.NOC, "noc@nightshift.example", "35.00"),
    ("Clearpath Docs (documentation contractor)", DelegateKind.CONTRACTOR, None, "65.00"),
    ("Renee Park (office manager)", DelegateKind.OTHER, "renee@northwind-it.example", None),
]


def _items(*texts: str, done: int = 0) -> list[dict]:
    return [{"text": text, "done": index < done} for index, text in enumerate(texts)]


@dataclass
class _Plan:
    """A delegation of the demo: where it ends up, and in which week it was handed off."""

    status: str
    category: str
    title: str
    delegate: str | None
    items: list[dict]
    boundary: str = ""
    triggers: str = ""
    expected: str | None = None  # None: the category's tagged hours in the audit (like from_audit)
    handoff: tuple[int, int] | None = None  # (week, weekday)
    review_days: int | None = None  # after the handoff
    amount: str | None = None
    hours: str | None = None
    extra: dict = field(default_factory=dict)


PLANS = [
    _Plan(
        DelegationStatus.HANDED_OFF,
        "escalations",
        "Escalation triage goes to the service manager",
        "Morgan Lee",
        _items(
            "Escalation map printed at every desk and pinned in the PSA",
            "Morgan runs the 11:00 escalation huddle without the owner",
            "Owner pinged only for owner-only criteria, two weeks in a row",
            "Weekly review of every escalation that reached the owner",
            done=3,
        ),
        boundary="Morgan decides L2 escalations alone: vendor tickets, after-hours callouts, on-site visits.",
        triggers="Security incident, a client threatening to leave, spend above the L2 limit.",
        expected="5.00",
        handoff=(6, WED),
        review_days=49,  # still ahead
        amount="500.00",
        hours="4.00",
    ),
    _Plan(
        DelegationStatus.HANDED_OFF,
        "tickets",
        "Password resets and MFA re-enrolment to the help desk",
        "Tier One Help Desk",
        _items(
            "Identity check script agreed (callback to the number on file)",
            "MFA re-enrolment runbook followed on three tickets",
            "Help desk has the self-service reset link for every client",
            done=2,
        ),
        boundary="Resets and re-enrolments for any user after the identity check; no admin accounts.",
        triggers="An admin or executive account, a user locked out twice in a day, any sign of phishing.",
        expected="2.00",
        handoff=(7, TUE),
        review_days=21,  # passed: the board marks the review overdue
        hours="0.50",
    ),
    _Plan(
        DelegationStatus.DONE,
        "onboarding",
        "New-user onboarding checklist run by Dana",
        "Dana Ortiz",
        _items(
            "Onboarding runbook covers accounts, licences, laptop and MFA",
            "Dana onboarded two clients' new hires without asking",
            "Client sign-off email template in the PSA",
            done=3,
        ),
        boundary="Dana orders standard laptops up to the L1 limit and assigns licences from stock.",
        triggers="A licence we do not have in stock, a user needing admin rights.",
        expected="2.50",
        handoff=(4, TUE),
        review_days=28,
        amount="150.00",
    ),
    _Plan(
        DelegationStatus.REVERTED,
        "approvals",
        "Patch-window and firewall-change approvals to L2",
        "Luis Moreno",
        _items("Change calendar shared with clients", "Luis approves patch windows alone", done=1),
        boundary="Luis approved patch windows and firewall rule changes under the L2 limit.",
        triggers="Any change on a client's perimeter firewall.",
        expected="2.50",
        handoff=(4, THU),
        review_days=14,
        hours="2.00",
        extra={
            "decision_boundary": "Back with the owner: a firewall rule approved without a rollback plan cut "
            "Cedar Credit Union's VPN for an afternoon. Retry once the change runbook has a rollback step."
        },
    ),
    _Plan(
        DelegationStatus.PLANNED,
        "backlog",
        "Backlog clearing by the NOC overnight",
        "NightShift NOC",
        _items(
            "NOC has read access to the PSA queues",
            "Backlog under 20 tickets older than SLA",
            "Weekly backlog report in the Level-10 review",
        ),
        boundary="The NOC closes P3/P4 tickets with a documented fix; nothing that needs a client call.",
        triggers="A ticket older than 10 days, any P1 or P2.",
        expected="2.00",
        review_days=None,
    ),
    _Plan(
        DelegationStatus.CANDIDATE,
        "vendor-calls",
        "Vendor and distributor calls",
        None,
        [],
    ),
    _Plan(
        DelegationStatus.CANDIDATE,
        "billing-admin",
        "Invoicing and agreement reconciliation",
        "Renee Park (office manager)",
        _items("Renee has read access to the PSA agreements"),
    ),
]


# --- runbooks -----------------------------------------------------------------------------


@dataclass
class _Runbook:
    category: str
    level: str
    written: tuple[int, int, str]  # (week, weekday, username)
    text: dict[str, str]
    # (week, weekday, username, field -> a line added, or for escalation_level the new level)
    updates: list[tuple[int, int, str, dict[str, str]]]
    stale: bool = False  # last reviewed more than 90 days ago (imported from the old wiki)


RUNBOOKS = [
    _Runbook(
        "VPN",
        EscalationLevel.L1,
        (1, TUE, "founder"),
        {
            "title": "VPN auth failure",
            "first_checks": "In the RMM: VPN service running on the firewall, tunnel up, auth failures in "
            "the last hour. Ask the user for the exact error and whether the office Wi-Fi works.",
            "decision_points": "Certificate expired: renew it. Account locked: unlock after the identity "
            "check. Many users at one client: check the firewall, not the laptops.",
            "standard_fix": "Reset the user's VPN profile, re-import the certificate, reconnect twice.",
            "edge_cases": "Domain controller unreachable from the firewall: escalate to L2.",
            "sign_off_rules": "The user connects twice in a row; the ticket says which cause it was.",
            "client_message_template": "Hi {first_name}, your VPN works again. The cause was {cause}; "
            "nothing else needs doing on your side.",
        },
        [
            (
                4,
                WED,
                "manager",
                {
                    "edge_cases": "After a firewall firmware update: re-apply the SSL VPN "
                    "portal settings before touching any laptop (Harbor Logistics, week of the update)."
                },
            ),
            (
                9,
                MON,
                "tech",
                {
                    "decision_points": "MFA push not arriving: re-sync the authenticator first, "
                    "it is not a VPN fault."
                },
            ),
        ],
    ),
    _Runbook(
        "Backup",
        EscalationLevel.L2,
        (2, MON, "founder"),
        {
            "title": "Backup job missing or failed",
            "first_checks": "Backup console: last successful job, job log, free space on the repository. "
            "RMM: is the agent online?",
            "decision_points": "Agent offline: restart it. Repository full: prune by the retention policy. "
            "Two nights missed: open a P2.",
            "standard_fix": "Re-run the job by hand and watch the first 10 minutes; test-restore one file.",
            "edge_cases": "Only the cloud copy fails: check the vendor status page before opening a ticket.",
            "sign_off_rules": "A successful job and a test restore, both noted in the ticket.",
            "client_message_template": "Hi {first_name}, last night's backup did not finish; we re-ran it "
            "and tested a restore. Your data is protected.",
        },
        [
            (
                7,
                TUE,
                "manager",
                {
                    "decision_points": "'Completed with warnings' is a failure when a volume "
                    "was skipped: treat it as missed (learned in the offline drill)."
                },
            ),
            (
                10,
                THU,
                "tech",
                {"standard_fix": "For Hyper-V hosts, check the VSS writers before re-running."},
            ),
        ],
    ),
    _Runbook(
        "Patching",
        EscalationLevel.L1,
        (2, WED, "manager"),
        {
            "title": "Patch stuck on workstations",
            "first_checks": "RMM patch report: which KB, how many devices, last reboot time.",
            "decision_points": "One device: repair Windows Update. Many devices, same KB: pause the KB for "
            "the client and tell the service manager.",
            "standard_fix": "Clear the update cache, reboot, re-run the patch job from the RMM.",
            "edge_cases": "The practice app breaks after the patch: roll back on one device, then ask L2.",
            "sign_off_rules": "Device compliant in the RMM report the next morning.",
            "client_message_template": "Hi {first_name}, one update needed a nudge; your computer is up to "
            "date again. A restart tonight finishes it.",
        },
        [(8, TUE, "tech", {"edge_cases": "Feature updates: never during a client's month-end close."})],
    ),
    _Runbook(
        "MFA",
        EscalationLevel.L1,
        (3, TUE, "founder"),
        {
            "title": "MFA issues",
            "first_checks": "Identity check by callback to the number on file. Sign-in logs: blocked, "
            "denied or never prompted?",
            "decision_points": "New phone: re-enrol. Repeated denied prompts the user did not start: treat "
            "as a compromise, go to the security steps.",
            "standard_fix": "Require re-registration, walk the user through the authenticator app.",
            "edge_cases": "Executive travelling without their phone: temporary access pass for 8 hours.",
            "sign_off_rules": "The user signs in with MFA while on the call.",
            "client_message_template": "Hi {first_name}, your sign-in works on your new phone. If you get a "
            "prompt you did not start, call us right away.",
        },
        [(7, THU, "manager", {"sign_off_rules": "Note the identity check method in the ticket."})],
    ),
    _Runbook(
        "Email quarantine",
        EscalationLevel.L1,
        (4, MON, "manager"),
        {
            "title": "Email stuck in quarantine",
            "first_checks": "Quarantine portal: sender, reason, how many messages. Was it a known sender?",
            "decision_points": "Known sender, spam score only: release and allow-list. Malware or spoofing: "
            "never release, tell the client why.",
            "standard_fix": "Release the message, add the sender to the client's allow list.",
            "edge_cases": "Invoices from a new supplier: confirm by phone with the client first.",
            "sign_off_rules": "The user confirms the message arrived.",
            "client_message_template": "Hi {first_name}, the message from {sender} was held by the spam "
            "filter; it is in your inbox now and will not be held again.",
        },
        [(9, WED, "tech", {"edge_cases": "Payment-change requests: never release, call the client."})],
    ),
    _Runbook(
        "Printers",
        EscalationLevel.L1,
        (0, THU, "manager"),
        {
            "title": "Printer not printing or not mapped",
            "first_checks": "Printer online in the RMM? Queue stuck? Which users?",
            "decision_points": "One user: re-map. Everyone: restart the spooler on the print server.",
            "standard_fix": "Clear the queue, restart the spooler, re-map with the GPO.",
            "edge_cases": "Copier under a lease: the leasing company fixes hardware faults.",
            "sign_off_rules": "A test page prints.",
            "client_message_template": "Hi {first_name}, the printer works again; it was {cause}.",
        },
        [(3, FRI, "tech", {"standard_fix": "Driver packages: use the universal driver from the share."})],
        stale=True,
    ),
    _Runbook(
        "Onboarding",
        EscalationLevel.L1,
        (5, MON, "founder"),
        {
            "title": "New user onboarding",
            "first_checks": "Signed request from the client's contact; start date; role; licences in stock.",
            "decision_points": "Licence out of stock: order within the L1 limit. Admin rights: L2 decides.",
            "standard_fix": "Accounts, licence, MFA, laptop from the standard image, shared drives by role.",
            "edge_cases": "Start date tomorrow: do accounts today, laptop loaner until the image is done.",
            "sign_off_rules": "The new user signs in on day one with MFA; the manager gets the welcome note.",
            "client_message_template": "Hi {first_name}, {new_user} is set up for {start_date}: accounts, "
            "laptop and MFA. Their first sign-in takes five minutes with us on the phone.",
        },
        [(8, WED, "manager", {"first_checks": "Ask for the user's mobile number for MFA in the request."})],
    ),
    _Runbook(
        "Offboarding",
        EscalationLevel.L2,
        (5, THU, "manager"),
        {
            "title": "User offboarding",
            "first_checks": "Signed request from the client's contact; last day; mailbox and files to whom?",
            "decision_points": "Hostile departure: disable at once, tell the owner. Otherwise at end of day.",
            "standard_fix": "Disable sign-in, revoke sessions and MFA, convert the mailbox, free the seat.",
            "edge_cases": "Shared passwords the user knew: list them for the client to rotate.",
            "sign_off_rules": "The checklist is attached to the ticket; the licence shows as free.",
            "client_message_template": "Hi {first_name}, {user}'s access ended at {time}. Their mailbox now "
            "goes to {delegate}.",
        },
        [
            (
                10,
                TUE,
                "tech",
                {"standard_fix": "Wipe or collect the laptop; note the asset tag in the ticket."},
            )
        ],
    ),
    _Runbook(
        "Line-of-business app",
        EscalationLevel.L2,
        (7, MON, "founder"),
        {
            "title": "Practice management app down or slow",
            "first_checks": "Is it one workstation or the whole office? App server services, database size.",
            "decision_points": "Vendor outage on their status page: tell the client, do not troubleshoot.",
            "standard_fix": "Restart the app services in order (database, then app), clear the client cache.",
            "edge_cases": "Vendor support needs a remote session: the L2 tech stays on the call.",
            "sign_off_rules": "Two users confirm the app works; the vendor ticket number is in our ticket.",
            "client_message_template": "Hi {first_name}, the practice software is back (cause: {cause}).",
        },
        [(11, WED, "manager", {"escalation_level": EscalationLevel.L1})],
    ),
    _Runbook(
        "Wi-Fi",
        EscalationLevel.L1,
        (6, TUE, "manager"),
        {
            "title": "Wi-Fi drops in the office",
            "first_checks": "Controller: access points online, channel load, firmware. One room or all?",
            "decision_points": "One access point offline: power-cycle it through the switch. All: ISP first.",
            "standard_fix": "Move the busy access point to a clear channel; update firmware after hours.",
            "edge_cases": "Guest network only: check the captive portal certificate.",
            "sign_off_rules": "No drops in the controller log for a working day.",
            "client_message_template": "Hi {first_name}, the Wi-Fi dropped because of {cause}; it is fixed.",
        },
        [
            (
                9,
                THU,
                "tech",
                {"decision_points": "Drops at 12:00 every day: the microwave channel, move to 5 GHz."},
            ),
            (11, MON, "manager", {"sign_off_rules": "Ask the front desk the next day, not only the log."}),
        ],
    ),
]

# Ticket categories that interrupt the owner without a runbook yet: the "write this one next" gaps.
GAPS = {"Firewall change": 0.7, "Server slow": 0.5, "M365 licensing": 0.4}
# Interruptions a week in a category before its runbook exists (after it: a sixth).
RATES = {
    "VPN": 1.6,
    "Backup": 1.3,
    "Patching": 1.0,
    "MFA": 1.0,
    "Email quarantine": 0.9,
    "Printers": 0.6,
    "Onboarding": 0.7,
    "Offboarding": 0.4,
    "Line-of-business app": 0.8,
    "Wi-Fi": 0.7,
}
OTHER_RATE = 0.5  # not about a ticket (a quote, a supplier question): no ticket category
AFTER_RUNBOOK = 1 / 6

ASKERS = [
    ("Dana (L1 tech)", "tech"),
    ("Luis (L2 tech)", "manager"),
    ("Priya (help desk)", "founder"),
    ("Morgan (service manager)", "manager"),
    ("Office manager, {client}", "founder"),
    ("Practice owner, {client}", "founder"),
]
CHANNELS = [Channel.CALL, Channel.TEXT, Channel.CHAT, Channel.EMAIL, Channel.IN_PERSON, Channel.ESCALATION]
CHANNEL_WEIGHTS = [4, 4, 3, 2, 2, 1]
NOTES = {
    "VPN": "Remote staff could not connect after the firewall update.",
    "Backup": "Asked whether a 'completed with warnings' job counts as a failure.",
    "Patching": "Feature update stuck at 61 % on three front-desk PCs.",
    "MFA": "New phone, no access to the authenticator.",
    "Email quarantine": "Supplier invoice held; client asked for it before the payment run.",
    "Firewall change": "Vendor needs a port opened for remote support.",
    "Server slow": "'Everything is slow' since this morning.",
    "M365 licensing": "Client wants two more E3 licences today.",
}

# The founder's weekly plan: weekday (1 = Monday), start, end, kind.
BLOCKS = [
    *[(day, time(11), time(12), BlockKind.OWNER_ESCALATIONS) for day in range(1, 6)],
    *[(day, time(16), time(16, 30), BlockKind.OWNER_ESCALATIONS) for day in range(1, 6)],
    (1, time(8), time(10, 30), BlockKind.SALES_RETENTION),
    (3, time(8), time(10, 30), BlockKind.SALES_RETENTION),
    (2, time(13), time(15, 30), BlockKind.SERVICE_DELIVERY),
    (4, time(13), time(15, 30), BlockKind.SERVICE_DELIVERY),
    (5, time(9), time(10, 30), BlockKind.TEAM),
    (5, time(13), time(14, 30), BlockKind.OTHER),  # vendor planning
]

DRILL_WEEK = 6  # Friday 09:00 of week 6 to Monday 09:00


@dataclass
class _Context:
    org: Organization
    tz: object
    first_monday: date
    now: datetime
    users: dict
    rng: random.Random

    def moment(self, week: int, weekday: int, at: time) -> datetime:
        return weeks.local_moment(self.first_monday + timedelta(weeks=week, days=weekday), at, self.tz)


def seed_delegation(org: Organization) -> str | None:
    """Delegates, delegations, runbooks with revisions, the escalation map, the founder's time
    blocks, 12 weeks of owner interruptions and a completed drill. Returns a one-line summary."""
    users = demo_members(org, founder_stands_in=True)
    if users is None:
        return None
    now = timezone.now()
    first_monday = audit_monday(org, weeks.today(org.tz, now)) - timedelta(weeks=HISTORY_WEEKS - 1)
    ctx = _Context(org, org.tz, first_monday, now, users, random.Random(f"{SEED}:delegation"))

    delegates = _seed_delegates(ctx)
    delegations = _seed_delegations(ctx, delegates)
    runbooks, revisions = _seed_runbooks(ctx)
    _seed_escalation_map(ctx)
    blocks = save_time_blocks(
        org=org,
        blocks=[
            TimeBlock(user=users["founder"], kind=kind, weekday=day, start_time=start, end_time=end)
            for day, start, end, kind in BLOCKS
        ],
    )
    drill = _seed_drill(ctx)
    interruptions = _seed_interruptions(ctx, runbooks, drill)
    complete_drill(drill=drill, now=weeks.plus(drill.ends_at, timedelta(hours=26)))

    statuses = [d.status for d in delegations]
    by_status = ", ".join(
        f"{statuses.count(status)} {label.lower()}" for status, label in DelegationStatus.choices
    )
    outside = with_flags(Interruption.objects.for_org(org), org).filter(flag_out_of_window=True).count()
    return (
        f"Delegation: {len(delegates)} delegates, {len(delegations)} delegations ({by_status}), "
        f"{len(runbooks)} runbooks with {revisions} earlier revisions, {len(blocks)} time blocks, "
        f"{len(interruptions)} interruptions since {first_monday} ({outside} out of window), "
        f"offline drill of {weeks.local_date(drill.starts_at, ctx.tz)} completed."
    )


def _seed_delegates(ctx: _Context) -> dict[str, Delegate]:
    saved = save_delegates(
        org=ctx.org,
        delegates=[
            Delegate(name=name, kind=kind, email=email, hourly_cost=Decimal(cost) if cost else None)
            for name, kind, email, cost in DELEGATES
        ],
    )
    return {s.obj.name: s.obj for s in saved}


def _audit_hours(ctx: _Context) -> dict[str, Decimal]:
    """Tagged hours per category in the founder's audit (what ``from_audit`` carries over)."""
    audit = (
        TimeAudit.objects.for_org(ctx.org).filter(user=ctx.users["founder"]).order_by("-start_date").first()
    )
    if audit is None:
        return {}
    report = audit_report(audit)
    return {candidate.category: candidate.hours for candidate in report.candidates}


def _seed_delegations(ctx: _Context, delegates: dict[str, Delegate]) -> list[Delegation]:
    categories = {c.slug: c for c in Category.objects.for_org(ctx.org)}
    tagged = _audit_hours(ctx)
    items, finals = [], []
    for plan in PLANS:
        handoff = None
        if plan.handoff is not None:
            week, weekday = plan.handoff
            handoff = ctx.first_monday + timedelta(weeks=week, days=weekday)
        review = handoff + timedelta(days=plan.review_days) if handoff and plan.review_days else None
        if plan.status == DelegationStatus.PLANNED:
            review = weeks.today(ctx.tz, ctx.now) + timedelta(days=10)
        expected = Decimal(plan.expected) if plan.expected else tagged.get(plan.category, Decimal("1.00"))
        # Done and reverted ones were handed off first, then moved (the service's rules apply).
        first_status = (
            plan.status
            if plan.status
            in (
                DelegationStatus.CANDIDATE,
                DelegationStatus.PLANNED,
                DelegationStatus.HANDED_OFF,
            )
            else DelegationStatus.HANDED_OFF
        )
        items.append(
            Delegation(
                title=plan.title,
                category=categories[plan.category],
                delegate=delegates[plan.delegate] if plan.delegate else None,
                status=first_status,
                definition_of_done=plan.items,
                decision_boundary=plan.boundary,
                approval_limit_amount=Decimal(plan.amount) if plan.amount else None,
                approval_limit_hours=Decimal(plan.hours) if plan.hours else None,
                escalation_triggers=plan.triggers,
                expected_hours_per_week=expected,
                handoff_date=handoff,
                review_date=review,
            )
        )
        finals.append(plan)
    saved = [s.obj for s in save_delegations(org=ctx.org, delegations=items)]
    moved = []
    for delegation, plan in zip(saved, finals, strict=True):
        if delegation.status != plan.status:
            delegation.status = plan.status
            for name, value in plan.extra.items():
                setattr(delegation, name, value)
            moved.append(delegation)
    if moved:
        save_delegations(org=ctx.org, delegations=moved)
    return saved


def _seed_runbooks(ctx: _Context) -> tuple[dict[str, Runbook], int]:
    """Each runbook written, then updated after incidents, in date order through save_runbooks;
    each version's time is then moved back to its day (the next revision keeps that time)."""
    versions = []  # (moment, username, runbook spec, changes or None for the first version)
    for spec in RUNBOOKS:
        week, weekday, author = spec.written
        versions.append((ctx.moment(week, weekday, time(14, 30)), author, spec, None))
        for week, weekday, author, changes in spec.updates:
            versions.append((ctx.moment(week, weekday, time(15, 10)), author, spec, changes))
    versions.sort(key=lambda version: weeks.as_utc(version[0]))
    stored: dict[str, Runbook] = {}
    revisions = 0
    for moment, author, spec, changes in versions:
        reviewed = weeks.local_date(moment, ctx.tz)
        if spec.stale:
            reviewed = ctx.first_monday - timedelta(days=40)
        if changes is None:
            runbook = Runbook(ticket_category=spec.category, escalation_level=spec.level, **spec.text)
        else:
            runbook = stored[spec.category]  # as last saved (the service reads the stored row itself)
            for name, line in changes.items():
                if name == "escalation_level":
                    runbook.escalation_level = line
                else:
                    runbook_text = getattr(runbook, name)
                    setattr(runbook, name, f"{runbook_text}\n{line}" if runbook_text else line)
            revisions += 1
        runbook.last_reviewed = reviewed
        [saved] = save_runbooks(org=ctx.org, runbooks=[runbook], user=ctx.users[author])
        Runbook.objects.filter(pk=saved.obj.pk).update(updated_at=moment)
        saved.obj.updated_at = moment
        stored[spec.category] = saved.obj
    return stored, revisions


def _seed_escalation_map(ctx: _Context) -> None:
    update_escalation_map(
        org=ctx.org,
        levels={
            EscalationLevel.L1: {
                "criteria": "One user or one device, a runbook exists: password resets, MFA re-enrolment, "
                "printers, email quarantine, stuck patches. Follow the runbook; if it does not fix it in "
                "30 minutes, go to L2.",
                "approval_limit_amount": Decimal("150.00"),
                "approval_limit_hours": Decimal("1.00"),
            },
            EscalationLevel.L2: {
                "criteria": "Several users or a whole site, servers, backups, the network, the "
                "line-of-business app, anything without a runbook. The service manager decides; vendor "
                "tickets and after-hours callouts need no owner.",
                "approval_limit_amount": Decimal("500.00"),
                "approval_limit_hours": Decimal("4.00"),
            },
            EscalationLevel.OWNER_ONLY: {
                "criteria": "Security incidents, a client threatening to leave, contract or pricing "
                "exceptions, spend above the L2 limit, anything that needs the owner's signature.",
                "approval_limit_amount": None,
                "approval_limit_hours": None,
            },
        },
    )


def _seed_drill(ctx: _Context) -> Drill:
    [saved] = save_drills(
        org=ctx.org,
        drills=[
            Drill(
                starts_at=ctx.moment(DRILL_WEEK, FRI, time(9)),
                notes="First owner offline drill: the owner answers only true emergencies, from Friday "
                "9:00 to Monday 9:00. Pings go to Morgan; every ping reviewed on Tuesday.",
            )
        ],
    )
    return saved.obj


def _drill_pings(ctx: _Context, runbooks: dict[str, Runbook]) -> list[Interruption]:
    """The pings of the drill, each followed up in the review (the drill is complete)."""
    manager, tech = ctx.users["manager"], ctx.users["tech"]
    week = DRILL_WEEK

    def ping(n, weekday, at, channel, category, client, asked, logged_by, notes, **review):
        return Interruption(
            external_id=f"demo-drill-{n}",
            occurred_at=ctx.moment(week, weekday, at),
            channel=channel,
            ticket_ref=f"T-{6100 + n * 7}",
            client=client,
            category=category,
            requested_by=asked,
            logged_by=logged_by,
            notes=notes,
            **review,
        )

    return [
        ping(
            1,
            FRI,
            time(10, 20),
            Channel.TEXT,
            "Backup",
            "Harbor Logistics",
            "Luis (L2 tech)",
            manager,
            "Backup 'completed with warnings': a volume was skipped. Asked if it can wait till Monday.",
            follow_up=FollowUp.RUNBOOK_UPDATED,
            runbook=runbooks["Backup"],
        ),
        ping(
            2,
            FRI,
            time(15, 45),
            Channel.CALL,
            "Firewall change",
            "Cedar Credit Union",
            "Morgan (service manager)",
            manager,
            "Vendor needs a port opened for remote support before the weekend.",
            follow_up=FollowUp.RULE_TIGHTENED,
            owner_level=False,
        ),
        ping(
            3,
            SAT,
            time(11, 5),
            Channel.ESCALATION,
            "",
            "Oakwood Law",
            "Dana (L1 tech)",
            tech,
            "Ransomware alert on the file server; isolated it, owner called in.",
            owner_level=True,
        ),
        ping(
            4,
            7 + MON,
            time(8, 10),
            Channel.CHAT,
            "VPN",
            "Summit Realty",
            "Dana (L1 tech)",
            tech,
            "Agent could not connect on Monday morning; certificate renewed per the runbook.",
            follow_up=FollowUp.RUNBOOK_UPDATED,
            runbook=runbooks["VPN"],
        ),
    ]


def _seed_interruptions(ctx: _Context, runbooks: dict[str, Runbook], drill: Drill) -> list[Interruption]:
    rng = ctx.rng
    written = {
        spec.category: weeks.as_utc(ctx.moment(spec.written[0], spec.written[1], time(14, 30)))
        for spec in RUNBOOKS
    }
    in_window = [
        (day - 1, start, end) for day, start, end, kind in BLOCKS if kind == BlockKind.OWNER_ESCALATIONS
    ]
    drill_start, drill_end = weeks.as_utc(drill.starts_at), weeks.as_utc(drill.ends_at)
    rates = {**RATES, **GAPS, "": OTHER_RATE}
    items: list[Interruption] = []
    last_before_runbook: dict[str, Interruption] = {}
    for week in range(HISTORY_WEEKS + 1):
        share_in_window = min(0.75, 0.15 + 0.055 * week)  # the team learns to hold pings for the window
        for category, rate in rates.items():
            if category in written and weeks.as_utc(ctx.moment(week, MON, time(0))) >= written[category]:
                rate *= AFTER_RUNBOOK
            count = int(rate) + (1 if rng.random() < rate % 1 else 0)
            for _ in range(count):
                moment = _when(ctx, rng, week, in_window, rng.random() < share_in_window)
                utc = weeks.as_utc(moment)
                if utc >= weeks.as_utc(ctx.now) or drill_start <= utc < drill_end:
                    continue  # nothing in the future; the drill's pings are its own
                item = _random_ping(ctx, rng, len(items) + 1, moment, category)
                if category in written and utc < written[category]:
                    previous = last_before_runbook.get(category)
                    if previous is None or weeks.as_utc(previous.occurred_at) < utc:
                        last_before_runbook[category] = item
                items.append(item)
    # The ping that got each runbook written: its follow-up links it.
    for category, item in last_before_runbook.items():
        item.follow_up, item.runbook, item.owner_level = FollowUp.RUNBOOK_UPDATED, runbooks[category], None
    items += _drill_pings(ctx, runbooks)
    items.sort(key=lambda i: weeks.as_utc(i.occurred_at))
    return [s.obj for s in save_interruptions(org=ctx.org, interruptions=items)]


def _when(ctx: _Context, rng: random.Random, week: int, in_window: list, inside: bool) -> datetime:
    """A moment of the week: inside one of the founder's escalation windows, or outside them
    (working hours, now and then an evening or the weekend)."""
    if inside:
        weekday, start, end = rng.choice(in_window)
        minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        offset = rng.randrange(0, minutes, 5)
        at = time(start.hour + (start.minute + offset) // 60, (start.minute + offset) % 60)
        return ctx.moment(week, weekday, at)
    windows = {(weekday, start, end) for weekday, start, end in in_window}
    while True:
        weekday = rng.choices(range(7), [5, 5, 5, 5, 5, 1, 1])[0]
        at = time(rng.randint(7, 19), rng.randrange(0, 60, 5))
        if not any(w == weekday and start <= at < end for w, start, end in windows):
            return ctx.moment(week, weekday, at)


def _random_ping(ctx: _Context, rng: random.Random, n: int, moment: datetime, category: str) -> Interruption:
    asked, logger = rng.choice(ASKERS)
    client = rng.choice(CLIENTS)
    about_ticket = bool(category)
    age = weeks.elapsed(moment, ctx.now)
    follow_up, owner_level = FollowUp.NONE, None
    if age > timedelta(weeks=2):  # reviewed in a past Level-10 meeting
        roll = rng.random()
        if roll < 0.3:
            follow_up = FollowUp.RULE_TIGHTENED
        elif roll < 0.45:
            owner_level = True
        elif roll < 0.6:
            owner_level = False
    return Interruption(
        external_id=f"demo-int-{n}",
        occurred_at=moment,
        channel=rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0],
        about_ticket=about_ticket,
        ticket_ref=f"T-{4000 + rng.randint(0, 1999)}" if about_ticket else "",
        client=client,
        category=category,
        requested_by=asked.format(client=client),
        follow_up=follow_up,
        owner_level=owner_level,
        notes=NOTES.get(category, "") if rng.random() < 0.4 else "",
        logged_by=ctx.users[logger],
    )
