"""Runs localstripe (PyPI, a fake but stateful Stripe) for the Stripe gateway tests.

Started as its own process by the `localstripe` fixture (tests/gateways/conftest.py):

    python tests/gateways/localstripe_server.py --port 8420

localstripe 1.15.10 lacks a few things real Stripe does that our gateway relies on; this
launcher adds them to the fake, each the way Stripe documents it, and nothing else:

* `Idempotency-Key`: the first response to a POST is stored and replayed for the same key; the
  same key with other parameters is refused with an `idempotency_error` (400).
* `GET /v1/payment_intents/search?query=metadata['k']:'v'` (only that query shape).
* PaymentIntents accept `description` and `setup_future_usage`.
* Confirming a SetupIntent that has a customer attaches the payment method to that customer.
* A PaymentIntent whose charge was declined (`requires_payment_method`) takes a new payment
  method and can be confirmed again (localstripe keeps the failed charge as its latest one, so
  its status would never leave `requires_payment_method`).
* Objects carry what Stripe's OpenAPI definition requires and localstripe leaves out
  (tests/gateways/stripe_openapi.json; tests/gateways/test_stripe_shapes.py checks every
  object the gateway reads): a PaymentIntent's `confirmation_method` and
  `payment_method_types`, its `last_payment_error`'s `type` (and `decline_code`), and its
  `latest_charge` as an id unless expanded; a Charge's
  `amount_captured`, `billing_details` and `disputed`; an Event's `pending_webhooks` and
  `request`.
* Listing PaymentIntents and Refunds takes the `created` filter (`gt`, `gte`, `lt`, `lte`).
* A declined confirmation answers Stripe's `card_error` with its `decline_code` and the
  PaymentIntent (localstripe: an `invalid_request_error` naming only the charge).
* The store stays in memory (localstripe otherwise pickles it to a shared file in /tmp).
* Its stand-in for Stripe.js (`/js.stripe.com/v3/`, which the browser tests load through
  STRIPE_JS_URL) gets the two calls our checkout page makes that it lacks:
  `createPaymentMethod` and `handleNextAction` (localstripe_stripe_js.js); and POST
  /v1/payment_methods accepts the publishable key, as Stripe's does for Stripe.js.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
from pathlib import Path

from aiohttp import web
from localstripe import resources, server

resources.Store.dump_to_disk = lambda self: None

_pi_init = resources.PaymentIntent.__init__


def _payment_intent_init(self, description=None, setup_future_usage=None, **kwargs):
    _pi_init(self, **kwargs)
    self.description = description
    self.setup_future_usage = setup_future_usage
    self._payment_method_types = kwargs.get("payment_method_types") or ["card"]


_pi_export = resources.PaymentIntent._export


def _payment_intent_export(self, expand=None):
    obj = _pi_export(self, expand=expand)
    obj["confirmation_method"] = "automatic"
    obj["payment_method_types"] = getattr(self, "_payment_method_types", ["card"])
    error = obj.get("last_payment_error")
    if isinstance(error, dict) and "type" not in error:
        error["type"] = "card_error"
        if error.get("code") == "card_declined":
            error["decline_code"] = "generic_decline"
    expanded = {path.split(".")[0] for path in expand or []}
    if isinstance(obj.get("latest_charge"), dict) and "latest_charge" not in expanded:
        obj["latest_charge"] = obj["latest_charge"]["id"]
    return obj


resources.PaymentIntent._export = _payment_intent_export
_charge_export = resources.Charge._export


def _charge_export_full(self, expand=None):
    obj = _charge_export(self, expand=expand)
    obj["amount_captured"] = obj["amount"] if obj.get("captured") and obj.get(
        "status") == "succeeded" else 0
    obj["billing_details"] = {"address": None, "email": None, "name": None, "phone": None}
    obj["disputed"] = False
    return obj


resources.Charge._export = _charge_export_full
_event_export = resources.Event._export


def _event_export_full(self, expand=None):
    obj = _event_export(self, expand=expand)
    obj.setdefault("pending_webhooks", 1)
    obj.setdefault("request", {"id": None, "idempotency_key": None})
    return obj


resources.Event._export = _event_export_full


def _created_filter(created) -> list:
    """Stripe's `created` list filter: a timestamp, or a dict of gt/gte/lt/lte bounds."""
    if created is None:
        return []
    if not isinstance(created, dict):
        created = {"eq": created}
    compare = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__,
               "eq": int.__eq__}
    return [(compare[op], int(value)) for op, value in created.items()]


def _with_created_filter(cls):
    list_all = cls._api_list_all.__func__

    def listed(klass, url, created=None, **kwargs):
        bounds = _created_filter(created)
        li = list_all(klass, url, **kwargs)
        li._list = [obj for obj in li._list if all(op(obj.created, v) for op, v in bounds)]
        return li

    cls._api_list_all = classmethod(listed)


_with_created_filter(resources.PaymentIntent)
_with_created_filter(resources.Refund)


resources.PaymentIntent.__init__ = _payment_intent_init

_attach_pm = resources.SetupIntent._attach_pm


def _setup_intent_attach(self, pm):
    _attach_pm(self, pm)
    if self.customer and self.status == "succeeded":
        pm.customer = self.customer


resources.SetupIntent._attach_pm = _setup_intent_attach

_pi_update = resources.PaymentIntent._api_update.__func__


def _payment_intent_update(cls, id, **data):
    intent = cls._api_retrieve(id)
    if "payment_method" in data and intent.status == "requires_payment_method":
        intent.latest_charge = None  # a new try: the declined charge stays in /v1/charges
    return _pi_update(cls, id, **data)


resources.PaymentIntent._api_update = classmethod(_payment_intent_update)

STRIPE_JS = (Path(server.__file__).with_name("localstripe-v3.js").read_text()
             + Path(__file__).with_name("localstripe_stripe_js.js").read_text())
_replays: dict[tuple[str, str], tuple[str, bytes, int, bytes]] = {}
_locks: dict[tuple[str, str], asyncio.Lock] = {}
_SEARCH = re.compile(r"^metadata\['([^']+)'\]:'((?:[^'\\]|\\.)*)'$")


def _search(request: web.Request) -> web.Response:
    match = _SEARCH.match(request.query.get("query", ""))
    if not match:
        return server.json_response({"error": {"type": "invalid_request_error",
                                               "message": "Unsupported search query"}}, status=400)
    key, value = match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))
    found = [obj._export() for name, obj in resources.store.items()
             if name.startswith("payment_intent:") and (obj.metadata or {}).get(key) == value]
    return server.json_response({"object": "search_result", "data": found,
                                 "has_more": False, "url": "/v1/payment_intents/search"})


@web.middleware
async def stripe_extras(request: web.Request, handler):
    if request.method == "GET" and request.path == "/v1/payment_intents/search":
        return _search(request)
    if request.method == "GET" and request.path == "/js.stripe.com/v3/":
        return web.Response(text=STRIPE_JS, content_type="application/javascript")
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    slot = (request.headers.get("Authorization", ""), key)
    body = await request.read()
    async with _locks.setdefault(slot, asyncio.Lock()):
        if slot in _replays:
            path, first_body, status, text = _replays[slot]
            if (path, first_body) != (request.path, body):
                return server.json_response({"error": {
                    "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used with the same "
                               "parameters they were first used with.",
                }}, status=400)
            return web.Response(body=text, status=status, content_type="application/json",
                                headers={"Idempotent-Replayed": "true"})
        response = await handler(request)
        if response.status < 500:
            _replays[slot] = (request.path, body, response.status, response.body)
        return response


@web.middleware
async def publishable_key_calls(request: web.Request, handler):
    """Stripe.js creates payment methods with the publishable key (`key` in the body)."""
    if request.method == "POST" and request.path == "/v1/payment_methods":
        data = await server.get_post_data(request, remove_auth=False)
        if isinstance(data, dict) and str(data.get("key", "")).startswith("pk_"):
            return await handler(request)
    return await server.auth_middleware(request, handler)


_CONFIRMS = re.compile(r"^/v1/payment_intents(/[^/]+/confirm)?$")


@web.middleware
async def card_errors(request: web.Request, handler):
    """A decline while confirming a PaymentIntent, in Stripe's words: a `card_error` with the
    `decline_code` and the PaymentIntent (and its PaymentMethod) as they stand after it."""
    try:
        response = await handler(request)
    except resources.UserError as exc:
        response = exc.to_response()
    if request.method != "POST" or response.status != 402 or not _CONFIRMS.match(request.path):
        return response
    body = json.loads(response.body)
    error = body.get("error") or {}
    charge = resources.store.get(f"charge:{error.get('charge')}")
    intent = resources.store.get(f"payment_intent:{getattr(charge, 'payment_intent', None)}")
    if intent is None:
        return response
    code = error.get("code")
    error.update(type="card_error", payment_intent=intent._export(),
                 decline_code="generic_decline" if code == "card_declined" else code)
    method = resources.store.get(f"payment_method:{intent.payment_method}")
    if method is not None:
        error["payment_method"] = method._export()
    return server.json_response(body, status=402)


server.app.middlewares.insert(0, stripe_extras)
server.app.middlewares.append(card_errors)
_auth = server.app.middlewares.index(server.auth_middleware)
server.app.middlewares[_auth] = publishable_key_calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    web.run_app(server.app, sock=sock, print=None, access_log=None, shutdown_timeout=0.5)


if __name__ == "__main__":
    main()
