"""All week and day arithmetic, in the organization's time zone (SPEC 1 "Weeks"; STYLE 5).

A week runs Monday 00:00 to the next Monday 00:00 local time and is named by its Monday.
Durations are always computed through UTC: Python subtracts two datetimes of the same zone
as wall-clock times, which would make the DST weeks 168 h instead of 167 or 169.

It is also the one place where a local date and wall-clock time become an instant
(``local_moment``; a time skipped by the spring-forward gap is refused, a time repeated by
the fall-back is read as its first occurrence) and where an instant is moved by a duration
(``plus``/``minus``, in real time): the CSV reader, the entry form, the quick-add line and
the timer all go through here.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
# A time given without its UTC offset names no instant (SPEC 4: a naive timestamp is a 400).
NAIVE_TIME_MESSAGE = "Give the time with a UTC offset, e.g. 2025-03-03T09:00:00-06:00."
TWO_PLACES = Decimal("0.01")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ZERO = timedelta(0)


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


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer (Jan 31 + 1: Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


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
    return micros_to_hours(duration // timedelta(microseconds=1))


def micros_to_hours(micros: int) -> Decimal:
    """``to_hours`` of a duration given in whole microseconds (as the database sums them)."""
    if not micros:
        return Decimal("0.00")
    return (Decimal(micros) / MICROSECONDS_PER_HOUR).quantize(TWO_PLACES, ROUND_HALF_UP)


_HOUR_MICROS = 3_600_000_000


def micros_to_hours_float(micros: int) -> float:
    """``float(micros_to_hours(micros))`` in integers, for a duration of zero or more (an API
    list's ``duration_hours`` a row): the hundredths rounded half up, then one division, which
    rounds to the nearest float as ``float(Decimal)`` does."""
    return (micros * 200 + _HOUR_MICROS) // (2 * _HOUR_MICROS) / 100


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


# --- wall-clock times <-> instants ------------------------------------------------------


class NonexistentLocalTime(ValueError):
    """A wall-clock time the zone skips (clocks jump forward); ``str(error)`` is fit for a user.

    ``skipped_from`` and ``skipped_to`` are the naive local times of the jump: every wall-clock
    time in [skipped_from, skipped_to) does not exist that day.
    """

    def __init__(self, day: date, at: time, tz: ZoneInfo, skipped_from: datetime, skipped_to: datetime):
        self.day, self.at, self.tz = day, at, tz
        self.skipped_from, self.skipped_to = skipped_from, skipped_to
        jump_from, to = clock_text(skipped_from.time()), clock_text(skipped_to.time())
        if skipped_to.date() != skipped_from.date():
            jump_from += f" on {skipped_from.date().isoformat()}"
            to += f" on {skipped_to.date().isoformat()}"
        naive = datetime.combine(day, at.replace(tzinfo=None))
        dst_before = naive.replace(tzinfo=tz, fold=0).dst() or ZERO
        dst_after = naive.replace(tzinfo=tz, fold=1).dst() or ZERO
        why = " (daylight saving time starts)" if dst_after > dst_before else ""
        super().__init__(
            f"{clock_text(at)} does not exist on {day.isoformat()} in {zone_name(tz)}: clocks jump "
            f"from {jump_from} to {to}{why}."
        )


def clock_text(at: time) -> str:
    """``2:30``, ``14:05``, ``2:30:15``: a wall-clock time as messages write it."""
    text = f"{at.hour}:{at.minute:02d}"
    return f"{text}:{at.second:02d}" if at.second or at.microsecond else text


def zone_name(tz: ZoneInfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def local_moment(
    day: date, at: time, tz: ZoneInfo, *, fold: int = 0, after: datetime | None = None
) -> datetime:
    """The instant of the wall-clock time ``at`` on ``day`` in ``tz``, as an aware datetime in ``tz``.

    - A time the zone skips (the spring-forward gap, e.g. 2:30 on 2026-03-08 in Chicago)
      raises NonexistentLocalTime: it names no instant, and reading it with either offset
      could make an entry end before it starts.
    - A time the zone repeats (the fall-back hour, e.g. 1:30 on 2026-11-01 in Chicago) is its
      first occurrence (daylight time) with ``fold=0``, the default, and its second with
      ``fold=1``. With ``after`` (the start, when reading an end), a time whose first
      occurrence is not after ``after`` is its second occurrence: 1:50 to 1:10 that night is
      20 minutes. Outside those hours ``fold`` and ``after`` change nothing.

    The result carries ``fold``; compare and subtract it through UTC (``elapsed``, ``clip``):
    Python compares and subtracts two datetimes of one zone by their wall clocks.
    """
    if fold not in (0, 1):
        raise ValueError("fold is 0 (first occurrence) or 1 (second occurrence).")
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    if as_utc(first) > as_utc(second):
        # In a gap, zoneinfo's fold=0 reads the time with the offset before the jump and
        # fold=1 with the one after: the first reading lands later, no real reading exists.
        raise NonexistentLocalTime(day, at, tz, *_skipped(naive, tz))
    if fold == 1 or (after is not None and as_utc(first) <= as_utc(after)):
        return second
    return first


def _skipped(naive: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The naive local times [from, to) of the forward jump that skips ``naive``."""
    before = naive.replace(tzinfo=tz, fold=0).utcoffset()
    after = naive.replace(tzinfo=tz, fold=1).utcoffset()
    # The jump happens at an instant in (naive - after, naive - before]: find it to the second.
    lo = math.floor((naive - after).replace(tzinfo=UTC).timestamp())
    hi = math.ceil((naive - before).replace(tzinfo=UTC).timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    jump = datetime.fromtimestamp(hi, UTC).replace(tzinfo=None)
    return jump + before, jump + after


def to_local(moment: datetime, tz: ZoneInfo) -> datetime:
    """The same instant on the wall clocks of ``tz`` (always one reading; ``fold`` set)."""
    return as_utc(moment).astimezone(tz)


def plus(moment: datetime, duration: timedelta) -> datetime:
    """The instant ``duration`` of real time after ``moment``, in ``moment``'s zone.

    Through UTC: ``moment + duration`` on a zone-aware datetime adds wall-clock time, so
    45 minutes before 3:10 on a spring-forward morning would be 2:25, a time that never
    happens, and 30 minutes after 1:50 on a fall-back night would be 2:20, 90 real minutes on.
    """
    return (as_utc(moment) + duration).astimezone(moment.tzinfo)


def minus(moment: datetime, duration: timedelta) -> datetime:
    """The instant ``duration`` of real time before ``moment``, in ``moment``'s zone."""
    return plus(moment, -duration)


def floor_minute(moment: datetime) -> datetime:
    """The instant truncated to its minute (in UTC, so a fold is kept)."""
    return as_utc(moment).replace(second=0, microsecond=0).astimezone(moment.tzinfo)
