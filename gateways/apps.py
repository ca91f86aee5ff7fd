from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string


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
    for name in sorted({settings.GATEWAY_DEFAULT_LIVE, settings.GATEWAY_DEFAULT_TEST}):
        if name not in settings.GATEWAY_CLASSES:
            continue
        gateway_class = import_string(settings.GATEWAY_CLASSES[name])
        missing = gateway_class.missing_credentials(
            settings.GATEWAY_DEFAULT_CREDENTIALS.get(name, {}))
        if missing:
            problems.append(checks.Error(
                f"The default gateway {name!r} has no server credentials: {', '.join(missing)}",
                hint="Set them in the environment (docs/gateways.md), or choose another "
                     "GATEWAY_DEFAULT_LIVE / GATEWAY_DEFAULT_TEST",
                id="gateways.E002",
            ))
    if settings.GATEWAY_DEFAULT_LIVE == "sandbox" and not settings.DEBUG:
        problems.append(checks.Info(
            "Live environments pay through the sandbox gateway: no real money moves",
            hint="Set GATEWAY_DEFAULT_LIVE once a real gateway is configured",
            id="gateways.I001",
        ))
    return problems
