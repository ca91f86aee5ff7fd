"""What the console's customer page shows: everything about one customer on one screen, read
in a fixed number of queries (whatever the customer has), newest first and capped per section
with a link to the full, filtered list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q

from billing.models import (
    AuditEvent,
    Balance,
    Customer,
    Entity,
    Invoice,
    Refund,
    Subscription,
    WebhookDelivery,
)
from gateways.models import PaymentAttempt
from ledger.models import JournalEntry, JournalLine

ROWS = 20  # per section; the section's "all" link opens the full list


@dataclass(frozen=True)
class BalanceBar:
    """One feature's balance as a bar: used of granted, and when it resets."""

    feature: str
    entity: str
    used: object
    granted: object
    unlimited: bool
    is_boolean: bool
    percent: int
    resets_at: datetime | None

    @property
    def over(self) -> bool:
        return not self.unlimited and self.used > self.granted


def balance_bar(balance: Balance) -> BalanceBar:
    granted = balance.granted or 0
    percent = 0 if balance.unlimited or not granted else min(100, round(balance.used * 100 / granted))
    if not balance.unlimited and not granted and balance.used:
        percent = 100
    return BalanceBar(
        feature=balance.feature.name or balance.feature.slug, entity=balance.entity_key,
        used=balance.used, granted=granted, unlimited=balance.unlimited,
        is_boolean=balance.is_boolean, percent=percent,
        resets_at=balance.period_end,
    )


def customer_overview(customer: Customer) -> dict:
    """The customer page's sections. Each is one query (ledger entries two, with their lines),
    so the page costs the same for a customer with one invoice or a thousand."""
    mine = {"merchant_id": customer.merchant_id, "environment": customer.environment}
    subscriptions = list(
        Subscription.objects.filter(customer=customer).exclude(status=Subscription.Status.CHECKOUT)
        .select_related("product", "price", "scheduled_price")
        .order_by("-created_at")[:ROWS]
    )
    invoices = list(Invoice.objects.filter(customer=customer).order_by("-created_at")[:ROWS])
    refunds = list(Refund.objects.filter(customer=customer).order_by("-created_at")[:ROWS])
    references = [customer.id, customer.external_id]
    payments = list(
        PaymentAttempt.objects.filter(**mine, customer_reference__in=references)
        .order_by("-created_at")[:ROWS]
    )
    sources = [invoice.id for invoice in invoices] + [refund.id for refund in refunds]
    entries = list(
        JournalEntry.objects.filter(**mine)
        .filter(Q(invoice_id__in=sources) | Q(source_id__in=sources))
        .prefetch_related(Prefetch("lines", queryset=JournalLine.objects.select_related(
            "account").order_by("id")))
        .order_by("-date", "-posted_at")[:ROWS]
    ) if sources else []
    balances = [balance_bar(balance) for balance in
                Balance.objects.filter(customer=customer).select_related("feature")
                .order_by("feature__slug", "entity_key")]
    return {
        "subscriptions": subscriptions,
        "balances": balances,
        "invoices": invoices,
        "refunds": refunds,
        "payments": payments,
        "entries": entries,
        "entities": list(Entity.objects.filter(customer=customer, deleted_at__isnull=True)
                         .select_related("feature").order_by("entity_key")[:ROWS]),
        "audit": list(AuditEvent.objects.filter(**mine).filter(
            Q(customer_id=customer.id) | Q(customer_id=customer.external_id))
            .order_by("-created_at")[:ROWS]),
        "deliveries": list(
            WebhookDelivery.objects.filter(**mine)
            .filter(Q(event__payload__contains=f'"{customer.id}"')
                    | Q(event__payload__contains=f'"{customer.external_id}"'))
            .select_related("event", "endpoint").order_by("-created_at")[:ROWS]
        ),
    }
