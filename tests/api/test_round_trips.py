"""What one API request costs in round trips to PostgreSQL and Redis, counted as psycopg and
redis-py send them (BEGIN, COMMIT, savepoints and the health check included), outside a
test's transaction, as under gunicorn (bench/README.md lists them)."""

from __future__ import annotations

import contextlib
import select
import tempfile
from collections.abc import Iterator

import psycopg
import pytest
import redis.connection
from django.db import close_old_connections, connection
from django.test import override_settings
from psycopg import pq

from audits.models import Category, TimeEntry
from tests.api.conftest import ENTRIES, item, post

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def postgres_round_trips() -> Iterator[list[str]]:
    """The statements the connection sends (libpq's trace: a simple query or a Sync each)."""
    sent: list[str] = []
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield sent
        finally:
            pgconn.untrace()
            trace.seek(0)
            for line in trace.read().splitlines():
                parts = line.split("\t")
                if parts[0] == "F" and parts[2] in ("Query", "Sync"):
                    sent.append(parts[3][:60] if len(parts) > 3 else parts[2])


@contextlib.contextmanager
def redis_round_trips(monkeypatch) -> Iterator[list[bytes]]:
    sent: list[bytes] = []
    send = redis.connection.AbstractConnection.send_packed_command

    def spy(self, command, check_health=True):
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        return send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", spy)
    yield sent


def request(send):
    close_old_connections()  # as at the start of every request under gunicorn (the test client skips it)
    return send()


@pytest.fixture
def warm(api):
    """After a first request (it records the token's last use, once a minute)."""
    assert api.get(ENTRIES).status_code == 200
    return api


def test_one_post_is_two_round_trips_to_postgresql_and_one_to_redis(warm, org, monkeypatch):
    with postgres_round_trips() as sql, redis_round_trips(monkeypatch) as commands:
        response = request(lambda: post(warm, ENTRIES, item(category="tickets", tags=["repetitive"])))

    assert response.status_code == 201
    # The token with its member, organization and user (prepared by the first request); the
    # organization's categories, read by this process's first write for it (prepared in the same
    # round trip); the INSERT, alone in autocommit: no BEGIN/COMMIT, no savepoint, no health
    # check's SELECT 1, no members' query (the token's own member), no overlaps' query (the
    # exclusion constraint).
    # (PREPARE the first time on this connection: an earlier test may have run it.)
    assert [kind.replace("PREPARE", "EXECUTE") for kind in kinds(sql)] == [
        "EXECUTE msp_api_token",
        "EXECUTE msp_org_categories",
        "INSERT INTO",
    ], sql
    assert len(commands) == 1  # the throttle's INCR and EXPIRE, sent together
    assert TimeEntry.objects.count() == 1

    # The next write takes the categories kept: the token's row says they have not changed.
    with postgres_round_trips() as sql:
        later = item(category="tickets", started_at=LATER, ended_at=END)
        response = request(lambda: post(warm, ENTRIES, later))

    assert response.status_code == 201
    assert kinds(sql) == ["EXECUTE msp_api_token", "INSERT INTO"], sql

    # A category changed (here by a queryset's update(), which no signal sees): read again.
    Category.objects.filter(organization=org, slug="billing-admin").update(name="Billing")
    with postgres_round_trips() as sql:
        response = request(lambda: post(warm, ENTRIES, item(started_at=END, ended_at=LAST)))

    assert response.status_code == 201
    assert kinds(sql) == ["EXECUTE msp_api_token", "EXECUTE msp_org_categories", "INSERT INTO"], sql


def kinds(sql: list[str]) -> list[str]:
    """Each round trip's first two words, the name of a prepared statement without its ``(``."""
    return [" ".join(s.split()[:2]).strip('"').split("(")[0] for s in sql]


LATER, END, LAST = "2025-03-03T11:00:00-06:00", "2025-03-03T12:00:00-06:00", "2025-03-03T13:00:00-06:00"


@override_settings(PREPARED_STATEMENTS=False)
def test_with_prepared_statements_off_each_statement_is_sent_whole(api, monkeypatch):
    assert api.get(ENTRIES).status_code == 200
    with postgres_round_trips() as sql:
        response = request(lambda: post(api, ENTRIES, item(category="tickets")))

    assert response.status_code == 201
    assert [s.split()[0].strip('"') for s in sql] == ["SELECT", "SELECT", "INSERT"], sql
    assert TimeEntry.objects.count() == 1

    # The categories are kept all the same: the number they were read at comes with the token.
    with postgres_round_trips() as sql:
        later = item(category="tickets", started_at=LATER, ended_at=END)
        response = request(lambda: post(api, ENTRIES, later))

    assert response.status_code == 201
    assert [s.split()[0].strip('"') for s in sql] == ["SELECT", "INSERT"], sql


def test_a_session_reset_by_a_pooler_prepares_the_token_lookup_again(warm):
    with connection.cursor() as cursor:
        cursor.execute("DISCARD ALL")  # what a connection pooler does between clients

    with postgres_round_trips() as sql:
        response = request(lambda: warm.get(ENTRIES))

    assert response.status_code == 200
    # The EXECUTE refused ("prepared statement does not exist"), then PREPARE and EXECUTE again.
    assert kinds(sql)[:2] == ["EXECUTE msp_api_token", "PREPARE msp_api_token"], sql


def test_one_post_with_an_external_id_adds_only_the_lookup_of_that_id(warm, monkeypatch):
    with postgres_round_trips() as sql, redis_round_trips(monkeypatch) as commands:
        response = request(lambda: post(warm, ENTRIES, item(external_id="cal-1")))

    assert response.status_code == 201
    # The token, the categories, the entry stored with that external_id (none yet), then
    # INSERT ... ON CONFLICT DO UPDATE, alone in autocommit.
    assert [s.split()[0].strip('"') for s in sql] == ["EXECUTE", "PREPARE", "SELECT", "INSERT"], sql
    assert len(commands) == 1
    assert TimeEntry.objects.get().external_id == "cal-1"


def test_one_get_is_two_round_trips_to_postgresql_and_one_to_redis(warm, monkeypatch):
    post(warm, ENTRIES, item())
    with postgres_round_trips() as sql, redis_round_trips(monkeypatch) as commands:
        response = request(lambda: warm.get(ENTRIES))

    assert response.status_code == 200
    assert len(sql) == 2, sql  # the token (with member, organization, user), the page
    assert len(commands) == 1


def test_an_overlap_is_still_refused_with_its_message(warm):
    first = post(warm, ENTRIES, item()).json()

    response = request(lambda: post(warm, ENTRIES, item(activity="Again")))

    assert response.status_code == 400
    assert response.json() == {"started_at": [f"Overlaps entry #{first['id']}: Backup check"]}
    assert TimeEntry.objects.count() == 1


def test_a_connection_the_server_dropped_is_replaced_before_the_request_uses_it(warm):
    connection.ensure_connection()
    old_pid = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"]
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    # The server says so on the socket as it closes it (the backend's own check reads that).
    assert select.select([connection.connection.pgconn.socket], [], [], 10)[0]

    response = request(lambda: warm.get(ENTRIES))

    assert response.status_code == 200
    assert connection.connection.info.backend_pid != old_pid
