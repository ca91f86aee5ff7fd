"""The balances of a whole renewal batch at once (`entitlement_sync.subscriptions_renewed`).

`renewal_batches.renew_many` renews a few hundred subscriptions in one transaction; calling
`entitlement_sync.period_close` and `subscription_changed` for each costs ~35 statements a
subscription. A `BalanceBook` reads the batch customers' rows once (balances, grants, the
versions' feature grants, spend caps, live entities when a per-entity grant needs them; the
grants' plans are the batch's own rows, others read once), runs the very same steps on them
in memory, one subscription after another, with the rules of
`billing.services.balances` (closed_period_values, non_resetting_spent, balance_new,
balance_realign, grant_terms) and `entitlement_sync.grants_synced`, then writes in bulk: the
closed periods (INSERT … ON CONFLICT DO NOTHING: a period closed already keeps its row, as
get_or_create does), new grants and balances, and one UPDATE … FROM (VALUES …) each for the
changed grants and balances.

The order is renew_many's as it always was: every subscription's period is closed first (its
overage read back from the PeriodUsage rows, as period_close does), then every subscription's
grants and balances are realigned; for a customer with two plans in one batch that leaves
what the one-by-one path leaves (tests/billing/test_renewal_batch_equivalence.py). Each step
sees what the steps before it changed: a balance closed by period_close and closed again by
the realign (its schedule period is longer than the plan's, as after a trial) writes one row
and spends its once-only grants once, as balance_close_period twice would.
Caller holds every customer's lock (lock_customer / try_lock_customers); no ledger entry.
"""

from __future__ import annotations

from bisect import insort
from collections import defaultdict
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from billing.entitlement_rules import period_at
from billing.models import (
    Balance, BalanceGrant, Entity, Feature, FeatureGrant, PeriodUsage, SpendCap, Subscription,
)
from billing.services.balances import (
    PERIOD_USAGE_KEY, balance_new, balance_realign, balance_reopen, closed_period_values,
    grant_resets, grant_terms, non_resetting_spent,
)
from cynco.bulk import update_rows


def _grant_order(grant: BalanceGrant):
    return grant.created_at, grant.id


def _values(balance: Balance) -> tuple:
    return tuple(getattr(balance, name) for name in BALANCE_FIELDS)


# What closing and realigning a balance may change.
BALANCE_FIELDS = [
    "is_boolean", "granted", "used", "unlimited", "overage_allowed", "overage_price",
    "spend_cap", "subscription_id", "period_anchor", "period_start", "period_end",
    "reset_interval", "reset_count", "anchor_day", "threshold_sent",
]
GRANT_FIELDS = [
    "allowance", "remaining", "unlimited", "overage_allowed", "overage_price",
    "reset_interval", "per_entity", "active", "ended_at",
]


class BalanceBook:
    """The balances and grants of a batch's customers, read once, changed in memory, written
    in bulk by `write()`. `subscriptions` are the batch's rows as the caller holds them (with
    `price` loaded); grants of theirs see these objects, not a copy from the database."""

    def __init__(self, subscriptions: list[Subscription]):
        self.subscriptions = {s.id: s for s in subscriptions}
        customer_ids = {s.customer_id for s in subscriptions}
        self.balances: dict[tuple[str, str, str], Balance] = {
            (b.customer_id, b.feature_id, b.entity_key): b
            for b in Balance.objects.filter(
                Q(customer_id__in=customer_ids) | Q(subscription_id__in=list(self.subscriptions)))
        }
        self._as_read = {b.id: _values(b) for b in self.balances.values()}
        self.grants: dict[tuple[str, str], list[BalanceGrant]] = defaultdict(list)
        self.grants_of: dict[str, list[BalanceGrant]] = defaultdict(list)  # by subscription
        grants = list(BalanceGrant.objects.filter(customer_id__in=customer_ids)
                      .filter(Q(active=True) | Q(per_entity=True)
                              | Q(subscription_id__in=list(self.subscriptions)))
                      .select_related("feature").order_by("created_at", "id"))
        # Grants see the batch's own rows; other plans' (an add-on renewing later) are read.
        others = {g.subscription_id for g in grants} - set(self.subscriptions) - {None}
        self.others = {s.id: s for s in Subscription.objects.filter(
            pk__in=others).select_related("price")} if others else {}
        for grant in grants:
            self._add_grant(grant)
        self.feature_grants: dict[str, list[FeatureGrant]] = defaultdict(list)
        for feature_grant in FeatureGrant.objects.filter(
            version_id__in={s.product_version_id for s in subscriptions}
        ).select_related("feature"):
            self.feature_grants[feature_grant.version_id].append(feature_grant)
        products = {s.product_id for s in subscriptions} | {
            g.subscription.product_id for grants in self.grants.values() for g in grants
            if g.subscription_id}
        self.own_caps, self.product_caps = {}, defaultdict(list)
        for cap in SpendCap.objects.filter(Q(customer_id__in=customer_ids)
                                           | Q(product_id__in=products)):
            if cap.customer_id:
                self.own_caps[(cap.customer_id, cap.feature_id)] = cap.cap_cents
            else:
                self.product_caps[(cap.product_id, cap.feature_id)].append(cap.cap_cents)
        self._customer_ids = customer_ids
        self._entity_keys: dict[str, list[str]] | None = None
        self.closed: list[PeriodUsage] = []
        self._closed_keys: set[tuple] = set()
        self._new_grants: list[BalanceGrant] = []
        self._new_balances: list[Balance] = []
        self._changed_grants: dict[str, BalanceGrant] = {}
        self._changed_balances: dict[str, Balance] = {}

    def _add_grant(self, grant: BalanceGrant) -> None:
        if grant.subscription_id is not None:
            grant.subscription = (self.subscriptions.get(grant.subscription_id)
                                  or self.others[grant.subscription_id])
        self.grants_of[grant.subscription_id].append(grant)
        insort(self.grants[(grant.customer_id, grant.feature_id)], grant, key=_grant_order)

    # --- period_close ----------------------------------------------------------------------

    def periods_close(self, closings: list[tuple[Subscription, datetime]]) -> None:
        """entitlement_sync.period_close's writes for each (subscription, period end), in
        order (its answer is read back from the rows once they are written)."""
        following = defaultdict(list)  # a close never changes which plan a balance follows
        for balance in self.balances.values():
            following[balance.subscription_id].append(balance)
        for subscription, period_end in closings:
            for balance in following[subscription.id]:
                if balance.period_end != period_end:
                    continue
                start, end = period_at(balance.period_anchor, balance.reset_interval,
                                       balance.reset_count, balance.anchor_day, period_end)
                self.close(balance, closed_at=period_end, next_start=start, next_end=end)

    def close(self, balance: Balance, *, closed_at: datetime, next_start: datetime,
              next_end: datetime | None, close_end: datetime | None = None) -> None:
        """balance_close_period, in memory."""
        values = closed_period_values(balance, closed_at=closed_at, close_end=close_end)
        key = tuple(values[name] for name in PERIOD_USAGE_KEY)
        if key not in self._closed_keys:  # else the first close's row stands (get_or_create)
            self._closed_keys.add(key)
            self.closed.append(PeriodUsage(**values))
        granted = balance.granted
        if not balance.entity_key:
            once = [grant for grant in self.grants[(balance.customer_id, balance.feature_id)]
                    if grant.active and not grant.per_entity and not grant_resets(grant)]
            granted, changed = non_resetting_spent(balance, once)
            self._changed_grants.update((grant.id, grant) for grant in changed)
        balance_reopen(balance, granted=granted, next_start=next_start, next_end=next_end)
        self._changed_balances[balance.id] = balance

    # --- subscription_changed ----------------------------------------------------------------

    def subscription_changed(self, subscription: Subscription, at: datetime) -> None:
        """entitlement_sync.subscription_changed, in memory."""
        from billing.services.entitlement_sync import grants_synced

        granting = subscription.status in Subscription.GRANTING_STATUSES
        wanted = self.feature_grants[subscription.product_version_id] if granting else []
        existing = [grant for grant in self.grants_of[subscription.id]
                    if grant.source == BalanceGrant.Source.SUBSCRIPTION]
        sync = grants_synced(subscription=subscription, wanted=wanted, existing=existing, at=at)
        for grant in sync.created:
            self._new_grants.append(grant)
            self._add_grant(grant)
        self._changed_grants.update((grant.id, grant) for grant in sync.changed + sync.ended)
        for feature in sync.features:
            self.feature_balances(subscription, feature, at)

    def feature_balances(self, subscription: Subscription, feature: Feature,
                         at: datetime) -> None:
        """balances.customer_feature_balances, in memory."""
        customer_id = subscription.customer_id
        self.apply_grants(subscription, feature, "", at)
        if not any(grant.per_entity for grant in self.grants[(customer_id, feature.id)]):
            return
        for key in self.entity_keys(customer_id):
            self.apply_grants(subscription, feature, key, at)

    def entity_keys(self, customer_id: str) -> list[str]:
        """The customer's live entities (read for the whole batch the first time it is asked)."""
        if self._entity_keys is None:
            self._entity_keys = defaultdict(list)
            for customer, key in Entity.objects.filter(
                customer_id__in=self._customer_ids, deleted_at__isnull=True
            ).order_by("created_at", "id").values_list("customer_id", "entity_key"):
                self._entity_keys[customer].append(key)
        return self._entity_keys[customer_id]

    def apply_grants(self, subscription: Subscription, feature: Feature, entity_key: str,
                     at: datetime) -> None:
        """balances.balance_apply_grants, in memory."""
        customer_id = subscription.customer_id
        grants = [grant for grant in self.grants[(customer_id, feature.id)]
                  if grant.active and grant.per_entity == bool(entity_key)]
        key = (customer_id, feature.id, entity_key)
        balance = self.balances.get(key)
        if balance is None and not grants:
            return
        terms = grant_terms(grants, feature, self._spend_cap(customer_id, feature, grants))
        if balance is None:
            balance = balance_new(
                customer_id=customer_id, merchant_id=subscription.merchant_id,
                environment=subscription.environment, feature=feature, entity_key=entity_key,
                grants=grants, terms=terms, at=at)
            self.balances[key] = balance
            self._new_balances.append(balance)
            return
        balance_realign(  # the close spends these very grant objects in memory
            balance, grants=grants, terms=terms, at=at, close=self.close,
            terms_after_close=lambda: grant_terms(
                grants, feature, self._spend_cap(customer_id, feature, grants)))
        self._changed_balances[balance.id] = balance

    def _spend_cap(self, customer_id: str, feature: Feature, grants: list[BalanceGrant]):
        """balances.spend_cap_for, from the caps read with the book."""
        if feature.type == Feature.Type.BOOLEAN or not grants:
            return None
        own = self.own_caps.get((customer_id, feature.id))
        if own is not None:
            return own
        products = {g.subscription.product_id for g in grants if g.subscription_id}
        return min((cap for product in products
                    for cap in self.product_caps.get((product, feature.id), ())), default=None)

    # --- writing ---------------------------------------------------------------------------

    def write_closed(self) -> None:
        """Insert the periods closed so far (a period with a row already keeps it)."""
        if self.closed:
            PeriodUsage.objects.bulk_create(self.closed, ignore_conflicts=True)
            self.closed = []

    def write(self) -> None:
        """Write every change made in memory: closed periods, grants, balances."""
        self.write_closed()
        new_grants = {grant.id for grant in self._new_grants}
        BalanceGrant.objects.bulk_create(self._new_grants)
        update_rows([g for g in self._changed_grants.values() if g.id not in new_grants],
                    GRANT_FIELDS)
        now = timezone.now()
        new_balances = {balance.id for balance in self._new_balances}
        Balance.objects.bulk_create(self._new_balances)
        changed = [b for b in self._changed_balances.values() if b.id not in new_balances]
        # Only the columns some balance changed (a renewal moves the periods, little else);
        # updated_at for every balance touched, as save() does.
        now_values = [(_values(b), self._as_read[b.id]) for b in changed]
        columns = [name for index, name in enumerate(BALANCE_FIELDS)
                   if any(value[index] != read[index] for value, read in now_values)]
        for balance in changed:
            balance.updated_at = now
        update_rows(changed, [*columns, "updated_at"])
        self._new_grants, self._new_balances = [], []
        self._changed_grants, self._changed_balances = {}, {}
