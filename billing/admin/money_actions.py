"""What subscription and invoice actions in the console share: run a service per selected row
with the row's own scope, report what happened, and keep history from being reverted by hand
(a revert would edit money outside the services)."""

from __future__ import annotations

from django.contrib import messages
from simple_history.admin import SimpleHistoryAdmin

from billing.admin.coupons import ReadOnlyAdmin
from cynco.errors import ApiError
from cynco.tenancy import Scope


def run_for_each(request, rows, done: str, change) -> None:
    """`change(scope, row)` for every row; an ApiError (a row that cannot change this way)
    is reported for that row and the others still run."""
    changed = 0
    for row in rows:
        try:
            change(Scope(row.merchant_id, row.environment), row)
            changed += 1
        except ApiError as refusal:
            messages.error(request, f"{row}: {refusal.message}")
    if changed:
        messages.success(request, f"{done}: {changed}.")


class ServiceOnlyAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    """Read-only rows with history; every change goes through an action calling a service."""

    def revert_disabled(self, request, obj=None):
        return True
