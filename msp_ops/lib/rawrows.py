"""Model objects from rows of hand-written SQL, as the ORM makes them from its own queries.

For a hot statement whose queryset would be compiled again on every request (the API
token's lookup, an organization's categories, a page's memberships, the dashboard's reads): the
statement is written once per process and its rows become objects through ``Model.from_db``,
each column through the converters the ORM applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection, models


class RowReader:
    """Reads one model's concrete columns out of a row (``columns()`` selects them in order)."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.pk_index = self.attnames.index(model._meta.pk.attname)
        # As the ORM converts values read (none on PostgreSQL today; kept for any field to come).
        self.converters = []
        for index, f in enumerate(self.fields):
            column = f.get_col(model._meta.db_table)
            if convert := connection.ops.get_db_converters(column) + f.get_db_converters(connection):
                self.converters.append((index, column, convert))

    @property
    def table(self) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    def columns(self, alias: str) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{alias}.{quote(f.column)}" for f in self.fields)

    def read(self, row: Sequence[Any], start: int = 0) -> models.Model:
        """The object of the columns from ``start`` on (``columns()``' order)."""
        values = list(row[start : start + len(self.fields)])
        for index, column, convert in self.converters:
            for converter in convert:
                values[index] = converter(values[index], column, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def read_objects(row: Sequence[Any], readers: Sequence[RowReader]) -> tuple:
    """One object per reader out of ``row``, in the order of their columns (None where the
    reader's primary key is NULL: a LEFT JOIN's missing row), then the row's remaining columns."""
    objects, start = [], 0
    for reader in readers:
        objects.append(reader.read(row, start) if row[start + reader.pk_index] is not None else None)
        start += len(reader.fields)
    return (*objects, *row[start:])


def fetch_objects(sql: str, params: Sequence[Any], readers: Sequence[RowReader]) -> list[tuple]:
    """Runs ``sql`` and reads each row with ``read_objects``."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [read_objects(row, readers) for row in rows]


def fetch_first(sql: str, params: Sequence[Any], reader: RowReader) -> models.Model | None:
    """The object of the first row ``sql`` answers (one reader), or None without a row."""
    found = fetch_objects(sql, params, (reader,))
    return found[0][0] if found else None


def db_dates(*values: date | datetime) -> list:
    """Dates and datetimes as the ORM passes them to this database (SQLite: text), for the
    parameters of a statement."""
    ops = connection.ops
    return [
        ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else ops.adapt_datefield_value(v)
        for v in values
    ]
