from django.apps import AppConfig


class CyncoConfig(AppConfig):
    name = "cynco"
    verbose_name = "Platform: merchants and API keys"
