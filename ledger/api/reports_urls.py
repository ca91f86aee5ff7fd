from django.urls import path

from ledger.api import reports

urlpatterns = [
    path("reports/trial-balance", reports.TrialBalanceView.as_view(), name="ledger-trial-balance"),
    path("reports/balance-sheet", reports.BalanceSheetView.as_view(), name="ledger-balance-sheet"),
    path("reports/profit-loss", reports.ProfitLossView.as_view(), name="ledger-profit-loss"),
]
