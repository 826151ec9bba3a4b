"""Starts the real services the suite runs against, once per session (loaded by ``-p``).

A throwaway PostgreSQL cluster (``initdb`` in a temporary directory) and a Redis server,
both on free loopback ports, started before Django reads its settings so that
``DATABASE_URL``, ``REDIS_URL`` and ``CELERY_BROKER_URL`` point at them. Nothing is mocked.
Set ``MSP_OPS_TEST_DATABASE_URL`` / ``MSP_OPS_TEST_REDIS_URL`` to use servers of your own.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if candidates:
        return Path(candidates[-1])
    if found := shutil.which("pg_ctl"):
        return Path(found).parent
    raise pytest.UsageError("PostgreSQL server binaries not found: install the Debian package 'postgresql'.")


def _as_service_user(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *cmd] if IS_ROOT else cmd


def _wait_for_port(port: int, what: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on port {port}")


class Services:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="msp-ops-tests-"))
        self.procs: list[subprocess.Popen] = []

    def start_postgres(self, settings: dict[str, str] | None = None) -> str:
        """A PostgreSQL in a temporary folder, durability off (``fsync``), ``settings`` given
        as ``-c name=value`` besides (the benchmarks size its cache)."""
        bindir = _pg_bindir()
        data = self.root / "pg"
        data.mkdir()
        if IS_ROOT:
            shutil.chown(self.root, "postgres")
            shutil.chown(data, "postgres")
        subprocess.run(
            _as_service_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        port = free_port()
        log = open(self.root / "postgres.log", "wb")  # noqa: SIM115 (kept open for the server)
        proc = subprocess.Popen(
            _as_service_user(
                [
                    str(bindir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(data),
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                    *(arg for name, value in (settings or {}).items() for arg in ("-c", f"{name}={value}")),
                ]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        _wait_for_port(port, "PostgreSQL", proc)
        # Accepting TCP is not yet accepting queries: wait for pg_isready.
        deadline = time.monotonic() + 30
        while (
            subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not become ready")
            time.sleep(0.1)
        return f"postgres://postgres@127.0.0.1:{port}/msp_ops"

    def start_redis(self) -> str:
        server = shutil.which("redis-server")
        if not server:
            raise pytest.UsageError("redis-server not found: install the Debian package 'redis-server'.")
        port = free_port()
        data = self.root / "redis"
        data.mkdir()
        proc = subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        _wait_for_port(port, "Redis", proc)
        return f"redis://127.0.0.1:{port}/0"

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


_services: Services | None = None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Runs before pytest-django configures Django, so settings see the real servers."""
    global _services
    _services = Services()
    os.environ["MSP_OPS_DATA_DIR"] = str(_services.root / "data")
    os.environ["DATABASE_URL"] = os.environ.get("MSP_OPS_TEST_DATABASE_URL") or _services.start_postgres()
    redis_url = os.environ.get("MSP_OPS_TEST_REDIS_URL") or _services.start_redis()
    os.environ["REDIS_URL"] = redis_url
    os.environ["CELERY_BROKER_URL"] = redis_url
    # Playwright's sync API runs an event loop in the test thread; the ORM calls made by
    # the test itself are still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    os.environ.setdefault("WHITENOISE_USE_FINDERS", "true")
    os.environ["STATIC_ROOT"] = str(_services.root / "static")
    (_services.root / "static").mkdir()
    return (yield)


def pytest_unconfigure(config):
    if _services is not None:
        _services.stop()


@pytest.fixture(scope="session")
def services_root() -> Path:
    assert _services is not None
    return _services.root
