"""Stripe's own shapes for the tests: its OpenAPI schemas of what we read, and payloads built
from its example objects.

`tests/gateways/stripe_openapi.json` holds the schemas (as JSON Schema `$defs`), the event
types we handle and Stripe's example objects, trimmed from the public repository
stripe/openapi by `scripts/trim_stripe_openapi.py` (its `source` says which files, commits and
API version). `problems()` names every way an object differs from its schema; `official_*`
build webhook payloads in Stripe's exact shape (its example object, our ids and values), each
checked against the schema before a test sends it; `signed()` signs a body as Stripe does.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator

DEFINITION = Path(__file__).with_name("stripe_openapi.json")


@cache
def definition() -> dict:
    return json.loads(DEFINITION.read_text())


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$defs": definition()["$defs"], "$ref": f"#/$defs/{name}"})


def problems(name: str, obj: dict) -> list[str]:
    """Where `obj` breaks Stripe's schema `name` ([] when it conforms)."""
    return [f"{name}.{'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message[:200]}"
            for error in _validator(name).iter_errors(obj)]


def conforming(name: str, obj: dict) -> dict:
    """`obj`, after asserting it is in Stripe's shape `name`."""
    found = problems(name, obj)
    assert not found, found
    return obj


def example(name: str, **values) -> dict:
    """Stripe's example object of resource `name`, with `values` put in (checked)."""
    obj = copy.deepcopy(definition()["examples"][name])
    obj.update(values)
    return conforming(name, obj)


def official_payment_intent(*, id: str, amount: int, currency: str, status: str,
                            metadata: dict, payment_method: str | None = None,
                            latest_charge: str | None = None, **values) -> dict:
    return example("payment_intent", id=id, amount=amount, currency=currency.lower(),
                   status=status, metadata=metadata, payment_method=payment_method,
                   latest_charge=latest_charge, amount_received=amount
                   if status == "succeeded" else 0, payment_method_types=["card"],
                   **values)


def official_refund(*, id: str, amount: int, currency: str, payment_intent: str,
                    status: str = "succeeded", metadata: dict | None = None) -> dict:
    return example("refund", id=id, amount=amount, currency=currency.lower(),
                   payment_intent=payment_intent, status=status, metadata=metadata or {},
                   charge=None)


def official_event(event_type: str, obj: dict, *, id: str) -> dict:
    """An Event of `event_type` carrying `obj`, as Stripe delivers it to an endpoint."""
    return example("event", id=id, type=event_type, data={"object": obj},
                   created=int(time.time()), api_version=definition()["source"]["schemas"][
                       "api_version"])


def signed(event: dict, secret: str, *, timestamp: int | None = None
           ) -> tuple[dict[str, str], bytes]:
    """(headers, body) of a delivery: `Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`,
    Stripe's documented scheme."""
    body = json.dumps(event).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={digest}",
            "Content-Type": "application/json"}, body
