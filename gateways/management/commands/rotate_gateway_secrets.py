"""`manage.py rotate_gateway_secrets`: re-encrypt every gateway secret with the first key of
GATEWAY_ENCRYPTION_KEYS (run after putting a new key first; then drop the old one)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from gateways.models import GatewayAccount


class Command(BaseCommand):
    help = "Re-encrypt gateway account secrets with the first GATEWAY_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        with transaction.atomic():
            accounts = list(GatewayAccount.objects.select_for_update())
            for account in accounts:
                account.save(update_fields=["secret_key", "webhook_secret"])
        self.stdout.write(f"re-encrypted {len(accounts)} gateway account(s)")
