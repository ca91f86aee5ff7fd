"""The one exception the client raises."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorDetail:
    """One field the server refused: `field` is its path in the request (`prices[0].amount`)."""

    field: str
    message: str


class CyncoBillingError(Exception):
    """Any failure of a call: an error answer of the server, or no usable answer at all.

    - `code`: the server's error code (`VALIDATION_ERROR`, `CUSTOMER_NOT_FOUND`,
      `CONCURRENT_REQUEST`, …); when the server gave none: `REQUEST_FAILED` (an error status
      without an envelope), `NETWORK_ERROR` or `TIMEOUT` (no answer, after the retries),
      `INVALID_RESPONSE`, `EMPTY_RESPONSE`; for webhooks, `WEBHOOK_SIGNATURE_INVALID` or
      `WEBHOOK_PAYLOAD_INVALID`.
    - `status`: the HTTP status, or None when no answer came.
    - `details`: the fields refused, for `VALIDATION_ERROR`.
    - `request_id`: the server's `X-Request-Id` of the answer, to quote to its operators.
    """

    def __init__(self, message: str, *, code: str, status: int | None = None,
                 details: list[ErrorDetail] | None = None, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details or []
        self.request_id = request_id

    def __str__(self) -> str:
        where = f" (HTTP {self.status})" if self.status is not None else ""
        fields = "; ".join(f"{d.field}: {d.message}" for d in self.details)
        return f"{self.code}{where}: {self.message}" + (f" [{fields}]" if fields else "")

    def __repr__(self) -> str:
        return (f"CyncoBillingError(code={self.code!r}, status={self.status!r}, "
                f"message={self.message!r}, details={self.details!r})")
