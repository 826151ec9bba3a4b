"""The Celery app: settings come from Django's (CELERY_*), tasks are autodiscovered."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "msp_ops.settings")

app = Celery("msp_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def add_app_schedules(sender: Celery, **kwargs) -> None:
    """Each app's periodic tasks (its ``MspApp.beat_schedule``) join the project's schedule."""
    from msp_ops import plugins

    sender.conf.beat_schedule = {**sender.conf.beat_schedule, **plugins.beat_schedule()}


@worker_process_init.connect
def freeze_worker_heap(**kwargs) -> None:
    """Each worker process, once started with Django and the tasks loaded, keeps them out of the
    garbage collector's passes, as the web workers do (``msp_ops.lib.heap``)."""
    from msp_ops.lib.heap import freeze_startup_heap

    freeze_startup_heap()
