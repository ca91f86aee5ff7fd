"""The overage of a period cut short: a subscription that ends before its period does (an
upgrade now, a cancellation now) bills the usage above its allowance so far, once, on a
`period_close` invoice of its own, charged to the saved card after commit.

The period-end job bills a period that ran its course (renewals, downgrades and cancellations
at period end put the last period's overage on their invoice); this is the same bill for a
period that stopped early, so no usage goes unbilled whichever way a plan ends. Two steps,
because an upgrade changes grants in between:

    overage = overage_cut(subscription=held, at=at)     # before any grant changes
    ... start the replacement, end `held`, carry usages over ...
    bill_overage(scope=..., subscription=held, overage=overage, at=at, carried=ids)

An upgrade with `carryOverUsages` moves a feature's usage to the new plan, where it counts
against the new allowance (and is billed as the new plan's overage at its period end): that
feature's overage is not billed on the old plan too.
"""

from __future__ import annotations

from datetime import datetime

from billing.models import Invoice, Subscription
from billing.services import entitlement_sync
from billing.services.audit import SYSTEM, Actor
from billing.services.entitlement_sync import OverageLine
from billing.services.invoice_collection import collect_after_commit
from billing.services.invoices import invoice_issue
from billing.services.refunds import refund_decide, unused_refund
from billing.services.renewal_batches import overage_lines
from billing.services.subscriptions import subscription_end
from cynco.tenancy import Scope


def overage_cut(*, subscription: Subscription, at: datetime) -> list[OverageLine]:
    """Close `subscription`'s current period at `at`, on its own terms, and answer its
    overage. Call it BEFORE the grants change (before the replacement starts and before the
    subscription ends). Caller's transaction and customer lock."""
    return entitlement_sync.period_cut(subscription=subscription, at=at)


def bill_overage(*, scope: Scope, subscription: Subscription, overage: list[OverageLine],
                 at: datetime, carried: set[str] = frozenset()) -> Invoice | None:
    """Invoice the cut period's `overage` (but the lines whose usage was `carried` to a new
    plan) on a period-close invoice of `subscription`, collected after commit; None when
    nothing is over. A second invoice of one (subscription, at) is refused by the database."""
    billed = [line for line in overage if line.period_usage_id not in carried]
    lines = overage_lines(billed)
    if not lines:
        return None
    invoice = invoice_issue(
        scope=scope, customer=subscription.customer, subscription=subscription,
        reason=Invoice.Reason.PERIOD_CLOSE, currency=subscription.price.currency, lines=lines,
        at=at, period_start=at,
    )
    entitlement_sync.overage_invoiced(
        period_usage_ids=[line.period_usage_id for line in billed], invoice_id=invoice.id)
    collect_after_commit(scope=scope, invoice=invoice)
    return invoice


def bill_overage_so_far(*, scope: Scope, subscription: Subscription,
                        at: datetime) -> Invoice | None:
    """Both steps at once, for a subscription that ends with no replacement (cancel now)."""
    return bill_overage(scope=scope, subscription=subscription,
                        overage=overage_cut(subscription=subscription, at=at), at=at)


def replaced_retire(*, scope: Scope, held: Subscription, replacement: Subscription,
                    overage: list[OverageLine], at: datetime, carry_balances: bool = False,
                    carry_usages: bool = False, carry_feature_slugs: list[str] | None = None,
                    actor: Actor = SYSTEM) -> Invoice | None:
    """An upgrade's last step, once `replacement` started: end `held` (canceled, replaced),
    carry its balances/usages over as asked (entitlement_sync.carry_over), and bill the
    overage its cut period (`overage`, from overage_cut) did not carry over. Caller's
    transaction and customer lock.

    Currencies never mix (docs/accounting.md): when `replacement` is priced in another
    currency, the unused part of `held`'s paid period is not a credit on the new invoice but
    a refund in its own currency through the gateway that took it (refund_decide: sent after
    commit, posted as a refund in that currency)."""
    if _currency(held) != _currency(replacement):
        refund = unused_refund(held, at)
        if refund:
            refund_decide(scope=scope, subscription=held, amount=refund, at=at, actor=actor,
                          reason=f"Changed to {replacement.product.name} in "
                                 f"{_currency(replacement)}: unused part of the period")
    subscription_end(subscription=held, status=Subscription.Status.CANCELED, at=at,
                     replaced_by=replacement)
    carried: set[str] = set()
    if carry_balances or carry_usages:
        carried = entitlement_sync.carry_over(
            customer=held.customer, from_subscription=held, to_subscription=replacement,
            balances=carry_balances, usages=carry_usages, feature_slugs=carry_feature_slugs,
            at=at,
        )
    return bill_overage(scope=scope, subscription=held, overage=overage, at=at,
                        carried=carried)


def _currency(subscription: Subscription) -> str | None:
    return subscription.price.currency if subscription.price is not None else None
