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
        from audits.demo import seed_time_audit, seed_today

        # The history once; today's entries so far on every run (bin/run seeds at each start),
        # so the founder's first page, the Today page, is never empty.
        notes = [seed_time_audit(org) if created else None, seed_today(org)]
        return "\n".join(note for note in notes if note) or None
