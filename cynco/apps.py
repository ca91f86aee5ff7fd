from django.apps import AppConfig


class CyncoConfig(AppConfig):
    name = "cynco"
    verbose_name = "Platform: merchants and API keys"

    def ready(self):
        from cynco import crash_points, rate_limits  # noqa: F401  register their system checks
