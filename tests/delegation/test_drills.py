"""Owner offline drills: the default window (3 local days, also across DST), no overlaps within
an organization, completion only after the window and with every interruption followed up, the
review's counts, and when the next one is due."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from delegation.models import Channel, Drill, DrillStatus, FollowUp, Interruption, Runbook
from delegation.selectors import DrillSchedule, drill_review, drill_schedule
from delegation.services import (
    cancel_drill,
    complete_drill,
    record_interruption,
    save_drills,
    save_interruptions,
    set_follow_up,
)
from msp_ops.lib import weeks
from msp_ops.orgs.batches import BatchValidationError

CHI = ZoneInfo("America/Chicago")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return weeks.local_moment(day, time(hour, minute), CHI)


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


def new_drill(org, starts_at: datetime, ends_at: datetime | None = None, **fields) -> Drill:
    [saved] = save_drills(org=org, drills=[Drill(starts_at=starts_at, ends_at=ends_at, **fields)])
    return saved.obj


def row(drill: Drill) -> dict:
    return Drill.objects.filter(pk=drill.pk).values().get()


def ping(org, user, occurred_at: datetime, category: str = "VPN", **fields) -> Interruption:
    return Interruption.objects.create(
        organization=org,
        occurred_at=occurred_at,
        channel=Channel.TEXT,
        category=category,
        logged_by=user,
        **fields,
    )


# --- the default window ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "real_hours"),
    [
        # Friday to Monday, 09:00 to 09:00 local, as the team is told:
        (at(d(4, 3), 9), at(d(4, 6), 9), 72),
        (at(d(3, 6), 9), at(d(3, 9), 9), 71),  # clocks spring forward on Sunday 2026-03-08
        (at(d(10, 30), 9), at(d(11, 2), 9), 73),  # and fall back on Sunday 2026-11-01
        # Given in UTC (as the API may): read on the organization's clock first.
        (datetime(2026, 3, 6, 15, 0, tzinfo=UTC), datetime(2026, 3, 9, 14, 0, tzinfo=UTC), 71),
        # 02:30 on 2026-03-08 does not exist: 72 real hours, to 03:30 CDT.
        (at(d(3, 5), 2, 30), weeks.local_moment(d(3, 8), time(3, 30), CHI), 72),
    ],
)
def test_the_default_window_is_three_local_days(org, starts_at, ends_at, real_hours):
    drill = new_drill(org, starts_at)

    stored = Drill.objects.get(pk=drill.pk)
    assert weeks.as_utc(stored.ends_at) == weeks.as_utc(ends_at)
    assert weeks.elapsed(stored.starts_at, stored.ends_at) == timedelta(hours=real_hours)


def test_an_end_given_is_kept(org):
    drill = new_drill(org, at(d(4, 3), 17), at(d(4, 5), 17))

    assert Drill.objects.get(pk=drill.pk).ends_at == at(d(4, 5), 17)


@pytest.mark.parametrize("hours", [0, -1])
def test_a_drill_ends_after_it_starts(org, hours):
    """The database's check refuses it too; the service says so instead of an IntegrityError."""
    start = at(d(4, 3), 9)

    with pytest.raises(BatchValidationError) as refused:
        save_drills(org=org, drills=[Drill(starts_at=start, ends_at=start + timedelta(hours=hours))])

    assert refused.value.item_errors == [{"ends_at": ["A drill must end after it starts."]}]
    assert not Drill.objects.exists()


def test_a_time_without_an_offset_is_refused(org):
    with pytest.raises(BatchValidationError) as refused:
        save_drills(
            org=org, drills=[Drill(starts_at=datetime(2026, 4, 3, 9), ends_at=datetime(2026, 4, 6, 9))]
        )

    naive = "Give the time with a UTC offset, e.g. 2025-03-03T09:00:00-06:00."
    assert refused.value.item_errors == [{"starts_at": [naive], "ends_at": [naive]}]


# --- no overlaps ----------------------------------------------------------------------------


def test_a_drill_overlapping_a_stored_one_is_refused_naming_it(org):
    stored = new_drill(org, at(d(3, 6), 9))
    as_before = row(stored)

    with pytest.raises(BatchValidationError) as refused:
        save_drills(org=org, drills=[Drill(starts_at=at(d(3, 8), 12))])

    assert refused.value.item_errors == [
        {"starts_at": [f"Overlaps drill #{stored.pk} (2026-03-06 09:00 to 2026-03-09 09:00)."]}
    ]
    assert list(Drill.objects.values_list("pk", flat=True)) == [stored.pk]
    assert row(stored) == as_before


def test_a_drill_covering_a_stored_one_is_refused_naming_it(org):
    stored = new_drill(org, at(d(3, 7), 9), at(d(3, 7), 17))

    with pytest.raises(BatchValidationError) as refused:
        save_drills(org=org, drills=[Drill(starts_at=at(d(3, 6), 9))])

    assert refused.value.item_errors == [
        {"starts_at": [f"Overlaps drill #{stored.pk} (2026-03-07 09:00 to 2026-03-07 17:00)."]}
    ]


def test_two_overlapping_drills_in_one_batch(org):
    with pytest.raises(BatchValidationError) as refused:
        save_drills(org=org, drills=[Drill(starts_at=at(d(3, 6), 9)), Drill(starts_at=at(d(3, 9), 8))])

    assert refused.value.item_errors == [{}, {"starts_at": ["Overlaps item 1 of this batch."]}]
    assert not Drill.objects.exists()


def test_touching_drills_are_fine(org):
    first = new_drill(org, at(d(3, 6), 9))

    second = new_drill(org, first.ends_at)  # Monday 09:00, when the first one ends
    earlier = new_drill(org, at(d(3, 3), 9))  # ends Friday 09:00, when the first one starts

    assert Drill.objects.count() == 3
    assert weeks.as_utc(earlier.ends_at) == weeks.as_utc(first.starts_at)
    assert weeks.as_utc(second.starts_at) == weeks.as_utc(first.ends_at)


def test_a_drill_may_move_within_its_own_window(org):
    drill = new_drill(org, at(d(3, 6), 9))
    copy = Drill.objects.get(pk=drill.pk)
    copy.starts_at = at(d(3, 6), 12)

    save_drills(org=org, drills=[copy])

    assert Drill.objects.get(pk=drill.pk).starts_at == at(d(3, 6), 12)


def test_moving_a_drill_onto_another_is_refused(org):
    march = new_drill(org, at(d(3, 6), 9))
    april = new_drill(org, at(d(4, 3), 9))
    as_before = row(april)
    copy = Drill.objects.get(pk=april.pk)
    copy.starts_at, copy.ends_at = at(d(3, 8), 9), at(d(3, 11), 9)

    with pytest.raises(BatchValidationError) as refused:
        save_drills(org=org, drills=[copy])

    assert refused.value.item_errors == [
        {"starts_at": [f"Overlaps drill #{march.pk} (2026-03-06 09:00 to 2026-03-09 09:00)."]}
    ]
    assert row(april) == as_before


def test_drills_of_another_organization_do_not_collide(org, other_org):
    new_drill(other_org, at(d(3, 6), 9))

    new_drill(org, at(d(3, 6), 9))

    assert Drill.objects.for_org(org).count() == 1


# --- completing a drill ---------------------------------------------------------------------


@pytest.fixture
def march_drill(org, founder, manager):
    """Friday 2026-03-06 09:00 CST to Monday 2026-03-09 09:00 CDT, with five pings inside."""
    drill = new_drill(org, at(d(3, 6), 9))
    inside = [
        ping(org, manager, at(d(3, 6), 9), "VPN"),  # at the start: inside
        ping(org, manager, at(d(3, 7), 22), "vpn"),
        ping(org, manager, at(d(3, 8), 10), "Backup missing", follow_up=FollowUp.RUNBOOK_UPDATED),
        ping(org, manager, at(d(3, 8), 23, 30), "", owner_level=False),  # 04:30 UTC on 03-09
        ping(org, founder, at(d(3, 9), 8, 59), "Backup missing", follow_up=FollowUp.RULE_TIGHTENED),
    ]
    ping(org, manager, at(d(3, 6), 8, 59), "VPN")  # before the window
    ping(org, manager, at(d(3, 9), 9), "VPN")  # at its end: outside
    return drill, inside


def test_a_drill_cannot_complete_before_its_window_ends(march_drill):
    drill, _ = march_drill
    as_before = row(drill)

    with pytest.raises(ValidationError) as refused:
        complete_drill(drill=drill, now=at(d(3, 9), 8, 59))

    assert refused.value.message_dict == {
        "__all__": ["The drill's window has not ended yet: it ends 2026-03-09 09:00."]
    }
    assert row(drill) == as_before


def test_a_drill_cannot_complete_while_interruptions_need_a_follow_up(march_drill):
    drill, inside = march_drill
    as_before = row(drill)
    pending = [inside[0].pk, inside[1].pk, inside[3].pk]  # owner_level False is no owner-level mark

    with pytest.raises(ValidationError) as refused:
        complete_drill(drill=drill, now=at(d(3, 9), 9))

    listed = ", ".join(f"#{pk}" for pk in pending)
    assert refused.value.message_dict == {
        "__all__": [f"3 interruption(s) still need a follow-up or the owner-level mark: {listed}."]
    }
    assert row(drill) == as_before


def test_a_drill_completes_once_every_interruption_is_followed_up(march_drill):
    drill, inside = march_drill
    Interruption.objects.filter(pk=inside[0].pk).update(follow_up=FollowUp.RULE_TIGHTENED)
    Interruption.objects.filter(pk__in=[inside[1].pk, inside[3].pk]).update(owner_level=True)
    done_at = at(d(3, 10), 8)

    completed = complete_drill(drill=Drill.objects.get(pk=drill.pk), now=done_at)

    assert Drill.objects.get(pk=drill.pk).completed_at == done_at
    assert completed.status_at(done_at) == DrillStatus.COMPLETE
    with pytest.raises(ValidationError) as again:
        complete_drill(drill=Drill.objects.get(pk=drill.pk), now=done_at + timedelta(days=1))
    assert again.value.message_dict == {"__all__": [f"Drill #{drill.pk} is already complete."]}
    assert Drill.objects.get(pk=drill.pk).completed_at == done_at


@pytest.mark.parametrize(
    ("window", "refused_fields"),
    [
        ({"ends_at": at(d(3, 12), 9)}, ["ends_at"]),  # its review would wait again
        ({"starts_at": at(d(3, 5), 9)}, ["starts_at"]),  # it would hold a ping still pending
        ({"starts_at": at(d(3, 7), 9), "ends_at": at(d(3, 8), 9)}, ["starts_at", "ends_at"]),
    ],
)
def test_a_completed_drills_window_cannot_change(org, founder, window, refused_fields):
    drill = new_drill(org, at(d(3, 6), 9))
    complete_drill(drill=drill, now=at(d(3, 10), 8))
    ping(org, founder, at(d(3, 5), 12))  # no follow-up yet, the day before the window
    as_before = row(drill)
    copy = Drill.objects.get(pk=drill.pk)
    for name, value in window.items():
        setattr(copy, name, value)

    with pytest.raises(BatchValidationError) as refused:
        save_drills(org=org, drills=[copy])

    assert refused.value.item_errors == [
        {name: ["A completed drill's window cannot change."] for name in refused_fields}
    ]
    assert row(drill) == as_before


def test_a_completed_drill_keeps_its_window_but_its_notes_change(org):
    drill = new_drill(org, at(d(3, 6), 9))
    complete_drill(drill=drill, now=at(d(3, 10), 8))
    copy = Drill.objects.get(pk=drill.pk)
    copy.notes = "Two calls only, both owner-level."
    copy.ends_at = weeks.as_utc(copy.ends_at)  # the same moment, given in UTC

    save_drills(org=org, drills=[copy])

    stored = Drill.objects.get(pk=drill.pk)
    assert stored.notes == "Two calls only, both owner-level."
    assert (stored.starts_at, stored.ends_at) == (at(d(3, 6), 9), at(d(3, 9), 9))
    assert stored.completed_at == at(d(3, 10), 8)


def test_status_follows_the_window(org):
    drill = new_drill(org, at(d(3, 6), 9))

    assert drill.status_at(at(d(3, 6), 8)) == DrillStatus.SCHEDULED
    assert drill.status_at(at(d(3, 6), 9)) == DrillStatus.RUNNING
    assert drill.status_at(at(d(3, 9), 9)) == DrillStatus.IN_REVIEW


# --- a completed drill goes back to review --------------------------------------------------

REVIEWED_AT = at(d(3, 10), 8)


@pytest.fixture
def reviewed(org, founder):
    """The March drill (Friday 03-06 09:00 to Monday 03-09 09:00), its one ping marked
    owner-level, completed on Tuesday 03-10 08:00."""
    drill = new_drill(org, at(d(3, 6), 9))
    ping(org, founder, at(d(3, 7), 10), owner_level=True)
    complete_drill(drill=drill, now=REVIEWED_AT)
    return drill


def log(org, user, occurred_at: datetime, **fields) -> Interruption:
    item = Interruption(occurred_at=occurred_at, channel=Channel.CALL, logged_by=user, **fields)
    return record_interruption(org=org, interruption=item)


@pytest.mark.parametrize("owner_level", [None, False])
def test_a_late_pending_interruption_sends_a_completed_drill_back_to_review(
    org, founder, reviewed, owner_level
):
    late = log(org, founder, at(d(3, 8), 14), owner_level=owner_level)  # logged after the review

    stored = Drill.objects.get(pk=reviewed.pk)
    assert stored.completed_at is None
    assert stored.status_at(at(d(3, 10), 9)) == DrillStatus.IN_REVIEW
    assert drill_review(stored).pending == [late.pk]
    with pytest.raises(ValidationError) as refused:
        complete_drill(drill=stored, now=at(d(3, 10), 9))
    assert refused.value.message_dict == {
        "__all__": [f"1 interruption(s) still need a follow-up or the owner-level mark: #{late.pk}."]
    }
    set_follow_up(interruption=late, follow_up=FollowUp.RULE_TIGHTENED)
    complete_drill(drill=stored, now=at(d(3, 10), 9))
    assert Drill.objects.get(pk=reviewed.pk).completed_at == at(d(3, 10), 9)


def test_taking_back_a_follow_up_or_the_owner_level_mark_reopens_the_drill(org, founder, reviewed):
    followed = log(org, founder, at(d(3, 8), 14), follow_up=FollowUp.RULE_TIGHTENED)
    owner_level = Interruption.objects.get(owner_level=True)
    assert Drill.objects.get(pk=reviewed.pk).completed_at == REVIEWED_AT  # nothing pending yet

    set_follow_up(interruption=followed, follow_up=FollowUp.NONE)
    after_follow_up = Drill.objects.get(pk=reviewed.pk).completed_at
    set_follow_up(interruption=followed, follow_up=FollowUp.RULE_TIGHTENED)
    complete_drill(drill=Drill.objects.get(pk=reviewed.pk), now=at(d(3, 11), 9))
    set_follow_up(interruption=owner_level, owner_level=False)

    assert after_follow_up is None
    stored = Drill.objects.get(pk=reviewed.pk)
    assert stored.completed_at is None
    assert drill_review(stored).pending == [owner_level.pk]


def test_an_interruption_moved_into_a_completed_drills_window_reopens_it(org, founder, reviewed):
    before = log(org, founder, at(d(3, 5), 12))  # pending, the day before the window
    assert Drill.objects.get(pk=reviewed.pk).completed_at == REVIEWED_AT

    before.occurred_at = at(d(3, 6), 12)
    record_interruption(org=org, interruption=before)

    assert Drill.objects.get(pk=reviewed.pk).completed_at is None


@pytest.mark.parametrize(
    "fields",
    [
        {"occurred_at": at(d(3, 8), 14), "follow_up": FollowUp.RUNBOOK_UPDATED},
        {"occurred_at": at(d(3, 8), 14), "follow_up": FollowUp.RULE_TIGHTENED},
        {"occurred_at": at(d(3, 8), 14), "owner_level": True},
        {"occurred_at": at(d(3, 9), 9)},  # pending, at the window's end: outside
        {"occurred_at": at(d(3, 6), 8, 59)},  # pending, just before its start
    ],
)
def test_a_followed_up_or_outside_interruption_keeps_the_drill_complete(org, founder, reviewed, fields):
    log(org, founder, **fields)

    assert Drill.objects.get(pk=reviewed.pk).completed_at == REVIEWED_AT


def test_one_batch_reopens_every_completed_drill_it_touches_and_no_other(org, founder, manager):
    march = new_drill(org, at(d(3, 6), 9))
    april = new_drill(org, at(d(4, 3), 9))
    may = new_drill(org, at(d(5, 1), 9))
    for drill in (march, april, may):
        complete_drill(drill=drill, now=drill.ends_at)
    batch = [
        Interruption(occurred_at=at(d(3, 7), 9), channel=Channel.TEXT, logged_by=manager),
        Interruption(occurred_at=at(d(3, 8), 9), channel=Channel.CALL, logged_by=manager),
        Interruption(occurred_at=at(d(4, 4), 9), channel=Channel.CHAT, logged_by=founder),
        Interruption(occurred_at=at(d(5, 2), 9), channel=Channel.CALL, logged_by=founder, owner_level=True),
    ]

    save_interruptions(org=org, interruptions=batch)

    stored = {row["pk"]: row["completed_at"] for row in Drill.objects.values("pk", "completed_at")}
    assert stored == {march.pk: None, april.pk: None, may.pk: may.ends_at}


def test_a_refused_batch_reopens_nothing(org, founder, reviewed):
    batch = [
        Interruption(occurred_at=at(d(3, 8), 14), channel=Channel.CALL, logged_by=founder),
        Interruption(occurred_at=at(d(3, 8), 15), channel="fax", logged_by=founder),
    ]

    with pytest.raises(BatchValidationError):
        save_interruptions(org=org, interruptions=batch)

    assert Drill.objects.get(pk=reviewed.pk).completed_at == REVIEWED_AT
    assert Interruption.objects.count() == 1


def test_another_organizations_interruption_reopens_nothing(org, other_org, stranger, reviewed):
    log(other_org, stranger, at(d(3, 8), 14))

    assert Drill.objects.get(pk=reviewed.pk).completed_at == REVIEWED_AT


# --- cancelling a drill ---------------------------------------------------------------------


def test_a_drill_that_has_not_started_yet_is_cancelled(org):
    drill = new_drill(org, at(d(3, 6), 9))

    cancel_drill(drill=drill, now=at(d(3, 6), 8, 59))

    assert not Drill.objects.exists()


@pytest.mark.parametrize(
    "now",
    [at(d(3, 6), 9), at(d(3, 9), 9), at(d(3, 10), 9)],  # running, in review, complete
)
def test_a_drill_that_started_cannot_be_cancelled(org, now):
    drill = new_drill(org, at(d(3, 6), 9))
    if now == at(d(3, 10), 9):
        complete_drill(drill=drill, now=REVIEWED_AT)
    as_before = row(drill)

    with pytest.raises(ValidationError) as refused:
        cancel_drill(drill=drill, now=now)

    assert refused.value.message_dict == {
        "__all__": ["Only a drill that has not started yet can be cancelled."]
    }
    assert row(drill) == as_before


# --- the review -----------------------------------------------------------------------------


def test_the_review_counts_per_local_day_and_category(org, march_drill):
    drill, inside = march_drill
    runbook = Runbook.objects.create(
        organization=org, ticket_category="Backup missing", updated_at=at(d(3, 8), 11)
    )
    Interruption.objects.filter(pk=inside[2].pk).update(runbook=runbook)

    review = drill_review(Drill.objects.get(pk=drill.pk))

    assert [i.pk for i in review.interruptions] == [i.pk for i in inside]  # oldest first
    assert review.pending == [inside[0].pk, inside[1].pk, inside[3].pk]
    # Every local day of the window, Friday to Monday; 23:30 CDT on Sunday is Sunday, not the
    # UTC Monday.
    assert review.by_day == {d(3, 6): 1, d(3, 7): 1, d(3, 8): 2, d(3, 9): 1}
    # "VPN" and "vpn" are one ticket category; an empty one is Uncategorized.
    assert review.by_category == {"Backup missing": 2, "VPN": 2, "Uncategorized": 1}
    assert list(review.by_category) == ["Backup missing", "VPN", "Uncategorized"]
    assert review.runbooks_updated == [runbook]
    assert review.rules_tightened == 1


def test_a_review_lists_days_without_interruptions(org):
    drill = new_drill(org, at(d(5, 1), 0), at(d(5, 4), 0))  # Friday 00:00 to Monday 00:00

    review = drill_review(drill)

    assert review.by_day == {d(5, 1): 0, d(5, 2): 0, d(5, 3): 0}  # Monday is not in the window
    assert (review.interruptions, review.pending, review.by_category) == ([], [], {})


def test_the_review_leaves_out_another_organizations_interruptions(org, other_org, stranger):
    drill = new_drill(org, at(d(3, 6), 9))
    ping(other_org, stranger, at(d(3, 7), 12))

    assert drill_review(drill).interruptions == []


# --- the schedule ---------------------------------------------------------------------------


def completed(org, starts_at: datetime) -> Drill:
    drill = new_drill(org, starts_at)
    Drill.objects.filter(pk=drill.pk).update(completed_at=drill.ends_at)
    return drill


def test_no_completed_drill_no_due_date(org):
    new_drill(org, at(d(1, 9), 9))  # never completed

    assert drill_schedule(org, today=d(6, 1)) == DrillSchedule(None, None, False)


def test_the_next_drill_is_due_a_month_after_the_start_of_the_last_completed_one(org):
    completed(org, at(d(12, 5, 2025), 9))
    last = completed(org, at(d(1, 31), 23, 30))  # local Saturday 01-31, already 02-01 in UTC
    new_drill(org, at(d(2, 13), 9))  # a later one, not completed: does not count

    on_time = drill_schedule(org, today=d(2, 28))
    late = drill_schedule(org, today=d(3, 1))

    assert on_time.last_completed == last
    assert (on_time.next_due, on_time.overdue) == (d(2, 28), False)  # Jan 31 + 1 month: Feb 28
    assert (late.next_due, late.overdue) == (d(2, 28), True)


@time_machine.travel("2026-03-01T04:00:00Z", tick=False)  # still Saturday 02-28 in Chicago
def test_today_is_the_organizations_day(org):
    completed(org, at(d(1, 31), 23, 30))

    assert drill_schedule(org).overdue is False
