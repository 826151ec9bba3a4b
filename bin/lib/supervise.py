"""Runs bin/run's three processes: the web app (gunicorn), a Celery worker and Celery beat.

Usage (from bin/run, in the repository root, with .venv on PATH):
    python bin/lib/supervise.py HOST PORT BANNER_TEXT

Each process writes to its own log in ``MSP_OPS_DATA_DIR/logs/`` (web.log with gunicorn's
access log in access.log, worker.log, beat.log), so that once the app answers, the banner
(URL and logins) stays the last thing on the terminal. After that the terminal shows only what
goes wrong: an error the web app logs (one line, naming web.log), or a process that ended (the
end of its log), which then stops the other two.

Each process runs in its own process group: Ctrl-C, which the terminal sends to its foreground
group, reaches only this supervisor, which then sends each process exactly one SIGTERM. (Signalled
twice, by the terminal and by its master, a gunicorn gthread worker can deadlock in its own
signal handler until gunicorn kills it 30 s later, "Worker was sent SIGKILL!".) A second Ctrl-C
kills what is still running. On Linux the three also get SIGTERM if this supervisor is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
READY_TIMEOUT = 120  # seconds for the web app to answer /healthz/
STOP_TIMEOUT = 20  # seconds for all three to stop after SIGTERM before they are killed
TAIL_LINES = 20
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Service:
    key: str  # also the log's name
    title: str
    command: list[str]
    log: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def shown(path: Path) -> str:
    """The path as the user would type it from the repository root."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            return f.read().decode(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def say(*lines: str, err: bool = False) -> None:
    """Prints to the terminal, which may be gone already (closed: SIGHUP, then EIO)."""
    with contextlib.suppress(OSError):
        stream = sys.stderr if err else sys.stdout
        print(*lines, sep="\n", file=stream, flush=True)


def die_with_parent() -> None:
    """In the child, before exec: its own process group; SIGTERM when the supervisor dies (Linux)."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def exit_status(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


class Supervisor:
    def __init__(self, host: str, port: str, banner: str) -> None:
        data_dir = Path(os.environ.get("MSP_OPS_DATA_DIR") or ROOT / "data").resolve()
        self.logs = data_dir / "logs"
        self.url = f"http://{host}:{port}/"
        self.banner = banner
        self.stop_signal: int | None = None
        self.stopping = False
        gunicorn_conf = str(Path(__file__).with_name("gunicorn_conf.py"))
        self.services = [
            Service(
                "web",
                "The web app (gunicorn)",
                ["gunicorn", "msp_ops.wsgi", "-c", gunicorn_conf, "--bind", f"{host}:{port}",
                 "--access-logfile", str(self.logs / "access.log")],
                self.logs / "web.log",
            ),
            # Threads, not prefork: no pool children to stop. One worker alone needs no gossip,
            # mingle or event heartbeats; without their timers it stops a second sooner.
            Service(
                "worker",
                "The Celery worker",
                ["celery", "-A", "msp_ops", "worker", "--loglevel=INFO", "--pool=threads", "--concurrency=4",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                self.logs / "worker.log",
            ),
            Service("beat", "Celery beat", ["celery", "-A", "msp_ops", "beat", "--loglevel=INFO"],
                    self.logs / "beat.log"),
        ]  # fmt: skip

    # --- signals -------------------------------------------------------------------------------
    def on_signal(self, signum, _frame) -> None:
        if self.stopping:  # a second Ctrl-C: do not wait any longer
            self.kill_remaining("was still stopping at the second stop signal")
        self.stop_signal = self.stop_signal or signum

    # --- running -------------------------------------------------------------------------------
    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        screen = os.dup(sys.stdout.fileno())
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        for service in self.services:
            env = dict(os.environ, PYTHONUNBUFFERED="1")  # each line in its log at once, for tail -f
            if service.key == "web":
                env.update(MSP_OPS_SCREEN_FD=str(screen), MSP_OPS_WEB_LOG=shown(service.log))
            with service.log.open("a") as log:
                log.write(f"\n==== bin/run starts {service.key} at {stamp}: {' '.join(service.command)}\n")
                log.flush()
                service.proc = subprocess.Popen(
                    service.command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    preexec_fn=die_with_parent,  # safe: this process runs no threads
                    pass_fds=(screen,) if service.key == "web" else (),
                )
        os.close(screen)

    def ended(self) -> Service | None:
        return next((s for s in self.services if not s.running), None)

    def wait_until_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and self.stop_signal is None and not self.ended():
            try:
                with urllib.request.urlopen(self.url + "healthz/", timeout=2):
                    return True
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        return False

    def report_end(self, service: Service) -> None:
        say(
            "",
            f"{service.title} stopped ({exit_status(service.proc.returncode)}). "
            f"The end of its log, {shown(service.log)}:",
            *(f"  {line}" for line in tail(service.log)),
            err=True,
        )

    def stop_all(self) -> None:
        self.stopping = True
        for service in self.services:
            if service.running:
                service.proc.send_signal(signal.SIGTERM)  # the leader only: gunicorn stops its workers
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(s.running for s in self.services) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.kill_remaining(f"did not stop within {STOP_TIMEOUT} s")
        for service in self.services:
            if service.proc is not None:
                service.proc.wait()

    def kill_remaining(self, why: str) -> None:
        for service in self.services:
            if service.running:
                say(f"{service.title} {why}: killing it (its log: {shown(service.log)}).", err=True)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.proc.pid, signal.SIGKILL)

    def run(self) -> int:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.on_signal)
        self.start()
        ready = self.wait_until_ready()
        if ready:
            say(
                "",
                f"msp-ops is running at {self.url}",
                self.banner,
                f"Logs: {shown(self.logs)}/ (web.log, access.log, worker.log, beat.log).",
                "Ctrl-C stops web, worker and beat.",
            )
            while self.stop_signal is None and not self.ended():
                time.sleep(0.2)
        status = 0
        if self.stop_signal is not None:
            status = 128 + self.stop_signal
        elif (dead := self.ended()) is not None:
            self.report_end(dead)
            status = 1
        else:
            web_log = shown(self.services[0].log)
            say("", f"The web app did not answer within {READY_TIMEOUT} s; see {web_log}.", err=True)
            status = 1
        if any(s.running for s in self.services):
            say("Stopping web, worker and beat ...")
            self.stop_all()
        if status > 128:
            say("Stopped.")
        return status


if __name__ == "__main__":
    sys.exit(Supervisor(*sys.argv[1:4]).run())
