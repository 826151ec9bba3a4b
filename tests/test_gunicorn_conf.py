"""bin/run's gunicorn settings: short stop bounds, and the web app's errors as one line on the screen."""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

CONF = Path(__file__).resolve().parent.parent / "bin" / "lib" / "gunicorn_conf.py"


@pytest.fixture
def conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def screen(monkeypatch):
    read_end, write_end = os.pipe()
    monkeypatch.setenv("MSP_OPS_SCREEN_FD", str(write_end))
    monkeypatch.setenv("MSP_OPS_WEB_LOG", "data/logs/web.log")
    yield read_end, write_end
    os.close(read_end)
    os.close(write_end)


@pytest.fixture
def gunicorn_error_log():
    logger = logging.getLogger("test.gunicorn.error")
    logger.propagate = False  # like gunicorn's own error log
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


def detach(conf, *loggers: logging.Logger) -> None:
    for logger in loggers:
        for handler in [h for h in logger.handlers if h.get_name() == conf.SCREEN_HANDLER_NAME]:
            logger.removeHandler(handler)


def test_stops_within_seconds_not_the_default_30(conf):
    assert conf.graceful_timeout <= 10
    assert conf.keepalive <= 2
    assert (conf.workers, conf.threads) == (2, 4)


def test_a_workers_errors_show_as_one_line_naming_the_log(conf, screen, gunicorn_error_log):
    read_end, _ = screen
    worker = SimpleNamespace(log=SimpleNamespace(error_log=gunicorn_error_log))
    try:
        conf.post_worker_init(worker)
        conf.post_worker_init(worker)  # attached once, however often the hook runs
        logging.getLogger("django.request").warning("Not Found: /favicon.ico")  # below ERROR: not shown
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("django.request").exception("Internal Server Error: /audits/today/")
        gunicorn_error_log.error("Error handling request /x")
    finally:
        detach(conf, logging.getLogger(), gunicorn_error_log)
    assert os.read(read_end, 4096).decode().splitlines() == [
        "web: Internal Server Error: /audits/today/ (details in data/logs/web.log)",
        "web: Error handling request /x (details in data/logs/web.log)",
    ]


def test_the_masters_errors_show_too(conf, screen, gunicorn_error_log):
    read_end, _ = screen
    server = SimpleNamespace(log=SimpleNamespace(error_log=gunicorn_error_log))
    conf.when_ready(server)
    gunicorn_error_log.error("Worker (pid:%s) was sent SIGKILL! Perhaps out of memory?", 42)
    assert os.read(read_end, 4096).decode() == (
        "web: Worker (pid:42) was sent SIGKILL! Perhaps out of memory? (details in data/logs/web.log)\n"
    )


def test_nothing_is_attached_outside_bin_run(conf, monkeypatch, gunicorn_error_log):
    monkeypatch.delenv("MSP_OPS_SCREEN_FD", raising=False)
    conf.when_ready(SimpleNamespace(log=SimpleNamespace(error_log=gunicorn_error_log)))
    assert [h for h in gunicorn_error_log.handlers if h.get_name() == conf.SCREEN_HANDLER_NAME] == []
