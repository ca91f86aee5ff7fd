"""The documented example catalog, for the demo merchant of `make run` (settings.DEMO_SEEDERS).

Free (the default plan, 100 `messages` a month), Pro at MYR 20.00 a month (1000 `messages` and
`premium_support`) and Enterprise at MYR 50.00 a month (unlimited `messages` and
`premium_support`), all in the group `main`. Running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from billing.api.product_input import ProductInput
from billing.services.catalog import product_define, product_definition
from cynco.tenancy import Scope


def _monthly(amount: int) -> dict:
    return {"type": "recurring", "billingInterval": "month", "amount": amount, "currency": "MYR"}


MESSAGES = {"slug": "messages", "name": "Messages", "type": "metered", "resetInterval": "month"}
PREMIUM_SUPPORT = {"slug": "premium_support", "name": "Premium support", "type": "boolean"}

DEMO_PRODUCTS = [
    {"name": "Free", "slug": "free", "description": "Try it out", "groupSlug": "main",
     "isDefault": True, "sortOrder": 0, "prices": [_monthly(0)],
     "features": [{**MESSAGES, "allowanceType": "fixed", "allowance": 100}]},
    {"name": "Pro", "slug": "pro", "description": "For growing teams", "groupSlug": "main",
     "sortOrder": 1, "prices": [_monthly(2000)],
     "features": [{**MESSAGES, "allowanceType": "fixed", "allowance": 1000}, PREMIUM_SUPPORT]},
    {"name": "Enterprise", "slug": "enterprise", "description": "No limits",
     "groupSlug": "main", "sortOrder": 2, "prices": [_monthly(5000)],
     "features": [{**MESSAGES, "allowanceType": "unlimited"}, PREMIUM_SUPPORT]},
]


def seed_demo_catalog(*, merchant_id: str, environment: str, log: Callable[[str], None]) -> None:
    """Define the example products in the merchant's `environment` (idempotent: an identical
    definition is left as it is), saying what happened to each through `log`."""
    scope = Scope(merchant_id, environment)
    for body in DEMO_PRODUCTS:
        data = ProductInput(data=body)
        data.is_valid(raise_exception=True)
        product, changed = product_define(
            scope=scope, slug=body["slug"], definition=product_definition(data.validated_data)
        )
        state = "defined" if changed else "already defined"
        log(f"Demo catalog: {product.slug} ({product.name}) {state}, "
            f"version {product.latest_version.version}")
