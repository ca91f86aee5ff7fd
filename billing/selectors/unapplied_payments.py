"""Payments that need an operator: money a gateway took for something gone by then, whose
automatic refund failed (billing.services.unapplied_payments). The console lists them; the
Django admin shows them under "Unapplied payments" with a `needs attention` filter."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import UnappliedPayment
from cynco.tenancy import Scope


def payments_needing_attention(*, scope: Scope | None = None) -> QuerySet[UnappliedPayment]:
    """Unapplied payments held as customer credit because the gateway refused their refund,
    oldest first (every merchant environment's when `scope` is None)."""
    rows = UnappliedPayment.objects.filter(status=UnappliedPayment.Status.HELD)
    if scope is not None:
        rows = rows.filter(merchant_id=scope.merchant_id, environment=scope.environment)
    return rows.select_related("customer", "checkout").order_by("created_at", "id")
