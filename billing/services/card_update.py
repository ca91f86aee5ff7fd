"""A customer replacing their card from the portal: a card set-up checkout on our hosted page.

The checkout is a `setup` one (nothing is charged): completing it saves the card, which
becomes the customer's default (gateways.services.checkout.payment_method_save), so the next
charge of an unpaid invoice — a dunning retry — uses it. Nothing starts when it completes (no
subscription waits for it).
"""

from __future__ import annotations

from billing.models import Checkout, Customer
from billing.services.checkouts import checkout_open
from cynco import clock
from cynco.tenancy import Scope

PURPOSE = "card_update"


def card_update_checkout_create(*, scope: Scope, customer: Customer, return_url: str
                                ) -> Checkout:
    """A set-up checkout for `customer` whose page returns to `return_url`, opened at the
    gateway. Calls the gateway, so no transaction may be open; takes no lock (it moves no
    money) and posts no ledger entry."""
    checkout = Checkout.objects.create(
        merchant_id=scope.merchant_id, environment=scope.environment, customer=customer,
        mode=Checkout.Mode.SETUP, amount=0, currency=customer.merchant.default_currency,
        created_at=clock.now(scope), description="Update your card",
        success_url=return_url, cancel_url=return_url, plan={"purpose": PURPOSE},
    )
    return checkout_open(scope=scope, checkout=checkout)
