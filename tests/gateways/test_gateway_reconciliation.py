"""The books' clearing accounts against each gateway's own records (issue 12, §2).

For the sandbox (its own tables), Stripe (localstripe, through its list endpoints) and CHIP
(the fake CHIP server, purchase by purchase): money is charged and refunded through the real
services; the books are posted as billing posts them (`ledger.rules.payment_captured` for the
attempt, `refund_issued` for the refund, under billing's own ids); then
`compare_with_gateways` and `manage.py reconcile_ledger` are asked what differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing.selectors.gateway_reconciliation import compare_with_gateways
from cynco.clock import wall_now
from gateways import registry
from gateways.base import SavedPaymentMethod
from gateways.services.checkout import payment_method_save
from gateways.services.payments import charge_execute, charge_start, refund_execute, refund_start
from ledger import rules
from tests.gateways.conftest import saved_card as sandbox_card

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Kit:
    """The gateway a test pays through, and its local server (localstripe, fake CHIP)."""

    name: str
    server: object = None


@pytest.fixture(params=["sandbox", "stripe", "chip"])
def kit(request) -> Kit:
    if request.param == "sandbox":
        return Kit("sandbox")
    return Kit(request.param, request.getfixturevalue(f"{request.param}_account"))


def saved_method(scope, kit: Kit) -> str:
    """Our PaymentMethod id of a card saved at the kit's gateway."""
    if kit.name == "sandbox":
        return sandbox_card(scope, "4242424242424242", key="setup-rec")
    if kit.name == "stripe":
        from tests.gateways.test_stripe import VISA, saved_card

        method = SavedPaymentMethod(token=saved_card(scope, kit.server, VISA, key="setup-rec"))
    else:
        from tests.gateways.test_chip import saved_token

        token = saved_token(scope, kit.server, key="setup-rec")
        method = registry.gateway_for(scope).get_checkout_session(token).payment_method
    return payment_method_save(scope=scope, customer_reference="pcm_ali", gateway=kit.name,
                               gateway_account_id=None, method=method).id


def paid(scope, method_id: str, key: str, amount: int = 4000):
    attempt = charge_start(scope=scope, payment_method_id=method_id, amount=amount,
                           currency="MYR", idempotency_key=key, source_reference=f"pinv_{key}")
    result = charge_execute(attempt_id=attempt.id)
    assert result.status == "succeeded", result
    return result


def book_payment(scope, result) -> None:
    """What billing's renewal posts for a paid period invoice (its source: the attempt)."""
    rules.payment_captured(scope=scope, payment_id=result.id, gateway=result.gateway,
                           amount=result.amount, currency=result.currency,
                           invoice_id=result.source_reference)


def refunded(scope, charge, key: str, amount: int):
    started = refund_start(scope=scope, charge_id=charge.id, amount=amount,
                           idempotency_key=key, source_reference=f"pref_{key}")
    result = refund_execute(attempt_id=started.id)
    assert result.status == "succeeded", result
    # Billing posts a refund under its own Refund's id (the attempt's source reference).
    rules.refund_issued(scope=scope, refund_id=result.source_reference, gateway=result.gateway,
                        amount=amount, currency=result.currency)
    return result


def differences(scope):
    now = wall_now()
    checks = compare_with_gateways(scope, since=now - timedelta(days=1),
                                   until=now + timedelta(minutes=1))
    return [check for check in checks if not check.ok], checks


def test_clean_books_report_nothing(scope, kit, event_log):
    method = saved_method(scope, kit)
    first = paid(scope, method, "rec-clean-1", 4000)
    second = paid(scope, method, "rec-clean-2", 2500)
    book_payment(scope, first)
    book_payment(scope, second)
    refunded(scope, first, "rec-clean-r", 1500)

    found, checks = differences(scope)

    assert found == []
    rows = {check.check: check for check in checks}
    assert rows["gateway records"].subject == kit.name
    day = wall_now().date().isoformat()
    assert (rows["gateway payments"].subject, rows["gateway payments"].expected) == (
        f"1100-{kit.name} {day} MYR", 6500)
    assert rows["gateway refunds"].expected == rows["gateway refunds"].actual == 1500


def test_a_payment_taken_at_the_gateway_with_no_booking_is_named(scope, kit, event_log):
    method = saved_method(scope, kit)
    booked = paid(scope, method, "rec-booked")
    lost = paid(scope, method, "rec-lost", 7300)
    book_payment(scope, booked)

    found, _ = differences(scope)

    day = wall_now().date().isoformat()
    assert [(c.check, c.subject, c.expected, c.actual) for c in found] == [
        ("gateway payment", f"{kit.name} {lost.provider_payment_id}", f"7300 MYR on {day}",
         "not in the books"),
        ("gateway payments", f"1100-{kit.name} {day} MYR", 11300, 4000),
    ]


def test_a_booked_payment_with_no_gateway_record_is_named(scope, kit, event_log):
    method = saved_method(scope, kit)
    book_payment(scope, paid(scope, method, "rec-real"))
    rules.payment_captured(scope=scope, payment_id="ghost-payment-1", gateway=kit.name,
                           amount=999, currency="MYR", invoice_id="pinv_ghost")

    found, _ = differences(scope)

    day = wall_now().date().isoformat()
    assert [(c.check, c.subject, c.expected, c.actual) for c in found] == [
        ("gateway payment", f"{kit.name} ghost-payment-1", f"not at {kit.name}",
         f"999 MYR on {day}"),
        ("gateway payments", f"1100-{kit.name} {day} MYR", 4000, 4999),
    ]


def test_a_refund_made_at_the_gateway_and_never_booked_is_named(scope, kit, event_log):
    method = saved_method(scope, kit)
    charge = paid(scope, method, "rec-refund")
    book_payment(scope, charge)
    started = refund_start(scope=scope, charge_id=charge.id, amount=1100,
                           idempotency_key="rec-refund-r", source_reference="pref_unbooked")
    refund = refund_execute(attempt_id=started.id)

    found, _ = differences(scope)

    assert [(c.check, c.subject, c.actual) for c in found][0] == (
        "gateway refund", f"{kit.name} {refund.provider_refund_id}", "not in the books")


def test_reconcile_ledger_names_the_unbooked_payment_and_exits_1(scope, event_log):
    method = sandbox_card(scope, "4242424242424242", key="setup-cmd")
    lost = paid(scope, method, "rec-cmd")
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("reconcile_ledger", merchant=scope.merchant_id, environment="test",
                     stdout=out)

    table = out.getvalue()
    assert f"sandbox {lost.provider_payment_id}" in table and "not in the books" in table
