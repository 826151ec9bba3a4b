"""The nightly rollup (SPEC 3; STYLE 8): thin, idempotent tasks taking ids and ISO dates.

Beat runs ``roll_up_due_organizations`` at the top of every UTC hour; it fans out one task per
organization whose local time is 02:00-02:59 at that hour, so each organization rolls up at
2 a.m. its own time and workers on several machines share the night. The hour judged is the
one the run was scheduled for, not the moment a worker took it: a run taken at 21:07 is the
21:00 one, so a busy worker shifts no organization to another night (a run that waited 55
minutes expires unread). On the night the clocks skip 2 a.m.
(spring forward in the US and Europe) the hour after the gap rolls up instead; on a night
that repeats it (fall back in Europe) only its first occurrence does. One organization's
failure is logged and retried by its own task; the others are not held up.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from celery import shared_task
from django.utils import timezone

from kpis.models import RollupRun
from kpis.services import requested_weeks, roll_up_weeks
from msp_ops.lib import weeks
from msp_ops.orgs.models import Organization

logger = logging.getLogger(__name__)
NIGHTLY_LOCAL_HOUR = 2
ROLLUP_RETRIES = 5


@shared_task
def roll_up_due_organizations() -> int:
    """Queues the rollup of every organization whose local hour is 2 at this run's hour (the
    UTC hour it was scheduled at, beat's top of the hour); returns how many."""
    scheduled = timezone.now().replace(minute=0, second=0, microsecond=0)
    due = []
    for org in Organization.objects.only("pk", "slug", "timezone").order_by("pk"):
        try:
            if is_nightly_hour(scheduled, org.tz):
                due.append(org.pk)
        except Exception:  # e.g. a zone the installed tzdata no longer knows: the others still run
            logger.exception("KPI rollup: cannot tell the local time of organization %s", org.slug)
    for org_id in due:
        roll_up_organization.delay(org_id)
    return len(due)


def is_nightly_hour(now: datetime, tz: ZoneInfo) -> bool:
    """Whether the hourly run at ``now`` is the organization's nightly one: its local hour is 2
    (the first 2 a.m. of a night that repeats it), or 2 a.m. was skipped by the clocks jumping
    forward within the last hour (then 3 a.m. rolls up: every local day gets exactly one run)."""
    local = weeks.to_local(now, tz)
    if local.hour == NIGHTLY_LOCAL_HOUR:
        return local.fold == 0
    hour_ago = weeks.to_local(weeks.minus(now, timedelta(hours=1)), tz)
    return hour_ago.date() == local.date() and hour_ago.hour < NIGHTLY_LOCAL_HOUR < local.hour


@shared_task
def roll_up_every_organization() -> int:
    """Queues the rollup of every organization at once (one task each)."""
    ids = list(Organization.objects.values_list("pk", flat=True))
    for org_id in ids:
        roll_up_organization.delay(org_id)
    return len(ids)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=ROLLUP_RETRIES)
def roll_up_organization(org_id: int, mondays: list[str] | None = None) -> int:
    """The previous and the current week of one organization (or the weeks given).

    Any failure is logged and retried with backoff (a database restart, a lock timeout; a
    lasting one is retried ``ROLLUP_RETRIES`` times), in this organization's task only. An
    organization deleted since it was queued has nothing to roll up."""
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        logger.info("KPI rollup: organization %s no longer exists", org_id)
        return 0
    try:
        rows = roll_up_weeks(org=org, mondays=[date.fromisoformat(m) for m in mondays] if mondays else None)
    except Exception:
        logger.exception("KPI rollup of organization %s failed; it will be retried", org.slug)
        raise
    return rows


@shared_task(ignore_result=True)  # the run record is its result; no result backend to wait on
def roll_up_requested(run_id: int) -> None:
    """A "recompute now" of the dashboard or the API; its progress lands on the run."""
    run = RollupRun.objects.select_related("organization").get(pk=run_id)
    try:
        org = run.organization
        roll_up_weeks(org=org, mondays=requested_weeks(run, org), run=run)
    except Exception as error:
        logger.exception("Requested KPI rollup %s failed", run_id)
        RollupRun.objects.filter(pk=run_id).update(finished_at=timezone.now(), error=str(error)[:500])
        raise
