"""Values to and from the rollup's hand-written queries, at the cost of a string or an integer.

psycopg renders a list of datetimes as an array literal element by element in Python, and loads
each timestamp or interval of a result through Django's loaders; for the rollup's many-week
queries those conversions cost more than the queries. Arrays of moments travel as one string
(``::timestamptz[]`` in the query), durations and moments come back as integer microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamptz_array(moments: Iterable[datetime]) -> str:
    """A ``timestamptz[]`` literal of aware datetimes (ISO 8601, which needs no quoting)."""
    return "{" + ",".join(moment.isoformat() for moment in moments) + "}"


def micros(expression: str) -> str:
    """SQL: an interval or a timestamptz as whole microseconds (a timestamptz since the epoch)."""
    return f"(EXTRACT(EPOCH FROM {expression}) * 1000000)::bigint"


def from_micros(value: int) -> datetime:
    """The aware UTC datetime ``value`` microseconds after the epoch (exact, no float)."""
    return EPOCH + timedelta(microseconds=value)
