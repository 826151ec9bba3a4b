"""Hours freed (SPEC 1): the founder's mean weekly personal hours in the delegation's category
over the 4 whole weeks before the handoff week, minus the mean over the ended whole weeks after
it (up to 4), against a hand-worked example in America/Chicago with the 2026-03-08 DST change
inside the window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audits.models import Category, Handling, TimeEntry
from delegation.models import Delegate, Delegation, DelegationStatus
from delegation.selectors import hours_freed
from msp_ops.lib import weeks
from msp_ops.orgs.models import Role
from tests.factories import MembershipFactory

CHI = ZoneInfo("America/Chicago")
HANDOFF = date(2026, 3, 25)  # a Wednesday: the handoff week is Monday 2026-03-23 .. 03-29


def at(day: date, hour: int, minute: int = 0, tz=CHI) -> datetime:
    return weeks.local_moment(day, time(hour, minute), tz)


def entry(org, user, start: datetime, end: datetime, slug: str = "escalations", handling=Handling.PERSONAL):
    return TimeEntry(
        organization=org,
        user=user,
        started_at=start,
        ended_at=end,
        activity="Escalation: VPN auth failures after the firewall update",
        category=Category.objects.get(organization=org, slug=slug),
        handling=handling,
    )


def d(month: int, day: int) -> date:
    return date(2026, month, day)


@pytest.fixture
def history(org, founder, manager, technician, other_org):
    """The founder's escalations, hand-worked (local Chicago times; weeks named by Monday):

    Before the handoff week (the 4 weeks 02-23, 03-02, 03-09, 03-16):
      02-23: Sun 02-22 23:00 - Mon 01:00 (1 h inside) + Tue 09:00-14:00 (5 h)      = 6 h
      03-02: Wed 09:00-12:00 (3 h) + Sun 03-08 01:00 CST - 04:00 CDT (2 real hours:
             the clocks skip 2:00-3:00) + Sun 03-08 23:00 - Mon 01:00 (1 h inside)   = 6 h
      03-09: the other 1 h of that entry + Tue 09:00-13:00 (4 h)                     = 5 h
      03-16: Wed 08:00-12:30 (4.5 h) + Sun 03-22 23:30 - Mon 00:30 (0.5 h inside)    = 5 h
      mean before = (6 + 6 + 5 + 5) / 4 = 5.50 h
    The handoff week 03-23 (the other 0.5 h, Tue 09:00-17:00): not counted.
    After it (03-30, 04-06, 04-13, 04-20):
      03-30: Tue 10:00-12:00 = 2 h; 04-06: Wed 10:00-11:30 = 1.5 h;
      04-13: Thu 14:00-15:00 = 1 h; 04-20: Sun 04-26 23:30 - Mon 00:30 = 0.5 h inside
      mean after (all 4 ended) = (2 + 1.5 + 1 + 0.5) / 4 = 1.25 h
    Hours freed = 5.50 - 1.25 = 4.25 h per week.

    Not counted: the 5th week before (02-16) and the 5th after (04-27); the technician's and
    the service manager's escalations; the founder's delegated escalations and personal
    tickets; a technician here who is a founder of another organization.
    """
    rows = [
        entry(org, founder, at(d(2, 17), 9), at(d(2, 17), 18)),  # week 02-16: too early
        entry(org, founder, at(d(2, 22), 23), at(d(2, 23), 1)),
        entry(org, founder, at(d(2, 24), 9), at(d(2, 24), 14)),
        entry(org, founder, at(d(3, 4), 9), at(d(3, 4), 12)),
        entry(org, founder, at(d(3, 8), 1), at(d(3, 8), 4)),  # 01:00 CST to 04:00 CDT
        entry(org, founder, at(d(3, 8), 23), at(d(3, 9), 1)),
        entry(org, founder, at(d(3, 10), 9), at(d(3, 10), 13)),
        entry(org, founder, at(d(3, 18), 8), at(d(3, 18), 12, 30)),
        entry(org, founder, at(d(3, 22), 23, 30), at(d(3, 23), 0, 30)),
        entry(org, founder, at(d(3, 24), 9), at(d(3, 24), 17)),  # the handoff week
        entry(org, founder, at(d(3, 31), 10), at(d(3, 31), 12)),
        entry(org, founder, at(d(4, 8), 10), at(d(4, 8), 11, 30)),
        entry(org, founder, at(d(4, 16), 14), at(d(4, 16), 15)),
        entry(org, founder, at(d(4, 26), 23, 30), at(d(4, 27), 0, 30)),
        entry(org, founder, at(d(4, 28), 9), at(d(4, 28), 15)),  # week 04-27: a 5th week after
        # Not the founder's own work in the category:
        entry(org, technician, at(d(2, 24), 9), at(d(2, 24), 14)),
        entry(org, manager, at(d(3, 4), 9), at(d(3, 4), 17)),
        entry(org, founder, at(d(3, 12), 9), at(d(3, 12), 12), handling=Handling.DELEGATED),
        entry(org, founder, at(d(4, 7), 9), at(d(4, 7), 12), handling=Handling.DELEGATED),
        entry(org, founder, at(d(2, 26), 9), at(d(2, 26), 13), slug="tickets"),
        entry(org, founder, at(d(4, 9), 9), at(d(4, 9), 13), slug="tickets"),
    ]
    elsewhere = MembershipFactory(organization=org, user__username="ines", role=Role.TECHNICIAN).user
    MembershipFactory(organization=other_org, user=elsewhere, role=Role.FOUNDER)
    rows.append(entry(org, elsewhere, at(d(3, 13), 9), at(d(3, 13), 17)))
    TimeEntry.objects.bulk_create(rows)
    return org


def delegation(org, slug: str = "escalations", handoff: date | None = HANDOFF, title: str = "Escalations"):
    delegate = Delegate.objects.create(organization=org, name="Sam (service manager)", kind="service_manager")
    return Delegation.objects.create(
        organization=org,
        title=title,
        category=Category.objects.get(organization=org, slug=slug),
        delegate=delegate,
        status=DelegationStatus.HANDED_OFF,
        definition_of_done=[{"text": "Escalation map followed", "done": True}],
        handoff_date=handoff,
    )


def freed(item: Delegation, now: datetime) -> Decimal | None:
    return hours_freed([item], now=now)[item.pk]


def test_hand_worked_example_with_four_weeks_after(history):
    escalations = delegation(history)

    assert freed(escalations, datetime(2026, 5, 20, tzinfo=UTC)) == Decimal("4.25")


def test_the_fourth_week_after_counts_from_the_moment_it_ends(history):
    escalations = delegation(history)
    # Monday 2026-04-27 00:00 CDT: the week of 04-20 has just ended (4 weeks: 4.25). A moment
    # before, 3 weeks have: 5.50 - (2 + 1.5 + 1) / 3 = 5.50 - 1.50 = 4.00.
    assert freed(escalations, at(d(4, 27), 0)) == Decimal("4.25")
    assert freed(escalations, weeks.minus(at(d(4, 27), 0), timedelta(microseconds=1))) == Decimal("4.00")


def test_fewer_than_four_ended_weeks_after(history):
    escalations = delegation(history)
    # Wednesday 2026-04-15: the weeks of 03-30 and 04-06 have ended: 5.50 - (2 + 1.5) / 2 = 3.75.
    assert freed(escalations, at(d(4, 15), 12)) == Decimal("3.75")
    # Monday 2026-04-06 00:00 CDT: only 03-30 has: 5.50 - 2 = 3.50.
    assert freed(escalations, at(d(4, 6), 0)) == Decimal("3.50")


def test_no_figure_before_a_week_after_the_handoff_week_has_ended(history):
    escalations = delegation(history)
    # Sunday 2026-04-05 23:59:59 CDT: the week of 03-30 is not over yet.
    assert freed(escalations, weeks.plus(at(d(4, 5), 23), timedelta(minutes=59, seconds=59))) is None
    assert freed(escalations, at(d(3, 25), 12)) is None


def test_no_figure_without_a_handoff_date(history):
    candidate = delegation(history, handoff=None)

    assert freed(candidate, datetime(2026, 5, 20, tzinfo=UTC)) is None


def test_every_founder_counts(history, org):
    """A co-founder's escalations count too: 4 h more in the week of 03-09 makes the mean before
    (6 + 6 + 9 + 5) / 4 = 6.50, so 6.50 - 1.25 = 5.25."""
    cofounder = MembershipFactory(organization=org, user__username="cora", role=Role.FOUNDER).user
    TimeEntry.objects.bulk_create([entry(org, cofounder, at(d(3, 11), 9), at(d(3, 11), 13))])

    assert freed(delegation(history), datetime(2026, 5, 20, tzinfo=UTC)) == Decimal("5.25")


def test_hours_can_come_back(history, org, founder):
    """Negative when the founder took the work back: 20 h more in the week of 04-13 make the
    mean after (2 + 1.5 + 21 + 0.5) / 4 = 6.25, and 5.50 - 6.25 = -0.75."""
    TimeEntry.objects.bulk_create(
        [
            entry(org, founder, at(d(4, 13), 8), at(d(4, 13), 18)),
            entry(org, founder, at(d(4, 14), 8), at(d(4, 14), 18)),
        ]
    )
    assert freed(delegation(history), datetime(2026, 5, 20, tzinfo=UTC)) == Decimal("-0.75")


def test_means_round_half_up_like_every_figure(history, org, founder):
    """30 minutes more in the week of 03-30: after = (2.5 + 1.5 + 1 + 0.5) / 4 = 1.375, and
    5.50 - 1.375 = 4.125: 4.13 half up (4.12 would be half to even)."""
    TimeEntry.objects.bulk_create([entry(org, founder, at(d(4, 1), 9), at(d(4, 1), 9, 30))])

    assert freed(delegation(history), datetime(2026, 5, 20, tzinfo=UTC)) == Decimal("4.13")


def test_the_mean_is_rounded_once_not_each_week(org, founder):
    """Weeks of 1.0054, 1.0054, 1.0054 and 1.0 h before, none after: (3 * 1.0054 + 1.0) / 4 =
    1.00405, so 1.00. Each week rounded first (1.01, 1.01, 1.01, 1.00) would give 1.0075: 1.01."""
    odd = timedelta(hours=1, seconds=19, microseconds=440_000)  # 1.0054 h = 3619.44 s
    starts = [at(d(2, 24), 9), at(d(3, 3), 9), at(d(3, 10), 9), at(d(3, 17), 9)]
    lengths = [odd, odd, odd, timedelta(hours=1)]
    TimeEntry.objects.bulk_create(
        [
            entry(org, founder, start, weeks.plus(start, length))
            for start, length in zip(starts, lengths, strict=True)
        ]
    )

    assert freed(delegation(org), datetime(2026, 5, 20, tzinfo=UTC)) == Decimal("1.00")


def test_several_delegations_in_one_call(history, org):
    """Tickets, handed off the same day: before, the week of 02-23 holds 4 h, so 4 / 4 = 1.00;
    after, the week of 04-06 holds 4 h: 4 / 4 = 1.00; freed 0.00. Backlog, handed off
    2026-04-01: no hours before or after, 0.00. A candidate without a handoff date: None."""
    escalations = delegation(history, title="Escalations")
    tickets = delegation(history, "tickets", title="Password resets and MFA")
    backlog = delegation(history, "backlog", handoff=date(2026, 4, 1), title="Backlog clearing")
    candidate = delegation(history, "approvals", handoff=None, title="Patch-window approvals")

    figures = hours_freed([escalations, tickets, backlog, candidate], now=datetime(2026, 5, 20, tzinfo=UTC))

    assert figures == {
        escalations.pk: Decimal("4.25"),
        tickets.pk: Decimal("0.00"),
        backlog.pk: Decimal("0.00"),
        candidate.pk: None,
    }


@pytest.mark.parametrize("count", [1, 6])
def test_the_number_of_queries_does_not_grow_with_the_delegations(
    history, org, count, django_assert_num_queries
):
    slugs = ["escalations", "tickets", "backlog", "approvals", "onboarding", "billing-admin"]
    for slug in slugs[:count]:
        delegation(history, slug, title=slug)
    loaded = list(Delegation.objects.for_org(org))

    with django_assert_num_queries(2):  # the organization (not select_related), the one aggregate
        figures = hours_freed(loaded, now=datetime(2026, 5, 20, tzinfo=UTC))

    assert len(figures) == count
    with_org = list(Delegation.objects.for_org(org).select_related("organization"))
    with django_assert_num_queries(1):  # the organization loaded along: the aggregate only
        assert hours_freed(with_org, now=datetime(2026, 5, 20, tzinfo=UTC)) == figures


def test_delegations_of_two_organizations_in_one_call(history, org, other_org, stranger):
    """Each organization's founders and categories: the rival's founder logged 3 h of
    escalations in the week of 03-09 (UTC) and none after: 3 / 4 = 0.75 freed."""
    TimeEntry.objects.bulk_create(
        [entry(other_org, stranger, at(d(3, 10), 9, tz=UTC), at(d(3, 10), 12, tz=UTC))]
    )
    ours, theirs = delegation(history), delegation(other_org)

    figures = hours_freed([ours, theirs], now=datetime(2026, 5, 20, tzinfo=UTC))

    assert figures == {ours.pk: Decimal("4.25"), theirs.pk: Decimal("0.75")}


def test_no_delegation_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert hours_freed([]) == {}
