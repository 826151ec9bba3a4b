"""A chunked request body (``Transfer-Encoding: chunked``, no ``Content-Length``) over real HTTP,
to the app under gunicorn as docker compose and ``bin/run`` serve it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from audits.models import TimeEntry
from msp_ops.orgs.services import issue_api_token
from tests.api.conftest import ENTRIES, at, item
from tests.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 4000  # DATA_UPLOAD_MAX_MEMORY_SIZE of the server under test


@pytest.fixture
def gunicorn(transactional_db, tmp_path) -> Iterator[int]:
    """gunicorn serving the project on the test database; yields its port."""
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SECRET_KEY": "test-only-" + "x" * 50,
        "MSP_OPS_DATA_DIR": str(tmp_path),
        "DATA_UPLOAD_MAX_MEMORY_SIZE": str(LIMIT),
        "CONN_MAX_AGE": "0",
    }
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "msp_ops.wsgi", f"--bind=127.0.0.1:{port}", "--workers=1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                probe.request("GET", "/healthz/")
                if probe.getresponse().status == 200:
                    break
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
        log.close()


def _post_chunked(port: int, key: str, body: bytes, chunk: int = 100) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    chunks = (body[i : i + chunk] for i in range(0, len(body), chunk))
    conn.request(
        "POST",
        ENTRIES,
        body=chunks,  # an iterator and no Content-Length: http.client sends it chunked
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = conn.getresponse()
    headers = {name.lower(): value for name, value in response.getheaders()}
    return response.status, json.loads(response.read()), headers


def test_gunicorn_reads_a_chunked_body_and_refuses_one_over_the_limit(gunicorn, founder_membership):
    key = issue_api_token(membership=founder_membership).key
    batch = json.dumps([item(), item(started_at=at(11), ended_at=at(12), activity="Patch Tuesday")]).encode()

    status, body, _ = _post_chunked(gunicorn, key, batch)

    assert status == 201, body
    assert [entry["activity"] for entry in body] == ["Backup check", "Patch Tuesday"]
    assert TimeEntry.objects.count() == 2

    too_big = json.dumps([item(notes="n" * 1000, started_at=at(13 + n)) for n in range(4)]).encode()
    assert len(too_big) > LIMIT
    status, body, headers = _post_chunked(gunicorn, key, too_big)

    assert status == 413
    assert headers["content-type"] == "application/json"
    assert body == {
        "detail": f"The request body is larger than {LIMIT} bytes; "
        "send fewer items per request (at most 1000)."
    }
    assert TimeEntry.objects.count() == 2
