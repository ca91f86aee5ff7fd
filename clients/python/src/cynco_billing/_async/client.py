"""The client.

(The sync client is generated from this async code: scripts/generate_sync.py.)"""

from __future__ import annotations

from cynco_billing._async.admin import AsyncAdminApi
from cynco_billing._async.billing import AsyncBillingApi
from cynco_billing._async.catalog import AsyncCatalogApi
from cynco_billing._async.promotions import AsyncPromotionsApi
from cynco_billing._async.usage import AsyncUsageApi


class AsyncCyncoBilling(AsyncUsageApi, AsyncCatalogApi, AsyncBillingApi, AsyncPromotionsApi,
                        AsyncAdminApi):
    """A Cynco Billing server, called with one key (see `AsyncHttp` for the options).

        async with AsyncCyncoBilling("cp_sk_test_…", base_url="https://billing.example.com") as b:
            result = await b.subscribe("user_123", "pro", success_url="https://…/thanks")
            if (await b.check("user_123", "messages")).allowed:
                await b.track("user_123", "messages")

    Method names are those of the JavaScript client in snake_case; results are typed
    (`cynco_billing.models`), lists are `Page`s; every failure raises CyncoBillingError.
    """
