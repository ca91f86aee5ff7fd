"""Opening a merchant environment's chart of accounts."""

from __future__ import annotations

from django.db import transaction

from ledger.chart_of_accounts import AccountSpec, clearing_spec, starting_chart
from ledger.models import Account


def create_chart(*, merchant_id: str, environment: str) -> None:
    """Create the starting chart of accounts of one merchant environment and open its books
    on its business date (idempotent).

    Registered in settings.MERCHANT_SETUP_HOOKS, so `merchant_create` calls it for live and test
    inside its transaction. Takes no customer lock and posts no entry; safe to run concurrently
    (existing accounts are left as they are).
    """
    from ledger.services.periods import books_open

    with transaction.atomic():
        _open_accounts(merchant_id, environment, starting_chart())
        books_open(merchant_id=merchant_id, environment=environment)


def open_clearing_account(*, merchant_id: str, environment: str, gateway: str) -> Account:
    """The clearing sub-account of `gateway` (`1100-<gateway>`), opened if it does not exist."""
    spec = clearing_spec(gateway)
    with transaction.atomic():
        _open_accounts(merchant_id, environment, (spec,))
    return Account.objects.get(merchant_id=merchant_id, environment=environment, code=spec.code)


def _open_accounts(merchant_id: str, environment: str, specs: tuple[AccountSpec, ...]) -> None:
    """Insert the accounts of `specs` that are missing: top-level accounts, then sub-accounts."""
    scope = {"merchant_id": merchant_id, "environment": environment}
    Account.objects.bulk_create(
        [_account(spec, None, scope) for spec in specs if not spec.parent_code],
        ignore_conflicts=True,
    )
    children = [spec for spec in specs if spec.parent_code]
    if not children:
        return
    parents = dict(
        Account.objects.filter(code__in={spec.parent_code for spec in children}, **scope)
        .values_list("code", "id")
    )
    Account.objects.bulk_create(
        [_account(spec, parents[spec.parent_code], scope) for spec in children],
        ignore_conflicts=True,
    )


def _account(spec: AccountSpec, parent_id: str | None, scope: dict) -> Account:
    return Account(
        code=spec.code,
        name=spec.name,
        type=spec.type,
        normal_balance=spec.normal_balance,
        parent_id=parent_id,
        **scope,
    )
