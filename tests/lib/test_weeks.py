"""Week and day arithmetic in the organization's zone (SPEC 1 "Weeks"; msp_ops/lib/weeks.py)."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from msp_ops.lib.weeks import (
    clip,
    day_bounds,
    elapsed,
    hours_between,
    local_date,
    parse_week,
    range_bounds,
    split_by_day,
    split_by_week,
    to_hours,
    week_bounds,
)

CHI = ZoneInfo("America/Chicago")


def hours(start: datetime, end: datetime) -> Decimal:
    return to_hours(elapsed(start, end))


def test_a_plain_week_is_168_hours_from_monday_midnight_local():
    start, end = week_bounds(date(2025, 1, 6), CHI)
    # Chicago is UTC-6 in January: Monday 00:00 CST is 06:00 UTC.
    assert start.astimezone(UTC) == datetime(2025, 1, 6, 6, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2025, 1, 13, 6, tzinfo=UTC)
    assert hours(start, end) == Decimal("168.00")


def test_spring_forward_week_is_167_hours():
    # 2025-03-09 02:00 CST jumps to 03:00 CDT: the week of 2025-03-03 loses an hour.
    start, end = week_bounds(date(2025, 3, 3), CHI)
    assert hours(start, end) == Decimal("167.00")
    # Wall-clock subtraction would claim 168 h: the reason durations go through UTC.
    assert end - start == timedelta(hours=168)


def test_fall_back_week_is_169_hours():
    # 2025-11-02 02:00 CDT falls back to 01:00 CST: the week of 2025-10-27 gains an hour.
    start, end = week_bounds(date(2025, 10, 27), CHI)
    assert hours(start, end) == Decimal("169.00")


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2025, 3, 9), "23.00"), (date(2025, 11, 2), "25.00"), (date(2025, 3, 10), "24.00")],
)
def test_dst_days_are_23_or_25_hours(day, expected):
    assert hours(*day_bounds(day, CHI)) == Decimal(expected)


def test_range_bounds_cover_the_last_day_inclusive():
    start, end = range_bounds(date(2025, 3, 3), date(2025, 3, 9), CHI)
    assert (start, end) == week_bounds(date(2025, 3, 3), CHI)


def test_split_across_midnight():
    # Tue 22:30 to Wed 01:15 Chicago: 1.5 h on Tuesday, 1.25 h on Wednesday.
    pieces = split_by_day(
        datetime(2025, 1, 7, 22, 30, tzinfo=CHI), datetime(2025, 1, 8, 1, 15, tzinfo=CHI), CHI
    )
    assert [(day, hours(lo, hi)) for day, lo, hi in pieces] == [
        (date(2025, 1, 7), Decimal("1.50")),
        (date(2025, 1, 8), Decimal("1.25")),
    ]
    # Pieces come back in UTC and meet at local midnight (06:00 UTC in January).
    assert pieces[0][2] == pieces[1][1] == datetime(2025, 1, 8, 6, tzinfo=UTC)


def test_split_uses_the_local_day_not_the_utc_day():
    # 19:00-21:00 Chicago on Jan 7 is 01:00-03:00 UTC on Jan 8: still all on the local Jan 7.
    pieces = split_by_day(datetime(2025, 1, 8, 1, tzinfo=UTC), datetime(2025, 1, 8, 3, tzinfo=UTC), CHI)
    assert [(day, hours(lo, hi)) for day, lo, hi in pieces] == [(date(2025, 1, 7), Decimal("2.00"))]


def test_split_across_a_week_boundary():
    # Sunday 2025-01-12 23:00 to Monday 02:00 Chicago: 1 h in the week of Jan 6, 2 h in the week of Jan 13.
    pieces = split_by_week(datetime(2025, 1, 12, 23, tzinfo=CHI), datetime(2025, 1, 13, 2, tzinfo=CHI), CHI)
    assert [(monday, hours(lo, hi)) for monday, lo, hi in pieces] == [
        (date(2025, 1, 6), Decimal("1.00")),
        (date(2025, 1, 13), Decimal("2.00")),
    ]


def test_an_entry_inside_one_week_is_one_piece():
    start, end = datetime(2025, 1, 8, 9, tzinfo=CHI), datetime(2025, 1, 8, 10, tzinfo=CHI)
    assert split_by_week(start, end, CHI) == [(date(2025, 1, 6), start.astimezone(UTC), end.astimezone(UTC))]


def test_touching_the_boundary_gives_no_empty_piece():
    # Ends exactly at Monday 00:00: nothing in the next week.
    pieces = split_by_week(datetime(2025, 1, 12, 22, tzinfo=CHI), datetime(2025, 1, 13, 0, tzinfo=CHI), CHI)
    assert [monday for monday, _, _ in pieces] == [date(2025, 1, 6)]


def test_split_across_spring_forward():
    # Sat 2025-03-08 23:00 CST to Sun 04:00 CDT: 1 h on Saturday; on Sunday 00:00-04:00 wall clock
    # is only 3 real hours (02:00-03:00 does not exist). 4 real hours in all.
    start, end = datetime(2025, 3, 8, 23, tzinfo=CHI), datetime(2025, 3, 9, 4, tzinfo=CHI)
    pieces = split_by_day(start, end, CHI)
    assert [(day, hours(lo, hi)) for day, lo, hi in pieces] == [
        (date(2025, 3, 8), Decimal("1.00")),
        (date(2025, 3, 9), Decimal("3.00")),
    ]
    assert hours_between(start, end) == Decimal("4.00")


def test_split_across_fall_back():
    # Sat 2025-11-01 22:00 CDT to Sun 03:00 CST: 2 h on Saturday; Sunday 00:00-03:00 holds the
    # repeated 01:00 hour, so 4 real hours. 6 h in all.
    start, end = datetime(2025, 11, 1, 22, tzinfo=CHI), datetime(2025, 11, 2, 3, tzinfo=CHI)
    pieces = split_by_day(start, end, CHI)
    assert [(day, hours(lo, hi)) for day, lo, hi in pieces] == [
        (date(2025, 11, 1), Decimal("2.00")),
        (date(2025, 11, 2), Decimal("4.00")),
    ]


def test_split_inside_the_repeated_hour_respects_fold():
    # 01:30 CDT (fold=0) to 01:10 CST (fold=1) is 40 real minutes although 01:10 < 01:30 on the wall.
    start = datetime(2025, 11, 2, 1, 30, tzinfo=CHI)
    end = datetime(2025, 11, 2, 1, 10, fold=1, tzinfo=CHI)
    pieces = split_by_day(start, end, CHI)
    assert [(day, hours(lo, hi)) for day, lo, hi in pieces] == [(date(2025, 11, 2), Decimal("0.67"))]
    assert clip(start, end, *day_bounds(date(2025, 11, 2), CHI)) is not None


def test_split_of_a_week_containing_dst_keeps_every_hour():
    # The whole DST week split by day: 6 days of 24 h and Sunday of 23 h.
    start, end = week_bounds(date(2025, 3, 3), CHI)
    pieces = split_by_day(start, end, CHI)
    assert [hours(lo, hi) for _, lo, hi in pieces] == [Decimal("24.00")] * 6 + [Decimal("23.00")]


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="has no UTC offset"):
        split_by_day(datetime(2025, 1, 7, 9), datetime(2025, 1, 7, 10), CHI)
    with pytest.raises(ValueError, match="has no UTC offset"):
        local_date(datetime(2025, 1, 7, 9), CHI)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-03-04", "2025-03-04 is a Tuesday; a week is named by its Monday."),
        ("2025-03-09", "2025-03-09 is a Sunday; a week is named by its Monday."),
        ("2025-13-01", "'2025-13-01' is not a date in YYYY-MM-DD form."),
        ("20250303", "'20250303' is not a date in YYYY-MM-DD form."),
        ("2025-W10-1", "'2025-W10-1' is not a date in YYYY-MM-DD form."),
        ("", "'' is not a date in YYYY-MM-DD form."),
        ("monday", "'monday' is not a date in YYYY-MM-DD form."),
    ],
)
def test_parse_week_refuses_with_a_message(value, message):
    with pytest.raises(ValueError, match=re.escape(message)) as refused:
        parse_week(value)
    assert str(refused.value) == message


def test_parse_week_accepts_a_monday():
    assert parse_week("2025-03-03") == date(2025, 3, 3)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (None, "0.00"),
        (timedelta(0), "0.00"),
        (timedelta(minutes=45), "0.75"),
        (timedelta(minutes=20), "0.33"),  # 0.3333...
        (timedelta(minutes=40), "0.67"),  # 0.6666...
        (timedelta(seconds=18), "0.01"),  # exactly 0.005: half up
        (timedelta(seconds=17), "0.00"),  # 0.00472...
        (timedelta(hours=1, seconds=54), "1.02"),  # 1.015 exactly: half up, not float 1.01499...
        (timedelta(days=365), "8760.00"),
    ],
)
def test_to_hours_rounds_half_up_to_two_places(duration, expected):
    assert to_hours(duration) == Decimal(expected)
    assert str(to_hours(duration)) == expected
