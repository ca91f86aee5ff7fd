"""Structured arguments (prices, features, locks, …). Each method that takes one also takes a
plain dict with the same keys, in snake_case or in the API's camelCase."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, TypeVar, Union

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

Number = Union[int, float, Decimal]


class Input(BaseModel):
    """An argument sent as JSON in the API's names. Unknown keys are sent as given."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True,
                              validate_by_alias=True, extra="allow")

    def wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class TierInput(Input):
    """One tier of a tiered price; `up_to` None is the last tier (no upper bound)."""

    up_to: Number | None = None
    unit_amount: int
    flat_amount: int | None = None

    def wire(self) -> dict[str, Any]:
        return {"upTo": self.up_to, **super().wire()}


class PriceInput(Input):
    """`type`: recurring or one_time; `amount` in minor units; `billing_interval`: week,
    month or year; tiered prices give `tiers_mode` (graduated or volume) and `tiers`."""

    type: str
    amount: int | None = None
    name: str | None = None
    billing_interval: str | None = None
    billing_interval_count: int | None = None
    currency: str | None = None
    trial_days: int | None = None
    trial_requires_card: bool | None = None
    setup_fee: int | None = None
    tiers_mode: str | None = None
    tiers: list[TierInput] | None = None

    def wire(self) -> dict[str, Any]:
        body = super().wire()
        if self.tiers is not None:
            body["tiers"] = [tier.wire() for tier in self.tiers]
        return body


class FeatureInput(Input):
    """`type`: boolean, metered or credit_system; `allowance_type`: boolean, fixed or
    unlimited; `overage_price` in minor units per unit over the allowance."""

    slug: str
    name: str
    type: str | None = None
    allowance_type: str | None = None
    allowance: Number | None = None
    overage_allowed: bool | None = None
    overage_price: int | None = None
    reset_interval: str | None = None
    per_entity: bool | None = None


class Lock(Input):
    """Reserve the required balance until `expires_at` (a datetime, or milliseconds since the
    epoch as the JavaScript client sends); `lock_id` is yours to choose, or the server's."""

    expires_at: datetime | int
    lock_id: str | None = None
    enabled: bool = True

    def wire(self) -> dict[str, Any]:
        body = super().wire()
        body["expiresAt"] = epoch_ms(self.expires_at)
        return body


class TrackEvent(Input):
    """One event of `track_batch`: `track`'s arguments, and `timestamp` (when it happened;
    validated by the server, usage counts when it arrives)."""

    customer: str
    feature: str
    amount: Number | None = None
    entity_id: str | None = None
    idempotency_key: str | None = None
    metadata: dict[str, Any] | None = None
    timestamp: datetime | None = None

    def wire(self) -> dict[str, Any]:
        body = super().wire()
        if self.timestamp is not None:
            stamp = self.timestamp
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=timezone.utc)
            body["timestamp"] = stamp.isoformat()
        return body


class AttachItem(Input):
    """One product of a `multi_attach`."""

    product: str
    price_id: str | None = None
    quantity: int | None = None


class FeatureQuantity(Input):
    feature_id: str
    quantity: int


class CarryOver(Input):
    enabled: bool = True
    feature_ids: list[str] | None = None


class InlineCustomer(Input):
    """A customer created on the fly by `subscribe` (all three are required)."""

    id: str
    email: str
    name: str


M = TypeVar("M", bound=Input)


def wire_one(value: M | Mapping[str, Any] | None, model: type[M]) -> dict[str, Any] | None:
    if value is None:
        return None
    return (value if isinstance(value, model) else model.model_validate(value)).wire()


def wire_many(values: Iterable[M | Mapping[str, Any]] | None, model: type[M]
              ) -> list[dict[str, Any]] | None:
    if values is None:
        return None
    return [wire_one(value, model) for value in values]


def epoch_ms(value: datetime | int) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp() * 1000)
    return int(value)
