from msp_ops import plugins


class KpisConfig(plugins.MspApp):
    name = "kpis"
    verbose_name = "Weekly KPIs"
    pages = "kpis/"
    api_routes = "kpis.api.urls"
    # Every hour: the organizations whose local time is 2 a.m. roll up (kpis.tasks).
    beat_schedule = {
        "kpi-rollup-at-2am-local": {"task": "kpis.tasks.roll_up_due_organizations", "schedule": 3600.0},
    }

    def organization_created(self, org) -> None:
        from kpis.services import create_kpi_defaults

        create_kpi_defaults(org=org)

    def seed_demo(self, org, *, created: bool) -> str | None:
        from kpis.demo import seed_kpis

        return seed_kpis(org, created=created)
