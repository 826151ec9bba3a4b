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
    micros_to_hours,
    micros_to_hours_float,
    parse_week,
    range_bounds,
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


def test_clip_keeps_the_part_inside_the_window_in_utc():
    # Tue 22:30 to Wed 01:15 Chicago: 1.5 h on Tuesday, 1.25 h on Wednesday.
    start, end = datetime(2025, 1, 7, 22, 30, tzinfo=CHI), datetime(2025, 1, 8, 1, 15, tzinfo=CHI)
    tuesday = clip(start, end, *day_bounds(date(2025, 1, 7), CHI))
    wednesday = clip(start, end, *day_bounds(date(2025, 1, 8), CHI))
    assert (hours(*tuesday), hours(*wednesday)) == (Decimal("1.50"), Decimal("1.25"))
    # Pieces come back in UTC and meet at local midnight (06:00 UTC in January).
    assert tuesday[1] == wednesday[0] == datetime(2025, 1, 8, 6, tzinfo=UTC)
    assert clip(start, end, *day_bounds(date(2025, 1, 9), CHI)) is None


def test_clip_touching_the_window_gives_no_piece():
    # Ends exactly at Monday 00:00: nothing in the next week.
    start, end = datetime(2025, 1, 12, 22, tzinfo=CHI), datetime(2025, 1, 13, 0, tzinfo=CHI)
    assert clip(start, end, *week_bounds(date(2025, 1, 13), CHI)) is None


def test_clip_inside_the_repeated_hour_respects_fold():
    # 01:30 CDT (fold=0) to 01:10 CST (fold=1) is 40 real minutes although 01:10 < 01:30 on the wall.
    start = datetime(2025, 11, 2, 1, 30, tzinfo=CHI)
    end = datetime(2025, 11, 2, 1, 10, fold=1, tzinfo=CHI)
    part = clip(start, end, *day_bounds(date(2025, 11, 2), CHI))
    assert part is not None
    assert hours(*part) == Decimal("0.67")
    assert hours_between(start, end) == Decimal("0.67")


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="has no UTC offset"):
        elapsed(datetime(2025, 1, 7, 9), datetime(2025, 1, 7, 10, tzinfo=CHI))
    with pytest.raises(ValueError, match="has no UTC offset"):
        clip(datetime(2025, 1, 7, 9), datetime(2025, 1, 7, 10), *day_bounds(date(2025, 1, 7), CHI))
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


@pytest.mark.parametrize(
    "micros",
    [
        0,
        1,
        17_999_999,
        18_000_000,
        36_000_000,
        54_000_000,
        3_600_000_000,
        4_517_999_999,
        4_518_000_000,
        86_400_000_000,
    ],
)
def test_hours_as_a_float_are_the_decimal_hours_as_a_float(micros):
    assert micros_to_hours_float(micros) == float(micros_to_hours(micros))
