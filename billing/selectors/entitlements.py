"""Reads of balances: spend-cap standing, entities, and usage over time (`/events`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection

from billing.entitlement_rules import ZERO
from billing.models import Balance, Entity, Feature
from billing.selectors.customers import customer_find
from billing.services.spend_caps import metered_feature
from billing.services.usage import standing_of
from cynco.errors import FeatureNotFound
from cynco.fields import usage_number
from cynco.tenancy import Scope


def spend_cap_status(scope: Scope, customer: str, feature: str) -> dict:
    """SpendCapStatus: the cap that applies to the customer's own balance of `feature`, the
    overage cost accrued this period, and what is left of the cap (null caps: unlimited)."""
    found = customer_find(scope, customer)
    metered = metered_feature(scope, feature)
    balance = Balance.objects.filter(customer=found, feature=metered, entity_key="").first()
    standing = standing_of(balance)
    cap = standing.spend_cap
    accrued = standing.accrued_cents()
    return {
        "customerId": found.id, "featureId": metered.slug, "capCents": cap,
        "accruedCents": accrued,
        "remainingCents": None if cap is None else max(cap - accrued, 0),
        "unlimited": cap is None,
    }


def customer_entities(scope: Scope, customer: str):
    """The customer's live entities, oldest first."""
    found = customer_find(scope, customer)
    return Entity.objects.filter(customer=found, deleted_at__isnull=True).select_related(
        "feature").order_by("created_at", "id")


RANGE_DAYS = {"7d": 7, "14d": 14, "30d": 30, "90d": 90, "365d": 365}
GROUPS = ("day", "week", "month")
_TIMELINE_SQL = """
SELECT date_trunc(%s, created_at AT TIME ZONE 'UTC') AS period, count(*), sum(amount)
FROM billing_usageevent
WHERE customer_id = %s AND feature_id = %s AND created_at > %s AND created_at <= %s
GROUP BY 1
"""


def usage_timeline(
    scope: Scope, customer: str, feature: str, range_name: str, group_by: str, at: datetime
) -> dict:
    """`/events`: the customer's usage of `feature` over the last `range_name` up to `at`, per
    day, ISO week (its Monday) or month, every period listed (empty ones with 0): one indexed
    aggregate over (customer, feature, created_at) whatever the table's size."""
    found = customer_find(scope, customer)
    known = Feature.objects.for_scope(scope).filter(slug=feature).first()
    if known is None:
        raise FeatureNotFound(f"No feature '{feature}'")
    since = at - timedelta(days=RANGE_DAYS[range_name])
    with connection.cursor() as cursor:
        cursor.execute(_TIMELINE_SQL, [group_by, found.id, known.id, since, at])
        totals = {period.date(): (count, amount) for period, count, amount in cursor.fetchall()}
    timeline = []
    for start in _period_starts(since.date(), at.date(), group_by):
        count, amount = totals.get(start, (0, ZERO))
        timeline.append({"period": _label(start, group_by), "count": count,
                         "total": usage_number(amount)})
    return {
        "timeline": timeline,
        "total": {"count": sum(c for c, _ in totals.values()),
                  "sum": usage_number(sum((a for _, a in totals.values()), ZERO))},
    }


def _period_starts(first: date, last: date, group_by: str):
    if group_by == "week":
        first -= timedelta(days=first.weekday())
    elif group_by == "month":
        first = first.replace(day=1)
    current = first
    while current <= last:
        yield current
        if group_by == "day":
            current += timedelta(days=1)
        elif group_by == "week":
            current += timedelta(days=7)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)


def _label(start: date, group_by: str) -> str:
    return start.strftime("%Y-%m") if group_by == "month" else start.isoformat()
