"""A real Celery worker for the tests that go through Redis (tests/test_celery.py, the KPI rollup)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from msp_ops.celery import app

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def celery_worker(log_path: Path, *, hostname: str, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """``celery -A msp_ops worker`` (solo pool) in its own process group on the harness's Redis,
    logging to ``log_path``; stopped with SIGTERM (SIGKILL after 30 s) at the end."""
    assert env["CELERY_BROKER_URL"].startswith("redis://127.0.0.1:")
    app.control.purge()  # messages queued by earlier tests, when no worker ran, are not its business
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "msp_ops", "worker", "--pool=solo",
             "--loglevel=INFO", f"--hostname={hostname}@%h", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            yield proc
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
