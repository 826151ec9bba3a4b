"""The README's first command: ``bin/run`` on the embedded default (SQLite, filesystem broker),
driven like a user would: start it, log in through the browser, stop it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

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


def live_processes_in_group(pgid: int) -> list[str]:
    """Processes of the group that still run (zombies not yet reaped by init do not count)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after the last ")".
        state, _ppid, pgrp = text.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            alive.append(text.split(" ", 1)[0] + " " + text[text.index("(") : text.rindex(")") + 1])
    return alive


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    data = tmp_path_factory.mktemp("embedded-data")
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(PORT=str(free_port()), MSP_OPS_DATA_DIR=str(data), STATIC_ROOT=str(data / "static"))
    proc = subprocess.Popen(
        ["bin/run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a terminal session
    )
    output = Output(proc.stdout)
    try:
        yield proc, output, env
    finally:
        if proc.poll() is None or live_processes_in_group(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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
    context.close()

    # 3. The embedded broker delivers a task from another process to bin/run's worker.
    enqueue = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from msp_ops.orgs.tasks import heartbeat; print(heartbeat.delay().id)"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    task_id = enqueue.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f-]{36}", task_id)
    output.wait_for(rf"Task msp_ops\.orgs\.tasks\.heartbeat\[{task_id}\] succeeded", timeout=60)

    # 4. SIGTERM to the group (what Ctrl-C does to the foreground group) stops everything.
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=60) != 0
    assert live_processes_in_group(proc.pid) == []
