"""The Celery app: settings come from Django's (CELERY_*), tasks are autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "msp_ops.settings")

app = Celery("msp_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
