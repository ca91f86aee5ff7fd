"""Subscriptions, invoices, the portal, analytics and webhook endpoints.

(The sync client is generated from this async code: scripts/generate_sync.py.)"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cynco_billing._async.http import AsyncHttp
from cynco_billing._transport import Call, Page, changing, compact, segment
from cynco_billing.inputs import FeatureQuantity, wire_many
from cynco_billing.models import (
    Analytics,
    CreditNote,
    Deleted,
    Invoice,
    PortalLink,
    RevenueMonth,
    SubscriptionSummary,
    UpdateSubscriptionResult,
    WebhookEndpoint,
)


def _update_body(customer, product, cancel_action, pause_action, resume_at, quantity,
                 feature_quantities, proration_behavior) -> dict[str, Any]:
    return compact(customer=customer, product=product, cancelAction=cancel_action,
                   pauseAction=pause_action, resumeAt=resume_at, quantity=quantity,
                   featureQuantities=wire_many(feature_quantities, FeatureQuantity),
                   prorationBehavior=proration_behavior)


class AsyncBillingApi(AsyncHttp):
    async def list_subscriptions(self, status: str | Sequence[str] | None = None, *,
                                 limit: int | None = None,
                                 offset: int | None = None) -> Page[SubscriptionSummary]:
        """Subscriptions, optionally of some statuses (`"active,trialing"` or a list)."""
        return await self._page(SubscriptionSummary, Call(
            "GET", "/api/v1/pay/subscriptions",
            params={"status": status, "limit": limit, "offset": offset}))

    async def update_subscription(
        self, customer: str, product: str, *, cancel_action: str | None = None,
        pause_action: str | None = None, resume_at: datetime | str | None = None,
        quantity: int | None = None,
        feature_quantities: Iterable[FeatureQuantity | Mapping[str, Any]] | None = None,
        proration_behavior: str | None = None, idempotency_key: str | None = None,
    ) -> UpdateSubscriptionResult:
        """Change a subscription: `cancel_action` (cancel_end_of_cycle, cancel_immediately,
        uncancel), `pause_action` (pause, resume; `resume_at`), `quantity`, or
        `feature_quantities`; `proration_behavior` prorate (default) or none."""
        body = _update_body(customer, product, cancel_action, pause_action, resume_at,
                            quantity, feature_quantities, proration_behavior)
        return await self._one(UpdateSubscriptionResult, Call(
            "POST", "/api/v1/pay/subscriptions/update", body=body,
            idempotency_key=changing(idempotency_key)))

    async def preview_update(
        self, customer: str, product: str, *, cancel_action: str | None = None,
        pause_action: str | None = None, resume_at: datetime | str | None = None,
        quantity: int | None = None,
        feature_quantities: Iterable[FeatureQuantity | Mapping[str, Any]] | None = None,
        proration_behavior: str | None = None,
    ) -> UpdateSubscriptionResult:
        """What `update_subscription` would do and charge, with nothing done."""
        body = _update_body(customer, product, cancel_action, pause_action, resume_at,
                            quantity, feature_quantities, proration_behavior)
        return await self._one(UpdateSubscriptionResult, Call(
            "POST", "/api/v1/pay/subscriptions/preview-update", body=body))

    async def list_invoices(self, customer: str | None = None, *, status: str | None = None,
                            limit: int | None = None,
                            offset: int | None = None) -> Page[Invoice]:
        return await self._page(Invoice, Call("GET", "/api/v1/pay/invoices", params={
            "customer": customer, "status": status, "limit": limit, "offset": offset}))

    async def get_invoice(self, invoice_id: str) -> Invoice:
        return await self._one(Invoice, Call("GET", f"/api/v1/pay/invoices/{segment(invoice_id)}"))

    async def list_credit_notes(self, customer: str | None = None, *,
                                type: str | Sequence[str] | None = None,
                                limit: int | None = None,
                                offset: int | None = None) -> Page[CreditNote]:
        """Refunds, credits kept and write-offs as documents, newest first (`type`: one of
        refund, credit, write_off, or a list)."""
        return await self._page(CreditNote, Call("GET", "/api/v1/pay/credit-notes", params={
            "customer": customer, "type": type, "limit": limit, "offset": offset}))

    async def get_credit_note(self, credit_note_id: str) -> CreditNote:
        return await self._one(CreditNote, Call(
            "GET", f"/api/v1/pay/credit-notes/{segment(credit_note_id)}"))

    async def portal(self, customer: str) -> PortalLink:
        """A signed link to the customer's portal, valid for one hour."""
        return await self._one(PortalLink, Call("GET", "/api/v1/pay/portal",
                                                 params={"customer": customer}))

    async def analytics(self, *, currency: str | None = None) -> Analytics:
        """MRR, ARR, active subscriptions, ARPU, churn and trial conversion."""
        return await self._one(Analytics, Call("GET", "/api/v1/pay/analytics",
                                                params={"currency": currency}))

    async def revenue_timeline(self, months: int | None = None) -> Page[RevenueMonth]:
        """Revenue, new subscriptions and churn by month (default: the last 12)."""
        return await self._page(RevenueMonth, Call("GET", "/api/v1/pay/analytics", params={
            "view": "timeline", "months": months}))

    async def create_webhook(self, url: str, *, events: Sequence[str] | None = None,
                             idempotency_key: str | None = None) -> WebhookEndpoint:
        """Send `events` (default: all) to `url`. Keep the answer's `secret`: it is shown
        only here, and `verify_webhook` needs it."""
        body = compact(url=url, events=list(events) if events is not None else None)
        return await self._one(WebhookEndpoint, Call("POST", "/api/v1/pay/webhooks", body=body,
                                                      idempotency_key=changing(idempotency_key)))

    async def list_webhooks(self, *, limit: int | None = None,
                            offset: int | None = None) -> Page[WebhookEndpoint]:
        return await self._page(WebhookEndpoint, Call("GET", "/api/v1/pay/webhooks", params={
            "limit": limit, "offset": offset}))

    async def delete_webhook(self, id: str, *, idempotency_key: str | None = None) -> Deleted:
        return await self._one(Deleted, Call("DELETE", "/api/v1/pay/webhooks", params={"id": id},
                                              idempotency_key=changing(idempotency_key)))
