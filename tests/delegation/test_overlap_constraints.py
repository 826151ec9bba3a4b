"""Drills and time blocks never overlap under concurrent requests, on the real PostgreSQL.

Two threads, each with its own database connection, pass the Python checks of the service before
either writes (a barrier just before the framework's upsert writes, ``msp_ops.orgs.batches._write``),
so only PostgreSQL can refuse the loser: the exclusion constraints of migration 0002. The loser's
write is checked again and refused naming the winner.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from delegation.models import BlockKind, Drill, TimeBlock
from delegation.services import save_drills, save_time_blocks
from msp_ops.orgs.batches import BatchValidationError
from tests.races import run_in_threads

CHI = ZoneInfo("America/Chicago")


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 4, day, hour, tzinfo=CHI)


def one_of_each(results: list) -> tuple[list, BatchValidationError]:
    successes = [r for r in results if isinstance(r, list)]
    refusals = [r for r in results if isinstance(r, BatchValidationError)]
    assert (len(successes), len(refusals)) == (1, 1), results
    return successes[0], refusals[0]


@pytest.mark.usefixtures("transactional_db")
def test_two_concurrent_overlapping_drills_one_wins_the_other_is_named(org, write_together, lost_races):
    results = run_in_threads(
        lambda: save_drills(org=org, drills=[Drill(starts_at=at(3, 9))]),  # Friday to Monday 09:00
        lambda: save_drills(org=org, drills=[Drill(starts_at=at(5, 12))]),  # Sunday to Wednesday
    )

    [won], refused = one_of_each(results)
    stored = Drill.objects.get()
    assert stored.pk == won.obj.pk
    local = stored.starts_at.astimezone(CHI), stored.ends_at.astimezone(CHI)
    named = f"drill #{stored.pk} ({local[0]:%Y-%m-%d %H:%M} to {local[1]:%Y-%m-%d %H:%M})"
    assert refused.item_errors == [{"starts_at": [f"Overlaps {named}."]}]
    assert set(lost_races) == {1}  # the constraint refused the loser's write, then the check


@pytest.mark.usefixtures("transactional_db")
def test_concurrent_drills_of_two_organizations_both_stored(org, other_org, write_together):
    results = run_in_threads(
        lambda: save_drills(org=org, drills=[Drill(starts_at=at(3, 9))]),
        lambda: save_drills(org=other_org, drills=[Drill(starts_at=at(3, 9))]),
    )

    assert all(isinstance(r, list) for r in results), results
    assert Drill.objects.count() == 2


@pytest.mark.usefixtures("transactional_db")
def test_two_concurrent_overlapping_blocks_one_wins_the_other_is_named(
    org, founder, write_together, lost_races
):
    def block(start: int, end: int, kind: str) -> TimeBlock:
        return TimeBlock(user=founder, kind=kind, weekday=1, start_time=time(start), end_time=time(end))

    results = run_in_threads(
        lambda: save_time_blocks(org=org, blocks=[block(13, 14, BlockKind.OWNER_ESCALATIONS)]),
        lambda: save_time_blocks(org=org, blocks=[block(12, 15, BlockKind.SALES_RETENTION)]),
    )

    [won], refused = one_of_each(results)
    stored = TimeBlock.objects.get()
    assert stored.pk == won.obj.pk
    assert refused.item_errors == [{"start_time": [f"Overlaps block #{stored.pk}: {stored}."]}]
    assert set(lost_races) == {1}


@pytest.mark.usefixtures("transactional_db")
def test_concurrent_blocks_of_two_members_both_stored(org, founder, manager, write_together):
    def block(user) -> TimeBlock:
        return TimeBlock(user=user, kind=BlockKind.TEAM, weekday=1, start_time=time(9), end_time=time(10))

    results = run_in_threads(
        lambda: save_time_blocks(org=org, blocks=[block(founder)]),
        lambda: save_time_blocks(org=org, blocks=[block(manager)]),
    )

    assert all(isinstance(r, list) for r in results), results
    assert TimeBlock.objects.count() == 2


# --- the constraints themselves (a direct write, no service) ---------------------------------


def test_the_database_refuses_overlapping_drills(org):
    Drill.objects.create(organization=org, starts_at=at(3, 9), ends_at=at(6, 9))

    with pytest.raises(IntegrityError), transaction.atomic():
        Drill.objects.create(organization=org, starts_at=at(6, 8), ends_at=at(7, 9))
    Drill.objects.create(
        organization=org, starts_at=at(6, 9), ends_at=at(6, 9) + timedelta(days=3)
    )  # touching
    assert Drill.objects.count() == 2


def test_the_database_refuses_overlapping_blocks_of_one_member_and_weekday(org, founder, manager):
    def create(user, weekday: int, start: time, end: time) -> TimeBlock:
        return TimeBlock.objects.create(
            organization=org, user=user, kind=BlockKind.TEAM, weekday=weekday, start_time=start, end_time=end
        )

    create(founder, 1, time(9), time(10))

    with pytest.raises(IntegrityError), transaction.atomic():
        create(founder, 1, time(9, 30), time(11))
    create(founder, 1, time(10), time(11))  # touching
    create(founder, 2, time(9, 30), time(11))  # another weekday
    create(manager, 1, time(9, 30), time(11))  # another member
    assert TimeBlock.objects.count() == 4
