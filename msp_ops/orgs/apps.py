from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "msp_ops.orgs"
    label = "orgs"
    verbose_name = "Organizations"
