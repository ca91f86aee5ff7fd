"""`manage.py seed_demo`: the demo merchant that `make run` prints keys for (idempotent).

Raw keys exist only at creation, so the demo's test keys are kept in var/demo-keys.json (a
development convenience; production merchants come from `create_merchant`). If that file is
lost, new demo test keys are made. Apps add their demo data through settings.DEMO_SEEDERS
(dotted paths of functions taking `merchant_id`, `environment` and `log`), e.g. the catalog.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from cynco.database import VAR_DIR
from cynco.keys import hash_key
from cynco.merchants import api_key_create, merchant_create
from cynco.models import ApiKey, Merchant
from cynco.tenancy import Scope

DEMO_NAME = "Demo Merchant"
KEYS_FILE = VAR_DIR / "demo-keys.json"


class Command(BaseCommand):
    help = "Create the demo merchant, its keys and demo catalog if missing; print its test keys."

    def handle(self, *args, **options):
        with transaction.atomic():
            merchant = Merchant.objects.filter(name=DEMO_NAME).order_by("created_at").first()
            if merchant is None:
                merchant, raw = merchant_create(name=DEMO_NAME)
                keys = {"secret": raw["secret_test"], "publishable": raw["publishable_test"]}
                self.stdout.write(f"Created {DEMO_NAME} ({merchant.id})")
            else:
                keys = self._stored_keys(merchant)
            for seeder in getattr(settings, "DEMO_SEEDERS", []):
                import_string(seeder)(
                    merchant_id=merchant.id, environment="test", log=self.stdout.write
                )
        KEYS_FILE.write_text(json.dumps({"merchantId": merchant.id, **keys}, indent=2))
        self.stdout.write(self.style.SUCCESS("Demo merchant test keys:"))
        self.stdout.write(f"  secret key (server side):       {keys['secret']}")
        self.stdout.write(f"  publishable key (browser side): {keys['publishable']}")
        self.stdout.write(
            '  try: curl -H "Authorization: Bearer '
            f'{keys["secret"]}" {settings.PUBLIC_BASE_URL}/api/v1/pay/api-keys'
        )

    def _stored_keys(self, merchant: Merchant) -> dict[str, str]:
        """The saved demo keys if they still work, else freshly made test keys."""
        if KEYS_FILE.exists():
            saved = json.loads(KEYS_FILE.read_text())
            usable = all(
                ApiKey.objects.filter(
                    key_hash=hash_key(saved.get(kind, "")), revoked_at__isnull=True,
                    merchant=merchant,
                ).exists()
                for kind in ("secret", "publishable")
            )
            if usable:
                return {"secret": saved["secret"], "publishable": saved["publishable"]}
        scope = Scope(merchant.id, "test")
        self.stdout.write("Saved demo keys not found; making new demo test keys")
        return {
            kind: api_key_create(scope=scope, name=f"Demo {kind} key", key_type=kind)[1]
            for kind in ("secret", "publishable")
        }
