"""The async client (`AsyncCyncoBilling`) against the real server: the same methods as
coroutines, the same typed answers and errors, and concurrent calls that the server keeps
apart per customer."""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest
from cynco_billing import AsyncCyncoBilling, CyncoBillingError, models

pytestmark = pytest.mark.anyio


async def test_the_three_calls_and_a_list_through_the_async_client(async_billing):
    async with async_billing as billing:
        await billing.create_product(
            "Pro", "pro", prices=[{"type": "recurring", "billingInterval": "month",
                                   "amount": 2000}],
            features=[{"slug": "messages", "name": "Messages", "type": "metered",
                       "allowanceType": "fixed", "allowance": 100}])
        await billing.get_or_create_customer("user_1")
        started = await billing.subscribe("user_1", "pro", success_url="https://example.com/")
        assert isinstance(started, models.SubscribeResult) and started.action == "checkout"
        await billing.complete_test_checkout(started.checkout_id, "4242424242424242")

        check = await billing.check("user_1", "messages")
        assert check.allowed and check.balance == Decimal(100)

        async def track_one():
            await billing.track("user_1", "messages")

        async with anyio.create_task_group() as group:  # 20 tracks at once
            for _ in range(20):
                group.start_soon(track_one)
        assert (await billing.check("user_1", "messages")).balance == 80

        products = await billing.list_products()
        assert products.total == 1 and products[0].slug == "pro"
        with pytest.raises(CyncoBillingError) as missing:
            await billing.check("user_1", "no_such_feature")
        assert (missing.value.code, missing.value.status) == ("FEATURE_NOT_FOUND", 404)


async def test_an_async_client_with_a_publishable_key_may_check_but_not_cancel(keys,
                                                                           billing_server):
    async with AsyncCyncoBilling(keys.publishable_test, base_url=billing_server.url) as public:
        with pytest.raises(CyncoBillingError) as refused:
            await public.cancel("user_1")
        assert refused.value.code == "FORBIDDEN"
