"""The sandbox's record of money moved (its own tables), for reconciliation."""

from __future__ import annotations

from datetime import datetime

from gateways.base import MoneyMovement, MovementKind
from gateways.sandbox.models import SandboxPayment, SandboxRefund


def payments(namespace: dict, *, since: datetime, until: datetime) -> list[MoneyMovement]:
    """Succeeded payments created in [since, until) (a 3-D Secure payment is dated when it
    was asked for; reconciliation looks up by id what falls outside its window)."""
    rows = SandboxPayment.objects.filter(
        **namespace, status=SandboxPayment.Status.SUCCEEDED, amount__gt=0,
        created_at__gte=since, created_at__lt=until,
    ).values_list("id", "amount", "currency", "created_at").order_by("created_at", "id")
    return [MoneyMovement(kind=MovementKind.PAYMENT, provider_id=pk, amount=amount,
                          currency=currency, at=at) for pk, amount, currency, at in rows]


def refunds(namespace: dict, *, since: datetime, until: datetime) -> list[MoneyMovement]:
    rows = SandboxRefund.objects.filter(
        **namespace, created_at__gte=since, created_at__lt=until,
    ).values_list("id", "amount", "payment__currency", "created_at", "payment_id").order_by(
        "created_at", "id")
    return [MoneyMovement(kind=MovementKind.REFUND, provider_id=pk, amount=amount,
                          currency=currency, at=at, payment_id=payment_id)
            for pk, amount, currency, at, payment_id in rows]
