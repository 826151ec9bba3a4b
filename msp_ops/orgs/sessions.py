"""Web sessions in the database (Django's ``db`` engine), each page's read of its session a
statement written once per process (``msp_ops.lib.rawrows``).

Every signed-in page reads its session first. The ORM spent about 1 ms of Python building and
compiling ``Session.objects.get(session_key=..., expire_date__gt=now)`` on each request, for a
lookup PostgreSQL answers in 0.2 ms. Writing, expiring and deleting sessions are Django's own
(``SESSION_ENGINE = "msp_ops.orgs.sessions"``; the table and its rows are the ``db`` engine's,
so switching between the two loses no session).
"""

from __future__ import annotations

from functools import cache

from django.contrib.sessions.backends import db
from django.db import models
from django.utils import timezone

from msp_ops.lib.rawrows import RowReader, db_dates, fetch_first


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> models.Model | None:
        """The session of this key that has not expired, as the ``db`` engine reads it; None
        (and the key dropped: a new session is made when saved) otherwise."""
        sql, reader = _session_statement(self.model)
        found = fetch_first(sql, [self.session_key, *db_dates(timezone.now())], reader)
        if found is None:
            self._session_key = None
        return found


@cache
def _session_statement(model: type[models.Model]) -> tuple[str, RowReader]:
    session = RowReader(model)
    sql = (
        f"SELECT {session.columns('s')} FROM {session.table} s"
        " WHERE s.session_key = %s AND s.expire_date > %s"
    )
    return sql, session
