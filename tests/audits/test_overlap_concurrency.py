"""The no-overlap rule and external_id upserts under concurrent requests, on the real PostgreSQL.

Two threads, each with its own database connection, pass the Python checks of
``save_time_entries`` before either writes (a barrier placed just before the framework's
upsert writes, ``msp_ops.orgs.batches._write``), so
only PostgreSQL can refuse the loser: the exclusion constraint of migration 0002 for
overlaps, the unique (organization, external_id) index for replays.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from audits.models import Category, TimeEntry
from audits.services import save_time_entries
from msp_ops.orgs.batches import BatchValidationError
from tests.races import run_in_threads

pytestmark = pytest.mark.usefixtures("transactional_db")

CHI = ZoneInfo("America/Chicago")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, 4, hour, minute, tzinfo=CHI)


def make(org, user, start, end, activity, **fields) -> TimeEntry:
    return TimeEntry(
        user=user,
        started_at=start,
        ended_at=end,
        activity=activity,
        category=Category.objects.get(organization=org, slug="tickets"),
        **fields,
    )


def test_two_concurrent_overlapping_entries_one_wins_the_other_is_named(
    org, founder, write_together, lost_races
):
    first = make(org, founder, at(9), at(10), "Escalation: Acme firewall down")
    second = make(org, founder, at(9, 30), at(10, 30), "Vendor call with Datto")
    results = run_in_threads(
        lambda: save_time_entries(org=org, entries=[first]),
        lambda: save_time_entries(org=org, entries=[second]),
    )
    refusals = [r for r in results if isinstance(r, BatchValidationError)]
    successes = [r for r in results if isinstance(r, list)]
    assert (len(successes), len(refusals)) == (1, 1), results
    winner = successes[0][0].entry
    stored = TimeEntry.objects.get()
    assert stored.pk == winner.pk
    assert refusals[0].item_errors == [{"started_at": [f"Overlaps entry #{stored.pk}: {stored.activity}"]}]
    # Both passed the Python check: the exclusion constraint refused the loser's write. When
    # both inserts wait on each other, PostgreSQL may first break a deadlock, so a thread can
    # lose more than once before its retry names the winner.
    assert set(lost_races) == {1}


def test_a_losing_batch_stores_none_of_its_items(org, founder, write_together, lost_races):
    winner = [make(org, founder, at(9), at(10), "Standup"), make(org, founder, at(11), at(12), "QBR prep")]
    loser = [
        make(org, founder, at(13), at(14), "Quoting"),
        make(org, founder, at(11, 30), at(12, 30), "Call"),
    ]
    results = run_in_threads(
        lambda: save_time_entries(org=org, entries=winner),
        lambda: save_time_entries(org=org, entries=loser),
    )
    # Either batch may win the race; the other is refused whole.
    refused = next(r for r in results if isinstance(r, BatchValidationError))
    stored = TimeEntry.objects.order_by("started_at")
    assert stored.count() == 2
    clash = stored.get(activity__in=["QBR prep", "Call"])
    errors = refused.item_errors
    assert sorted(map(bool, errors)) == [False, True]
    assert [e for e in errors if e] == [{"started_at": [f"Overlaps entry #{clash.pk}: {clash.activity}"]}]
    assert set(lost_races) == {2}


def test_two_concurrent_replays_of_a_batch_leave_one_row_per_external_id(org, founder, write_together):
    def batch():
        return [
            make(org, founder, at(8 + n), at(8 + n, 45), f"Toggl entry {n}", external_id=f"toggl-{n}")
            for n in range(3)
        ]

    results = run_in_threads(
        lambda: save_time_entries(org=org, entries=batch()),
        lambda: save_time_entries(org=org, entries=batch()),
    )
    assert all(isinstance(r, list) for r in results), results
    assert sorted(TimeEntry.objects.values_list("external_id", flat=True)) == [
        "toggl-0",
        "toggl-1",
        "toggl-2",
    ]
    # Both answers point at the same stored rows, and exactly one of them created each.
    assert [s.entry.pk for s in results[0]] == [s.entry.pk for s in results[1]]
    assert [(a.created, b.created) for a, b in zip(*results, strict=True)] in (
        [(True, False)] * 3,
        [(False, True)] * 3,
    )


def test_other_members_write_concurrently_without_conflict(org, founder, manager, write_together):
    results = run_in_threads(
        lambda: save_time_entries(org=org, entries=[make(org, founder, at(9), at(10), "Mine")]),
        lambda: save_time_entries(org=org, entries=[make(org, manager, at(9), at(10), "Theirs")]),
    )
    assert all(isinstance(r, list) for r in results), results
    assert TimeEntry.objects.count() == 2
