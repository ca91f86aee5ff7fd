"""`GET reports/trial-balance|balance-sheet` (`asOf`) and `reports/profit-loss` (`from`, `to`).

Dates default to the business date of the key's environment (`cynco.clock`); profit and loss
defaults to the current month up to today.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

from cynco import clock
from cynco.api.views import ApiView
from cynco.responses import ok
from ledger.api.queries import AsOfQuery, PeriodQuery, parsed
from ledger.selectors.statements import balance_sheet, profit_and_loss, trial_balance


class TrialBalanceView(ApiView):
    @extend_schema(parameters=[AsOfQuery], responses=OpenApiTypes.OBJECT, summary="Trial balance per currency")
    def get(self, request):
        as_of = parsed(AsOfQuery, request).get("asOf") or clock.now(self.scope).date()
        return ok(trial_balance(scope=self.scope, as_of=as_of))


class BalanceSheetView(ApiView):
    @extend_schema(parameters=[AsOfQuery], responses=OpenApiTypes.OBJECT, summary="Balance sheet per currency")
    def get(self, request):
        as_of = parsed(AsOfQuery, request).get("asOf") or clock.now(self.scope).date()
        return ok(balance_sheet(scope=self.scope, as_of=as_of))


class ProfitLossView(ApiView):
    @extend_schema(parameters=[PeriodQuery], responses=OpenApiTypes.OBJECT, summary="Profit and loss per currency")
    def get(self, request):
        query = parsed(PeriodQuery, request)
        today = clock.now(self.scope).date()
        until = query.get("to") or max(today, query.get("from") or today)
        since = query.get("from") or until.replace(day=1)
        return ok(profit_and_loss(scope=self.scope, since=since, until=until))
