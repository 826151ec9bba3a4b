"""Hot statements planned once per database connection, not once per call (PostgreSQL).

The API token's lookup joins four tables; PostgreSQL spent 0.5 to 1 ms planning it and 0.15 ms
running it, on every API request. A ``Prepared`` statement is sent as ``PREPARE`` the first
time a connection runs it and as ``EXECUTE name(...)`` from then on (the parameters still
quoted by the driver), so it is planned once for the connection's life.

A prepared statement lives in the database session. A session reset (``DISCARD ALL``, sent by a
pooler between clients) forgets it: the ``EXECUTE`` then fails with "prepared statement does
not exist", and outside a transaction the statement is prepared again and run once more. A
pooler in transaction mode (PgBouncer's ``pool_mode = transaction``) hands each transaction to
any server connection, where the statement may never have been prepared: set
``DB_PREPARED_STATEMENTS=false`` there (``settings.PREPARED_STATEMENTS``), and every statement
is sent whole instead. On other databases (SQLite) it always is.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection
from psycopg.errors import InvalidSqlStatementName

# The names prepared on each psycopg connection (a new connection starts empty).
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


class Prepared:
    """A statement with ``%s`` placeholders and their PostgreSQL types, prepared on demand.

    ``sql`` may be a function returning the text, for a statement written from the models at
    first use (after the apps are loaded)."""

    def __init__(self, name: str, sql: str | Callable[[], str], types: Sequence[str]) -> None:
        self.name = name
        self._sql = sql
        self.types = tuple(types)

    @property
    def sql(self) -> str:
        if callable(self._sql):
            self._sql = self._sql()
        return self._sql

    @property
    def call(self) -> str:
        """``EXECUTE name(%s, ...)``: to run it, or to write it into a longer text (``run``)."""
        return f"EXECUTE {self.name}({', '.join(['%s'] * len(self.types))})"

    def execute(self, cursor, params: Sequence[Any]) -> None:
        """Runs the statement on ``cursor`` (Django's), prepared or, when that is off, whole."""
        if not enabled():
            cursor.execute(self.sql, params)
            return
        self.run(cursor, self.call, params)

    def run(
        self,
        cursor,
        text: str,
        params: Sequence[Any] | None = None,
        *,
        retry: bool | None = None,
        recover: Callable[[], None] | None = None,
    ) -> None:
        """Runs ``text``, which uses the statement (``call``); the first time on a connection
        with ``PREPARE`` in front, in the same round trip (the cursor is then moved past its
        result). If the session has forgotten the statement, prepares it again and runs ``text``
        once more: when ``retry`` (default: outside a transaction), after ``recover()`` (e.g.
        rolling back a transaction ``text`` left open). Any other error is the caller's."""
        names = _prepared.setdefault(connection.connection, set())
        for attempt in (1, 2):
            fresh = self.name not in names
            # A PREPARE outlives a rollback of its transaction: once sent, the name is there.
            names.add(self.name)
            try:
                sent = f"{self._prepare(escape=params is not None)}; {text}" if fresh else text
                cursor.execute(sent, params)
            except Exception as error:
                if not isinstance(error.__cause__, InvalidSqlStatementName):  # Django wraps it
                    raise
                names.discard(self.name)
                if attempt == 2 or not (retry if retry is not None else not connection.in_atomic_block):
                    raise
                if recover is not None:
                    recover()
                continue
            if fresh:
                cursor.nextset()
            return

    def _prepare(self, *, escape: bool) -> str:
        """``PREPARE``: the placeholders numbered, ``%%`` a ``%`` again (``escape``: doubled, for
        a text sent with parameters)."""
        body = self.sql
        for number in range(1, len(self.types) + 1):
            body = body.replace("%s", f"${number}", 1)
        text = f"PREPARE {self.name}({', '.join(self.types)}) AS {body.replace('%%', '%')}"
        return text.replace("%", "%%") if escape else text


def enabled() -> bool:
    """Whether statements are prepared: on PostgreSQL, unless ``PREPARED_STATEMENTS`` is off."""
    return connection.vendor == "postgresql" and getattr(settings, "PREPARED_STATEMENTS", True)
