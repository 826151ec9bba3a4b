"""gunicorn's settings for bin/run's embedded default (production's command line is in the Dockerfile).

bin/lib/supervise.py starts gunicorn with ``-c`` this file, sends its output to
``data/logs/web.log`` and its access log to ``data/logs/access.log``, and passes the terminal
as the file descriptor in ``MSP_OPS_SCREEN_FD``: every error the web app logs (a 500's
traceback, a worker killed) then also shows there as one line that names web.log.
"""

from __future__ import annotations

import logging
import os

workers = 2
threads = 4
# bin/run stops gunicorn with one SIGTERM: in-flight requests get this long to finish, and
# kept-alive browser connections are closed at once. A short bound, so that Ctrl-C never waits
# the default 30 s; still longer than gthread's 5 s wait for the first bytes on a connection
# a browser opened ahead of time, so that such a connection never ends in a SIGKILL.
graceful_timeout = 10
keepalive = 2

SCREEN_HANDLER_NAME = "msp-ops-screen"


class OneLine(logging.Formatter):
    """``web: <first line of the message> (details in <web.log>)``."""

    def __init__(self, log_name: str) -> None:
        super().__init__()
        self.log_name = log_name

    def format(self, record: logging.LogRecord) -> str:
        lines = record.getMessage().strip().splitlines() or [record.levelname]
        return f"web: {lines[0]} (details in {self.log_name})"


def screen_handler() -> logging.Handler | None:
    """A handler writing ERROR records as one line to ``MSP_OPS_SCREEN_FD``, if that is set."""
    fd = os.environ.get("MSP_OPS_SCREEN_FD")
    if not fd:
        return None
    stream = open(int(fd), "w", buffering=1, closefd=False)  # noqa: SIM115 (lives as long as the process)
    handler = logging.StreamHandler(stream)
    handler.set_name(SCREEN_HANDLER_NAME)
    handler.setLevel(logging.ERROR)
    handler.setFormatter(OneLine(os.environ.get("MSP_OPS_WEB_LOG", "the web log")))
    return handler


def _attach(handler: logging.Handler | None, *loggers: logging.Logger) -> None:
    for logger in loggers:
        if handler and all(h.get_name() != SCREEN_HANDLER_NAME for h in logger.handlers):
            logger.addHandler(handler)


def when_ready(server) -> None:
    # The master, once it listens: e.g. "Worker (pid:...) was sent SIGKILL!".
    _attach(screen_handler(), server.log.error_log)


def post_worker_init(worker) -> None:
    # Each worker, after Django configured its logging: the app's errors (django.request's
    # "Internal Server Error: /path") reach the root logger, gunicorn's own its error log.
    _attach(screen_handler(), logging.getLogger(), worker.log.error_log)
