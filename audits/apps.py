from msp_ops import plugins


class AuditsConfig(plugins.MspApp):
    name = "audits"
    verbose_name = "Time audits"
    pages = "audits/"
    api_routes = "audits.api.urls"

    def organization_created(self, org) -> None:
        from audits.services import create_default_categories

        create_default_categories(org=org)

    def seed_demo(self, org, *, created: bool) -> str | None:
        from audits.demo import seed_time_audit

        return seed_time_audit(org) if created else None
