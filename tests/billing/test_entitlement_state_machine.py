"""A hypothesis state machine drives random tracks, checks, locks, finalizes and clock moves
through the API and compares the balance after every step with a small in-memory model."""

import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle, RuleBasedStateMachine, initialize, invariant, rule,
    run_state_machine_as_test,
)

from billing.periods import period_containing
from cynco import clock
from tests.billing.entitlements import (
    CHECK, FINALIZE, SPEND_CAPS, TRACK, customer_on, metered, plan, test_scope,
)
from tests.factories import Api, make_merchant

pytestmark = pytest.mark.django_db

GRANTED = Decimal(20)
PRICE = 10  # minor units per unit of overage
CAP = 50  # so at most 5 units of overage
AMOUNTS = st.sampled_from([Decimal(x) for x in ("1", "2.5", "4", "0.25", "7")])
TRACKED = st.sampled_from([Decimal(x) for x in ("1", "3", "0.5", "6", "-2", "-0.75")])


@dataclass
class ModelLock:
    key: str
    amount: Decimal
    expires: int  # seconds of the test clock
    state: str = "open"


class Entitlements(RuleBasedStateMachine):
    locks = Bundle("locks")

    @initialize()
    def setup(self):
        self.merchant = make_merchant()
        self.api = Api(self.merchant.secret_test)
        plan(self.api, "meter", metered("credits", int(GRANTED), overageAllowed=True,
                                        overagePrice=PRICE))
        subscription = customer_on(self.api, self.merchant, "meter")
        self.api.post(SPEND_CAPS, {"customer": "user_1", "feature": "credits",
                                   "capCents": CAP})
        self.anchor = subscription.current_period_start
        self.period_start = self.anchor
        self.offset = 0  # seconds the test clock was moved
        self.used = Decimal(0)
        self.open_locks: list[ModelLock] = []
        self.count = 0

    # -- the model ---------------------------------------------------------------------
    @property
    def reserved(self) -> Decimal:
        return sum((lock.amount for lock in self.open_locks if lock.state == "open"),
                   Decimal(0))

    def cost_ok(self, extra: Decimal) -> bool:
        return max(self.used + self.reserved + extra - GRANTED, Decimal(0)) * PRICE <= CAP

    def may_use(self, amount: Decimal) -> bool:
        return GRANTED - self.used - self.reserved >= amount or self.cost_ok(amount)

    def settle(self):
        for lock in self.open_locks:
            if lock.state == "open" and self.offset >= lock.expires:
                lock.state = "expired"
        now = self.anchor + timedelta(seconds=self.offset, minutes=1)
        start = period_containing(self.anchor, "month", 1, now).start
        if start > self.period_start:
            self.period_start, self.used = start, Decimal(0)

    def post(self, path, body):
        response = self.api.post(path, {"customer": "user_1", "feature": "credits", **body})
        return response.status_code, response.json()

    # -- the rules ---------------------------------------------------------------------
    @rule(amount=TRACKED)
    def track(self, amount):
        self.settle()
        status, body = self.post(TRACK, {"amount": float(amount)})
        assert status == 200, body
        refused = amount > 0 and not self.cost_ok(amount)
        assert body["data"]["recorded"] is not refused
        assert body["data"]["spendCapExceeded"] is refused
        if not refused:
            self.used += amount if amount > 0 else max(amount, -self.used)

    @rule(amount=AMOUNTS)
    def check_and_send(self, amount):
        self.settle()
        status, body = self.post(CHECK, {"requiredBalance": float(amount), "sendEvent": True})
        allowed = self.may_use(amount)
        assert body["data"]["allowed"] is allowed
        if allowed:
            self.used += amount

    @rule(target=locks, amount=AMOUNTS, ttl=st.sampled_from([5, 61]))
    def lock(self, amount, ttl):
        self.settle()
        self.count += 1
        key = f"job_{self.count}"
        status, body = self.post(CHECK, {"requiredBalance": float(amount), "lock": {
            "enabled": True, "lockId": key, "expiresAt": int((time.time() + ttl) * 1000)}})
        allowed = self.may_use(amount)
        assert body["data"]["allowed"] is allowed
        held = ModelLock(key, amount, self.offset + ttl)
        if allowed:
            self.open_locks.append(held)
        else:
            held.state = "never"
        return held

    @rule(held=locks, action=st.sampled_from(["confirm", "release"]),
          override=st.sampled_from([None, Decimal(0), Decimal("1.5"), Decimal(6)]))
    def finalize(self, held, action, override):
        self.settle()
        body = {"lockId": held.key, "action": action}
        if override is not None:
            body["overrideValue"] = float(override)
        response = self.api.post(FINALIZE, body)
        expected = {"never": 404, "open": 200, "expired": 410, "done": 409}[held.state]
        assert response.status_code == expected, response.content
        if held.state == "open":
            held.state = "done"
            if action == "confirm":
                self.used += held.amount if override is None else override

    @rule(seconds=st.sampled_from([3, 31 * 86400]))
    def advance(self, seconds):
        clock.advance(scope=test_scope(self.merchant), seconds=seconds)
        self.offset += seconds

    @invariant()
    def balance_matches(self):
        if not hasattr(self, "api"):
            return
        self.settle()
        status, body = self.post(CHECK, {})
        data = body["data"]
        assert Decimal(str(data["usage"])) == self.used + self.reserved, (data, self.used)
        assert Decimal(str(data["balance"])) == GRANTED - self.used - self.reserved


def test_balances_follow_the_model_through_random_operations():
    run_state_machine_as_test(Entitlements, settings=settings(
        max_examples=20, stateful_step_count=20, deadline=None,
        suppress_health_check=list(HealthCheck)))
