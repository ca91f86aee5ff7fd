"""The period-end job's batch path (renewal_batches.renew_many, whose balances go through
entitlement_sync.subscriptions_renewed) leaves exactly what the one-by-one path
(renewals._step, then the charge) leaves.

Two merchants get the same customers, built through the API: overage on a plan with a spend
cap and a once-only grant spent beyond the plan, a feature resetting daily and one yearly on a
monthly plan, quantity 3, per-entity allowances with entities using them, a trial ending with
a setup fee (its balance's schedule period is longer than the trial, so it closes twice, the
once-only grant there spent once), a plan with an add-on sharing a feature, a declined card
and no card. One merchant is renewed by the job (the batch path), the other one subscription
at a time; then every balance, grant, closed period, invoice with its lines, ledger entry,
event, audit row, payment attempt and subscription is compared, ids replaced by what they
name.
"""

import json
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import (
    AuditEvent, Balance, BalanceGrant, Customer, Feature, Invoice, OutgoingEvent, PeriodUsage,
    Subscription,
)
from billing.periods import next_period_end
from billing.services import renewals
from cynco import clock
from cynco.locks import try_lock_customers
from cynco.tenancy import Scope
from gateways.models import PaymentAttempt
from ledger.models import JournalEntry
from tests.billing.catalog import CUSTOMERS, define, metered, monthly, subscribe_directly, switch
from tests.billing.due_renewals import OK_CARD, save_cards
from tests.billing.entitlements import BALANCES_CREATE, ENTITIES, SPEND_CAPS, track
from tests.billing.subscribing import DECLINED_CARD
from tests.factories import Api, data_of

pytestmark = pytest.mark.django_db(transaction=True)

PRO = {"name": "Pro", "slug": "pro", "groupSlug": "main", "prices": [monthly(2000)],
       "features": [metered("messages", 100, overageAllowed=True, overagePrice=10),
                    switch("premium_support"), metered("exports", 3, resetInterval="day"),
                    metered("reports", 10, resetInterval="year", overageAllowed=True,
                            overagePrice=5)]}
TEAM = {"name": "Team", "slug": "team", "groupSlug": "team", "prices": [monthly(1000)],
        "features": [metered("seats", 3),
                     metered("tokens", 5, perEntity=True, overageAllowed=True, overagePrice=2)]}
SCALE = {"name": "Scale", "slug": "scale", "groupSlug": "scale",
         "prices": [monthly(3000, setupFee=500, trialDays=10)],
         "features": [metered("messages", 200, overageAllowed=True, overagePrice=10)]}
BOOST = {"name": "Boost", "slug": "boost", "isAddOn": True, "prices": [monthly(500)],
         "features": [metered("messages", 50)]}


def build(api: Api, scope: Scope, start, boundary) -> None:
    """The same customers for either merchant: every period ends at `boundary` (the add-on's
    an hour later); usage is tracked now, inside those periods."""
    for body in (PRO, TEAM, SCALE, BOOST):
        define(api, body)
    for n in range(1, 7):
        data_of(api.post(CUSTOMERS, {"customerId": f"user_{n}"}), 201)
    on = {"merchant_id": scope.merchant_id}
    subscribe_directly("user_1", "pro", start=start, end=boundary, **on)
    subscribe_directly("user_2", "pro", start=boundary - timedelta(days=30), end=boundary,
                       quantity=3, **on)
    subscribe_directly("user_3", "team", start=start, end=boundary, **on)
    subscribe_directly("user_4", "scale", start=boundary - timedelta(days=10), end=boundary,
                       status="trialing", trial_end=boundary, **on)
    subscribe_directly("user_5", "pro", start=start, end=boundary, **on)
    subscribe_directly("user_5", "boost", start=start + timedelta(hours=1),
                       end=boundary + timedelta(hours=1), **on)
    subscribe_directly("user_6", "pro", start=start, end=boundary, **on)

    data_of(api.post(SPEND_CAPS, {"customer": "user_1", "feature": "messages",
                                  "capCents": 1000}))
    for customer, amount in (("user_1", 20), ("user_4", 100)):
        data_of(api.post(BALANCES_CREATE, {"customer": customer, "feature": "messages",
                                           "grantedBalance": amount,
                                           "resetInterval": "one_off"}))
    for entity in ("e1", "e2"):
        data_of(api.post(ENTITIES, {"customer": "user_3", "entityId": entity,
                                    "featureId": "seats"}), 201)
    for customer, feature, amount, extra in (
        ("user_1", "messages", 130, {}), ("user_1", "exports", 2, {}),
        ("user_1", "reports", 12, {}), ("user_2", "messages", 250, {}),
        ("user_3", "tokens", 7, {"entityId": "e1"}), ("user_3", "tokens", 1, {"entityId": "e2"}),
        ("user_4", "messages", 250, {}), ("user_5", "messages", 170, {}),
        ("user_6", "messages", 40, {}),
    ):
        assert track(api, feature, customer, amount=amount, **extra)["recorded"]
    customers = {c.external_id: c for c in Customer.objects.for_scope(scope)}
    save_cards(scope, [(customers[f"user_{n}"], card) for n, card in (
        (1, OK_CARD), (2, OK_CARD), (3, OK_CARD), (4, OK_CARD), (5, DECLINED_CARD))])


def renew_one_by_one(scope: Scope, at) -> Counter:
    """The due subscriptions renewed as the job did before its batch path: each `_step` in its
    own savepoint of one transaction (rows and customers locked), then each charge."""
    ran: Counter = Counter()
    with transaction.atomic():
        rows = list(renewals._due_rows(scope, at).select_for_update(of=("self",))
                    .select_related("product", "price", "scheduled_price")
                    .order_by("current_period_end", "id"))
        assert try_lock_customers(row.customer_id for row in rows) == {
            row.customer_id for row in rows}
        dues = []
        for row in rows:
            with transaction.atomic():
                dues.append(renewals._step(scope, row, ran))
    for due in dues:
        if due is not None:
            renewals._collect(scope, due, ran)
    return ran


class Names:
    """What each id of a scope names (customer's external id, product, period), so two
    merchants' rows can be compared."""

    def __init__(self, scope: Scope):
        self.of = {c.id: c.external_id for c in Customer.objects.for_scope(scope)}
        self.of.update((f.id, f.slug) for f in Feature.objects.for_scope(scope))
        for s in Subscription.objects.for_scope(scope).select_related("product"):
            self.of[s.id] = f"{self.of[s.customer_id]}/{s.product.slug}"
        for i in Invoice.objects.for_scope(scope):
            self.of[i.id] = f"{self.of.get(i.subscription_id)}@{i.period_start}"
        for a in PaymentAttempt.objects.for_scope(scope):
            self.of[a.id] = f"attempt of {self.of.get(a.source_reference)}"

    def __call__(self, value):
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items() if k != "number"}
        if isinstance(value, list):
            return [self(v) for v in value]
        return self.of.get(value, value) if isinstance(value, str) else value


def state(scope: Scope, boundary) -> dict:
    """Everything a renewal writes, by what it names. Left out: invoice numbers (compared as
    gapless on each side), wall-clock stamps, and the invoices' history rows (the batch path
    records the payment as one more history row; invoice_mark_paid's update writes none)."""
    name = Names(scope)
    lazily = lambda at: "before the renewal" if at < boundary else at  # noqa: E731
    return {
        "balances": sorted(
            (name(b.customer_id), name(b.feature_id), b.entity_key, b.is_boolean, b.granted,
             b.used, b.reserved, b.unlimited, b.overage_allowed, b.overage_price, b.spend_cap,
             name(b.subscription_id), b.period_anchor, b.period_start, b.period_end,
             b.reset_interval, b.reset_count, b.anchor_day, b.threshold_sent)
            for b in Balance.objects.for_scope(scope)),
        "grants": sorted(
            (name(g.customer_id), name(g.feature_id), g.source, name(g.subscription_id),
             g.allowance, g.remaining, g.unlimited, g.overage_allowed, g.overage_price,
             g.reset_interval, g.per_entity, g.active, g.ended_at,
             g.created_at if g.source == "subscription" else None)
            for g in BalanceGrant.objects.for_scope(scope)),
        "closed periods": sorted(
            (name(u.customer_id), name(u.feature_id), u.entity_key, name(u.subscription_id),
             u.period_start, u.period_end, u.granted, u.used, u.overage_units, u.overage_price,
             u.overage_amount, name(u.invoice_id), lazily(u.closed_at))
            for u in PeriodUsage.objects.for_scope(scope)),
        "invoices": sorted(
            (name(i.id), i.reason, i.status, i.currency, i.subtotal, i.discount_amount,
             i.tax_amount, i.total, i.amount_due, i.amount_paid, i.period_end, i.created_at,
             i.paid_at, i.payment_gateway, name(i.payment_attempt_id),
             [(line.position, line.type, line.description, line.quantity, line.unit_amount,
               line.amount, line.period_start, line.period_end)
              for line in i.lines.order_by("position")])
            for i in Invoice.objects.for_scope(scope)),
        "subscriptions": sorted(
            (name(s.id), s.status, s.current_period_start, s.current_period_end, s.quantity,
             s.past_due_since, s.next_retry_at, s.dunning_retries, s.canceled_at,
             [h.history_type for h in s.history.order_by("history_date")])
            for s in Subscription.objects.for_scope(scope)),
        "ledger": sorted(
            (e.kind, e.source_type, name(e.source_id), name(e.invoice_id), e.date,
             sorted((line.account.code, line.debit, line.credit, line.currency)
                    for line in e.lines.select_related("account")))
            for e in JournalEntry.objects.for_scope(scope)),
        "events": sorted(
            (e.type, repr(name(json.loads(e.payload)["data"])))
            for e in OutgoingEvent.objects.for_scope(scope)),
        "audit": sorted(
            (a.event, a.actor_type, name(a.customer_id), name(a.subscription_id),
             a.resource_type, name(a.resource_id), repr(name(a.details)))
            for a in AuditEvent.objects.for_scope(scope).exclude(event__startswith="product.")),
        "attempts": sorted(
            (name(a.id), a.status, a.amount, a.failure_code, a.attempts_count)
            for a in PaymentAttempt.objects.for_scope(scope)),
    }


def test_the_batch_path_leaves_what_renewing_one_by_one_leaves(merchant, other_merchant):
    batch = Scope(merchant.merchant.id, "test")
    one_by_one = Scope(other_merchant.merchant.id, "test")
    now = clock.now(batch).replace(microsecond=0)
    start = now - timedelta(days=20)
    boundary = next_period_end(start, "month", 1)
    at = boundary + timedelta(hours=2)  # before the first dunning retry (a day later)
    build(Api(merchant.secret_test), batch, start, boundary)
    build(Api(other_merchant.secret_test), one_by_one, start, boundary)
    before = state(batch, boundary)
    assert before == state(one_by_one, boundary)  # the same customers on both sides

    with CaptureQueriesContext(connection) as statements:
        ran = renewals.run_due(scope=batch, at=at)
    with CaptureQueriesContext(connection) as one_by_one_statements:
        assert renew_one_by_one(one_by_one, at) == ran
    # The job took its batch path: well under half the statements of going one by one.
    assert len(statements) * 2 < len(one_by_one_statements)
    assert (ran["renewals"], ran["trialEnds"], ran["invoices"], ran["failedCharges"]) == (
        6, 1, 7, 3)  # user_5's two subscriptions declined, user_6 has no card

    after = state(batch, boundary)
    other = state(one_by_one, boundary)
    for key in after:
        assert after[key] == other[key], key
    for scope in (batch, one_by_one):
        numbers = sorted(Invoice.objects.for_scope(scope).values_list("number", flat=True))
        assert numbers == [f"INV-TEST-{n:06d}" for n in range(1, 8)]
    # What is compared is what was meant to happen, not two equal mistakes:
    lines = {invoice[0]: [(line[1], line[5]) for line in invoice[-1]]
             for invoice in after["invoices"]}
    period = f"@{boundary}"
    assert lines["user_1/pro" + period] == [("subscription", 2000), ("overage", 100)]
    # 130 used of 100 and a once-only 20; a 1000 cap on 300 of overage cost
    assert lines["user_2/pro" + period] == [("subscription", 6000)]  # 250 of 3 x 100
    assert lines["user_3/team" + period] == [("subscription", 1000), ("overage", 4)]
    # entity e1 used 7 of its own 5
    assert lines["user_4/scale" + period] == [("subscription", 3000), ("setup_fee", 500)]
    # 250 used of 200 and a once-only 100: 50 of it left, taken once although the trial's
    # period closed twice (once by period_close, once by the realign)
    once = {(g[0], g[1]): g[5] for g in after["grants"] if g[2] == "manual"}
    assert once == {("user_1", "messages"): 0, ("user_4", "messages"): 50}
    trial_closes = [u for u in after["closed periods"]
                    if u[:2] == ("user_4", "messages") and u[-1] != "before the renewal"]
    assert len(trial_closes) == 1
    statuses = {s[0]: s[1] for s in after["subscriptions"]}
    assert (statuses["user_5/pro"], statuses["user_5/boost"], statuses["user_6/pro"],
            statuses["user_4/scale"]) == ("past_due", "past_due", "past_due", "active")
