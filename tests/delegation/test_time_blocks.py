"""The founder's weekly plan: one member's blocks on one weekday never overlap; touching is fine."""

from __future__ import annotations

from datetime import time

import pytest

from delegation.models import BlockKind, TimeBlock
from delegation.services import save_time_blocks
from msp_ops.orgs.batches import BatchValidationError

MONDAY, TUESDAY = 1, 2


def new_block(
    user, weekday=MONDAY, start=time(13), end=time(14), kind=BlockKind.OWNER_ESCALATIONS
) -> TimeBlock:
    return TimeBlock(user=user, kind=kind, weekday=weekday, start_time=start, end_time=end)


def stored_block(org, user, **fields) -> TimeBlock:
    [saved] = save_time_blocks(org=org, blocks=[new_block(user, **fields)])
    return saved.obj


def row(block: TimeBlock) -> dict:
    return TimeBlock.objects.filter(pk=block.pk).values().get()


def test_an_overlapping_block_is_refused_naming_the_stored_one(org, founder):
    escalations = stored_block(org, founder)

    with pytest.raises(BatchValidationError) as refused:
        save_time_blocks(
            org=org,
            blocks=[new_block(founder, start=time(13, 30), end=time(15), kind=BlockKind.SALES_RETENTION)],
        )

    assert refused.value.item_errors == [
        {"start_time": [f"Overlaps block #{escalations.pk}: Owner escalations Monday 13:00-14:00."]}
    ]
    assert list(TimeBlock.objects.values_list("pk", flat=True)) == [escalations.pk]


def test_a_block_inside_another_is_refused(org, founder):
    team = stored_block(org, founder, start=time(8), end=time(12), kind=BlockKind.TEAM)

    with pytest.raises(BatchValidationError) as refused:
        save_time_blocks(org=org, blocks=[new_block(founder, start=time(9), end=time(10))])

    assert refused.value.item_errors == [
        {"start_time": [f"Overlaps block #{team.pk}: Team Monday 08:00-12:00."]}
    ]


def test_overlapping_blocks_in_one_batch(org, founder):
    with pytest.raises(BatchValidationError) as refused:
        save_time_blocks(
            org=org,
            blocks=[
                new_block(founder, start=time(9), end=time(11), kind=BlockKind.SALES_RETENTION),
                new_block(founder, weekday=TUESDAY),
                new_block(founder, start=time(10, 45), end=time(12)),
            ],
        )

    assert refused.value.item_errors == [{}, {}, {"start_time": ["Overlaps item 1 of this batch."]}]
    assert not TimeBlock.objects.exists()


def test_other_weekdays_and_other_members_are_fine(org, founder, manager):
    stored_block(org, founder)

    save_time_blocks(org=org, blocks=[new_block(founder, weekday=TUESDAY), new_block(manager)])

    assert TimeBlock.objects.count() == 3


def test_touching_blocks_are_fine(org, founder):
    stored_block(org, founder)

    save_time_blocks(
        org=org,
        blocks=[
            new_block(founder, start=time(9), end=time(13), kind=BlockKind.SALES_RETENTION),
            new_block(founder, start=time(14), end=time(16), kind=BlockKind.SERVICE_DELIVERY),
        ],
    )

    assert TimeBlock.objects.count() == 3


@pytest.mark.parametrize("end", [time(12), time(13)])
def test_a_block_ends_after_it_starts(org, founder, end):
    """The database's check refuses it too; the service says so instead of an IntegrityError."""
    with pytest.raises(BatchValidationError) as refused:
        save_time_blocks(org=org, blocks=[new_block(founder, end=end)])

    assert refused.value.item_errors == [{"end_time": ["A block must end after it starts."]}]
    assert not TimeBlock.objects.exists()


def test_a_weekday_is_1_to_7(org, founder):
    with pytest.raises(BatchValidationError) as refused:
        save_time_blocks(org=org, blocks=[new_block(founder, weekday=8)])

    assert refused.value.item_errors == [{"weekday": ["Value 8 is not a valid choice."]}]


def test_a_block_may_move_over_its_own_old_place(org, founder):
    block = stored_block(org, founder)
    copy = TimeBlock.objects.get(pk=block.pk)
    copy.start_time, copy.end_time = time(13, 30), time(14, 30)

    save_time_blocks(org=org, blocks=[copy])

    assert (TimeBlock.objects.get().start_time, TimeBlock.objects.get().end_time) == (
        time(13, 30),
        time(14, 30),
    )


def test_moving_onto_another_block_is_refused_and_changes_nothing(org, founder):
    stored_block(org, founder)
    sales = stored_block(org, founder, start=time(9), end=time(11), kind=BlockKind.SALES_RETENTION)
    as_before = row(sales)
    copy = TimeBlock.objects.get(pk=sales.pk)
    copy.end_time = time(13, 15)

    with pytest.raises(BatchValidationError):
        save_time_blocks(org=org, blocks=[copy])

    assert row(sales) == as_before


def test_a_member_allowed_its_own_rows_cannot_change_anothers_block(org, founder, technician):
    block = stored_block(org, founder)
    as_before = row(block)
    copy = TimeBlock.objects.get(pk=block.pk)
    copy.end_time = time(15)

    with pytest.raises(BatchValidationError) as refused:
        save_time_blocks(org=org, blocks=[copy], owner=technician)

    assert refused.value.item_errors == [
        {
            "__all__": [
                f"Time block #{block.pk} belongs to another member; your role may change only your own."
            ]
        }
    ]
    assert row(block) == as_before


def test_the_member_must_belong_to_the_organization(org, stranger):
    with pytest.raises(BatchValidationError) as refused:
        save_time_blocks(org=org, blocks=[new_block(stranger)])

    assert refused.value.item_errors == [{"user": ["Not a member of this organization."]}]
