"""The one fast path of every list endpoint: a page read as rows, not as model objects (issue 12).

A page of 1,000 time entries spent nine tenths of its time outside the serializer's own code:
building three model objects per row (the entry, its member, its category), loading each
timestamp through the Python-level loader Django installs on psycopg, and encoding the answer
with the standard library's ``json``. A list page now

- reads only the columns its answer shows, with ``values_list`` (filters, scope, ordering and
  the cursor's keyset are the queryset's, unchanged: still one query for the page);
- loads them with psycopg's own loaders (compiled in psycopg-binary) on that query's cursor;
- builds each answer object with one function generated once per viewset from the
  serializer's fields (``ReadPlan``), the same keys in the same order as its
  ``to_representation``;
- is encoded by ``msp_ops.api.renderers.OrjsonRenderer``, which writes the page's timestamps
  (datetimes in the organization's zone, ``Rows``) itself, as ``isoformat`` would.

A serializer field maps to its column by name: a model field of that name; a foreign key
answered as an integer is its ``<name>_id``, one answered as text naming a member is the
member's username. What a serializer answers otherwise it names in ``read_sources``::

    class TimeEntrySerializer(StrictSerializer):
        read_sources = {
            "category": "category__slug",                       # a column (or annotation)
            "tags": Computed(TAG_COLUMNS, tags_from_columns),   # a value from several columns
        }

The column's value is then converted as the serializer field answers it: a timestamp in the
organization's zone with its offset (``isoformat``), a date as ``YYYY-MM-DD``, a time with the
field's format, a decimal as a JSON number; text, choices, booleans and integers as stored.
A field this cannot map (not a column, not declared, or of a kind not listed) leaves the
endpoint on the object path (``prepare()`` and ``to_representation``), as does a viewset
with ``fast_reads = False``. ``tests/api/test_fast_reads.py`` holds every list endpoint's
answer equal to the object path's, field for field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connections
from django.db.models import QuerySet
from rest_framework import serializers

from msp_ops.api.serializers import JsonNumberField


@dataclass(frozen=True)
class Computed:
    """A value computed from several columns: ``convert(*values)``, or
    ``convert(*values, context)`` with ``needs_context`` (e.g. ``context["now"]``)."""

    columns: tuple[str, ...]
    convert: Callable[..., Any]
    needs_context: bool = False


Source = str | Computed

# How a column's value becomes the answer's, by the serializer field's class (first match).
# Each is a Python expression of the value ``{v}`` (never None there: None answers null), or
# None: the value as stored. Every timestamp of the API is answered in the organization's zone.
_EXPRESSIONS: tuple[tuple[type[serializers.Field], str | None], ...] = (
    # A datetime in the zone, which orjson writes as ``isoformat`` does, faster; before ``exact``
    # (the zone's last offset that is no whole number of minutes) the text itself.
    (serializers.DateTimeField, "({v}.astimezone(tz) if {v} >= exact else {v}.astimezone(tz).isoformat())"),
    (serializers.DateField, "{v}.isoformat()"),
    (JsonNumberField, "float({v})"),
    (serializers.FloatField, "float({v})"),
    (serializers.BooleanField, None),
    (serializers.ChoiceField, None),
    (serializers.IntegerField, None),
    (serializers.CharField, None),
)
_UNKNOWN = "unknown"


def _expression(field: serializers.Field) -> str | None:
    if isinstance(field, serializers.TimeField):
        return f"{{v}}.strftime({field.format!r})" if isinstance(field.format, str) else "{v}.isoformat()"
    for kind, expression in _EXPRESSIONS:
        if isinstance(field, kind):
            return expression
    return _UNKNOWN


def _default_source(model: type, name: str, field: serializers.Field) -> str | None:
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if model_field.many_to_one or model_field.one_to_one:
        if isinstance(field, serializers.IntegerField):
            return model_field.attname
        user_model = get_user_model()
        if isinstance(field, serializers.CharField) and model_field.related_model is user_model:
            return f"{name}__{user_model.USERNAME_FIELD}"
        return None
    if model_field.is_relation or not model_field.concrete:
        return None
    return name


class ReadPlan:
    """The columns of one viewset's list answer and the function building its objects."""

    def __init__(self, columns: Sequence[str], build: Callable, position: Callable) -> None:
        self.columns = tuple(columns)
        self._build = build
        self.position = position  # row -> the values of the viewset's ordering (the cursor)

    @classmethod
    def for_viewset(cls, viewset: type) -> ReadPlan | None:
        """The plan of ``viewset`` (built once per class), or None: the object path."""
        cache = viewset.__dict__.get("_read_plan_cache")
        if cache is None:
            cache = cls._plan(viewset)
            viewset._read_plan_cache = cache
        return cache or None

    @classmethod
    def _plan(cls, viewset: type) -> ReadPlan | bool:
        if not getattr(viewset, "fast_reads", True):
            return False
        serializer_class = viewset.serializer_class
        model = viewset.model
        declared: dict[str, Source] = getattr(serializer_class, "read_sources", {})
        columns: list[str] = []

        def column(path: str) -> int:
            if path not in columns:
                columns.append(path)
            return columns.index(path)

        names: dict[str, Any] = {}
        items: list[str] = []
        for name, field in serializer_class().fields.items():
            if field.write_only:
                continue
            source = declared.get(name) or _default_source(model, name, field)
            if source is None:
                return False
            if isinstance(source, Computed):
                args = [f"r[{column(path)}]" for path in source.columns]
                if source.needs_context:
                    args.append("context")
                names[f"c{len(names)}"] = source.convert
                value = f"c{len(names) - 1}({', '.join(args)})"
            else:
                expression = _expression(field)
                if expression is _UNKNOWN:
                    return False
                v = f"r[{column(source)}]"
                value = v if expression is None else f"(None if {v} is None else {expression.format(v=v)})"
            items.append(f"{name!r}: {value}")
        ordering = [column(name.lstrip("-")) for name in viewset.ordering]
        source = (
            "def build(rows, context):\n"
            "    tz = context['tz']\n"
            "    exact = whole_minutes_since(tz)\n"
            f"    return [{{{', '.join(items)}}} for r in rows]\n"
        )
        namespace: dict[str, Any] = {**names, "whole_minutes_since": whole_minutes_since}
        exec(compile(source, f"<read plan of {viewset.__qualname__}>", "exec"), namespace)

        def position(row: Sequence[Any]) -> list[Any]:
            return [row[index] for index in ordering]

        return cls(columns, namespace["build"], position)

    # --- a page ------------------------------------------------------------------------

    def fetch(self, queryset: QuerySet) -> list[Sequence[Any]]:
        """The rows of ``queryset`` (ordered and sliced), one tuple of ``columns`` each, in one query."""
        rows_query = queryset.values_list(*self.columns)
        compiler = rows_query.query.get_compiler(using=rows_query.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return []
        connection = connections[rows_query.db]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                _use_psycopg_loaders(cursor.cursor)
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        converters = compiler.get_converters([expression for expression, _, _ in compiler.select])
        if converters:
            rows = list(compiler.apply_converters(rows, converters))
        return rows

    def answer(self, rows: list[Sequence[Any]], context: dict[str, Any]) -> Rows:
        return Rows(self._build(rows, context))


class Rows(list):
    """A page's answer objects built by a plan: JSON types, and timestamps as datetimes in the
    organization's zone that ``msp_ops.api.renderers`` writes natively (as ``isoformat``)."""


_FIRST, _LAST_ODD = datetime(1900, 1, 1, tzinfo=UTC), datetime(1980, 1, 1, tzinfo=UTC)


@functools.cache
def whole_minutes_since(tz: tzinfo) -> datetime:
    """The instant from which every UTC offset of ``tz`` is a whole number of minutes.

    orjson writes an offset in hours and minutes, ``isoformat`` with its seconds
    (``-00:44:30``, Monrovia's mean time until 1972); such instants stay ``isoformat`` text.
    Found once per zone: a look every 30 days from 1900 to 1980 (local mean times lasted
    years and ended by 1979), then to the second after the last odd one.
    """

    def odd(moment: int) -> bool:
        return bool(datetime.fromtimestamp(moment, tz).utcoffset() % timedelta(minutes=1))

    step = 30 * 86_400
    looks = range(int(_FIRST.timestamp()), int(_LAST_ODD.timestamp()), step)
    last = next((moment for moment in reversed(looks) if odd(moment)), None)
    if last is None:
        return _FIRST
    good = last + step
    while odd(good):  # still odd a step later: go on
        last, good = good, good + step
    while good - last > 1:
        middle = (last + good) // 2
        last, good = (middle, good) if odd(middle) else (last, middle)
    return datetime.fromtimestamp(good, UTC)


def _use_psycopg_loaders(cursor) -> None:
    """psycopg's compiled timestamp loader on this cursor, instead of the Python subclass
    Django installs on the connection (8 µs a value). Both give the same instant; the
    answer shows it in the organization's zone either way."""
    from psycopg.types.datetime import TimestamptzLoader

    cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
