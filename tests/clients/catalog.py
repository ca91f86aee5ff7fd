"""The catalog the client tests sell: Free, Pro and Enterprise in one group, an add-on."""

from __future__ import annotations

from cynco_billing import CyncoBilling, FeatureInput, PriceInput

MONTHLY = {"type": "recurring", "billingInterval": "month"}


def sell_plans(billing: CyncoBilling) -> None:
    billing.create_product("Free", "free", is_default=True, group_slug="main", sort_order=0,
                           prices=[{**MONTHLY, "amount": 0}],
                           features=[FeatureInput(slug="messages", name="Messages",
                                                  type="metered", allowance_type="fixed",
                                                  allowance=100)])
    billing.create_product(
        "Pro", "pro", group_slug="main", sort_order=1,
        prices=[PriceInput(type="recurring", billing_interval="month", amount=2000)],
        features=[
            {"slug": "messages", "name": "Messages", "type": "metered",
             "allowance_type": "fixed", "allowance": 1000, "overage_allowed": True,
             "overage_price": 2},
            {"slug": "seats", "name": "Seats", "type": "metered", "allowanceType": "fixed",
             "allowance": 3},
            {"slug": "premium_support", "name": "Premium support", "type": "boolean"},
        ])
    billing.create_product("Enterprise", "enterprise", group_slug="main", sort_order=2,
                           prices=[{**MONTHLY, "amount": 5000}],
                           features=[{"slug": "messages", "name": "Messages",
                                      "type": "metered", "allowanceType": "unlimited"}])
    billing.create_product("Extra seats", "extra-seats", is_add_on=True,
                           prices=[{**MONTHLY, "amount": 500}],
                           features=[{"slug": "seats", "name": "Seats", "type": "metered",
                                      "allowanceType": "fixed", "allowance": 5}])


OK_CARD = "4242424242424242"


def paying_customer(billing: CyncoBilling, customer: str = "user_1", product: str = "pro"):
    """`customer` on `product`, paid on the checkout page with a good card (now saved)."""
    billing.get_or_create_customer(customer, email=f"{customer}@example.com")
    started = billing.subscribe(customer, product, success_url="https://example.com/thanks")
    assert started.action == "checkout" and started.url and started.checkout_id
    done = billing.complete_test_checkout(started.checkout_id, OK_CARD)
    assert done.status == "completed", done
    return done
