"""The nightly rollup (SPEC 3; STYLE 8): thin, idempotent tasks taking ids and ISO dates.

Beat runs ``roll_up_due_organizations`` every hour; it fans out one task per organization
whose local time is 02:00-02:59 then, so each organization rolls up at 2 a.m. its own time
and workers on several machines share the night. One organization's failure is logged and
retried by its own task; the others are not held up.
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from kpis.models import RollupRun
from kpis.services import roll_up_org
from msp_ops.lib import weeks
from msp_ops.orgs.models import Organization

logger = logging.getLogger(__name__)
NIGHTLY_LOCAL_HOUR = 2


@shared_task
def roll_up_due_organizations() -> int:
    """Queues the rollup of every organization whose local hour is 2 now; returns how many."""
    now = timezone.now()
    due = [
        org.pk
        for org in Organization.objects.only("pk", "timezone")
        if weeks.to_local(now, org.tz).hour == NIGHTLY_LOCAL_HOUR
    ]
    for org_id in due:
        roll_up_organization.delay(org_id)
    return len(due)


@shared_task
def roll_up_every_organization() -> int:
    """Queues the rollup of every organization at once (one task each)."""
    ids = list(Organization.objects.values_list("pk", flat=True))
    for org_id in ids:
        roll_up_organization.delay(org_id)
    return len(ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def roll_up_organization(org_id: int, mondays: list[str] | None = None) -> int:
    """The previous and the current week of one organization (or the weeks given)."""
    org = Organization.objects.get(pk=org_id)
    try:
        rows = roll_up_org(org=org, mondays=[date.fromisoformat(m) for m in mondays] if mondays else None)
    except Exception:
        logger.exception("KPI rollup of organization %s failed; it will be retried", org.slug)
        raise
    return len(rows)


@shared_task
def roll_up_requested(run_id: int) -> None:
    """A "recompute now" of the dashboard or the API; its progress lands on the run."""
    run = RollupRun.objects.select_related("organization").get(pk=run_id)
    try:
        roll_up_org(org=run.organization, run=run)
    except Exception as error:
        logger.exception("Requested KPI rollup %s failed", run_id)
        RollupRun.objects.filter(pk=run_id).update(finished_at=timezone.now(), error=str(error)[:500])
        raise
