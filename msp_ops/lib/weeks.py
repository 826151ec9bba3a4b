"""All week and day arithmetic, in the organization's time zone (SPEC 1 "Weeks"; STYLE 5).

A week runs Monday 00:00 to the next Monday 00:00 local time and is named by its Monday.
Durations are always computed through UTC: Python subtracts two datetimes of the same zone
as wall-clock times, which would make the DST weeks 168 h instead of 167 or 169.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
TWO_PLACES = Decimal("0.01")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_date(value: str) -> date:
    """Exactly ``YYYY-MM-DD``, else ValueError with a message fit for a client."""
    # date.fromisoformat alone also takes "20250303" and "2025-W10-1" (Python 3.11).
    try:
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a date in YYYY-MM-DD form.") from None


def parse_week(value: str) -> date:
    """``YYYY-MM-DD`` of a Monday, else ValueError with a message fit for a client."""
    day = parse_date(value)
    if day.weekday() != 0:
        raise ValueError(f"{value} is a {day:%A}; a week is named by its Monday.")
    return day


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day: 23 or 25 hours on DST change days."""
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


def week_bounds(monday: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the org's week; 167 or 169 hours in DST weeks."""
    return local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)


def range_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) covering the local days first..last inclusive (e.g. an audit's window)."""
    return local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return as_utc(moment).astimezone(tz).date()


def today(tz: ZoneInfo, now: datetime | None = None) -> date:
    from django.utils import timezone

    return local_date(now or timezone.now(), tz)


def current_week(tz: ZoneInfo, now: datetime | None = None) -> date:
    return monday_of(today(tz, now))


def days(first: date, last: date) -> Iterator[date]:
    """Every date from first to last inclusive."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is refused (it names no instant)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no UTC offset.")
    return moment.astimezone(UTC)


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real elapsed time, DST-proof."""
    return as_utc(end) - as_utc(start)


def to_hours(duration: timedelta | None) -> Decimal:
    """Hours with two decimals (half up), as every figure of the app shows them.

    Exact: whole microseconds divided in Decimal, never through a float.
    """
    if not duration:
        return Decimal("0.00")
    micro = duration // timedelta(microseconds=1)
    return (Decimal(micro) / MICROSECONDS_PER_HOUR).quantize(TWO_PLACES, ROUND_HALF_UP)


def hours_between(start: datetime, end: datetime) -> Decimal:
    return to_hours(elapsed(start, end))


def clip(
    start: datetime, end: datetime, window_start: datetime, window_end: datetime
) -> tuple[datetime, datetime] | None:
    """The part of [start, end) inside [window_start, window_end), in UTC, or None.

    Compared in UTC: Python compares two datetimes of the same zone by wall-clock time,
    ignoring ``fold``, which is wrong inside the repeated hour of a DST fall-back.
    """
    start, end, window_start, window_end = (as_utc(m) for m in (start, end, window_start, window_end))
    lo, hi = max(start, window_start), min(end, window_end)
    return (lo, hi) if lo < hi else None


def split_by_day(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[date, datetime, datetime]]:
    """[start, end) cut at each local midnight: (local date, piece start, piece end), pieces in UTC."""
    pieces = []
    end = as_utc(end)
    day = local_date(start, tz)
    while True:
        lo, hi = day_bounds(day, tz)
        if lo >= end:
            break
        if part := clip(start, end, lo, hi):
            pieces.append((day, *part))
        day += timedelta(days=1)
    return pieces


def split_by_week(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[date, datetime, datetime]]:
    """[start, end) cut at each local Monday 00:00: (week's Monday, piece start, piece end), in UTC.

    The KPI rollup and the audit report both cut entries here (SPEC 1 "Weeks").
    """
    pieces = []
    end = as_utc(end)
    monday = monday_of(local_date(start, tz))
    while True:
        lo, hi = week_bounds(monday, tz)
        if lo >= end:
            break
        if part := clip(start, end, lo, hi):
            pieces.append((monday, *part))
        monday += timedelta(days=7)
    return pieces
