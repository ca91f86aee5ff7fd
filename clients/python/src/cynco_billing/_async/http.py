"""Sending one call: retries, timeouts, the envelope unwrapped into typed results.

The async code is the source; the sync code is generated from it (scripts/generate_sync.py).
"""

from __future__ import annotations

from typing import Any, TypeVar

import anyio
import httpx
from pydantic import BaseModel

from cynco_billing._transport import (
    Call,
    Page,
    RetryPolicy,
    Settings,
    network_error,
    read_answer,
    typed,
)

M = TypeVar("M", bound=BaseModel)


class AsyncHttp:
    """The connection to one server with one key.

    - `key`: a secret (`cp_sk_…`) or publishable (`cp_pk_…`) key; default: $CYNCO_BILLING_KEY.
    - `base_url`: where the server is; default: $CYNCO_BILLING_BASE_URL.
    - `timeout`: seconds for each attempt of a call (connect, send, read), default 10.
    - `max_retries`: attempts after the first (default 2), or a full `RetryPolicy`.
    - `api_version`: sent as `X-CyncoBilling-Version` when given.
    - `http_client`: your own httpx client (proxies, transports), of the same kind (sync or
      async) as this client; it is not closed here.
    """

    def __init__(self, key: str | None = None, *, base_url: str | None = None,
                 timeout: float = 10.0, max_retries: int = 2, retry: RetryPolicy | None = None,
                 api_version: str | None = None,
                 http_client: httpx.AsyncClient | None = None):
        self._settings = Settings.resolve(
            key, base_url, timeout, api_version,
            retry or RetryPolicy(max_retries=max_retries))
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def _send(self, call: Call) -> tuple[Any, dict | None]:
        settings, attempt = self._settings, 0
        url = settings.base_url + call.path
        headers, content, query = call.headers(settings), call.content(), call.query()
        while True:
            try:
                response = await self._client.request(
                    call.method, url, params=query, content=content, headers=headers,
                    timeout=settings.timeout)
            except httpx.HTTPError as error:
                delay = settings.retry.delay_after_error(attempt, error)
                if delay is None:
                    raise network_error(error) from error
            else:
                delay = settings.retry.delay_after_answer(attempt, response)
                if delay is None:
                    return read_answer(response)
            attempt += 1
            await anyio.sleep(delay)

    async def _one(self, model: type[M], call: Call) -> M:
        data, _ = await self._send(call)
        return typed(model, data)

    async def _page(self, model: type[M], call: Call) -> Page[M]:
        data, pagination = await self._send(call)
        if not isinstance(data, list):
            return Page([typed(model, data)], pagination)
        return Page([typed(model, item) for item in data], pagination)
