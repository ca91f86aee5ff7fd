"""Business metrics for a merchant's environment: MRR, ARR, churn, ARPU, trial conversion, and
a monthly timeline whose revenue comes from the ledger, so analytics and the books agree.

Definitions (docs/analytics.md):
- Paid subscription: a recurring price in the report's currency that costs more than 0.
- MRR: paid subscriptions in `active` or `past_due`, each at its monthly rate (yearly / 12,
  weekly x 52 / 12, every `count` intervals divided by count), tiers and seats included; summed
  exactly and rounded once. Trials and paused subscriptions are not revenue yet.
- activeSubscriptions: subscriptions in `active`, `trialing` or `past_due`, free plans included.
- ARPU: MRR / customers with an MRR-bearing subscription.
- churnRate: paid subscriptions canceled in the last 30 days / paid subscriptions active at the
  start of those 30 days, in percent.
- trialConversionRate: of the trials that ended by now, the share not canceled by their end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce, TruncMonth

from billing.models import Price, Subscription
from billing.plan_changes import monthly_rate
from billing.pricing import price_amount, round_minor
from cynco.tenancy import Scope
from ledger.selectors.statements import revenue_by_month

Status = Subscription.Status
MRR_STATUSES = (Status.ACTIVE, Status.PAST_DUE)
LIVE_STATUSES = (Status.ACTIVE, Status.TRIALING, Status.PAST_DUE)
CHURN_WINDOW = timedelta(days=30)


def _paid(scope: Scope, currency: str) -> QuerySet[Subscription]:
    return (
        Subscription.objects.for_scope(scope)
        .filter(price__type=Price.Type.RECURRING, price__currency=currency)
        .filter(Q(price__amount__gt=0) | Q(price__tiers__isnull=False))
        .exclude(status=Status.CHECKOUT)
    )


def subscription_monthly_amount(subscription: Subscription) -> Decimal:
    """What `subscription` is worth per month, exactly (not yet rounded)."""
    price = subscription.price
    period_amount = price_amount(
        amount=price.amount, quantity=subscription.quantity,
        tiers_mode=price.tiers_mode, tiers=price.tiers,
    )
    return monthly_rate(period_amount, price.billing_interval, price.billing_interval_count)


def _percent(part: int, whole: int) -> float:
    return round(part * 100 / whole, 2) if whole else 0.0


def analytics_summary(*, scope: Scope, currency: str, at: datetime) -> dict:
    """The headline figures of API.md's GET /analytics, as of business time `at`."""
    earning = _paid(scope, currency).filter(status__in=MRR_STATUSES).select_related("price")
    mrr_exact = Decimal(0)
    paying_customers = set()
    for subscription in earning:
        monthly = subscription_monthly_amount(subscription)
        if monthly > 0:
            mrr_exact += monthly
            paying_customers.add(subscription.customer_id)
    mrr = round_minor(mrr_exact)

    window_start = at - CHURN_WINDOW
    paid = _paid(scope, currency)
    active_at_start = paid.filter(created_at__lt=window_start).filter(
        Q(canceled_at__isnull=True) | Q(canceled_at__gte=window_start)
    ).count()
    churned = paid.filter(canceled_at__gte=window_start, canceled_at__lt=at).count()

    trials = Subscription.objects.for_scope(scope).filter(trial_end__lte=at)
    converted = trials.filter(Q(canceled_at__isnull=True) | Q(canceled_at__gt=F("trial_end")))

    return {
        "mrr": mrr,
        "arr": mrr * 12,
        "activeSubscriptions": Subscription.objects.for_scope(scope)
        .filter(status__in=LIVE_STATUSES)
        .count(),
        "arpu": round_minor(mrr_exact / len(paying_customers)) if paying_customers else 0,
        "churnRate": _percent(churned, active_at_start),
        "trialConversionRate": _percent(converted.count(), trials.count()),
        "currency": currency,
    }


def mrr_history(*, scope: Scope, currency: str, at: datetime, months: int) -> list[dict]:
    """MRR at the end of each of the last `months` months (the current one: at `at`), from the
    paid subscriptions that existed then, out of their trial and not yet canceled (a trial
    earns from its end, when its first paid period starts). Past pauses and dunning are not
    recorded per day, so earlier months count every such subscription as earning; the current
    month is exact (analytics_summary)."""
    paid = list(_paid(scope, currency).select_related("price"))
    rows = []
    for start in _month_starts(at, months):
        next_start = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        end = min(at, datetime.combine(next_start, datetime.min.time(), tzinfo=at.tzinfo))
        total = sum(
            (
                subscription_monthly_amount(s)
                for s in paid
                if s.created_at < end and (s.canceled_at is None or s.canceled_at >= end)
                and (s.trial_end is None or s.trial_end <= end)
                and (end != at or s.status in MRR_STATUSES)
            ),
            Decimal(0),
        )
        rows.append({"month": start.strftime("%Y-%m"), "mrr": round_minor(total)})
    return rows


def _month_starts(at: datetime, months: int) -> list[date]:
    year, month = at.year, at.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(starts))


def revenue_timeline(*, scope: Scope, currency: str, at: datetime, months: int) -> list[dict]:
    """The last `months` calendar months up to `at`'s: ledger revenue (net of discounts and
    refunds), paid subscriptions started (in the month their first paid period started: a
    trial counts when it ends, and not at all when canceled before), and paid subscriptions
    canceled, per month."""
    starts = _month_starts(at, months)
    revenue = revenue_by_month(scope=scope, since=starts[0], until=at.date(), currency=currency)
    paid = _paid(scope, currency)
    since = datetime.combine(starts[0], datetime.min.time(), tzinfo=at.tzinfo)
    paying = (paid.annotate(paying_from=Coalesce("trial_end", "created_at"))
              .exclude(canceled_at__isnull=False, canceled_at__lte=F("paying_from"))
              .filter(paying_from__gte=since, paying_from__lte=at))
    created = _count_by_month(paying, "paying_from")
    churned = _count_by_month(
        paid.filter(canceled_at__gte=since, canceled_at__lte=at), "canceled_at"
    )
    return [
        {
            "month": start.strftime("%Y-%m"),
            "revenue": revenue.get(start.strftime("%Y-%m"), 0),
            "newSubscriptions": created.get(start.strftime("%Y-%m"), 0),
            "churned": churned.get(start.strftime("%Y-%m"), 0),
        }
        for start in starts
    ]


def _count_by_month(rows: QuerySet, field: str) -> dict[str, int]:
    grouped = rows.annotate(month=TruncMonth(field)).values("month").annotate(n=Count("id"))
    return {row["month"].strftime("%Y-%m"): row["n"] for row in grouped}
