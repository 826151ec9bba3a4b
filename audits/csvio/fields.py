"""Parsing single fields of a row: timestamps, tracker dates and times in the org's zone, tags."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from audits.models import Tag
from msp_ops.lib import weeks

T = TypeVar("T")

# --- field parsing --------------------------------------------------------------------


class RowProblem(Exception):
    def __init__(self, column: str, message: str):
        self.column = column
        self.message = message


class RowProblems(Exception):
    """Every problem found in one row, in the order its columns were read."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems


class Problems:
    """Reads a row's columns one after the other, keeping each column's problem instead of
    stopping at the first (``take``), then raises them together (``check``): the report lists
    every problem of a row at once."""

    def __init__(self) -> None:
        self.found: list[RowProblem] = []

    def add(self, column: str, message: str) -> None:
        self.found.append(RowProblem(column, message))

    def take(self, parse: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``parse(*args, **kwargs)``, or None after keeping its problem."""
        try:
            return parse(*args, **kwargs)
        except RowProblem as problem:
            self.found.append(problem)
            return None

    def check(self) -> None:
        if self.found:
            raise RowProblems(self.found)


_TAG_WORDS = {re.sub(r"[\s_\-]", "", tag.value): tag.value for tag in Tag} | {
    "ownerbyhabit": Tag.OWNER_BY_HABIT.value,
    "owneronlybyhabit": Tag.OWNER_BY_HABIT.value,
    "ownerhabit": Tag.OWNER_BY_HABIT.value,
    "systematizable": Tag.SYSTEMIZABLE.value,
}


def match_tag(word: str) -> str | None:
    """One of our four tags, compared without case, spaces, hyphens or underscores."""
    return _TAG_WORDS.get(re.sub(r"[\s_\-\"']", "", word.lower()))


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def parse_boolean(value: str, column: str) -> bool | None:
    value = value.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise RowProblem(column, f"'{value}' is not a boolean; use true, false or leave it blank.")


def parse_timestamp(value: str, column: str) -> datetime:
    value = value.strip()
    if not value:
        raise RowProblem(column, "This column is required.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RowProblem(
            column, f"'{value}' is not an ISO 8601 timestamp, e.g. 2025-03-03T09:00:00-06:00."
        ) from None
    if moment.tzinfo is None:
        raise RowProblem(column, f"'{value}' has no UTC offset; write e.g. 2025-03-03T09:00:00-06:00.")
    return moment


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")


def parse_tracker_date(value: str, column: str) -> date:
    value = value.strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise RowProblem(column, f"'{value}' is not a date (YYYY-MM-DD, MM/DD/YYYY or DD.MM.YYYY).")


def parse_tracker_time(value: str, column: str) -> time:
    value = " ".join(value.strip().upper().split())
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(value, pattern).time()
        except ValueError:
            continue
    raise RowProblem(column, f"'{value}' is not a time of day (HH:MM:SS, HH:MM or 09:00:00 AM).")


def local_moment(
    day: date, at: time, tz: ZoneInfo, column: str, *, after: datetime | None = None
) -> datetime:
    """``weeks.local_moment`` for a tracker's date and time columns; a skipped time is a row problem.

    A time that does not exist (the hour skipped when DST starts) is an error. A time that
    happens twice (the hour repeated when DST ends) is read as its first occurrence, except
    that an end time takes the second one when the first would not be after ``after``.
    """
    try:
        return weeks.local_moment(day, at, tz, after=after)
    except weeks.NonexistentLocalTime:
        raise RowProblem(
            column,
            f"{datetime.combine(day, at):%Y-%m-%d %H:%M} does not exist in {weeks.zone_name(tz)} (clocks "
            "skip that hour when daylight saving time starts).",
        ) from None
