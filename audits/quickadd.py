"""The Today page's quick-add line: one line of text -> the fields of a time entry.

A pure function (no database): the caller passes the day shown, the org's time zone, the
current moment, the active category slugs and where the day's last entry ends. Syntax
(docs/time-audit.md)::

    9:00-9:45 Password resets for Acme @tickets #repetitive #outsourceable T#1234 !urgent
    45m Vendor call @vendor-calls      1h30m ...      1.5h ...      9am-10:15am ...

A duration ends now when the day shown is today; on any other day it starts where that
day's last entry ends (09:00 when the day has none), so a founder catching up on a past
day types the durations one after another.

Local times become instants through ``msp_ops.lib.weeks`` only: a time skipped by the
spring-forward gap is refused with a message, a time the fall-back repeats is its first
occurrence, and a duration is real time ("45m" typed at 3:10 on the spring-forward morning
starts at 1:25).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from audits.models import ENDS_BEFORE_START, MAX_ACTIVITY_LENGTH, MAX_ENTRY_DURATION, TOO_LONG, Handling, Tag
from msp_ops.lib import weeks

START_HINT = "Start with a time range like 9:00-9:45 or a duration like 45m."
ACTIVITY_TOO_LONG = f"Keep the activity under {MAX_ACTIVITY_LENGTH} characters."
DAY_START_WITHOUT_ENTRIES = time(9, 0)
TAGS = [tag.value for tag in Tag]

_CLOCK = r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap]\.?m\.?)?"
_RANGE = re.compile(rf"^{_CLOCK}\s*(?:-|–|to)\s*{_CLOCK}(?=\s|$)", re.IGNORECASE)
_DURATION = re.compile(
    r"^(?:(\d+(?:[.,]\d+)?)\s*h(?:rs?|ours?)?(?:\s*(\d+)\s*m(?:in)?s?)?|(\d+)\s*m(?:in)?s?)(?=\s|$)",
    re.IGNORECASE,
)
_TICKET = re.compile(r"^T#([\w-]+)$", re.IGNORECASE)
_FLAGS = {
    "delegated": ("handling", Handling.DELEGATED),
    "personal": ("handling", Handling.PERSONAL),
    "urgent": ("urgent", True),
    "not-urgent": ("urgent", False),
    "noturgent": ("urgent", False),
    "important": ("important", True),
    "not-important": ("important", False),
    "notimportant": ("important", False),
}


class QuickAddError(ValueError):
    """The line cannot be understood; ``str(error)`` is the message shown under it."""


@dataclass
class QuickAdd:
    started_at: datetime
    ended_at: datetime
    activity: str
    category: str | None = None  # a slug; None means the default category
    tags: list[str] = field(default_factory=list)
    handling: str = Handling.PERSONAL
    urgent: bool | None = None
    important: bool | None = None
    client: str = ""
    ticket_ref: str = ""


def parse_quick_add(
    text: str,
    *,
    day: date,
    tz: ZoneInfo,
    now: datetime,
    categories: Collection[str],
    last_end: datetime | None = None,
) -> QuickAdd:
    """Parses one quick-add line for ``day`` (local, in ``tz``); raises QuickAddError.

    ``categories`` are the slugs a new entry may use; ``last_end`` is when the day's last
    entry ends (durations on a day other than today start there).
    """
    line = " ".join(text.split())
    if not line:
        raise QuickAddError(f"Type what you did. {START_HINT}")
    started_at, ended_at, rest = _when(line, day=day, tz=tz, now=now, last_end=last_end)
    length = weeks.elapsed(started_at, ended_at)
    if length <= timedelta(0):  # cannot happen with the rules above; never store one
        raise QuickAddError(ENDS_BEFORE_START)
    if length > MAX_ENTRY_DURATION:
        raise QuickAddError(TOO_LONG)

    result = QuickAdd(started_at=started_at, ended_at=ended_at, activity="")
    words = []
    flags: dict[str, object] = {}
    for word in rest.split():
        if _is_marker(word, "@"):
            result.category = _category(word, categories)
        elif _is_marker(word, "#"):
            if (tag := _tag(word)) not in result.tags:
                result.tags.append(tag)
        elif _is_marker(word, "!"):
            flag = word[1:].lower()
            if flag not in _FLAGS:
                known = ", ".join(f"!{f}" for f in ("delegated", "urgent", "important"))
                raise QuickAddError(f"Unknown flag !{word[1:]}. Flags are: {known}.")
            name, value = _FLAGS[flag]
            flags[name] = value
        elif match := _TICKET.match(word):
            result.ticket_ref = match.group(1)
        else:
            words.append(word)

    result.tags.sort(key=TAGS.index)
    result.handling = flags.get("handling", Handling.PERSONAL)
    if "urgent" in flags or "important" in flags:
        # Naming one quadrant flag assesses the entry: the one left out is "no".
        result.urgent = bool(flags.get("urgent", False))
        result.important = bool(flags.get("important", False))
    result.activity, result.client = _activity_and_client(words)
    if not result.activity:
        raise QuickAddError("Say what you did after the time, e.g. '45m Vendor call'.")
    if len(result.activity) > MAX_ACTIVITY_LENGTH:
        raise QuickAddError(ACTIVITY_TOO_LONG)
    return result


@dataclass
class TimerLine:
    activity: str
    category: str | None
    tags: list[str]


def parse_timer_line(text: str, *, categories: Collection[str]) -> TimerLine:
    """The timer's "what": ``Vendor call @vendor-calls #repetitive``; no time, may be empty.

    Only ``@category`` and ``#tag`` are markers here (a running timer stores nothing else);
    every other word stays in the activity.
    """
    result = TimerLine(activity="", category=None, tags=[])
    words = []
    for word in text.split():
        if _is_marker(word, "@"):
            result.category = _category(word, categories)
        elif _is_marker(word, "#"):
            if (tag := _tag(word)) not in result.tags:
                result.tags.append(tag)
        else:
            words.append(word)
    result.tags.sort(key=TAGS.index)
    result.activity = " ".join(words)
    if len(result.activity) > MAX_ACTIVITY_LENGTH:
        raise QuickAddError(ACTIVITY_TOO_LONG)
    return result


def _is_marker(word: str, sign: str) -> bool:
    return word.startswith(sign) and len(word) > 1


def _category(word: str, categories: Collection[str]) -> str:
    slug = word[1:].lower()
    if slug not in categories:
        few = ", ".join(f"@{s}" for s in sorted(categories)[:6])
        raise QuickAddError(f"Unknown category @{slug}. Try one of: {few} ...")
    return slug


def _tag(word: str) -> str:
    tag = word[1:].lower().replace("-", "_")
    if tag not in TAGS:
        raise QuickAddError(f"Unknown tag #{word[1:]}. Tags are: {', '.join('#' + t for t in TAGS)}.")
    return tag


def _activity_and_client(words: list[str]) -> tuple[str, str]:
    """``<activity> for <client>``: the last 'for' that has words on both sides."""
    for index in range(len(words) - 2, 0, -1):
        if words[index].lower() == "for":
            return " ".join(words[:index]), " ".join(words[index + 1 :])[:200]
    return " ".join(words), ""


def _when(
    line: str, *, day: date, tz: ZoneInfo, now: datetime, last_end: datetime | None
) -> tuple[datetime, datetime, str]:
    if match := _RANGE.match(line):
        h1, m1, mer1, h2, m2, mer2 = match.groups()
        if mer2 and not mer1 and _clock(h1, m1, mer2) is not None:
            # "9-10am": the start shares the end's am/pm unless that puts it after the end.
            start_clock = _clock(h1, m1, mer2)
            end_clock = _clock(h2, m2, mer2)
            if start_clock is not None and end_clock is not None and start_clock >= end_clock:
                start_clock = _clock(h1, m1, "am")
        else:
            start_clock = _clock(h1, m1, mer1)
            end_clock = _clock(h2, m2, mer2)
        if start_clock is None or end_clock is None:
            raise QuickAddError(f"'{match.group(0)}' is not a time range. {START_HINT}")
        if start_clock == end_clock:
            raise QuickAddError(f"'{match.group(0)}' starts and ends at the same time.")
        started_at = _local(day, start_clock, tz)
        end_day = day if end_clock > start_clock else day + timedelta(days=1)  # past midnight
        ended_at = _local(end_day, end_clock, tz, after=started_at)
        return started_at, ended_at, line[match.end() :]
    if match := _DURATION.match(line):
        hours, extra_minutes, minutes = match.groups()
        try:
            if minutes is not None:
                length = timedelta(minutes=int(minutes))
            else:
                length = timedelta(hours=float(Decimal(hours.replace(",", "."))))
                length += timedelta(minutes=int(extra_minutes or 0))
        except InvalidOperation:
            raise QuickAddError(START_HINT) from None
        except OverflowError:  # more days than a timedelta holds: far past the limit
            raise QuickAddError(TOO_LONG) from None
        length = timedelta(seconds=round(length.total_seconds() / 60) * 60)
        if length <= timedelta(0):
            raise QuickAddError("A duration must be at least one minute.")
        if weeks.local_date(now, tz) == day:
            # Real minutes before now: 45m at 3:10 on a spring-forward morning starts at 1:25.
            ended_at = weeks.floor_minute(weeks.to_local(now, tz))
            return weeks.minus(ended_at, length), ended_at, line[match.end() :]
        started_at = last_end or _local(day, DAY_START_WITHOUT_ENTRIES, tz)
        return started_at, weeks.plus(started_at, length), line[match.end() :]
    raise QuickAddError(START_HINT)


def _local(day: date, at: time, tz: ZoneInfo, *, after: datetime | None = None) -> datetime:
    """``weeks.local_moment``: a time in the spring-forward gap is refused with its message."""
    try:
        return weeks.local_moment(day, at, tz, after=after)
    except weeks.NonexistentLocalTime as error:
        raise QuickAddError(str(error)) from None


def _clock(hour: str, minute: str | None, meridiem: str | None) -> time | None:
    """A wall-clock time from '9', '9:30', '9am', '12:15pm'; None when out of range."""
    h, m = int(hour), int(minute or 0)
    if m > 59:
        return None
    if meridiem:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if meridiem.lower().startswith("p") else 0)
    elif h > 23:
        return None
    return time(h, m)
