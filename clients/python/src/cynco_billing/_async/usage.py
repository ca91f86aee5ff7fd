"""The core calls: subscribe, check, track, cancel, locks, balances, entities, spend caps,
usage events.

(The sync client is generated from this async code: scripts/generate_sync.py.)

Every call that changes something sends an `Idempotency-Key` (yours via `idempotency_key=`,
else a new one), kept across its retries. `track` sends its key in the body instead
(`idempotencyKey`), where the server answers a repeat with `duplicate=True`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cynco_billing._async.http import AsyncHttp
from cynco_billing._transport import Call, Page, changing, compact
from cynco_billing.inputs import (
    AttachItem,
    CarryOver,
    InlineCustomer,
    Lock,
    Number,
    TrackEvent,
    wire_many,
    wire_one,
)
from cynco_billing.models import (
    Balance,
    CheckResult,
    Deleted,
    Entity,
    FinalizeLockResult,
    ProductSpendCap,
    SpendCapStatus,
    TrackBatchResult,
    TrackResult,
    UsageAggregation,
)
from cynco_billing.models.subscriptions import CancelResult, SubscribeResult


def _customer(customer: str | InlineCustomer | Mapping[str, Any]) -> Any:
    return customer if isinstance(customer, str) else wire_one(customer, InlineCustomer)


class AsyncUsageApi(AsyncHttp):
    async def subscribe(
        self, customer: str | InlineCustomer | Mapping[str, Any], product: str, *,
        price_id: str | None = None, success_url: str | None = None,
        cancel_url: str | None = None, quantity: int | None = None,
        coupon_code: str | None = None, fingerprint: str | None = None,
        billing_anchor_day: int | None = None, metadata: Mapping[str, Any] | None = None,
        carry_over_balances: CarryOver | Mapping[str, Any] | None = None,
        carry_over_usages: CarryOver | Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> SubscribeResult:
        """Subscribe `customer` (an external id, or a new customer) to `product` (a slug):
        a new plan, an upgrade (now, prorated), a downgrade (at period end), an add-on or a
        one-time purchase. When `action` is "checkout", send the customer to `url`."""
        body = compact(
            customer=_customer(customer), product=product, priceId=price_id,
            successUrl=success_url, cancelUrl=cancel_url, quantity=quantity,
            couponCode=coupon_code, fingerprint=fingerprint, billingAnchorDay=billing_anchor_day,
            metadata=metadata, carryOverBalances=wire_one(carry_over_balances, CarryOver),
            carryOverUsages=wire_one(carry_over_usages, CarryOver))
        return await self._one(SubscribeResult, Call("POST", "/api/v1/pay/subscribe", body=body,
                                                      idempotency_key=changing(idempotency_key)))

    async def multi_attach(
        self, customer: str | InlineCustomer | Mapping[str, Any],
        products: Iterable[AttachItem | Mapping[str, Any]], *, success_url: str,
        cancel_url: str, coupon_code: str | None = None,
        metadata: Mapping[str, Any] | None = None, idempotency_key: str | None = None,
    ) -> SubscribeResult:
        """Subscribe to several products in one checkout: all of them, or none."""
        body = compact(customer=_customer(customer), products=wire_many(products, AttachItem),
                       successUrl=success_url, cancelUrl=cancel_url, couponCode=coupon_code,
                       metadata=metadata)
        return await self._one(SubscribeResult, Call(
            "POST", "/api/v1/pay/multi-attach", body=body,
            idempotency_key=changing(idempotency_key)))

    async def check(
        self, customer: str, feature: str, *, send_event: bool | None = None,
        required_balance: Number | None = None, entity_id: str | None = None,
        lock: Lock | Mapping[str, Any] | None = None, idempotency_key: str | None = None,
    ) -> CheckResult:
        """May `customer` use `feature`? With `send_event=True` the required balance (default
        1) is also deducted when allowed; with `lock` it is reserved until the lock's
        `expires_at` (finish it with `finalize_lock`). Only those two forms change anything,
        so only they send an Idempotency-Key."""
        body = compact(customer=customer, feature=feature, sendEvent=send_event,
                       requiredBalance=required_balance, entityId=entity_id,
                       lock=wire_one(lock, Lock))
        key = changing(idempotency_key) if send_event or lock is not None else idempotency_key
        return await self._one(CheckResult, Call("POST", "/api/v1/pay/check", body=body,
                                                  idempotency_key=key))

    async def track(
        self, customer: str, feature: str, *, amount: Number | None = None,
        entity_id: str | None = None, idempotency_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> TrackResult:
        """Record `amount` (default 1; negative corrects) of usage of `feature`. The key goes
        in the body (yours, or a new one): a retry of a track that was recorded answers
        `duplicate=True, recorded=False`, never a second count."""
        body = compact(customer=customer, feature=feature, amount=amount, entityId=entity_id,
                       idempotencyKey=changing(idempotency_key), metadata=metadata)
        return await self._one(TrackResult, Call("POST", "/api/v1/pay/track", body=body))

    async def track_batch(
        self, events: Iterable[TrackEvent | Mapping[str, Any]],
    ) -> TrackBatchResult:
        """Record up to 1,000 events in one request (`POST /track/batch`), each by `track`'s
        rules, in order; `results[i]` answers event i (status accepted, duplicate, denied or
        error: one bad event does not stop the others). Each event without an
        `idempotency_key` gets a new one, so a retried batch never counts an event twice."""
        wired = []
        for event in events:
            body = wire_one(event, TrackEvent)
            body["idempotencyKey"] = changing(body.get("idempotencyKey"))
            wired.append(body)
        return await self._one(TrackBatchResult, Call("POST", "/api/v1/pay/track/batch",
                                                       body={"events": wired}))

    async def cancel(
        self, customer: str, *, product: str | None = None, immediate: bool | None = None,
        reason: str | None = None, idempotency_key: str | None = None,
    ) -> CancelResult:
        """Cancel `customer`'s subscription to `product` (all when omitted) at period end, or
        now with `immediate=True` (the unused part is refunded)."""
        body = compact(customer=customer, product=product, immediate=immediate, reason=reason)
        return await self._one(CancelResult, Call("POST", "/api/v1/pay/cancel", body=body,
                                                   idempotency_key=changing(idempotency_key)))

    async def finalize_lock(
        self, lock_id: str, action: str, *, override_value: Number | None = None,
        customer: str | None = None, idempotency_key: str | None = None,
    ) -> FinalizeLockResult:
        """Finish a lock: `action` "confirm" records `override_value` (default: the amount
        reserved) as usage and gives back the rest; "release" gives back all of it."""
        body = compact(lockId=lock_id, action=action, overrideValue=override_value,
                       customer=customer)
        return await self._one(FinalizeLockResult, Call(
            "POST", "/api/v1/pay/balances/finalize", body=body,
            idempotency_key=changing(idempotency_key)))

    async def create_balance(
        self, customer: str, feature: str, granted_balance: Number, *,
        reset_interval: str | None = None, idempotency_key: str | None = None,
    ) -> Balance:
        """Grant `granted_balance` of `feature` (credits, promotions); `reset_interval`:
        month, year or one_off."""
        body = compact(customer=customer, feature=feature, grantedBalance=granted_balance,
                       resetInterval=reset_interval)
        return await self._one(Balance, Call("POST", "/api/v1/pay/balances/create", body=body,
                                              idempotency_key=changing(idempotency_key)))

    async def update_balance(
        self, customer: str, feature: str, *, usage: Number | None = None,
        balance: Number | None = None, idempotency_key: str | None = None,
    ) -> Balance:
        """Set the period's `usage`, or the `balance` left (exactly one of the two)."""
        body = compact(customer=customer, feature=feature, usage=usage, balance=balance)
        return await self._one(Balance, Call("POST", "/api/v1/pay/balances/update", body=body,
                                              idempotency_key=changing(idempotency_key)))

    async def create_entity(
        self, customer: str, entity_id: str, feature_id: str, *, name: str | None = None,
        metadata: Mapping[str, Any] | None = None, idempotency_key: str | None = None,
    ) -> Entity:
        """Add a seat, workspace, … (`entity_id`): counts one unit of `feature_id`."""
        body = compact(customer=customer, entityId=entity_id, featureId=feature_id, name=name,
                       metadata=metadata)
        return await self._one(Entity, Call("POST", "/api/v1/pay/entities", body=body,
                                             idempotency_key=changing(idempotency_key)))

    async def list_entities(self, customer: str, *, limit: int | None = None,
                            offset: int | None = None) -> Page[Entity]:
        return await self._page(Entity, Call("GET", "/api/v1/pay/entities", params={
            "customer": customer, "limit": limit, "offset": offset}))

    async def delete_entity(self, customer: str, entity_id: str, *,
                            idempotency_key: str | None = None) -> Deleted:
        """Remove an entity; its unit of the feature is given back."""
        return await self._one(Deleted, Call(
            "DELETE", "/api/v1/pay/entities", body={"customer": customer, "entityId": entity_id},
            idempotency_key=changing(idempotency_key)))

    async def get_spend_cap(self, customer: str, feature: str) -> SpendCapStatus:
        return await self._one(SpendCapStatus, Call("GET", "/api/v1/pay/spend-caps", params={
            "customer": customer, "feature": feature}))

    async def set_spend_cap(self, customer: str, feature: str, cap_cents: int | None, *,
                            idempotency_key: str | None = None) -> SpendCapStatus:
        """Cap the period's overage cost of `feature` at `cap_cents`; None removes the cap."""
        body = {"customer": customer, "feature": feature, "capCents": cap_cents}
        return await self._one(SpendCapStatus, Call("POST", "/api/v1/pay/spend-caps", body=body,
                                                     idempotency_key=changing(idempotency_key)))

    async def set_product_spend_cap(self, product_id: str, feature_id: str,
                                    cap_cents: int | None, *,
                                    idempotency_key: str | None = None) -> ProductSpendCap:
        """The default cap of every customer on `product_id` (None removes it)."""
        body = {"scope": "product", "productId": product_id, "featureId": feature_id,
                "capCents": cap_cents}
        return await self._one(ProductSpendCap, Call(
            "POST", "/api/v1/pay/spend-caps", body=body,
            idempotency_key=changing(idempotency_key)))

    async def aggregate_events(self, customer: str, feature: str, *, range: str | None = None,
                               group_by: str | None = None) -> UsageAggregation:
        """Usage of `feature` over `range` (7d, 14d, 30d, 90d, 365d) by `group_by` (day,
        week, month): a timeline and totals."""
        body = compact(customer=customer, feature=feature, range=range, groupBy=group_by)
        return await self._one(UsageAggregation, Call("POST", "/api/v1/pay/events", body=body))

