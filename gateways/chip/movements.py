"""CHIP's record of money moved, for reconciliation.

CHIP's API has no call that lists purchases (its SDKs offer create, read, charge, refund,
capture, release, cancel), so we read, one `GET /purchases/{id}/` each, the purchases this
merchant+environment could have moved money on in the window: those we created in it, those
we refunded in it, and those a `payment.refunded` webhook named in it (a refund made in CHIP's
portal). A purchase is a payment once paid (`payment.amount`, `payment.paid_on`). Its refunds
are the refund Payments its `status_history` names (`related_object`), with the amounts we
asked for or a webhook reported; what CHIP refunded beyond those (`payment.amount -
refundable_amount`) is one more refund, under the unknown id CHIP names or, with none,
`<purchase id>/refunds`. A payment on a purchase none of our records name, and a portal refund
whose webhook never came, are not seen: register the webhook (docs/gateways.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from gateways.base import GatewayNotFound, MoneyMovement, MovementKind
from gateways.chip import purchases
from gateways.chip.client import ChipClient
from gateways.chip.models import ChipRequest
from gateways.models import WebhookEvent

Kind = ChipRequest.Kind


def _when(stamp, fallback: datetime) -> datetime:
    return datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else fallback


class ChipMovements:
    """The purchases of one merchant+environment's CHIP account, read once each."""

    def __init__(self, client: ChipClient, namespace: dict, account_id: str):
        self.client, self.namespace, self.account_id = client, namespace, account_id
        self.read: dict[str, dict | None] = {}

    def _records(self):
        return ChipRequest.objects.filter(**self.namespace, account_id=self.account_id)

    def purchase(self, purchase_id: str) -> dict | None:
        if purchase_id not in self.read:
            try:
                self.read[purchase_id] = self.client.purchase(purchase_id)
            except GatewayNotFound:
                self.read[purchase_id] = None
        return self.read[purchase_id]

    def payments(self, *, since: datetime, until: datetime) -> list[MoneyMovement]:
        found = []
        for purchase_id, created in self._records().filter(
                kind__in=(Kind.CHECKOUT, Kind.CHARGE), created_at__gte=since,
                created_at__lt=until).exclude(purchase_id="").values_list(
                    "purchase_id", "created_at").order_by("created_at"):
            purchase = self.purchase(purchase_id)
            if purchase is None or purchase.get("status") not in purchases.PAID:
                continue
            payment = purchase.get("payment") or {}
            amount = int(payment.get("amount") or purchases.amount_of(purchase))
            if amount > 0:
                found.append(MoneyMovement(
                    kind=MovementKind.PAYMENT, provider_id=purchase_id, amount=amount,
                    currency=str(payment.get("currency") or purchases.currency_of(purchase)
                                 ).upper(), at=_when(payment.get("paid_on"), created)))
        return found

    def refunds(self, *, since: datetime, until: datetime) -> list[MoneyMovement]:
        known: dict[str, dict[str, tuple[int, datetime]]] = {}  # purchase → refund → (amount, at)
        for purchase_id, refund_id, amount, created in self._records().filter(
                kind=Kind.REFUND, created_at__gte=since, created_at__lt=until).values_list(
                    "purchase_id", "refund_id", "amount", "created_at"):
            if refund_id and amount:
                known.setdefault(purchase_id, {})[refund_id] = (amount, created)
            else:
                known.setdefault(purchase_id, {})
        for event, received in WebhookEvent.objects.filter(
                gateway="chip", verified=True, event_type="refund.succeeded",
                merchant_id=self.namespace["merchant_id"],
                environment=self.namespace["environment"],
                received_at__gte=since, received_at__lt=until).values_list("event",
                                                                            "received_at"):
            if event.get("provider_payment_id") and event.get("provider_refund_id"):
                known.setdefault(event["provider_payment_id"], {}).setdefault(
                    event["provider_refund_id"], (int(event.get("amount") or 0), received))
        for payment in self.payments(since=since, until=until):
            known.setdefault(payment.provider_id, {})
        found = []
        for purchase_id, refunds in known.items():
            found += self._refunds_of(purchase_id, refunds)
        return [refund for refund in found if since <= refund.at < until]

    def _refunds_of(self, purchase_id: str, refunds: dict[str, tuple[int, datetime]]
                    ) -> list[MoneyMovement]:
        purchase = self.purchase(purchase_id)
        if purchase is None:
            return []
        payment = purchase.get("payment") or {}
        currency = str(payment.get("currency") or purchases.currency_of(purchase)).upper()
        paid = int(payment.get("amount") or purchases.amount_of(purchase))
        left = paid - int(purchase.get("refundable_amount") or 0) \
            if purchase.get("status") in purchases.PAID else 0
        named = {entry["related_object"]["id"]: entry.get("timestamp")
                 for entry in purchase.get("status_history") or []
                 if (entry.get("related_object") or {}).get("type") == "payment"}
        found = []
        for refund_id, (amount, at) in sorted(refunds.items(), key=lambda item: item[1][1]):
            if refund_id in named or amount <= left:
                found.append(MoneyMovement(
                    kind=MovementKind.REFUND, provider_id=refund_id, amount=amount,
                    currency=currency, at=_when(named.get(refund_id), at),
                    payment_id=purchase_id))
                left -= amount
        if left > 0:  # refunded at CHIP beyond every refund we know of
            unknown = [rid for rid in named if rid not in refunds]
            refund_id = unknown[0] if unknown else f"{purchase_id}/refunds"
            found.append(MoneyMovement(
                kind=MovementKind.REFUND, provider_id=refund_id, amount=left, currency=currency,
                at=_when(named.get(refund_id) or purchase.get("updated_on"), datetime.now(UTC)),
                payment_id=purchase_id))
        return found
