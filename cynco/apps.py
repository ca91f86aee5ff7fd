from importlib import import_module

from django.apps import AppConfig


class CyncoConfig(AppConfig):
    name = "cynco"
    verbose_name = "Platform: merchants and API keys"

    def ready(self):
        import_module("cynco.job_signals")  # connects Celery's task signals to job metrics
