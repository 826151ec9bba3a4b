"""The README's first command: ``bin/run`` on the embedded default (SQLite, filesystem broker),
driven like a user would: start it, log in through the browser, press Ctrl-C with the tab still
open; and a process that dies is reported on the screen."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager, suppress
from datetime import datetime
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.harness import free_port

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
# What the harness points at its servers, or sets for the in-process tests only.
NOT_INHERITED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "SECRET_KEY",
    "WHITENOISE_USE_FINDERS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
)


class Output:
    """Collects a subprocess's output lines on a thread; tests wait for a line to appear."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.ended = False
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def _search(self, regex: re.Pattern) -> re.Match | None:
        return next((m for line in self.lines if (m := regex.search(line))), None)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        """The first line matching, waiting for it up to ``timeout`` seconds (or the end)."""
        regex = re.compile(pattern)
        with self._changed:
            self._changed.wait_for(lambda: self._search(regex) is not None or self.ended, timeout=timeout)
            if match := self._search(regex):
                return match
            raise AssertionError(f"{pattern!r} not in the output:\n" + "\n".join(self.lines[-60:]))


def live_processes_in_session(sid: int) -> list[str]:
    """Processes of the session that still run (zombies not yet reaped by init do not count).

    bin/run puts web, worker and beat each in a process group of its own, all in its session.
    """
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp session ...": comm may hold spaces, so split after the last ")".
        state, _ppid, _pgrp, session = text.rsplit(")", 1)[1].split()[:4]
        if int(session) == sid and state != "Z":
            alive.append(text.split(" ", 1)[0] + " " + text[text.index("(") : text.rindex(")") + 1])
    return alive


def session_pid_running(sid: int, needle: str) -> int:
    """The pid of the session's process whose command line contains ``needle``."""
    for pid in live_processes_in_session(sid):
        pid = int(pid.split()[0])
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if needle in cmdline:
            return pid
    raise AssertionError(f"no process running {needle!r} in {live_processes_in_session(sid)}")


def wait_for_log(path: Path, pattern: str, timeout: float) -> re.Match:
    """The first match of ``pattern`` in the file, waiting for it up to ``timeout`` seconds."""
    regex = re.compile(pattern, re.MULTILINE)
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(errors="replace") if path.exists() else ""
        if match := regex.search(text):
            return match
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not in {path}:\n{text[-3000:]}")
        time.sleep(0.2)


BANNER_END = "Ctrl-C stops web, worker and beat."


@contextmanager
def bin_run(data: Path):
    """bin/run in a session of its own, like in a terminal; everything left is killed after."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(PORT=str(free_port()), MSP_OPS_DATA_DIR=str(data), STATIC_ROOT=str(data / "static"))
    proc = subprocess.Popen(
        ["bin/run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own session and process group, like a terminal's
    )
    output = Output(proc.stdout)
    try:
        yield proc, output, env
    finally:
        for left in live_processes_in_session(proc.pid):
            with suppress(ProcessLookupError):
                os.kill(int(left.split()[0]), signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embedded-data")


@pytest.fixture
def embedded(data_dir):
    with bin_run(data_dir) as started:
        yield started


def test_bin_run_serves_the_app_runs_tasks_and_stops_cleanly(embedded, browser):
    proc, output, env = embedded

    # 1. Set up from scratch: migrations, demo data, then the URL and the login.
    url = output.wait_for(r"msp-ops is running at (http://\S+/)$", timeout=300).group(1)
    assert url == f"http://127.0.0.1:{env['PORT']}/"
    password = output.wait_for(r"^Demo logins \(password for all: (\S+)\):$", timeout=10).group(1)
    username = output.wait_for(r"^  (\S+) +Founder$", timeout=10).group(1)
    assert any("Applying orgs.0001_initial... OK" in line for line in output.lines)
    assert list(Path(env["MSP_OPS_DATA_DIR"]).glob("db.*"))  # the embedded default's database file
    with urllib.request.urlopen(url + "login/", timeout=10) as response:
        assert response.status == 200
        login_html = response.read().decode()
    # Static files: collected with hashed names and served by whitenoise, cacheable forever.
    stylesheet = re.search(r'href="/static/(css/app\.[0-9a-f]{12}\.css)"', login_html).group(1)
    with urllib.request.urlopen(f"{url}static/{stylesheet}", timeout=10) as response:
        assert response.status == 200
        assert "immutable" in response.headers["Cache-Control"]

    # 2. Log in through the browser as the printed demo founder: the Today page shows.
    context = browser.new_context(base_url=url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/")
    assert page.url == url + "login/?next=/"
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(url + "audits/today/")
    assert page.title() == "Today · msp-ops"
    assert page.locator("h1").first.inner_text().startswith("Today")
    assert f"{username} · Founder" in page.locator(".topbar").inner_text()
    # Not empty on the first visit: the demo founder's entries of today so far (none only in the
    # first minutes after midnight in the demo organization's zone).
    if datetime.now(ZoneInfo("America/Chicago")).time() >= dt_time(0, 20):
        assert page.locator("#day-entries li.entry").count() > 0
        assert page.locator(".empty-day").count() == 0
    # The tab stays open until after Ctrl-C (step 5), keeping its connections alive.

    # 3. The embedded broker delivers a task from another process to bin/run's worker.
    enqueue = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from msp_ops.orgs.tasks import heartbeat; print(heartbeat.delay().id)"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    task_id = enqueue.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f-]{36}", task_id)
    logs = Path(env["MSP_OPS_DATA_DIR"]) / "logs"
    wait_for_log(logs / "worker.log", rf"Task msp_ops\.orgs\.tasks\.heartbeat\[{task_id}\] succeeded", 60)

    # 4. The three processes wrote their start-up banners and logs to data/logs, not to the
    # screen: the banner with the URL and the logins is still the last thing on it.
    assert output.lines[-1] == BANNER_END
    assert any(line.startswith("Logs: ") and str(logs) in line for line in output.lines[-3:])
    assert not any("celery@" in line or "Booting worker" in line for line in output.lines)
    wait_for_log(logs / "web.log", r"Booting worker with pid", 10)
    wait_for_log(logs / "access.log", r'"GET /audits/today/ HTTP/1\.1" 200', 10)
    wait_for_log(logs / "worker.log", r"celery@\S+ ready", 10)
    wait_for_log(logs / "beat.log", r"beat: Starting", 10)

    # 5. Ctrl-C (SIGINT to the terminal's foreground group) with the browser tab still open and
    # another kept-alive connection stops all three, without gunicorn killing a stuck worker.
    kept_alive = http.client.HTTPConnection("127.0.0.1", int(env["PORT"]), timeout=10)
    kept_alive.request("GET", "/login/")
    assert kept_alive.getresponse().read()
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 128 + signal.SIGINT
    assert live_processes_in_session(proc.pid) == []
    assert output.lines[-1] == "Stopped."
    assert not any("SIGKILL" in line or "killing it" in line for line in output.lines)
    assert "SIGKILL" not in (logs / "web.log").read_text()
    kept_alive.close()
    context.close()


def test_bin_run_names_the_log_of_a_process_that_died_and_stops_the_others(data_dir):
    with bin_run(data_dir) as (proc, output, _env):
        output.wait_for(re.escape(BANNER_END), timeout=300)
        os.kill(session_pid_running(proc.pid, " beat "), signal.SIGKILL)
        beat_log = re.escape(str(data_dir / "logs" / "beat.log"))
        output.wait_for(rf"^Celery beat stopped \(killed by SIGKILL\)\. The end of its log, {beat_log}:$", 30)
        assert proc.wait(timeout=60) == 1
        assert live_processes_in_session(proc.pid) == []
        assert any("beat: Starting" in line for line in output.lines)  # the end of beat.log
