"""The Python client against the real server (gunicorn on a free port, test database): every
endpoint called through its method, the answers typed, errors raised with code, status and
details. The async client is in test_python_client_async.py, retries in
test_python_client_retries.py."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from cynco_billing import (
    CyncoBilling, CyncoBillingError, Lock, Page, TrackBuffer, TrackEvent, models,
)

from tests.clients.catalog import OK_CARD, paying_customer, sell_plans
from tests.clients.conftest import QUICK


def test_subscribe_check_track_and_cancel_answer_typed_results(billing):
    sell_plans(billing)
    state = billing.get_or_create_customer("user_1", name="Jane", email="jane@example.com")
    assert isinstance(state, models.CustomerState) and state.external_id == "user_1"
    assert state.id.startswith("pcm_") and state.environment == "test"

    started = billing.subscribe("user_1", "pro", success_url="https://example.com/thanks")
    assert started.action == "checkout" and started.url.startswith("http")
    done = billing.complete_test_checkout(started.checkout_id, OK_CARD)
    assert done.status == "completed" and done.subscription.product_slug == "pro"

    check = billing.check("user_1", "messages")
    assert check == models.CheckResult(
        allowed=True, balance=Decimal(1000), limit=Decimal(1000), granted=Decimal(1000),
        usage=Decimal(0), unlimited=False, overage_allowed=True)
    tracked = billing.track("user_1", "messages", amount=Decimal("2.5"))
    assert tracked.recorded and tracked.balance == Decimal("997.5")
    assert billing.check("user_1", "messages", send_event=True).balance == Decimal("996.5")
    assert billing.check("user_1", "premium_support").allowed is True

    canceled = billing.cancel("user_1", product="pro")
    assert canceled.canceled and canceled.effective_at > datetime.now(timezone.utc)
    assert billing.get_customer("user_1").subscriptions[0].cancel_at_period_end is True


def test_a_track_with_the_same_key_is_counted_once(billing):
    sell_plans(billing)
    paying_customer(billing)
    first = billing.track("user_1", "messages", amount=3, idempotency_key="order-17")
    again = billing.track("user_1", "messages", amount=3, idempotency_key="order-17")
    assert (first.recorded, first.duplicate) == (True, False)
    assert (again.recorded, again.duplicate) == (False, True)
    assert billing.check("user_1", "messages").usage == 3


def test_track_batch_answers_each_event_and_a_retried_batch_counts_once(billing):
    sell_plans(billing)
    paying_customer(billing)
    events = [TrackEvent(customer="user_1", feature="messages", amount=Decimal("2.5"),
                         idempotency_key="b-1"),
              {"customer": "ghost", "feature": "messages"},
              {"customer": "user_1", "feature": "messages", "amount": 3,
               "timestamp": datetime(2026, 1, 2, 3, 4, 5)}]
    result = billing.track_batch(events)
    assert isinstance(result, models.TrackBatchResult)
    assert [(item.index, item.status) for item in result.results] == [
        (0, "accepted"), (1, "error"), (2, "accepted")]
    assert result.results[2].balance == Decimal("994.5")
    assert result.results[1].error.code == "CUSTOMER_NOT_FOUND"
    again = billing.track_batch(events[:1])
    assert again.results[0].status == "duplicate"
    assert billing.check("user_1", "messages").usage == Decimal("5.5")


def test_a_track_buffer_sends_batches_by_size_and_by_time(billing):
    sell_plans(billing)
    paying_customer(billing)
    answered = []
    buffer = TrackBuffer(billing, max_events=3, max_seconds=0.2,
                         on_result=lambda event, item: answered.append(item.status))
    for _ in range(7):
        buffer.track("user_1", "messages")
    assert buffer.pending == 1  # two batches of 3 were sent as they filled
    assert answered == ["accepted"] * 6
    deadline = time.monotonic() + 10
    while buffer.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    assert buffer.pending == 0 and billing.check("user_1", "messages").usage == 7
    buffer.track("ghost", "messages")
    assert buffer.close() is True
    assert answered == ["accepted"] * 7 + ["error"]


def test_a_track_buffer_keeps_what_it_could_not_send_and_never_counts_twice(keys, front):
    errors = []
    with CyncoBilling(keys.secret_test, base_url=front.url, retry=QUICK) as client:
        sell_plans(client)
        paying_customer(client)
        buffer = TrackBuffer(client, max_events=5, max_seconds=60,
                             on_error=lambda error, events: errors.append(len(events)))
        for _ in range(4):
            buffer.track("user_1", "messages")
        # The server records the batch every time; the client never hears back.
        front.plays = ["lose_answer"] * (QUICK.max_retries + 1)
        assert buffer.flush() is False and errors == [4] and buffer.pending == 4
        statuses = []
        buffer.on_result = lambda event, item: statuses.append(item.status)
        assert buffer.close() is True and statuses == ["duplicate"] * 4
        assert client.check("user_1", "messages").usage == 4


def test_a_lock_reserves_then_confirms_what_was_used(billing):
    sell_plans(billing)
    paying_customer(billing)
    expires = datetime.now(timezone.utc) + timedelta(minutes=5)
    locked = billing.check("user_1", "messages", required_balance=10,
                           lock=Lock(expires_at=expires, lock_id="job_1"))
    assert locked.allowed and locked.lock_id == "job_1"
    assert billing.check("user_1", "messages").balance == 990
    finished = billing.finalize_lock("job_1", "confirm", override_value=4)
    assert finished.success and finished.adjusted == 6
    assert billing.check("user_1", "messages").balance == 996
    with pytest.raises(CyncoBillingError) as twice:
        billing.finalize_lock("job_1", "release")
    assert (twice.value.code, twice.value.status) == ("LOCK_ALREADY_FINALIZED", 409)


def test_catalog_plans_previews_and_versions(billing):
    sell_plans(billing)
    paying_customer(billing)
    products = billing.list_products()
    assert isinstance(products, Page) and products.total == 4
    assert {p.slug for p in products} == {"free", "pro", "enterprise", "extra-seats"}
    pro = next(p for p in products if p.slug == "pro")
    assert pro.prices[0].amount == 2000 and pro.features[0].allowance == 1000

    plans = billing.list_plans("user_1")
    assert {p.slug: p.customer_eligibility.scenario for p in plans}["enterprise"] == "upgrade"
    table = billing.get_pricing_table("user_1")
    assert table.plans[0].prices[0].amount_formatted.startswith("MYR ")
    assert table.groups[0].slug == "main"

    preview = billing.preview_attach("user_1", "enterprise")
    assert preview.scenario == "upgrade" and preview.target_plan == "enterprise"
    assert preview.amount_due == sum(line.amount for line in preview.line_items)

    billing.create_product("Pro", "pro", group_slug="main", sort_order=1,
                           prices=[{"type": "recurring", "billingInterval": "month",
                                    "amount": 2500}])
    versions = billing.list_product_versions("pro").versions
    assert len(versions) == 2
    oldest = min(versions, key=lambda version: version.version)
    assert billing.migrate_customers("pro", oldest.id).migrated == 1


def test_customers_subscriptions_and_invoices(billing):
    sell_plans(billing)
    paying_customer(billing)
    billing.get_or_create_customer("user_2")
    assert billing.update_customer("user_2", name="Ali").name == "Ali"
    customers = billing.list_customers(limit=1)
    assert len(customers) == 1 and customers.total == 2 and customers.limit == 1

    active = billing.list_subscriptions("active,trialing")  # user_2 got the default: Free
    assert sorted(s.product_slug for s in active) == ["free", "pro"]
    assert billing.list_subscriptions(["active"]).total == 2

    ended = billing.update_subscription("user_1", "pro", cancel_action="cancel_end_of_cycle")
    assert ended.updated and ended.action == "canceled"
    assert billing.update_subscription("user_1", "pro", cancel_action="uncancel").action \
        == "uncanceled"
    preview = billing.preview_update("user_1", "pro", cancel_action="cancel_immediately")
    assert preview.updated is False and preview.action == "preview"

    [invoice] = billing.list_invoices("user_1")
    assert invoice.status == "paid" and invoice.total == 2000
    assert billing.get_invoice(invoice.id).lines[0].amount == 2000
    assert billing.portal("user_1").url.startswith("http")
    assert billing.delete_customer("user_2").deleted is True


def test_balances_entities_spend_caps_and_events(billing):
    sell_plans(billing)
    paying_customer(billing)
    granted = billing.create_balance("user_1", "messages", 50, reset_interval="one_off")
    assert granted.feature_id and granted.granted is not None
    assert billing.update_balance("user_1", "messages", usage=10).usage == 10

    seat = billing.create_entity("user_1", "ws_1", "seats", name="Workspace")
    assert seat.entity_id == "ws_1" and seat.customer_id.startswith("pcm_")
    assert [e.entity_id for e in billing.list_entities("user_1")] == ["ws_1"]
    assert billing.delete_entity("user_1", "ws_1").deleted

    cap = billing.set_spend_cap("user_1", "messages", 5000)
    assert cap.cap_cents == 5000 and cap.unlimited is False
    assert billing.get_spend_cap("user_1", "messages").remaining_cents == 5000
    assert billing.set_spend_cap("user_1", "messages", None).unlimited is True
    assert billing.set_product_spend_cap("pro", "messages", 1000).cap_cents == 1000

    billing.track("user_1", "messages", amount=2)
    events = billing.aggregate_events("user_1", "messages", range="7d", group_by="day")
    assert len(events.timeline) >= 7
    assert (events.total.count, events.total.sum) == (2, 12)  # the usage set above, the track


def test_coupons_webhooks_keys_rewards_and_audit(billing, keys, billing_server):
    sell_plans(billing)
    paying_customer(billing)
    coupon = billing.create_coupon("SAVE20", "percentage", 20, "once", max_redemptions=10)
    check = billing.validate_coupon("SAVE20", "user_1", "enterprise", 2000)
    assert (check.valid, check.discount_amount, check.final_amount) == (True, 400, 1600)
    assert billing.validate_coupon("NOPE", "user_1", "pro", 2000).valid is False
    updated = billing.update_coupon(coupon.id, max_redemptions=None, name="Twenty off")
    assert updated.max_redemptions is None and updated.name == "Twenty off"
    assert billing.get_coupon(coupon.id).code == "SAVE20"
    assert [c.id for c in billing.list_coupons()] == [coupon.id]
    assert billing.archive_coupon(coupon.id).archived is True

    hook = billing.create_webhook("https://hooks.example.com/cynco",
                                  events=["invoice.paid"])
    assert hook.secret.startswith("whsec_")
    [listed] = billing.list_webhooks()
    assert listed.id == hook.id and listed.secret is None
    assert billing.delete_webhook(hook.id).deleted

    new_key = billing.create_api_key("browser", "publishable", scopes=["track"])
    assert new_key.raw_key.startswith("cp_pk_test_") and new_key.scopes == ["track"]
    assert all(key.raw_key is None for key in billing.list_api_keys())
    assert billing.revoke_api_key(new_key.id).revoked
    with pytest.raises(CyncoBillingError) as revoked:
        CyncoBilling(new_key.raw_key, base_url=billing_server.url).check("user_1", "messages")
    assert (revoked.value.code, revoked.value.status) == ("UNAUTHORIZED", 401)

    program = billing.create_reward_program("Refer a friend", "credit", 500)
    assert [p.id for p in billing.list_reward_programs()] == [program.id]
    code = billing.create_referral_code(program.id, "user_1", "JANE20")
    assert [c.code for c in billing.list_referral_codes("user_1")] == ["JANE20"]
    billing.get_or_create_customer("user_2")
    redeemed = billing.redeem_referral_code(program.id, code.code, "user_2")
    assert redeemed.redeemed and redeemed.referrer_reward.type == "credit"

    customer_id = billing.get_customer("user_1").id
    events = billing.list_audit_events(customer_map_id=customer_id)
    assert events and all(event.customer_map_id == customer_id for event in events)


def test_analytics_ledger_and_the_test_clock(billing):
    sell_plans(billing)
    paying_customer(billing)
    summary = billing.analytics()
    assert summary.mrr == 2000 and summary.active_subscriptions == 1
    assert len(billing.revenue_timeline(3)) == 3

    accounts = billing.list_accounts()
    assert any(account.code == "1200" for account in accounts)
    entries = billing.list_journal_entries()
    assert entries and billing.get_journal_entry(entries[0].id).lines
    trial = billing.trial_balance()
    assert trial.currencies["MYR"].total_debit == trial.currencies["MYR"].total_credit
    sheet = billing.balance_sheet()
    assert "MYR" in sheet.currencies
    report = billing.profit_and_loss(from_="2000-01-01")
    assert report.from_.isoformat() == "2000-01-01"

    before = billing.get_test_clock().now
    moved = billing.advance_test_clock(seconds=32 * 24 * 3600)
    assert moved.now - before >= timedelta(days=32) and moved.ran.renewals == 1
    assert len(billing.list_invoices("user_1")) == 2


def test_multi_attach_buys_a_plan_and_an_add_on_in_one_checkout(billing):
    sell_plans(billing)
    billing.get_or_create_customer("user_9")
    result = billing.multi_attach(
        {"id": "user_9", "email": "nine@example.com", "name": "Nine"},
        [{"product": "pro"}, {"product": "extra-seats", "quantity": 2}],
        success_url="https://example.com/ok", cancel_url="https://example.com/no")
    assert result.action == "checkout" and result.checkout_url
    assert billing.complete_test_checkout(result.checkout_id, OK_CARD).status == "completed"
    assert {s.product_slug for s in billing.get_customer("user_9").subscriptions} == {
        "pro", "extra-seats"}


def test_errors_carry_the_servers_code_status_details_and_request_id(billing, keys,
                                                                     billing_server):
    sell_plans(billing)
    with pytest.raises(CyncoBillingError) as missing:
        billing.get_customer("nobody")
    error = missing.value
    assert (error.code, error.status) == ("CUSTOMER_NOT_FOUND", 404)
    assert error.request_id.startswith("req_") and "nobody" in error.message

    with pytest.raises(CyncoBillingError) as invalid:
        billing.subscribe("user_1", "", success_url="not a url")
    assert (invalid.value.code, invalid.value.status) == ("VALIDATION_ERROR", 422)
    assert {detail.field for detail in invalid.value.details} >= {"product"}

    public = CyncoBilling(keys.publishable_test, base_url=billing_server.url, retry=QUICK)
    with pytest.raises(CyncoBillingError) as forbidden:
        public.cancel("user_1")
    assert (forbidden.value.code, forbidden.value.status) == ("FORBIDDEN", 403)

    with pytest.raises(CyncoBillingError) as unauthorized:
        CyncoBilling("cp_sk_test_" + "x" * 32, base_url=billing_server.url).list_products()
    assert (unauthorized.value.code, unauthorized.value.status) == ("UNAUTHORIZED", 401)


def test_a_client_needs_a_key_and_a_server(monkeypatch):
    monkeypatch.delenv("CYNCO_BILLING_KEY", raising=False)
    monkeypatch.delenv("CYNCO_BILLING_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="key"):
        CyncoBilling(base_url="http://127.0.0.1:1")
    with pytest.raises(ValueError, match="base_url"):
        CyncoBilling("cp_sk_test_abc")
    monkeypatch.setenv("CYNCO_BILLING_KEY", "cp_sk_test_abc")
    monkeypatch.setenv("CYNCO_BILLING_BASE_URL", "http://127.0.0.1:1/")
    assert CyncoBilling()._settings.base_url == "http://127.0.0.1:1"


def test_a_cancel_now_refund_reads_back_as_a_credit_note(billing):
    sell_plans(billing)
    paying_customer(billing)
    result = billing.update_subscription("user_1", "pro", cancel_action="cancel_immediately")
    assert result.refund_amount and result.refund_amount > 0
    [note] = billing.list_credit_notes("user_1", type=["refund"])
    assert note.type == "refund" and note.total == result.refund_amount
    assert note.number.startswith("CN-TEST-")
    again = billing.get_credit_note(note.id)
    assert again.invoice_id == note.invoice_id and again.lines
    assert billing.list_credit_notes("user_1", type="write_off").total == 0


def test_billing_settings_read_and_change_through_the_client(billing):
    before = billing.get_billing_settings()
    assert before.emails.kinds and all(isinstance(v, bool) for v in before.emails.kinds.values())
    changed = billing.update_billing_settings(invoice={"legalName": "Acme Sdn Bhd"},
                                              emails={"senderName": "Acme billing"})
    assert changed.invoice.legal_name == "Acme Sdn Bhd"
    assert changed.emails.sender_name == "Acme billing"
    assert billing.get_billing_settings().invoice.legal_name == "Acme Sdn Bhd"
