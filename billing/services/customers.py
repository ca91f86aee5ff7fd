"""Writes of customers: get-or-create (safe on every login), update, soft delete."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from billing.models import Customer, Subscription
from billing.services.default_plans import default_products_attach
from cynco import clock
from cynco.errors import CustomerNotFound
from cynco.locks import lock_customer
from cynco.tenancy import Scope

UNSET = object()


def _active_customers(scope: Scope):
    return Customer.objects.for_scope(scope).active()


def customer_get_or_create(
    *, scope: Scope, external_id: str, name: str | None = None, email: str | None = None,
    metadata: dict | None = None,
) -> tuple[Customer, bool]:
    """The customer `external_id`, created (with its default products) when there is none.

    Returns (customer, created). An existing customer is returned unchanged: name, email and
    metadata change only through customer_update. Concurrent calls with one external id make
    one customer: the partial unique index on external_id serializes the inserts and the
    losers read the winner's row. Creation takes lock_customer(new id) before attaching the
    free default products, in the same transaction; it posts no ledger entry.
    """
    existing = _active_customers(scope).filter(external_id=external_id).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        try:
            with transaction.atomic():
                customer = Customer.objects.create(
                    merchant_id=scope.merchant_id, environment=scope.environment,
                    external_id=external_id, name=name, email=email, metadata=metadata or {},
                )
        except IntegrityError:  # created concurrently; that transaction has committed
            return _active_customers(scope).get(external_id=external_id), False
        lock_customer(customer.id)
        default_products_attach(scope=scope, customer=customer, at=clock.now(scope))
    return customer, True


def customer_update(
    *, scope: Scope, external_id: str, name=UNSET, email=UNSET, metadata=UNSET
) -> Customer:
    """Change the given fields of customer `external_id` (None clears name or email).

    Takes no customer lock (nothing about money or balances changes) but locks the row.
    Raises CustomerNotFound.
    """
    with transaction.atomic():
        customer = (
            _active_customers(scope).select_for_update().filter(external_id=external_id).first()
        )
        if customer is None:
            raise CustomerNotFound()
        changes = {"name": name, "email": email, "metadata": metadata}
        changed = [field for field, value in changes.items() if value is not UNSET]
        if metadata is not UNSET:
            changes["metadata"] = metadata or {}
        for field in changed:
            setattr(customer, field, changes[field])
        if changed:
            customer.save(update_fields=[*changed, "updated_at"])
        return customer


def customer_delete(*, scope: Scope, external_id: str) -> Customer:
    """Soft-delete customer `external_id`: it answers 404 from now on, and its external id is
    free for a new customer. Its current subscriptions end now (status canceled), without a
    refund; its invoices, payments and ledger history stay. Takes lock_customer; posts no
    ledger entry. Raises CustomerNotFound.
    """
    with transaction.atomic():
        customer = _active_customers(scope).filter(external_id=external_id).first()
        if customer is None:
            raise CustomerNotFound()
        lock_customer(customer.id)
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.deleted_at is not None:  # deleted while we waited
            raise CustomerNotFound()
        now = clock.now(scope)
        for subscription in customer.subscriptions.filter(
            status__in=Subscription.CURRENT_STATUSES
        ):
            subscription.status = Subscription.Status.CANCELED
            subscription.canceled_at = now
            subscription.cancel_at_period_end = False
            subscription.save(
                update_fields=["status", "canceled_at", "cancel_at_period_end", "updated_at"]
            )
        customer.deleted_at = now
        customer.save(update_fields=["deleted_at", "updated_at"])
        return customer
