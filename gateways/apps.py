from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class GatewaysConfig(AppConfig):
    name = "gateways"

    def ready(self):
        checks.register(check_default_gateways)


def check_default_gateways(app_configs=None, **kwargs):
    """Configuration mistakes surface at `manage.py check`, not at the first payment."""
    problems = []
    for setting in ("GATEWAY_DEFAULT_LIVE", "GATEWAY_DEFAULT_TEST"):
        name = getattr(settings, setting)
        if name not in settings.GATEWAY_CLASSES:
            problems.append(checks.Error(
                f"{setting}={name!r} is not an installed gateway",
                hint=f"Use one of: {', '.join(sorted(settings.GATEWAY_CLASSES))}",
                id="gateways.E001",
            ))
    if settings.GATEWAY_DEFAULT_LIVE == "sandbox" and not settings.DEBUG:
        problems.append(checks.Info(
            "Live environments pay through the sandbox gateway: no real money moves",
            hint="Set GATEWAY_DEFAULT_LIVE once a real gateway is configured",
            id="gateways.I001",
        ))
    return problems
