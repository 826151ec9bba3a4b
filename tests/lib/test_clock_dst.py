"""Wall-clock times <-> instants and real durations across DST (msp_ops/lib/weeks.py, America/Chicago).

2026-03-08: at 2:00 CST (-06:00) Chicago clocks jump to 3:00 CDT (-05:00); 2:00-2:59 never happens.
2026-11-01: at 2:00 CDT (-05:00) they fall back to 1:00 CST (-06:00); 1:00-1:59 happens twice.

Instants are compared in UTC: ``==`` between a time of the repeated hour and a datetime of
another zone is always False in Python (PEP 495), whatever the instants.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from msp_ops.lib.weeks import (
    NonexistentLocalTime,
    as_utc,
    elapsed,
    floor_minute,
    hours_between,
    local_moment,
    minus,
    plus,
    to_local,
)

CHI = ZoneInfo("America/Chicago")
SPRING = date(2026, 3, 8)
FALL = date(2026, 11, 1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- local_moment -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        (date(2026, 1, 14), time(9), utc(2026, 1, 14, 15)),  # plain winter day, CST
        (date(2026, 7, 14), time(9), utc(2026, 7, 14, 14)),  # plain summer day, CDT
        (SPRING, time(1, 59), utc(2026, 3, 8, 7, 59)),  # last minute of CST
        (SPRING, time(3), utc(2026, 3, 8, 8)),  # first minute of CDT: one real minute later
        (FALL, time(0, 59), utc(2026, 11, 1, 5, 59)),
        (FALL, time(2), utc(2026, 11, 1, 8)),  # after the repeated hour: CST
    ],
)
def test_local_moment_of_an_ordinary_time(day, at, expected):
    moment = local_moment(day, at, CHI)
    assert as_utc(moment) == expected
    # It stays in the zone, so its isoformat names the local offset (the CSV fingerprints use it).
    assert moment.tzinfo is CHI
    assert (moment.date(), moment.time()) == (day, at)


@pytest.mark.parametrize("at", [time(2), time(2, 15), time(2, 30), time(2, 59, 59)])
def test_local_moment_refuses_a_time_in_the_spring_forward_gap(at):
    with pytest.raises(NonexistentLocalTime) as refused:
        local_moment(SPRING, at, CHI)
    error = refused.value
    assert isinstance(error, ValueError)
    assert (error.skipped_from, error.skipped_to) == (datetime(2026, 3, 8, 2), datetime(2026, 3, 8, 3))
    # fold does not make a skipped time exist either.
    with pytest.raises(NonexistentLocalTime):
        local_moment(SPRING, at, CHI, fold=1)


def test_the_gap_message_is_fit_for_a_user():
    with pytest.raises(NonexistentLocalTime) as refused:
        local_moment(SPRING, time(2, 30), CHI)
    assert str(refused.value) == (
        "2:30 does not exist on 2026-03-08 in America/Chicago: clocks jump from 2:00 to 3:00 "
        "(daylight saving time starts)."
    )


@pytest.mark.parametrize(
    ("zone", "day", "at", "message"),
    [
        # Half an hour on Lord Howe Island; midnight in Santiago (the day starts at 1:00).
        (
            "Australia/Lord_Howe",
            date(2025, 10, 5),
            time(2, 15),
            "2:15 does not exist on 2025-10-05 in Australia/Lord_Howe: clocks jump from 2:00 to 2:30 "
            "(daylight saving time starts).",
        ),
        (
            "America/Santiago",
            date(2024, 9, 8),
            time(0, 30),
            "0:30 does not exist on 2024-09-08 in America/Santiago: clocks jump from 0:00 to 1:00 "
            "(daylight saving time starts).",
        ),
        # Samoa skipped a whole day to cross the date line (no DST change).
        (
            "Pacific/Apia",
            date(2011, 12, 30),
            time(12),
            "12:00 does not exist on 2011-12-30 in Pacific/Apia: clocks jump from 0:00 on 2011-12-30 "
            "to 0:00 on 2011-12-31.",
        ),
    ],
)
def test_the_gap_message_names_the_real_jump(zone, day, at, message):
    with pytest.raises(NonexistentLocalTime) as refused:
        local_moment(day, at, ZoneInfo(zone))
    assert str(refused.value) == message


def test_a_repeated_time_is_its_first_occurrence_unless_fold_says_otherwise():
    first = local_moment(FALL, time(1, 30), CHI)
    second = local_moment(FALL, time(1, 30), CHI, fold=1)
    assert (as_utc(first), as_utc(second)) == (utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7, 30))
    assert (first.isoformat(), second.isoformat()) == (
        "2026-11-01T01:30:00-05:00",
        "2026-11-01T01:30:00-06:00",
    )
    # fold changes nothing outside the repeated hour.
    assert as_utc(local_moment(FALL, time(3), CHI, fold=1)) == utc(2026, 11, 1, 9)


def test_an_end_in_the_repeated_hour_takes_the_occurrence_after_the_start():
    start = local_moment(FALL, time(1, 50), CHI)  # 1:50 CDT
    # 1:10 CDT would be before the start: the end is 1:10 CST, 20 real minutes later.
    end = local_moment(FALL, time(1, 10), CHI, after=start)
    assert as_utc(end) == utc(2026, 11, 1, 7, 10)
    assert elapsed(start, end) == timedelta(minutes=20)
    # An end whose first occurrence is after the start keeps it.
    assert as_utc(local_moment(FALL, time(1, 55), CHI, after=start)) == utc(2026, 11, 1, 6, 55)
    # ``after`` compares instants: a start at the second 1:30 makes 1:45 the second 1:45.
    late_start = local_moment(FALL, time(1, 30), CHI, fold=1)
    assert as_utc(local_moment(FALL, time(1, 45), CHI, after=late_start)) == utc(2026, 11, 1, 7, 45)


def test_local_moment_refuses_a_bad_fold():
    with pytest.raises(ValueError, match="fold is 0"):
        local_moment(FALL, time(1, 30), CHI, fold=2)


# --- durations and moving instants ------------------------------------------------------


def test_a_wall_clock_range_over_a_dst_change_lasts_its_real_time():
    # 1:00-3:00 on the fall-back day: 1:00 CDT to 3:00 CST is 3 hours.
    start, end = local_moment(FALL, time(1), CHI), local_moment(FALL, time(3), CHI)
    assert elapsed(start, end) == timedelta(hours=3)
    assert str(hours_between(start, end)) == "3.00"
    # Python's own subtraction of two datetimes of one zone would say 2 hours.
    assert end - start == timedelta(hours=2)
    # 1:00-4:00 on the spring-forward day is 2 hours.
    assert elapsed(local_moment(SPRING, time(1), CHI), local_moment(SPRING, time(4), CHI)) == timedelta(
        hours=2
    )


def test_minus_and_plus_move_by_real_time():
    now = datetime(2026, 3, 8, 3, 10, tzinfo=CHI)  # 3:10 CDT = 08:10 UTC
    start = minus(now, timedelta(minutes=45))
    assert as_utc(start) == utc(2026, 3, 8, 7, 25)  # 1:25 CST
    assert (start.tzinfo, start.time(), start.utcoffset()) == (CHI, time(1, 25), timedelta(hours=-6))
    assert elapsed(start, now) == timedelta(minutes=45)
    assert as_utc(plus(start, timedelta(minutes=45))) == as_utc(now)
    # Plain datetime arithmetic gives 2:25, a time that never happens, and an entry that
    # "ends" 15 minutes before it starts.
    assert elapsed(now - timedelta(minutes=45), now) == timedelta(minutes=-15)


def test_plus_across_the_fall_back():
    start = local_moment(FALL, time(1, 50), CHI)  # 1:50 CDT
    end = plus(start, timedelta(minutes=30))
    assert as_utc(end) == utc(2026, 11, 1, 7, 20)  # 1:20 CST, the second 1:20
    assert (end.time(), end.fold) == (time(1, 20), 1)
    assert elapsed(start, end) == timedelta(minutes=30)
    assert as_utc(minus(end, timedelta(minutes=30))) == as_utc(start)


def test_plus_keeps_the_zone_it_was_given():
    moment = utc(2026, 3, 8, 7, 25)
    assert plus(moment, timedelta(hours=1)) == utc(2026, 3, 8, 8, 25)
    assert plus(moment, timedelta(hours=1)).tzinfo is UTC


def test_floor_minute_and_to_local_keep_the_occurrence():
    now = utc(2026, 11, 1, 7, 10, 42, 5)  # 1:10:42 CST, the second 1:10
    local = floor_minute(to_local(now, CHI))
    assert as_utc(local) == utc(2026, 11, 1, 7, 10)
    assert (local.time(), local.fold) == (time(1, 10), 1)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="has no UTC offset"):
        plus(datetime(2026, 3, 8, 3, 10), timedelta(minutes=45))
    with pytest.raises(ValueError, match="has no UTC offset"):
        to_local(datetime(2026, 3, 8, 3, 10), CHI)
