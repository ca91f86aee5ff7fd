"""What the sync and async clients share: settings, request bodies, reading answers, retries.

No I/O here: `_async/http.py` (and the `_sync/http.py` generated from it) send the requests.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, List, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from cynco_billing.errors import CyncoBillingError, ErrorDetail

VERSION = "0.1.0"
USER_AGENT = f"cynco-billing-python/{VERSION}"
ENV_KEY, ENV_BASE_URL = "CYNCO_BILLING_KEY", "CYNCO_BILLING_BASE_URL"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class NotGiven:
    """The default of an argument whose None means "set to null" (e.g. remove a limit)."""

    _instance: NotGiven | None = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Retried: no answer (connection refused or reset, timeout) and answers 429, 500, 502, 503,
    504; never any other 4xx. The wait before retry n (0-based) is a random time between 0 and
    `min(backoff_max, backoff_base * 2**n)` ("full jitter"), or the server's `Retry-After`
    when it sent one; a `Retry-After` beyond `retry_after_max` is not waited for (the error is
    raised). Every request that changes something carries an Idempotency-Key, kept across its
    retries, so a retry never does the work twice.
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** attempt))

    def delay_after_error(self, attempt: int, error: Exception) -> float | None:
        """Seconds to wait before retrying after `error` (no answer), or None: give up."""
        if attempt >= self.max_retries or not isinstance(error, RETRIED_ERRORS):
            return None
        return self.backoff(attempt)

    def delay_after_answer(self, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying after this answer, or None: it is final."""
        if response.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
            return None
        told = retry_after(response)
        if told is None:
            return self.backoff(attempt)
        return told if told <= self.retry_after_max else None


RETRIED_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError,
                  httpx.ProxyError)


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (a number of seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


@dataclass(frozen=True)
class Settings:
    key: str
    base_url: str
    timeout: float
    api_version: str | None
    retry: RetryPolicy

    @classmethod
    def resolve(cls, key: str | None, base_url: str | None, timeout: float,
                api_version: str | None, retry: RetryPolicy | None) -> Settings:
        key = key or os.environ.get(ENV_KEY, "")
        base_url = base_url or os.environ.get(ENV_BASE_URL, "")
        if not key:
            raise ValueError(f"a key is required (cp_sk_… or cp_pk_…), or set {ENV_KEY}")
        if not base_url:
            raise ValueError(f"base_url is required (your server, e.g. https://billing.example."
                             f"com), or set {ENV_BASE_URL}")
        return cls(key=key, base_url=base_url.rstrip("/"), timeout=timeout,
                   api_version=api_version, retry=retry or RetryPolicy())


@dataclass
class Call:
    """One API call to make: retried as a whole, with the same Idempotency-Key each time."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    idempotency_key: str | None = None

    def headers(self, settings: Settings) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {settings.key}", "Accept": "application/json",
                   "User-Agent": USER_AGENT}
        if self.body is not None:
            headers["Content-Type"] = "application/json"
        if self.idempotency_key:
            headers["Idempotency-Key"] = self.idempotency_key
        if settings.api_version:
            headers["X-CyncoBilling-Version"] = settings.api_version
        return headers

    def query(self) -> dict[str, str]:
        return {name: _query_value(value) for name, value in self.params.items()
                if value is not None}

    def content(self) -> bytes | None:
        return None if self.body is None else encode(self.body)


def new_idempotency_key() -> str:
    return f"py_{uuid.uuid4().hex}"


def changing(idempotency_key: str | None) -> str:
    """The Idempotency-Key of a call that changes something: the caller's, or a new one."""
    return idempotency_key or new_idempotency_key()


def segment(value: str) -> str:
    """An id placed in a path, escaped as one path segment."""
    return quote(value, safe="")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    if isinstance(value, (datetime, date)):
        return wire_time(value)
    return str(value)


def wire_time(value: datetime | date | str) -> str:
    """An ISO-8601 string (a naive datetime is taken to be UTC)."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        number = float(value)
        if Decimal(repr(number)) != value:
            raise ValueError(f"{value} has more digits than a JSON number keeps exactly")
        return number
    if isinstance(value, (datetime, date)):
        return wire_time(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, default=_json_default, separators=(",", ":"),
                      ensure_ascii=False).encode()


def compact(**fields: Any) -> dict[str, Any]:
    """A JSON body from keyword fields (already in wire names), without those not given: None
    and NOT_GIVEN leave a field out; `None` for a field that must be sent as null is written
    by the caller after this."""
    return {name: value for name, value in fields.items()
            if value is not None and value is not NOT_GIVEN}


class Page(List[T]):
    """A page of a list: a list of the items, plus the server's `total`, `limit`, `offset`
    (None when the endpoint does not paginate)."""

    total: int | None
    limit: int | None
    offset: int | None

    def __init__(self, items, pagination: dict | None = None):
        super().__init__(items)
        pagination = pagination or {}
        self.total = pagination.get("total")
        self.limit = pagination.get("limit")
        self.offset = pagination.get("offset")


def network_error(error: Exception) -> CyncoBillingError:
    timeout = isinstance(error, httpx.TimeoutException)
    return CyncoBillingError(f"{type(error).__name__}: {error}" if str(error) else
                             type(error).__name__, code="TIMEOUT" if timeout else "NETWORK_ERROR")


def read_answer(response: httpx.Response) -> tuple[Any, dict | None]:
    """The `data` (and `pagination`) of a success envelope; raises CyncoBillingError for
    anything else, with the server's code, status and details."""
    status, request_id = response.status_code, response.headers.get("X-Request-Id")
    try:
        document = json.loads(response.content, parse_float=Decimal) if response.content else None
    except ValueError:
        document = None
    if not 200 <= status < 300:
        error = document.get("error") if isinstance(document, dict) else None
        error = error if isinstance(error, dict) else {}
        raise CyncoBillingError(
            error.get("message") or f"HTTP {status}", code=error.get("code") or "REQUEST_FAILED",
            status=status, details=_details(error.get("details")), request_id=request_id)
    if not isinstance(document, dict):
        raise CyncoBillingError("The answer is not a JSON object", code="INVALID_RESPONSE",
                                status=status, request_id=request_id)
    if document.get("success") is False:
        error = document.get("error") if isinstance(document.get("error"), dict) else {}
        raise CyncoBillingError(error.get("message") or "Unknown error",
                                code=error.get("code") or "UNKNOWN", status=status,
                                details=_details(error.get("details")), request_id=request_id)
    if "data" not in document:
        raise CyncoBillingError("Empty response from server", code="EMPTY_RESPONSE",
                                status=status, request_id=request_id)
    return document["data"], document.get("pagination")


def typed(model: type[M], data: Any) -> M:
    """`data` as a `model`; an answer that does not fit is an INVALID_RESPONSE error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CyncoBillingError(f"The answer does not fit {model.__name__}: {exc}",
                                code="INVALID_RESPONSE") from exc


def _details(raw: Any) -> list[ErrorDetail]:
    if not isinstance(raw, list):
        return []
    return [ErrorDetail(str(item.get("field", "")), str(item.get("message", "")))
            for item in raw if isinstance(item, dict)]
