"""Small builders for test data. Tests call these instead of repeating set-up."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

from django.test import Client

from cynco.merchants import merchant_create
from cynco.models import Merchant

_names = itertools.count(1)


@dataclass
class MerchantKeys:
    """A merchant and its four raw keys."""

    merchant: Merchant
    secret_test: str
    publishable_test: str
    secret_live: str
    publishable_live: str


def make_merchant(name: str | None = None) -> MerchantKeys:
    merchant, keys = merchant_create(name=name or f"Merchant {next(_names)}")
    return MerchantKeys(merchant=merchant, **keys)


class Api:
    """Calls /api/v1/… with a key, the way the JS client does (JSON bodies, Bearer header)."""

    def __init__(self, key: str | None, client: Client | None = None):
        self.key = key
        self.client = client or Client()

    def _headers(self, headers: dict | None) -> dict:
        merged = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"} if self.key else {}
        for name, value in (headers or {}).items():
            merged["HTTP_" + name.upper().replace("-", "_")] = value
        return merged

    def call(self, method: str, path: str, body=None, *, raw: bytes | str | None = None,
             headers: dict | None = None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        send = getattr(self.client, method.lower())
        if data is None:
            return send(path, **self._headers(headers))
        return send(path, data=data, content_type="application/json", **self._headers(headers))

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.call("DELETE", path, body, **kw)


def error_of(response) -> dict:
    """The `error` object of an envelope, after checking the envelope's shape."""
    body = response.json()
    assert body["success"] is False, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def data_of(response, status: int = 200):
    """The `data` of a success envelope, after checking status and shape."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body["success"] is True, body
    return body["data"]


def key_id_of(raw_key: str) -> str:
    """The id (`pak_…`) of the API key whose raw value is `raw_key`."""
    from cynco.keys import hash_key
    from cynco.models import ApiKey

    return ApiKey.objects.get(key_hash=hash_key(raw_key)).id
