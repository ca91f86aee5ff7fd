"""Builders for console tests: staff users of one merchant, and a customer whose renewal is
declined (so an invoice stays open)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from billing.models import Invoice
from cynco.models import MerchantStaff
from tests.billing.subscribing import LATER_DECLINED_CARD, advance, current, now, subscribe_paid


def staff_client(merchant, *, models: tuple[str, ...], can_change: bool = True,
                 name: str = "clerk") -> Client:
    """A logged-in staff user of `merchant` who may view (and change) `models` of billing."""
    user = get_user_model().objects.create_user(name, password="pw-123456789", is_staff=True)
    actions = ("view", "change") if can_change else ("view",)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="billing",
        codename__in=[f"{action}_{model}" for action in actions for model in models],
    ))
    MerchantStaff.objects.create(user=user, merchant=merchant)
    client = Client()
    client.force_login(user)
    return client


def declined_renewal(api, customer_id: str = "user_1") -> Invoice:
    """Pro paid with a card that is declined later, then the clock moved past the period end:
    the renewal invoice is open and the subscription past due."""
    subscribe_paid(api, "pro", customer_id, card=LATER_DECLINED_CARD)
    end = current(api, customer_id)["pro"]["currentPeriodEnd"]
    until = datetime.fromisoformat(end.replace("Z", "+00:00")) - now(api)
    advance(api, int(until.total_seconds()) + 60)
    return Invoice.objects.get(customer__external_id=customer_id, status="open")


def act(client: Client, page: str, action: str, ids: list[str]):
    return client.post(page, {"action": action, "_selected_action": ids}, follow=True)
