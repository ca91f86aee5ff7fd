"""API keys, the audit trail, the general ledger and the test-mode helpers.

(The sync client is generated from this async code: scripts/generate_sync.py.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from cynco_billing._async.http import AsyncHttp
from cynco_billing._transport import Call, Page, changing, compact, segment
from cynco_billing.models import (
    Account,
    ApiKey,
    AuditEvent,
    BalanceSheet,
    BillingSettings,
    CheckoutCompletion,
    ClockAdvance,
    JournalEntry,
    ProfitLoss,
    Revoked,
    TestClock,
    TrialBalance,
)


class AsyncAdminApi(AsyncHttp):
    async def get_billing_settings(self) -> BillingSettings:
        """The merchant's invoice identity and billing-email settings."""
        return await self._one(BillingSettings, Call("GET", "/api/v1/pay/billing-settings"))

    async def update_billing_settings(self, *, invoice: dict | None = None,
                                      emails: dict | None = None,
                                      idempotency_key: str | None = None) -> BillingSettings:
        """Change only the fields given, in the API's names: `invoice={"legalName": …,
        "numberPrefix": …, "logo": "data:image/png;base64,…" | None}`, `emails={"senderName":
        …, "kinds": {"payment_failed": False}}`."""
        return await self._one(BillingSettings, Call(
            "PATCH", "/api/v1/pay/billing-settings", body=compact(invoice=invoice, emails=emails),
            idempotency_key=changing(idempotency_key)))

    async def list_audit_events(self, *, subscription_id: str | None = None,
                                customer_map_id: str | None = None, event: str | None = None,
                                limit: int | None = None,
                                offset: int | None = None) -> Page[AuditEvent]:
        """What happened to subscriptions, entitlements, coupons and payments, and who did it
        (`customer_map_id` is the customer's internal id, `pcm_…`)."""
        return await self._page(AuditEvent, Call("GET", "/api/v1/pay/audit", params={
            "subscription": subscription_id, "customer_map_id": customer_map_id, "event": event,
            "limit": limit, "offset": offset}))

    async def create_api_key(self, name: str, type: str, *, environment: str | None = None,
                             scopes: Sequence[str] | None = None,
                             idempotency_key: str | None = None) -> ApiKey:
        """A new key; its `raw_key` is in this answer only. `type`: secret or publishable;
        `scopes` (publishable only): track, portal."""
        body = compact(name=name, type=type, environment=environment,
                       scopes=list(scopes) if scopes is not None else None)
        return await self._one(ApiKey, Call("POST", "/api/v1/pay/api-keys", body=body,
                                             idempotency_key=changing(idempotency_key)))

    async def list_api_keys(self, *, limit: int | None = None,
                            offset: int | None = None) -> Page[ApiKey]:
        return await self._page(ApiKey, Call("GET", "/api/v1/pay/api-keys", params={
            "limit": limit, "offset": offset}))

    async def revoke_api_key(self, id: str, *, idempotency_key: str | None = None) -> Revoked:
        """The key stops working at once."""
        return await self._one(Revoked, Call("DELETE", "/api/v1/pay/api-keys", params={"id": id},
                                              idempotency_key=changing(idempotency_key)))

    async def list_accounts(self, *, limit: int | None = None,
                            offset: int | None = None) -> Page[Account]:
        """The chart of accounts with each account's balances (secret keys only)."""
        return await self._page(Account, Call("GET", "/api/v1/ledger/accounts", params={
            "limit": limit, "offset": offset}))

    async def list_journal_entries(self, *, period: str | None = None,
                                   source: str | None = None, limit: int | None = None,
                                   offset: int | None = None) -> Page[JournalEntry]:
        """Journal entries, of a month (`period` "2026-11") or of a source (`source`
        "invoice:pinv_…")."""
        return await self._page(JournalEntry, Call("GET", "/api/v1/ledger/journal-entries",
                                                    params={"period": period, "source": source,
                                                            "limit": limit, "offset": offset}))

    async def get_journal_entry(self, entry_id: str) -> JournalEntry:
        return await self._one(JournalEntry, Call(
            "GET", f"/api/v1/ledger/journal-entries/{segment(entry_id)}"))

    async def trial_balance(self, *, as_of: date | str | None = None) -> TrialBalance:
        return await self._one(TrialBalance, Call(
            "GET", "/api/v1/ledger/reports/trial-balance", params={"asOf": as_of}))

    async def balance_sheet(self, *, as_of: date | str | None = None) -> BalanceSheet:
        return await self._one(BalanceSheet, Call(
            "GET", "/api/v1/ledger/reports/balance-sheet", params={"asOf": as_of}))

    async def profit_and_loss(self, *, from_: date | str | None = None,
                              to: date | str | None = None) -> ProfitLoss:
        return await self._one(ProfitLoss, Call(
            "GET", "/api/v1/ledger/reports/profit-loss", params={"from": from_, "to": to}))

    async def complete_test_checkout(self, checkout_id: str, card: str, *,
                                     idempotency_key: str | None = None) -> CheckoutCompletion:
        """Pay a test-mode checkout as the customer would, with a sandbox card number
        (4242424242424242 succeeds, 4000000000000002 is declined, …)."""
        return await self._one(CheckoutCompletion, Call(
            "POST", f"/api/v1/pay/test/checkouts/{segment(checkout_id)}/complete",
            body={"card": card}, idempotency_key=changing(idempotency_key)))

    async def get_test_clock(self) -> TestClock:
        return await self._one(TestClock, Call("GET", "/api/v1/pay/test/clock"))

    async def advance_test_clock(self, *, to: datetime | str | None = None,
                                 seconds: int | None = None,
                                 idempotency_key: str | None = None) -> ClockAdvance:
        """Move the test environment's clock forward (`to` a time, or by `seconds`) and run
        every renewal, expiry and dunning step that falls due."""
        return await self._one(ClockAdvance, Call(
            "POST", "/api/v1/pay/test/clock/advance", body=compact(to=to, seconds=seconds),
            idempotency_key=changing(idempotency_key)))
