"""`GET reports/trial-balance|balance-sheet` (`asOf`) and `reports/profit-loss` (`from`, `to`).

Dates default to the business date of the key's environment (`cynco.clock`); profit and loss
defaults to the current month up to today.
"""

from __future__ import annotations

from cynco import clock
from cynco.api.schema import openapi
from cynco.api.views import ApiView
from cynco.responses import ok
from ledger.api.queries import AsOfQuery, PeriodQuery, parsed
from ledger.api.shapes import BalanceSheetShape, ProfitLossShape, TrialBalanceShape
from ledger.selectors.statements import balance_sheet, profit_and_loss, trial_balance


class TrialBalanceView(ApiView):
    @openapi("ledger_trial_balance_get", summary="Trial balance per currency", query=AsOfQuery,
             data=TrialBalanceShape)
    def get(self, request):
        as_of = parsed(AsOfQuery, request).get("asOf") or clock.now(self.scope).date()
        return ok(trial_balance(scope=self.scope, as_of=as_of))


class BalanceSheetView(ApiView):
    @openapi("ledger_balance_sheet_get", summary="Balance sheet per currency", query=AsOfQuery,
             data=BalanceSheetShape)
    def get(self, request):
        as_of = parsed(AsOfQuery, request).get("asOf") or clock.now(self.scope).date()
        return ok(balance_sheet(scope=self.scope, as_of=as_of))


class ProfitLossView(ApiView):
    @openapi("ledger_profit_loss_get", summary="Profit and loss per currency",
             query=PeriodQuery, data=ProfitLossShape)
    def get(self, request):
        query = parsed(PeriodQuery, request)
        today = clock.now(self.scope).date()
        until = query.get("to") or max(today, query.get("from") or today)
        since = query.get("from") or until.replace(day=1)
        return ok(profit_and_loss(scope=self.scope, since=since, until=until))
