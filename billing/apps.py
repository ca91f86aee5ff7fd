from django.apps import AppConfig
from django.core import checks

from billing.email_checks import check_email_settings


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        checks.register(check_email_settings)
