"""Celery: a task goes through the real Redis (started by the harness) to a real worker."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from django.conf import settings
from django.db import OperationalError
from kombu.exceptions import EncodeError

from msp_ops import plugins
from msp_ops.celery import app
from msp_ops.orgs.tasks import heartbeat
from tests.workers import celery_worker


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    """A worker on the harness's Redis."""
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    with celery_worker(log_path, hostname="pytest", env=os.environ.copy()) as proc:
        yield proc, log_path


def test_a_task_is_delivered_through_redis_to_a_real_worker(worker):
    proc, log_path = worker
    result = heartbeat.delay()
    stamp = result.get(timeout=60)  # the result comes back through the Redis result backend
    assert datetime.fromisoformat(stamp).tzinfo is not None
    assert result.successful()
    assert proc.poll() is None
    # The worker process logged it: the task really ran over there, not in this process.
    log = log_path.read_text()
    assert f"Task msp_ops.orgs.tasks.heartbeat[{result.id}] received" in log


def test_broker_and_results_are_the_harness_redis():
    assert app.conf.broker_url == os.environ["REDIS_URL"]
    assert app.conf.result_backend == os.environ["REDIS_URL"]


def test_tasks_are_autodiscovered():
    assert "msp_ops.orgs.tasks.heartbeat" in app.tasks


def test_the_beat_schedule_is_the_settings_and_the_apps_and_names_registered_tasks():
    app.loader.import_default_modules()  # what a worker does at start: each app's tasks.py
    schedule = app.conf.beat_schedule
    assert schedule["heartbeat"] == {"task": "msp_ops.orgs.tasks.heartbeat", "schedule": 3600.0}
    # The apps' periodic tasks join it (MspApp.beat_schedule): the KPI rollup, hourly, which
    # rolls up each organization at 2 a.m. its own time.
    assert schedule == {**settings.CELERY_BEAT_SCHEDULE, **plugins.beat_schedule()}
    assert schedule["kpi-rollup-at-2am-local"]["task"] == "kpis.tasks.roll_up_due_organizations"
    for entry in schedule.values():
        assert entry["task"] in app.tasks


def test_json_is_the_only_serializer():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_a_non_json_argument_is_refused_before_it_reaches_the_broker():
    with pytest.raises(EncodeError, match="not JSON serializable"):
        app.send_task("msp_ops.orgs.tasks.heartbeat", args=[object()])


def test_tasks_retry_on_transient_database_failures():
    assert heartbeat.autoretry_for == (OperationalError,)
    assert heartbeat.retry_backoff is True
    assert heartbeat.max_retries == 5
