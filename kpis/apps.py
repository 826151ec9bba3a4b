from msp_ops import plugins


class KpisConfig(plugins.MspApp):
    name = "kpis"
    verbose_name = "Weekly KPIs"
