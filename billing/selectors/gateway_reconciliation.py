"""The books against each gateway's own records (settings.LEDGER_RECONCILIATION_CHECKS).

Billing's provider (`reconciliation.py`) checks the clearing accounts against invoices; this
checks them against the gateways: per gateway and day, the money its clearing account
(1100-<gateway>) received and paid back against the payments the gateway took and the refunds
it made (`Gateway.list_payments`, `list_refunds`: the sandbox's tables, Stripe's list
endpoints, CHIP's purchases), and names every payment or refund found on one side only, with
its gateway id.

A posted entry names its source (a gateway payment id, our attempt, a checkout, a refund);
`_GatewayIds` turns each into the gateway's id through our payment attempts. The window is the
last GATEWAY_RECONCILIATION_DAYS days (wall clock: a test environment's clock offset moves
business dates, not when money moved). Each side is read a day beyond it, and a movement seen
on one side only is looked for again on the other without a window (a payment by its id at the
gateway, an entry by its source in the books), so one taken at 23:59 and booked after midnight,
or authenticated days after it was asked for, is not a difference. A movement is counted on the
day the gateway dates it; one the gateway does not have, on the day it was posted. Gateway
fees (6100) are not payments or refunds and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from cynco.clock import wall_now
from cynco.tenancy import Scope
from gateways import registry
from gateways.base import GatewayError, MoneyMovement, MovementKind, PaymentLookup, PaymentState
from gateways.models import PaymentAttempt
from gateways.services.checkout import gateway_in_use
from ledger import chart_of_accounts as chart
from ledger.models import EntryKind
from ledger.reconciliation import Check
from ledger.selectors.clearing import ClearingMovement, clearing_movements

MARGIN = timedelta(days=1)
Kind = PaymentAttempt.Kind
Key = tuple[str, str]  # (movement kind, gateway id)


@dataclass
class Pair:
    """One payment or refund as the gateway records it and as the books hold it."""

    gateway: str
    kind: str
    gateway_id: str
    at_gateway: MoneyMovement | None = None
    booked: int = 0
    booked_currency: str = ""
    booked_at: datetime | None = None
    sources: tuple[str, ...] = ()

    @property
    def day(self) -> str:
        when = self.at_gateway.at if self.at_gateway else self.booked_at
        return when.date().isoformat()

    @property
    def currency(self) -> str:
        return self.at_gateway.currency if self.at_gateway else self.booked_currency


def gateway_checks(scope: Scope) -> list[Check]:
    """The comparison over the last GATEWAY_RECONCILIATION_DAYS days (read-only; calls each
    gateway the scope pays through)."""
    until = wall_now()
    return compare_with_gateways(
        scope, since=until - timedelta(days=settings.GATEWAY_RECONCILIATION_DAYS), until=until)


def compare_with_gateways(scope: Scope, *, since: datetime, until: datetime) -> list[Check]:
    made = _maker(scope)
    ids = _GatewayIds(scope)
    books = clearing_movements(scope=scope, posted_from=since - MARGIN, posted_to=until + MARGIN)
    ids.learn_sources({movement.source_id for movement in books})
    pairs: dict[str, dict[Key, Pair]] = defaultdict(dict)
    counted: set = set()
    for movement in books:
        _book(pairs[movement.gateway], ids, movement, counted)
    checks: list[Check] = []
    reachable = {}
    for name, gateways in sorted(_gateways_in_use(scope, since).items()):
        listed, problem = _listed(gateways, since - MARGIN, until)
        checks.append(made("gateway records", name, "answered", problem or "answered"))
        reachable[name] = problem is None
        for movement in listed:
            key = (movement.kind.value, movement.provider_id)
            pair = pairs[name].setdefault(key, Pair(name, key[0], key[1]))
            pair.at_gateway = movement
    for name in sorted(set(pairs) - set(reachable)):  # booked on a gateway no longer in use
        checks.append(made("gateway records", name, "answered", "not asked: no gateway in use"))
    for name, found in sorted(pairs.items()):
        if reachable.get(name):
            _second_look(scope, ids, name, found, since, counted)
        checks += _pair_checks(made, name, found, since, reachable.get(name, False))
    return checks


def _signed(movement: ClearingMovement) -> tuple[MovementKind, int]:
    """Which kind of movement a clearing line belongs to, and what it adds to it (a reversal
    takes away what its entry added)."""
    if movement.kind == EntryKind.PAYMENT_CAPTURED:
        return MovementKind.PAYMENT, movement.amount
    if movement.kind == EntryKind.REFUND:
        return MovementKind.REFUND, -movement.amount
    if movement.amount > 0:
        return MovementKind.PAYMENT, movement.amount
    return MovementKind.REFUND, -movement.amount


def _book(pairs: dict[Key, Pair], ids: "_GatewayIds", movement: ClearingMovement,
          counted: set[str], *, only_known: bool = False) -> None:
    """Add a clearing line to its pair (each line once; with `only_known`, only to a pair the
    gateway listed)."""
    if (movement.entry_id, movement.amount) in counted:
        return
    kind, amount = _signed(movement)
    key = (kind.value, ids.of(kind, movement.source_id))
    if only_known and key not in pairs:
        return
    counted.add((movement.entry_id, movement.amount))
    pair = pairs.setdefault(key, Pair(movement.gateway, *key))
    pair.booked += amount
    pair.booked_currency = movement.currency
    pair.booked_at = max(filter(None, (pair.booked_at, movement.posted_at)))
    pair.sources = tuple(sorted({*pair.sources, movement.source_id}))


def _gateways_in_use(scope: Scope, since: datetime) -> dict[str, list]:
    """name → the gateway objects (one per account) the scope paid through since `since - a
    day`, and the one it pays through now."""
    used = set(PaymentAttempt.objects.filter(
        merchant_id=scope.merchant_id, environment=scope.environment,
        created_at__gte=since - MARGIN).values_list("gateway", "gateway_account_id").distinct())
    used.add(gateway_in_use(scope))
    found: dict[str, list] = defaultdict(list)
    for name, account_id in sorted(used, key=lambda item: (item[0], item[1] or "")):
        found[name].append(registry.gateway_used(
            name=name, merchant_id=scope.merchant_id, environment=scope.environment,
            account_id=account_id))
    return found


def _listed(gateways, since: datetime, until: datetime
            ) -> tuple[list[MoneyMovement], str | None]:
    listed: dict[Key, MoneyMovement] = {}
    try:
        for gateway in gateways:
            for movement in (*gateway.list_payments(since=since, until=until),
                             *gateway.list_refunds(since=since, until=until)):
                listed[(movement.kind.value, movement.provider_id)] = movement
    except GatewayError as exc:
        return [], f"unavailable: {exc.message}"
    return list(listed.values()), None


def _second_look(scope: Scope, ids: "_GatewayIds", name: str, found: dict[Key, Pair],
                 since: datetime, counted: set) -> None:
    """Look again, with no window, for what one side has and the other seemed not to."""
    missing_in_books = [pair for pair in found.values() if pair.at_gateway and not pair.booked
                        and pair.at_gateway.at >= since]
    if missing_in_books:
        local = ids.local_ids({pair.gateway_id for pair in missing_in_books})
        for movement in clearing_movements(scope=scope, source_ids=local):
            if movement.gateway == name:
                _book(found, ids, movement, counted, only_known=True)
    for pair in found.values():
        if pair.at_gateway or pair.kind != MovementKind.PAYMENT or not pair.booked:
            continue
        gateway = ids.gateway_of(pair.gateway_id)
        if gateway is None:
            continue
        try:
            state = gateway.fetch_payment(PaymentLookup(idempotency_key="",
                                                        provider_payment_id=pair.gateway_id))
        except GatewayError:
            continue
        if state.state == PaymentState.SUCCEEDED and state.amount:
            pair.at_gateway = MoneyMovement(
                kind=MovementKind.PAYMENT, provider_id=pair.gateway_id, amount=state.amount,
                currency=state.currency, at=pair.booked_at)


def _pair_checks(made, name: str, found: dict[Key, Pair], since: datetime, reachable: bool
                 ) -> list[Check]:
    checks: list[Check] = []
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for key in sorted(found):
        pair = found[key]
        if (pair.at_gateway.at if pair.at_gateway else pair.booked_at) < since:
            continue
        if not pair.at_gateway and not pair.booked:
            continue  # posted and reversed
        total = totals[(pair.kind, pair.day, pair.currency)]
        total[0] += pair.at_gateway.amount if pair.at_gateway else 0
        total[1] += pair.booked
        if not reachable:
            continue
        gateway_side = (f"{pair.at_gateway.amount} {pair.at_gateway.currency} on {pair.day}"
                        if pair.at_gateway else f"not at {name}")
        books_side = (f"{pair.booked} {pair.booked_currency} on {pair.day}" if pair.booked
                      else "not in the books")
        if pair.at_gateway is None or pair.booked != pair.at_gateway.amount or (
                pair.booked_currency != pair.at_gateway.currency):
            if pair.booked and pair.at_gateway is None and pair.sources != (pair.gateway_id,):
                books_side += f" (booked for {', '.join(pair.sources)})"
            checks.append(made(f"gateway {pair.kind}", f"{name} {pair.gateway_id}",
                               gateway_side, books_side))
    for (kind, day, currency), (at_gateway, booked) in sorted(totals.items()):
        if reachable:
            checks.append(made(f"gateway {kind}s", f"{chart.clearing_code(name)} {day} "
                               f"{currency}", at_gateway, booked))
    return checks


class _GatewayIds:
    """Our ids (an attempt, a checkout, a billing refund) of gateway payments and refunds."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.known: dict[tuple[str, str], str] = {}
        self.attempts: dict[str, PaymentAttempt] = {}

    def _attempts(self):
        return PaymentAttempt.objects.filter(merchant_id=self.scope.merchant_id,
                                             environment=self.scope.environment)

    def _remember(self, attempt: PaymentAttempt) -> None:
        if attempt.kind == Kind.CHARGE and attempt.provider_payment_id:
            gateway_id, kind = attempt.provider_payment_id, MovementKind.PAYMENT
            self.attempts[gateway_id] = attempt
        elif attempt.kind == Kind.REFUND and attempt.provider_refund_id:
            gateway_id, kind = attempt.provider_refund_id, MovementKind.REFUND
        else:
            return
        for local in (attempt.id, gateway_id, attempt.source_reference):
            if local and (attempt.status == PaymentAttempt.Status.SUCCEEDED
                          or (kind.value, local) not in self.known):
                self.known[(kind.value, local)] = gateway_id

    def learn_sources(self, source_ids: set[str]) -> None:
        for attempt in self._attempts().filter(
                Q(pk__in=source_ids) | Q(source_reference__in=source_ids)
                | Q(provider_payment_id__in=source_ids) | Q(provider_refund_id__in=source_ids)):
            self._remember(attempt)

    def of(self, kind: MovementKind, source_id: str) -> str:
        """The gateway's id of what an entry with this source moved (else the source itself)."""
        return self.known.get((kind.value, source_id), source_id)

    def local_ids(self, gateway_ids: set[str]) -> set[str]:
        found = set(gateway_ids)
        for attempt in self._attempts().filter(Q(provider_payment_id__in=gateway_ids, kind=Kind.
                                                 CHARGE) | Q(provider_refund_id__in=gateway_ids)):
            self._remember(attempt)
            found |= {attempt.id, attempt.source_reference} - {""}
        return found

    def gateway_of(self, payment_id: str):
        """The gateway (and account) a payment was made with, when one of our attempts says."""
        attempt = self.attempts.get(payment_id)
        if attempt is None:
            return None
        return registry.gateway_used(name=attempt.gateway, merchant_id=attempt.merchant_id,
                                     environment=attempt.environment,
                                     account_id=attempt.gateway_account_id)


def _maker(scope: Scope):
    def made(check: str, subject: str, expected, actual) -> Check:
        return Check(scope.merchant_id, scope.environment, check, subject, expected, actual)

    return made
