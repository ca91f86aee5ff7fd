"""`/balances/create` and `/balances/update`: a merchant's own grants and corrections."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from billing.entitlement_rules import ZERO
from billing.models import Balance, BalanceGrant, UsageEvent
from billing.selectors.customers import customer_find
from billing.services.balances import balance_settle, customer_feature_balances
from billing.services.spend_caps import metered_feature
from billing.services.usage import record_usage, standing_of
from cynco import clock
from cynco.errors import ValidationFailed
from cynco.locks import lock_customer
from cynco.tenancy import Scope


def balance_grant_create(
    *, scope: Scope, customer: str, feature: str, granted: Decimal, reset_interval: str,
) -> Balance:
    """Grant `granted` units of `feature` to the customer on top of its plans: anew every
    month or year (`reset_interval`), or once (`one_off`, spent after the plans' allowance and
    kept across periods until used). Takes lock_customer; no ledger entry."""
    found = customer_find(scope, customer)
    metered = metered_feature(scope, feature)
    at = clock.now(scope)
    with transaction.atomic():
        lock_customer(found.id)
        BalanceGrant.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment, customer=found,
            feature=metered, source=BalanceGrant.Source.MANUAL, allowance=granted,
            remaining=granted if reset_interval == "one_off" else None,
            reset_interval=reset_interval, created_at=at,
        )
        customer_feature_balances(customer=found, feature=metered, at=at)
        return Balance.objects.select_related("customer", "feature").get(
            customer=found, feature=metered, entity_key=""
        )


def balance_set(
    *, scope: Scope, customer: str, feature: str, usage: Decimal | None = None,
    balance: Decimal | None = None,
) -> Balance:
    """Set this period's usage, or the balance left (usage becomes granted - balance; a
    balance above what is granted adds a once-only grant of the difference). The change is
    recorded as an adjustment event. Takes lock_customer; no ledger entry."""
    found = customer_find(scope, customer)
    metered = metered_feature(scope, feature)
    at = clock.now(scope)
    with transaction.atomic():
        lock_customer(found.id)
        row, _ = Balance.objects.get_or_create(
            customer=found, feature=metered, entity_key="",
            defaults={"merchant_id": scope.merchant_id, "environment": scope.environment,
                      "period_anchor": at, "period_start": at},
        )
        row = balance_settle(row, at)
        if balance is not None and row.unlimited:
            raise ValidationFailed.field("balance", "An unlimited feature has no balance.")
        used = usage if usage is not None else row.granted - row.reserved - balance
        if used < 0:
            BalanceGrant.objects.create(
                merchant_id=scope.merchant_id, environment=scope.environment, customer=found,
                feature=metered, source=BalanceGrant.Source.MANUAL, allowance=-used,
                remaining=-used, reset_interval="one_off", created_at=at,
            )
            customer_feature_balances(customer=found, feature=metered, at=at)
            row.refresh_from_db()
            used = ZERO
        delta = used - row.used
        if delta:
            record_usage(scope, row, standing_of(row), delta, at,
                         source=UsageEvent.Source.ADJUSTMENT, entity_key="")
        return Balance.objects.select_related("customer", "feature").get(pk=row.pk)
