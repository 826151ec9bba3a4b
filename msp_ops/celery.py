"""The Celery app: settings come from Django's (CELERY_*), tasks are autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "msp_ops.settings")

app = Celery("msp_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def add_app_schedules(sender: Celery, **kwargs) -> None:
    """Each app's periodic tasks (its ``MspApp.beat_schedule``) join the project's schedule."""
    from msp_ops import plugins

    sender.conf.beat_schedule = {**sender.conf.beat_schedule, **plugins.beat_schedule()}
