"""seed_demo's delegation data: delegates of every kind, delegations in every status (two handed
off long enough ago to show hours freed), ten runbooks with revisions and the gaps still to write,
the escalation map, the founder's week plan, 12 weeks of falling interruptions, and a completed
drill more than a month ago (the next one overdue)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from audits.models import TimeAudit, TimeEntry
from delegation import demo
from delegation.demo import seed_delegation
from delegation.models import (
    BlockKind,
    Delegate,
    DelegateKind,
    Delegation,
    DelegationStatus,
    Drill,
    EscalationStep,
    FollowUp,
    Interruption,
    Runbook,
    RunbookRevision,
    TimeBlock,
)
from delegation.selectors import drill_review, drill_schedule, flags_at, hours_freed, runbook_list
from msp_ops.lib import weeks
from msp_ops.orgs.demo.seed import seed_demo
from msp_ops.orgs.services import add_member, create_organization

# A Wednesday; the Chicago DST change of 2026-11-01 lies inside the history (as in tests/audits).
NOW = "2026-11-25T15:00:00-06:00"
FIRST_MONDAY = date(2026, 8, 31)  # week 0 of the history; week 11 (11-16) is the audit week
CATEGORIES = {
    "VPN",
    "Patching",
    "Backup",
    "MFA",
    "Email quarantine",
    "Printers",
    "Onboarding",
    "Offboarding",
    "Line-of-business app",
    "Wi-Fi",
}


@pytest.fixture
def demo_org(db):
    with time_machine.travel(NOW, tick=False):
        result = seed_demo()
    result.org.notes = result.notes
    return result.org


def monday_of(moment: datetime, org) -> date:
    return weeks.monday_of(weeks.local_date(moment, org.tz))


def test_the_summary_is_one_line(demo_org):
    [note] = [note for note in demo_org.notes if note.startswith("Delegation:")]
    assert "\n" not in note
    assert note.startswith(
        "Delegation: 7 delegates, 7 delegations (2 candidate, 1 planned, 2 handed off, 1 done, 1 reverted), "
        "10 runbooks with 13 earlier revisions, 16 time blocks, "
    )
    assert note.endswith("offline drill of 2026-10-16 completed.")
    count = Interruption.objects.for_org(demo_org).count()
    assert f"{count} interruptions since 2026-08-31" in note


def test_delegates_of_every_kind(demo_org):
    kinds = set(Delegate.objects.for_org(demo_org).values_list("kind", flat=True))
    assert kinds == set(DelegateKind.values)


def test_delegations_in_every_status(demo_org):
    statuses = Counter(Delegation.objects.for_org(demo_org).values_list("status", flat=True))
    assert statuses == {
        DelegationStatus.CANDIDATE: 2,
        DelegationStatus.PLANNED: 1,
        DelegationStatus.HANDED_OFF: 2,
        DelegationStatus.DONE: 1,
        DelegationStatus.REVERTED: 1,
    }
    for delegation in Delegation.objects.for_org(demo_org).exclude(status=DelegationStatus.CANDIDATE):
        assert delegation.delegate is not None, delegation
        assert delegation.definition_of_done, delegation
    done = Delegation.objects.for_org(demo_org).get(status=DelegationStatus.DONE)
    assert done.checklist_done == len(done.definition_of_done)


def test_both_handed_off_delegations_show_hours_freed(demo_org):
    handed_off = list(
        Delegation.objects.for_org(demo_org)
        .filter(status=DelegationStatus.HANDED_OFF)
        .select_related("category", "organization")
        .order_by("handoff_date")
    )
    with time_machine.travel(NOW, tick=False):
        figures = hours_freed(handed_off)

    assert [(d.category.slug, d.handoff_date) for d in handed_off] == [
        ("escalations", date(2026, 10, 14)),  # week 6
        ("tickets", date(2026, 10, 20)),  # week 7
    ]
    # Four ended weeks after each handoff week; the founder's personal hours in the category
    # fell as audits.demo handed more of them off (about 4.3 h and 1.9 h a week).
    assert all(figures[d.pk] is not None and figures[d.pk] >= Decimal("1.00") for d in handed_off), figures


def test_the_board_has_an_overdue_review_and_one_ahead(demo_org):
    today = date(2026, 11, 25)
    reviews = dict(
        Delegation.objects.for_org(demo_org)
        .filter(status=DelegationStatus.HANDED_OFF)
        .values_list("category__slug", "review_date")
    )
    assert reviews["tickets"] < today < reviews["escalations"]


def test_ten_runbooks_each_with_revisions_written_over_the_weeks(demo_org):
    runbooks = list(Runbook.objects.for_org(demo_org))
    assert {r.ticket_category for r in runbooks} == CATEGORIES
    for runbook in runbooks:
        revisions = list(runbook.revisions.all())
        assert runbook.revision == len(revisions) + 1 >= 2, runbook
        times = [r.changed_at for r in reversed(revisions)] + [runbook.updated_at]
        assert times == sorted(times), runbook
        assert len(set(times)) == len(times), runbook  # each version on a day of its own
        assert all(r.changed_by is not None for r in revisions)
        assert FIRST_MONDAY <= weeks.local_date(times[0], demo_org.tz) < date(2026, 11, 23)
        assert all(
            getattr(runbook, name) for name in ["first_checks", "standard_fix", "client_message_template"]
        )
    assert RunbookRevision.objects.filter(runbook__organization=demo_org).count() == 13
    authors = {r.changed_by.username for r in RunbookRevision.objects.filter(runbook__organization=demo_org)}
    assert authors | {r.updated_by.username for r in runbooks} == {"founder", "manager", "tech"}


def test_the_runbook_list_shows_the_gaps_first_and_a_stale_runbook(demo_org):
    with time_machine.travel(NOW, tick=False):
        rows = runbook_list(demo_org)

    gaps = [row.ticket_category for row in rows if row.runbook is None]
    assert set(gaps) == set(demo.GAPS)
    assert [row.runbook for row in rows[: len(gaps)]] == [None] * len(gaps)  # on top
    assert [row.ticket_category for row in rows if row.stale] == ["Printers"]


def test_the_escalation_map_has_criteria_and_limits(demo_org):
    steps = {s.level: s for s in EscalationStep.objects.for_org(demo_org)}
    assert (steps["L1"].approval_limit_amount, steps["L1"].approval_limit_hours) == (
        Decimal("150"),
        Decimal("1"),
    )
    assert (steps["L2"].approval_limit_amount, steps["L2"].approval_limit_hours) == (
        Decimal("500"),
        Decimal("4"),
    )
    assert steps["owner_only"].approval_limit_amount is None
    assert "Security incidents" in steps["owner_only"].criteria


def test_the_founders_week_plan_has_escalation_windows(demo_org):
    blocks = TimeBlock.objects.for_org(demo_org)
    assert set(blocks.values_list("user__username", flat=True)) == {"founder"}
    kinds = Counter(blocks.values_list("kind", flat=True))
    assert kinds[BlockKind.OWNER_ESCALATIONS] == 10  # 11:00-12:00 and 16:00-16:30, Monday to Friday
    assert set(kinds) == set(BlockKind.values)


def test_interruptions_fall_over_twelve_weeks_some_out_of_window(demo_org):
    interruptions = list(Interruption.objects.for_org(demo_org))
    per_week = Counter(monday_of(i.occurred_at, demo_org) for i in interruptions)
    mondays = [FIRST_MONDAY + timedelta(weeks=k) for k in range(12)]
    first_four, last_four = sum(per_week[m] for m in mondays[:4]), sum(per_week[m] for m in mondays[-4:])
    assert first_four >= 2 * last_four > 0
    assert set(per_week) <= {*mondays, date(2026, 11, 23)}  # 12 weeks and this one, up to now
    assert max(i.occurred_at for i in interruptions) < datetime.fromisoformat(NOW)
    outside = [i for i in interruptions if flags_at(demo_org, i.occurred_at).out_of_window]
    assert 0 < len(outside) < len(interruptions)

    # Fewer and fewer land outside the windows: the team holds them for the escalation window.
    def share_outside(mondays_of: list[date]) -> float:
        pings = sum(per_week[m] for m in mondays_of)
        return sum(1 for i in outside if monday_of(i.occurred_at, demo_org) in mondays_of) / pings

    assert share_outside(mondays[:4]) > share_outside(mondays[-4:])


def test_a_categorys_interruptions_fall_once_its_runbook_exists(demo_org):
    now = datetime.fromisoformat(NOW)
    start = weeks.local_midnight(FIRST_MONDAY, demo_org.tz)
    for runbook in Runbook.objects.for_org(demo_org).filter(ticket_category__in=["VPN", "Backup", "MFA"]):
        written = runbook.revisions.order_by("revision").first().changed_at
        pings = Interruption.objects.for_org(demo_org).filter(category=runbook.ticket_category)
        per_week_before = pings.filter(occurred_at__lt=written).count() / ((written - start).days / 7)
        per_week_after = pings.filter(occurred_at__gte=written).count() / ((now - written).days / 7)
        assert per_week_after < per_week_before / 2, runbook
        # The ping that got it written links it as its follow-up.
        assert pings.filter(follow_up=FollowUp.RUNBOOK_UPDATED, runbook=runbook).exists()


def test_a_completed_drill_a_month_ago_makes_the_next_one_overdue(demo_org):
    drill = Drill.objects.for_org(demo_org).get()
    assert weeks.to_local(drill.starts_at, demo_org.tz).isoformat() == "2026-10-16T09:00:00-05:00"  # a Friday
    assert drill.completed_at is not None

    schedule = drill_schedule(demo_org, today=date(2026, 11, 25))
    review = drill_review(drill)

    assert (schedule.last_completed, schedule.next_due, schedule.overdue) == (drill, date(2026, 11, 16), True)
    assert review.pending == []
    assert len(review.interruptions) == 4
    assert {i.follow_up for i in review.interruptions} == {
        FollowUp.RUNBOOK_UPDATED,
        FollowUp.RULE_TIGHTENED,
        FollowUp.NONE,
    }
    assert [i.owner_level for i in review.interruptions if i.follow_up == FollowUp.NONE] == [True]
    assert len(review.runbooks_updated) == 2
    assert review.rules_tightened == 1


def test_seed_is_deterministic(demo_org):
    def snapshot(org):
        return (
            list(
                Interruption.objects.for_org(org).values_list(
                    "external_id", "occurred_at", "channel", "category", "follow_up", "owner_level"
                )
            ),
            list(Runbook.objects.for_org(org).values_list("ticket_category", "revision", "standard_fix")),
            list(Delegation.objects.for_org(org).values_list("title", "status", "handoff_date")),
        )

    first = snapshot(demo_org)
    for model in (Interruption, Delegation, TimeEntry, TimeAudit):  # rows that protect the org's
        model.objects.all().delete()
    demo_org.delete()
    with time_machine.travel(NOW, tick=False):
        again = seed_demo().org
    assert snapshot(again) == first


def test_seed_delegation_is_quick(db, django_assert_max_num_queries):
    """Bulk where the services allow: one upsert for all interruptions, a batch per kind of row;
    the runbooks' versions are saved one by one (each keeps the one before)."""
    org = create_organization(slug="demo-2", name="Demo 2", timezone_name="America/Chicago")
    for username, role in [("founder", "founder"), ("manager", "service_manager"), ("tech", "technician")]:
        add_member(org=org, username=username, role=role)
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(200):
        assert seed_delegation(org).startswith("Delegation: 7 delegates")


def test_nothing_without_a_founder(db):
    org = create_organization(slug="empty", name="Empty MSP")
    assert seed_delegation(org) is None
    assert not Runbook.objects.for_org(org).exists()
