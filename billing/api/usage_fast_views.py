"""`/check` and `/track` through the one-statement path first (docs/entitlements.md,
Performance).

`with_fast_path(CheckView.as_view(), fast_check)` is the route's view. The fast side takes only
a plain request: POST of a JSON object (`Content-Type: application/json`, a small body), no
query string, no `Idempotency-Key` header, an `Accept` that DRF would answer with plain JSON, a
well-formed `Bearer` key, and fields that the input serializers would take unchanged (plain
printable strings, JSON numbers within range). Then billing.services.usage_fast_path answers in
one statement, or says it cannot. Everything else, and every `fallback`, goes to the DRF view
untouched, so errors, status codes and messages are the DRF view's own. What the fast side
answers is rendered by the same functions and to the same bytes and headers as the DRF view.
"""

from __future__ import annotations

import functools
import json
from decimal import Decimal

from django.conf import settings
from django.http import HttpResponse

from billing.api.usage import check_data, track_data
from billing.services.usage_fast_path import CHECK, PEEK, TRACK, UsageCall, usage_fast
from cynco import metrics
from cynco.errors import ApiError, error_body
from cynco.fields import USAGE_MAX, USAGE_PLACES, json_numbers
from cynco.ids import is_identifier_text
from cynco.keys import looks_like_key
from cynco.parsers import load_json

MAX_BODY_BYTES = 64 * 1024
ALLOW = "POST, OPTIONS"  # what DRF's view answers in `Allow`
_JSON_ACCEPTS = frozenset({"*/*", "application/*", "application/json"})
_PLACES = Decimal(1).scaleb(-USAGE_PLACES)
_DEFAULT = Decimal(1)


def with_fast_path(drf_view, fast):
    """The DRF view `drf_view`, with `fast(request)` tried first (None: not answered). Keeps
    the view's attributes (`cls` for the OpenAPI schema, `csrf_exempt`)."""

    @functools.wraps(drf_view)
    def view(request, *args, **kwargs):
        response = fast(request) if settings.USAGE_FAST_PATH else None
        return response if response is not None else drf_view(request, *args, **kwargs)

    return view


def fast_check(request) -> HttpResponse | None:
    return _answered(request, _check_call, lambda answer: check_data(answer, None))


def fast_track(request) -> HttpResponse | None:
    return _answered(request, _track_call, track_data)


def _answered(request, build, render) -> HttpResponse | None:
    body, raw_key = _plain_request(request)
    if body is None:
        return None
    call = build(raw_key, body)
    if call is None:
        return None
    try:
        answer = usage_fast(call)
    except ApiError as error:
        return _json(error.status, error_body(error.code, error.message, error.details))
    if answer is None:
        return None
    metrics.usage_answered(call.mode, "fast", answer)
    return _json(200, {"success": True, "data": render(answer)})


def _json(status: int, payload: dict) -> HttpResponse:
    # As rest_framework.renderers.JSONRenderer renders (compact, UTF-8, no NaN).
    content = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    response = HttpResponse(content.encode(), status=status, content_type="application/json")
    response["Allow"] = ALLOW
    return response


def _plain_request(request) -> tuple[dict | None, str]:
    """The JSON object of a plain request and its raw key, or (None, "")."""
    meta = request.META
    if (request.method != "POST" or meta.get("CONTENT_TYPE") != "application/json"
            or meta.get("QUERY_STRING") or "HTTP_IDEMPOTENCY_KEY" in meta):
        return None, ""
    accept = meta.get("HTTP_ACCEPT")
    if accept is not None and (";" in accept or not any(
            item.strip() in _JSON_ACCEPTS for item in accept.split(","))):
        return None, ""
    scheme, _, raw_key = meta.get("HTTP_AUTHORIZATION", "").partition(" ")
    raw_key = raw_key.strip()
    if scheme.lower() != "bearer" or not looks_like_key(raw_key):
        return None, ""
    length = meta.get("CONTENT_LENGTH") or ""
    if not length.isdigit() or not 0 < int(length) <= MAX_BODY_BYTES:
        return None, ""
    try:
        body = load_json(request.body.decode())
    except (ValueError, UnicodeDecodeError):
        return None, ""
    return (body, raw_key) if type(body) is dict else (None, "")


def _text(value, max_length: int) -> str | None:
    """A string StrictCharField takes as it is: 1..max_length characters keeping the identifier
    rule (anything else is refused by the DRF view, with its message)."""
    if type(value) is str and 0 < len(value) <= max_length and is_identifier_text(value):
        return value
    return None


def _amount(value, *, positive: bool) -> Decimal | None:
    """A number UsageAmountField takes (JSON integer or decimal, at most 6 places, within
    range; not 0 for track, > 0 for requiredBalance), or None."""
    if type(value) is int or type(value) is Decimal:
        amount = Decimal(value)
        if (amount.is_finite() and abs(amount) < USAGE_MAX and amount == amount.quantize(_PLACES)
                and (amount > 0 if positive else amount != 0)):
            return amount
    return None


def _optional_text(body: dict, name: str, max_length: int, default):
    """(ok, value): the field's value when absent (`default`) or acceptable as it is."""
    if name not in body:
        return True, default
    value = _text(body[name], max_length)
    return value is not None, value


def _track_call(raw_key: str, body: dict) -> UsageCall | None:
    fields = plain_track_fields(body)
    if fields is None:
        return None
    return UsageCall(mode=TRACK, raw_key=raw_key, **fields)


def plain_track_fields(body: dict) -> dict | None:
    """A track body's values (customer, feature, amount, entity_key, idempotency_key, metadata)
    when TrackInput would take every field as it is, else None (the serializer then answers)."""
    customer, feature = _text(body.get("customer"), 255), _text(body.get("feature"), 100)
    amount = _amount(body["amount"], positive=False) if "amount" in body else _DEFAULT
    entity_ok, entity_key = _optional_text(body, "entityId", 255, "")
    key_ok, idempotency_key = _optional_text(body, "idempotencyKey", 255, None)
    metadata = body.get("metadata")
    if not (customer and feature and amount is not None and entity_ok and key_ok):
        return None
    if metadata is not None:
        if not (type(metadata) is dict and len(metadata) <= 50):
            return None
        try:
            metadata = json_numbers(metadata)  # as StrictJSONObjectField takes it
        except OverflowError:
            return None
    return {"customer": customer, "feature": feature, "amount": amount,
            "entity_key": entity_key, "idempotency_key": idempotency_key, "metadata": metadata}


def _check_call(raw_key: str, body: dict) -> UsageCall | None:
    customer, feature = _text(body.get("customer"), 255), _text(body.get("feature"), 100)
    required = (_amount(body["requiredBalance"], positive=True) if "requiredBalance" in body
                else _DEFAULT)
    send_event = body.get("sendEvent", False)
    entity_ok, entity_key = _optional_text(body, "entityId", 255, "")
    if not (customer and feature and required is not None and entity_ok) or "lock" in body:
        return None
    if type(send_event) is not bool:
        return None
    return UsageCall(mode=CHECK if send_event else PEEK, raw_key=raw_key, customer=customer,
                     feature=feature, amount=required, entity_key=entity_key)
