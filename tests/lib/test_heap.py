"""The web and Celery worker processes keep their startup objects out of the garbage collector's
passes (msp_ops.lib.heap), each checked in a fresh interpreter as the process would start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

REPORT = "import gc; print(gc.get_freeze_count(), *gc.get_threshold())"


def fresh_python(code: str) -> list[int]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "msp_ops.settings"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [int(value) for value in done.stdout.split()]


@pytest.mark.parametrize(
    "start",
    [
        "import msp_ops.wsgi",  # gunicorn's workers import it
        # A prefork worker process, started: Django set up, the tasks loaded, then the signal.
        "import django; django.setup(); from msp_ops.celery import app; app.loader.import_default_modules();"
        " from celery.signals import worker_process_init; worker_process_init.send(sender=None)",
    ],
    ids=["web worker", "celery worker"],
)
def test_a_worker_freezes_what_it_loaded_and_collects_young_objects_less_often(start):
    frozen, young, middle, old = fresh_python(f"{start}; {REPORT}")

    assert frozen > 20_000  # Django, the apps, the URLconf or the tasks
    assert (young, middle, old) == (10_000, 10, 10)


def test_a_plain_process_is_left_as_python_starts_it():
    frozen, young, *_ = fresh_python(f"import django; django.setup(); {REPORT}")

    assert (frozen, young) == (0, 700)
