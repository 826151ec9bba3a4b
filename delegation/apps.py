from msp_ops import plugins


class DelegationConfig(plugins.MspApp):
    name = "delegation"
    verbose_name = "Delegation"
