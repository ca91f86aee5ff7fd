"""No payment without books when plan changes race (issue 12, part 1).

Each race runs RACE_RUNS times in real threads over the HTTP API (tests/billing/
payment_races.py). Whatever the interleaving: at most one change wins, a loser charges nothing
and answers 409 CONFLICT, a payment whose purpose went away is refunded with both legs booked,
and after every run every gateway payment is on a paid invoice or refunded, the trial balance
is zero per currency and reconcile_ledger finds no difference.
"""

import threading
import time
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client

from billing.models import AuditEvent, Checkout, Customer, CustomerCredit, Invoice
from billing.models import Subscription, UnappliedPayment
from billing.selectors.unapplied_payments import payments_needing_attention
from billing.services.checkouts import checkout_fulfil
from cynco.tenancy import Scope
from gateways import registry
from gateways.base import ChargeRequest, RefundRequest
from gateways.sandbox.models import SandboxPayment
from gateways.models import PaymentMethod
from tests.billing.money import audited, balances, entries, event_data
from tests.billing.payment_races import (
    RUNS, Tally, answer, books_hold, jittered, race_catalog,
)
from tests.billing.subscribing import (
    CANCEL, OK_CARD, SUBSCRIBE, THREE_DS_CARD, complete_path, current, customer, subscribe,
    subscribe_paid,
)
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(api, merchant):
    return race_catalog(api), Scope(merchant.merchant.id, "test")


def _on_pro_with_a_card(api, name: str) -> None:
    customer(api, name)
    subscribe_paid(api, "pro", name)


def _subscribe(key: str, name: str, product: str, **extra):
    return lambda: Api(key).post(SUBSCRIBE, {"customer": name, "product": product, **extra})


def _check(tally: Tally) -> None:
    tally.report()
    assert tally.unbooked == 0, tally.problems[:10]
    assert not tally.problems, tally.problems[:10]


def test_an_annual_upgrade_racing_cancel_now_charges_once_or_not_at_all(api, merchant, shop):
    catalog, scope = shop
    yearly = catalog["enterprise"]["prices"][1]["id"]
    tally = Tally("upgrade (annual, saved card) vs cancel immediate")
    for run in range(RUNS):
        name = f"cancel_{run}"
        _on_pro_with_a_card(api, name)
        upgrade, cancel = jittered([
            _subscribe(merchant.secret_test, name, "enterprise", priceId=yearly),
            lambda: Api(merchant.secret_test).post(CANCEL, {"customer": name,
                                                            "immediate": True})])
        outcome = (answer(upgrade), answer(cancel))
        assert outcome in {("activated", "canceled"), ("CONFLICT", "canceled"),
                           ("activated", "CONFLICT")}, outcome
        if outcome[0] == "CONFLICT":
            assert "cancel" in error_of(upgrade)["message"].lower()
        tally.add(outcome, scope)
    _check(tally)


def test_two_upgrades_at_once_in_two_currencies_one_wins(api, merchant, shop):
    _, scope = shop
    tally = Tally("upgrade to MYR plan vs upgrade to USD plan")
    for run in range(RUNS):
        name = f"currencies_{run}"
        _on_pro_with_a_card(api, name)
        to_myr, to_usd = jittered([_subscribe(merchant.secret_test, name, "enterprise"),
                                   _subscribe(merchant.secret_test, name, "ultra")])
        outcome = (answer(to_myr), answer(to_usd))
        # One wins; the other is refused, or (when it came after the winner finished) is an
        # ordinary change from the winner's plan.
        assert "CONFLICT" in outcome or outcome in {
            ("scheduled", "activated"), ("activated", "activated")}, outcome
        if outcome.count("CONFLICT") == 1:
            loser = to_myr if outcome[0] == "CONFLICT" else to_usd
            assert "another plan change" in error_of(loser)["message"].lower()
        assert outcome != ("CONFLICT", "CONFLICT")
        tally.add(outcome, scope)
    _check(tally)


def test_completing_a_checkout_racing_a_subscribe_to_another_plan(api, merchant, shop):
    _, scope = shop
    tally = Tally("test checkout complete vs subscribe to another plan")
    for run in range(RUNS):
        name = f"complete_{run}"
        customer(api, name)
        started = subscribe(api, "pro", name)
        complete, other = jittered([
            lambda: Api(merchant.secret_test).post(complete_path(started["checkoutId"]),
                                                   {"card": OK_CARD}),
            _subscribe(merchant.secret_test, name, "enterprise")])
        outcome = (answer(complete), answer(other))
        assert outcome in {("completed", "activated"), ("completed", "CONFLICT"),
                           ("failed", "checkout")}, outcome
        tally.add(outcome, scope)
        paid_after_cancel = AuditEvent.objects.filter(
            event="checkout.paid_after_cancel", resource_id=started["checkoutId"]).count()
        assert paid_after_cancel <= 1
    _check(tally)


def test_three_d_secure_approved_after_its_checkout_was_replaced_is_refunded(api, merchant,
                                                                              shop):
    _, scope = shop
    tally = Tally("3-D Secure approval vs subscribe to another plan")
    for run in range(RUNS):
        name = f"three_ds_{run}"
        customer(api, name)
        started = subscribe(api, "pro", name)
        pending = data_of(api.post(complete_path(started["checkoutId"]),
                                   {"card": THREE_DS_CARD}))
        assert pending["status"] == "requires_action"
        approve, other = jittered([
            lambda: Client().post(urlsplit(pending["url"]).path, {"decision": "approve"}),
            _subscribe(merchant.secret_test, name, "enterprise")])
        assert approve.status_code in (200, 302)  # 302 only to a successUrl
        late = UnappliedPayment.objects.filter(checkout_id=started["checkoutId"]).first()
        # Approved first: Pro starts (and the other subscribe is an upgrade from it); approved
        # after the checkout was replaced: nothing starts and the payment goes back.
        outcome = ("approved late: refunded" if late else "approved: Pro started",
                   answer(other))
        assert outcome[1] in {"checkout", "activated", "CONFLICT"}, outcome
        assert late is None or late.status == "refunded"
        tally.add(outcome, scope)
        assert AuditEvent.objects.filter(event="checkout.paid_after_cancel",
                                         resource_id=started["checkoutId"]).count() <= 1
    _check(tally)


def test_three_d_secure_approved_after_the_checkout_was_replaced_refunds_with_both_legs(
        api, merchant, shop):
    _, scope = shop
    customer(api, "late")
    started = subscribe(api, "pro", "late")
    pending = data_of(api.post(complete_path(started["checkoutId"]), {"card": THREE_DS_CARD}))
    assert subscribe(api, "enterprise", "late")["action"] == "checkout"  # replaces it
    Client().post(urlsplit(pending["url"]).path, {"decision": "approve"})

    (stray,) = UnappliedPayment.objects.all()
    assert (stray.status, stray.amount, stray.currency) == ("refunded", 2000, "MYR")
    assert stray.checkout_id == started["checkoutId"]
    assert SandboxPayment.objects.get(pk=stray.provider_payment_id).amount_refunded == 2000
    captured = [e for e in entries("payment_captured") if ("CR", "2100", 2000) in e]
    refunded = [e for e in entries("refund") if ("DR", "2100", 2000) in e]
    assert captured == [[("DR", "1100-sandbox", 2000), ("CR", "2100", 2000)]]
    assert refunded == [[("DR", "2100", 2000), ("CR", "1100-sandbox", 2000)]]
    assert [e["id"] for e in event_data("payment.refunded")] == [stray.id]
    assert [a.resource_id for a in audited("checkout.paid_after_cancel")] == [
        started["checkoutId"]]
    assert current(api, "late")["free"]["status"] == "active"  # nothing started
    assert books_hold(scope) == []


def test_a_late_payment_whose_refund_fails_is_held_as_credit_and_needs_attention(
        api, merchant, shop):
    _, scope = shop
    customer(api, "held")
    replaced = subscribe(api, "pro", "held")
    subscribe_paid(api, "enterprise", "held")  # replaces the Pro checkout; saves the card
    # The Pro checkout's payment lands at the gateway late, and the merchant has already
    # refunded it from the gateway's dashboard, so our refund is refused.
    gateway = registry.gateway_for(scope)
    card = PaymentMethod.objects.get(customer_reference=Checkout.objects.get(
        pk=replaced["checkoutId"]).customer_id)
    late = gateway.charge(ChargeRequest(payment_method_token=card.token, amount=2000,
                                        currency="MYR", idempotency_key="late-pro"))
    gateway.refund(RefundRequest(provider_payment_id=late.provider_payment_id, amount=2000,
                                 idempotency_key="desk"))

    checkout_fulfil(scope=scope, checkout_id=replaced["checkoutId"],
                    payment_id=late.provider_payment_id, gateway="sandbox")
    checkout_fulfil(scope=scope, checkout_id=replaced["checkoutId"],  # the gateway's event
                    payment_id=late.provider_payment_id, gateway="sandbox")

    (stray,) = payments_needing_attention(scope=scope)
    assert (stray.status, stray.amount) == ("held", 2000) and stray.failure_message
    (credit,) = CustomerCredit.objects.filter(source="payment")
    assert (credit.amount, credit.remaining, credit.source_id) == (2000, 2000, stray.id)
    assert balances(api)["2100"] == -2000  # the customer's money, until an operator acts
    assert not [e for e in entries("refund") if ("DR", "2100", 2000) in e]
    (attention,) = event_data("payment.needs_attention")
    assert (attention["id"], attention["amount"], attention["status"]) == (stray.id, 2000,
                                                                           "held")
    assert len(audited("checkout.paid_after_cancel")) == 1
    assert current(api, "held")["enterprise"]["status"] == "active"


def test_the_console_lists_payments_needing_attention(api, merchant, shop, operator):
    test_a_late_payment_whose_refund_fails_is_held_as_credit_and_needs_attention(
        api, merchant, shop)
    page = operator.get("/admin/billing/unappliedpayment/?attention=yes")
    assert page.status_code == 200
    held = UnappliedPayment.objects.get()
    assert held.provider_payment_id in page.content.decode()
    dashboard = operator.get("/admin/billing-dashboard/?environment=test").content.decode()
    section = dashboard.split("Payments without a purpose", 1)[1].split("</section>", 1)[0]
    assert held.provider_payment_id in section and "MYR 20.00" in section


def _identical(api, merchant, shop, product: str, count: int, name: str, key: str | None):
    headers = {"Idempotency-Key": key} if key else None
    responses = jittered([
        (lambda: Api(merchant.secret_test).post(
            SUBSCRIBE, {"customer": name, "product": product}, headers=headers))
        for _ in range(count)])
    return responses


def test_ten_concurrent_subscribes_to_one_add_on_activate_once(api, merchant, shop):
    _, scope = shop
    tally = Tally("10 identical add-on subscribes")
    for run in range(RUNS):
        name = f"addon_{run}"
        _on_pro_with_a_card(api, name)
        outcome = [answer(r) for r in _identical(api, merchant, shop, "seats", 10, name, None)]
        assert sorted(outcome) == ["activated"] + ["noop"] * 9, outcome
        tally.add(("activated", "9 noop"), scope)
    _check(tally)


def test_twenty_identical_upgrades_activate_once(api, merchant, shop):
    _, scope = shop
    tally = Tally("20 identical upgrades")
    for run in range(RUNS):
        name = f"upgrade_{run}"
        _on_pro_with_a_card(api, name)
        outcome = [answer(r) for r in _identical(api, merchant, shop, "enterprise", 20, name,
                                                 None)]
        assert sorted(outcome) == ["activated"] + ["noop"] * 19, outcome
        tally.add(("activated", "19 noop"), scope)
    _check(tally)


def test_identical_upgrades_with_one_idempotency_key_get_the_same_stored_answer(
        api, merchant, shop):
    _, scope = shop
    tally = Tally("20 identical upgrades, one Idempotency-Key")
    for run in range(RUNS):
        name = f"keyed_{run}"
        _on_pro_with_a_card(api, name)
        responses = _identical(api, merchant, shop, "enterprise", 20, name, f"up-{run}")
        answered = [answer(r) for r in responses]
        assert answered.count("activated") >= 1
        assert set(answered) <= {"activated", "IDEMPOTENCY_IN_PROGRESS"}, answered
        first = {r.json()["data"]["subscription"]["id"] for r in responses
                 if r.status_code == 200}
        assert len(first) == 1
        replay = Api(merchant.secret_test).post(
            SUBSCRIBE, {"customer": name, "product": "enterprise"},
            headers={"Idempotency-Key": f"up-{run}"})
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert data_of(replay)["action"] == "activated"
        assert data_of(replay)["subscription"]["id"] in first
        customer_id = Customer.objects.get(external_id=name).id
        assert Invoice.objects.filter(customer_id=customer_id, total__gt=0).count() == 2
        tally.add(("activated", f"{answered.count('activated') - 1} replayed",
                   f"{answered.count('IDEMPOTENCY_IN_PROGRESS')} in progress"), scope)
    _check(tally)


def _held_at_the_gateway():
    """A session holding the sandbox's payments table: a charge waits at the gateway (its
    INSERT) until `release`, as a slow gateway would make it wait."""
    params = connection.get_connection_params()
    blocker = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
    blocker.execute("BEGIN")
    blocker.execute("LOCK TABLE gateways_sandboxpayment IN EXCLUSIVE MODE")
    return blocker


def _started(name: str, answers: dict, call) -> threading.Thread:
    """`call` in a thread of its own, its answer kept as answers[name]."""
    def run():
        try:
            answers[name] = call()
        finally:
            connections.close_all()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_cancel_while_the_upgrade_is_being_charged_is_refused_and_changes_nothing(
        api, merchant, shop):
    catalog, scope = shop
    _on_pro_with_a_card(api, "slow")
    yearly = catalog["enterprise"]["prices"][1]["id"]
    answers = {}
    blocker = _held_at_the_gateway()
    try:
        upgrade = _started("upgrade", answers, _subscribe(
            merchant.secret_test, "slow", "enterprise", priceId=yearly))
        _until(lambda: Subscription.objects.filter(product__slug="enterprise",
                                                   status="checkout").exists())
        cancel = _started("cancel", answers, lambda: Api(merchant.secret_test).post(
            CANCEL, {"customer": "slow", "immediate": True}))
        _until(lambda: "cancel" in answers or Subscription.objects.filter(
            product__slug="pro", status="canceled").exists())
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    upgrade.join(60)
    cancel.join(60)

    refused = error_of(answers["cancel"])
    assert answers["cancel"].status_code == 409 and refused["code"] == "CONFLICT"
    assert "Enterprise" in refused["message"] and "nothing was canceled" in refused["message"]
    assert answer(answers["upgrade"]) == "activated"
    assert set(current(api, "slow")) == {"enterprise"}
    assert books_hold(scope) == []


def test_an_upgrade_whose_plan_was_canceled_while_it_was_charged_is_refunded_and_409(
        api, merchant, shop, settings):
    """A claim a crash left behind stops counting (CHARGE_CLAIM_SECONDS): a cancel then goes
    through, and the payment that lands after it starts nothing and goes back."""
    catalog, scope = shop
    settings.CHARGE_CLAIM_SECONDS = 0
    _on_pro_with_a_card(api, "expired_claim")
    answers = {}
    blocker = _held_at_the_gateway()
    try:
        upgrade = _started("upgrade", answers, _subscribe(
            merchant.secret_test, "expired_claim", "enterprise"))
        _until(lambda: Subscription.objects.filter(product__slug="enterprise",
                                                   status="checkout").exists())
        cancel = _started("cancel", answers, lambda: Api(merchant.secret_test).post(
            CANCEL, {"customer": "expired_claim", "product": "pro", "immediate": True}))
        _until(lambda: "cancel" in answers or Subscription.objects.filter(
            product__slug="pro", status="canceled").exists())
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    upgrade.join(60)
    cancel.join(60)

    assert answer(answers["cancel"]) == "canceled"
    refused = error_of(answers["upgrade"])
    assert answers["upgrade"].status_code == 409 and refused["code"] == "CONFLICT"
    assert "Pro" in refused["message"] and "refunded" in refused["message"]
    (stray,) = UnappliedPayment.objects.all()
    assert stray.status == "refunded" and stray.checkout_id
    assert "enterprise" not in current(api, "expired_claim")
    assert books_hold(scope) == []
