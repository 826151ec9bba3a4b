"""Django's PostgreSQL backend with a health check that costs no round trip.

``CONN_HEALTH_CHECKS`` makes Django send ``SELECT 1`` before the first query of every request
that reuses a persistent connection: one round trip of the four an API request needs. This
backend asks the socket instead. An idle connection in autocommit has nothing to read, so a
readable socket means the server said something on its own, most often that it closed the
connection (a restart, ``pg_terminate_backend``, an idle timeout); only then is ``SELECT 1``
sent, and the connection replaced if that fails. A connection psycopg already knows to be
broken is replaced at once. Either way the request runs on a working connection.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if self.connection is None or not self.health_check_enabled or self.health_check_done or self.pool:
            return
        if not self._socket_is_quiet() and not self.is_usable():
            self.close()
        self.health_check_done = True

    def _socket_is_quiet(self) -> bool:
        """Whether the connection is open with nothing waiting to be read (no round trip)."""
        pgconn = self.connection.pgconn
        if self.connection.closed or pgconn.status != pq.ConnStatus.OK:
            return False
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
        return not poller.poll(0)
