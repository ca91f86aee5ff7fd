from importlib import import_module

from django.apps import AppConfig


class CyncoConfig(AppConfig):
    name = "cynco"
    verbose_name = "Platform: merchants and API keys"

    def ready(self):
        import_module("cynco.job_signals")  # connects Celery's task signals to job metrics
        import_module("cynco.rate_limits")  # registers its system check (Redis configured)
        import_module("cynco.crash_points")  # registers its system check (tests only)
