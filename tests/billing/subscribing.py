"""Builders for subscription scenarios: a catalog, customers, a saved card, the test clock."""

from __future__ import annotations

from datetime import datetime

from tests.billing.catalog import CUSTOMERS, ENTERPRISE, FREE, PRO, define
from tests.factories import data_of

SUBSCRIBE = "/api/v1/pay/subscribe"
PREVIEW = "/api/v1/pay/preview"
CANCEL = "/api/v1/pay/cancel"
SUBSCRIPTIONS = "/api/v1/pay/subscriptions"
UPDATE = "/api/v1/pay/subscriptions/update"
PREVIEW_UPDATE = "/api/v1/pay/subscriptions/preview-update"
INVOICES = "/api/v1/pay/invoices"
ADVANCE = "/api/v1/pay/test/clock/advance"
CLOCK = "/api/v1/pay/test/clock"
OK_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
THREE_DS_CARD = "4000002760003184"
LATER_DECLINED_CARD = "4000000000000341"
DAY = 24 * 3600


def complete_path(checkout_id: str) -> str:
    return f"/api/v1/pay/test/checkouts/{checkout_id}/complete"


def main_catalog(api) -> None:
    for body in (FREE, PRO, ENTERPRISE):
        define(api, body)


def customer(api, external_id: str = "user_1") -> dict:
    return data_of(api.post(CUSTOMERS, {"customerId": external_id}), 201)


def subscribe(api, product: str, customer_id: str = "user_1", status: int = 200, **extra):
    return data_of(api.post(SUBSCRIBE, {"customer": customer_id, "product": product, **extra}),
                   status)


def pay_checkout(api, result: dict, card: str = OK_CARD) -> dict:
    assert result["action"] == "checkout", result
    return data_of(api.post(complete_path(result["checkoutId"]), {"card": card}))


def subscribe_paid(api, product: str, customer_id: str = "user_1", card: str = OK_CARD,
                   **extra) -> dict:
    """Subscribe through the checkout page with `card` (which is then saved)."""
    return pay_checkout(api, subscribe(api, product, customer_id, **extra), card)


def advance(api, seconds: int) -> dict:
    return data_of(api.post(ADVANCE, {"seconds": seconds}))


def now(api) -> datetime:
    return datetime.fromisoformat(data_of(api.get(CLOCK))["now"].replace("Z", "+00:00"))


def state(api, customer_id: str = "user_1") -> dict:
    return data_of(api.get(f"{CUSTOMERS}?id={customer_id}"))


def current(api, customer_id: str = "user_1") -> dict[str, dict]:
    return {s["productSlug"]: s for s in state(api, customer_id)["subscriptions"]}


def invoices(api, customer_id: str = "user_1") -> list[dict]:
    return data_of(api.get(f"{INVOICES}?customer={customer_id}"))
