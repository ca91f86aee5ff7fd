"""A thin client for CHIP Collect's REST API (https://gate.chip-in.asia/api/v1/, a setting).

Only what the gateway needs: create a purchase, charge one with a recurring token, refund,
read a purchase, and the company public key that signs callbacks. Amounts are minor units
(sen). Errors become the contract's typed errors; `requests` never leaks out.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings

from gateways.base import GatewayContext, GatewayNotFound, GatewayRejected, GatewayUnavailable


class ChipRefused(GatewayRejected):
    """CHIP answered 4xx (a refused charge or refund, a bad request): nothing happened."""

    code = "chip_refused"


def error_of(data: Any) -> tuple[str, str]:
    """(code, message) from a CHIP error body, whatever its shape (its documented codes, e.g.
    `purchase_charge_error`, come as `code`; field errors as lists of {message, code})."""
    if isinstance(data, dict):
        if data.get("code") or data.get("message"):
            return str(data.get("code") or ""), str(data.get("message") or data.get("code"))
        for value in data.values():
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict) and (item.get("code") or item.get("message")):
                    return str(item.get("code") or ""), str(item.get("message") or item["code"])
                if isinstance(item, str):
                    return "", item
    if isinstance(data, str):
        return "", data
    return "", "CHIP refused the request"


class ChipClient:
    """CHIP Collect, acting with one account's API key."""

    def __init__(self, context: GatewayContext):
        if not context.secret_key:
            raise GatewayUnavailable("No CHIP API key is configured for this account",
                                     code="gateway_not_configured")
        self.api_key = context.secret_key
        self.base_url = ((context.options or {}).get("api_base") or settings.CHIP_API_BASE
                         ).rstrip("/")

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        try:
            response = requests.request(
                method, f"{self.base_url}{path}", json=body,
                headers={"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"},
                timeout=settings.CHIP_TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise GatewayUnavailable(f"CHIP could not be reached: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            data = response.text
        status = response.status_code
        if status >= 500 or status == 429:
            raise GatewayUnavailable(f"CHIP answered {status}")
        if status in (401, 403):
            raise GatewayUnavailable(f"CHIP refused the API key ({status})",
                                     code="gateway_misconfigured")
        if status == 404:
            raise GatewayNotFound(f"CHIP knows no {path}")
        if status >= 400:
            code, message = error_of(data)
            raise ChipRefused(message, code=code or None)
        return data

    def create_purchase(self, body: dict) -> dict:
        return self.call("POST", "/purchases/", body)

    def purchase(self, purchase_id: str) -> dict:
        return self.call("GET", f"/purchases/{purchase_id}/")

    def charge(self, purchase_id: str, recurring_token: str) -> dict:
        return self.call("POST", f"/purchases/{purchase_id}/charge/",
                         {"recurring_token": recurring_token})

    def refund(self, purchase_id: str, amount: int) -> dict:
        return self.call("POST", f"/purchases/{purchase_id}/refund/", {"amount": amount})

    def public_key(self) -> str:
        """The company public key (PEM) that signs success callbacks."""
        key = self.call("GET", "/public_key/")
        return key if isinstance(key, str) else str((key or {}).get("public_key", ""))
