"""Any sequence of invoices, payments, refunds, credits and write-offs leaves the books right.

Hypothesis drives random business histories through the posting rules while a stand-in for
billing records the same history (tests/ledger/billing_records.py). After every event the
database accepts the entries (deferred triggers run), the trial balance is zero in every
currency, and reconciliation against billing's figures finds nothing.
"""

from datetime import date

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cynco.tenancy import Scope
from ledger import rules
from ledger.models import JournalEntry
from ledger.reconciliation import reconcile
from ledger.selectors.statements import trial_balance
from tests.factories import make_merchant
from tests.ledger.accounting import close_the_books
from tests.ledger.billing_records import PROVIDER, RECORDS

END_OF_TIME = date(9999, 12, 31)
amounts = st.integers(min_value=0, max_value=50_000)
gateways = st.sampled_from(["sandbox", "stripe", "chip"])
currencies = st.sampled_from(["MYR", "USD"])
pick = st.integers(min_value=0, max_value=1_000)  # which earlier invoice or payment, modulo

events = st.one_of(
    st.tuples(st.just("invoice"), currencies, amounts, amounts, amounts, st.floats(0, 1),
              st.integers(0, 5_000)),
    st.tuples(st.just("pay"), pick, gateways),
    st.tuples(st.just("refund"), pick, st.floats(0.01, 1)),
    st.tuples(st.just("fee"), pick, st.integers(1, 300)),
    st.tuples(st.just("upgrade_credit"), currencies, st.integers(1, 20_000)),
    st.tuples(st.just("apply_credit"), pick),
    st.tuples(st.just("write_off"), pick),
)


class History:
    """Plays one business history: billing's records and the ledger's rules, side by side."""

    def __init__(self, scope: Scope):
        self.scope, self.records = scope, RECORDS[scope]
        self.invoices: list[str] = []
        self.payments: list[tuple[str, str, str, str, int, int]] = []  # id, inv, gw, cur, amt, ref
        self.credit: dict[str, int] = {}
        self.fees: set[str] = set()
        self.entries = 0  # how many entries the history should have posted
        self.count = 0

    def _next(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}_{self.count}"

    def _open(self, index: int) -> str | None:
        still_open = [i for i in self.invoices if self.records.owed[i][1] > 0]
        return still_open[index % len(still_open)] if still_open else None

    def invoice(self, currency, subscription, usage, one_off, discount_share, tax):
        invoice_id = self._next("pinv")
        discount = int((subscription + usage + one_off) * discount_share)
        entry = rules.invoice_finalized(
            scope=self.scope, invoice_id=invoice_id, currency=currency, subscription=subscription,
            usage=usage, one_off=one_off, discount=discount, tax=tax,
        )
        self.entries += entry is not None
        owed = subscription + usage + one_off - discount + tax
        self.invoices.append(invoice_id)
        self.records.owed[invoice_id] = (currency, owed)
        if owed == 0 and (subscription + usage + one_off + tax):
            self.records.paid.add(invoice_id)  # fully discounted: nothing to collect

    def pay(self, index, gateway):
        invoice_id = self._open(index)
        if invoice_id is None:
            return
        currency, owed = self.records.owed[invoice_id]
        payment_id = self._next("pay")
        self.entries += 1
        rules.payment_captured(scope=self.scope, payment_id=payment_id, gateway=gateway,
                               amount=owed, currency=currency, invoice_id=invoice_id)
        self._settle(invoice_id)
        self.records.move_clearing(gateway, currency, owed)
        self.payments.append([payment_id, invoice_id, gateway, currency, owed, 0])

    def refund(self, index, share):
        if not self.payments:
            return
        payment = self.payments[index % len(self.payments)]
        _, invoice_id, gateway, currency, amount, refunded = payment
        refund = min(max(1, int(amount * share)), amount - refunded)
        if refund <= 0:
            return
        self.entries += 1
        rules.refund_issued(scope=self.scope, refund_id=self._next("ref"), gateway=gateway,
                            amount=refund, currency=currency, invoice_id=invoice_id)
        payment[5] += refund
        self.records.move_clearing(gateway, currency, -refund)

    def fee(self, index, amount):
        if not self.payments:
            return
        payment_id, invoice_id, gateway, currency, *_ = self.payments[index % len(self.payments)]
        rules.gateway_fee_charged(scope=self.scope, payment_id=payment_id, gateway=gateway,
                                  amount=amount, currency=currency, invoice_id=invoice_id)
        if payment_id not in self.fees:  # a second fee call for a payment posts nothing
            self.fees.add(payment_id)
            self.entries += 1
            self.records.move_clearing(gateway, currency, -amount)

    def upgrade_credit(self, currency, amount):
        self.entries += 1
        rules.upgrade_credit_granted(scope=self.scope, change_id=self._next("chg"),
                                     amount=amount, currency=currency)
        self.credit[currency] = self.credit.get(currency, 0) + amount

    def apply_credit(self, index):
        invoice_id = self._open(index)
        if invoice_id is None:
            return
        currency, owed = self.records.owed[invoice_id]
        used = min(owed, self.credit.get(currency, 0))
        if used == 0:
            return
        self.entries += 1
        rules.customer_credit_applied(scope=self.scope, invoice_id=invoice_id, amount=used,
                                      currency=currency, application_id=self._next("use"))
        self.credit[currency] -= used
        self.records.owed[invoice_id] = (currency, owed - used)
        if owed == used:
            self.records.paid.add(invoice_id)

    def write_off(self, index):
        invoice_id = self._open(index)
        if invoice_id is None:
            return
        currency, owed = self.records.owed[invoice_id]
        self.entries += 1
        rules.invoice_written_off(scope=self.scope, invoice_id=invoice_id, amount=owed,
                                  currency=currency)
        self.records.owed[invoice_id] = (currency, 0)

    def _settle(self, invoice_id):
        currency, _ = self.records.owed[invoice_id]
        self.records.owed[invoice_id] = (currency, 0)
        self.records.paid.add(invoice_id)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=st.lists(events, min_size=1, max_size=25))
# Credit applied to one open invoice twice (two credits in a row): the second application
# was taken for a repeat of the first and never posted, leaving 1200 off by it.
@example(history=[("invoice", "MYR", 5000, 0, 0, 0.0, 0), ("upgrade_credit", "MYR", 1200),
                  ("apply_credit", 0), ("upgrade_credit", "MYR", 1000), ("apply_credit", 0)])
def test_random_histories_keep_the_books_balanced_and_reconciled(history):
    scope = Scope(make_merchant().merchant.id, "test")
    play = History(scope)
    try:
        with override_settings(LEDGER_RECONCILIATION_SOURCES=[PROVIDER]):
            for name, *values in history:
                getattr(play, name)(*values)
                close_the_books()  # the deferred balance triggers accept every entry
                report = trial_balance(scope=scope, as_of=END_OF_TIME)
                for currency, book in report["currencies"].items():
                    assert book["totalDebit"] == book["totalCredit"], (currency, history)
                findings = reconcile([scope])
                assert findings.ok, [c.as_row() for c in findings.differences]
        assert JournalEntry.objects.for_scope(scope).count() == play.entries
    finally:
        RECORDS.pop(scope, None)
