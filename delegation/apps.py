from msp_ops import plugins


class DelegationConfig(plugins.MspApp):
    name = "delegation"
    verbose_name = "Delegation"
    pages = "delegation/"
    api_routes = "delegation.api.urls"

    def organization_created(self, org) -> None:
        from delegation.services import create_escalation_map

        create_escalation_map(org=org)

    def seed_demo(self, org, *, created: bool) -> str | None:
        from delegation.demo import seed_delegation

        return seed_delegation(org) if created else None
