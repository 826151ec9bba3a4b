from celery.schedules import crontab

from msp_ops import plugins


class KpisConfig(plugins.MspApp):
    name = "kpis"
    verbose_name = "Weekly KPIs"
    pages = "kpis/"
    api_routes = "kpis.api.urls"
    # At the top of every UTC hour: the organizations whose local time is 2 a.m. in that hour
    # roll up (kpis.tasks). A run no worker started within 55 minutes is dropped rather than
    # judged in a later hour (the next night's rollup refreshes the previous week too).
    beat_schedule = {
        "kpi-rollup-at-2am-local": {
            "task": "kpis.tasks.roll_up_due_organizations",
            "schedule": crontab(minute=0),
            "options": {"expires": 55 * 60},
        },
    }

    def organization_created(self, org) -> None:
        from kpis.services import create_kpi_defaults

        create_kpi_defaults(org=org)

    def seed_demo(self, org, *, created: bool) -> str | None:
        from kpis.demo import seed_kpis

        return seed_kpis(org, created=created)
