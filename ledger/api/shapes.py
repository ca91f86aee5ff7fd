"""Response shapes of /api/v1/ledger/ for the OpenAPI document (cynco.api.schema): they
describe what the views and statement selectors build and never render anything. Amounts are
integers in minor units; reports are keyed by currency."""

from __future__ import annotations

from rest_framework import serializers as s

from ledger.models import AccountType, EntryKind, NormalBalance, SourceType


class AccountShape(s.Serializer):
    code = s.CharField()
    name = s.CharField()
    type = s.ChoiceField(choices=AccountType.choices)
    normalBalance = s.ChoiceField(choices=NormalBalance.choices)
    parentCode = s.CharField(allow_null=True)
    balances = s.DictField(child=s.IntegerField(), help_text="By currency, normal side up; "
                           "a parent's includes its sub-accounts.")


class EntrySourceShape(s.Serializer):
    type = s.ChoiceField(choices=SourceType.choices)
    id = s.CharField()


class JournalLineShape(s.Serializer):
    accountCode = s.CharField()
    accountName = s.CharField()
    debit = s.IntegerField()
    credit = s.IntegerField()
    currency = s.CharField()


class JournalEntryShape(s.Serializer):
    """A balanced entry: its lines' debits equal its credits, per currency."""

    id = s.CharField()
    date = s.DateField()
    memo = s.CharField(allow_blank=True)
    kind = s.ChoiceField(choices=EntryKind.choices)
    source = EntrySourceShape()
    invoiceId = s.CharField(allow_null=True)
    reversalOf = s.CharField(allow_null=True)
    postedAt = s.DateTimeField()
    lines = JournalLineShape(many=True)


class TrialBalanceRowShape(s.Serializer):
    accountCode = s.CharField()
    accountName = s.CharField()
    debit = s.IntegerField()
    credit = s.IntegerField()


class TrialBalanceBookShape(s.Serializer):
    rows = TrialBalanceRowShape(many=True)
    totalDebit = s.IntegerField()
    totalCredit = s.IntegerField()


class TrialBalanceShape(s.Serializer):
    asOf = s.DateField()
    currencies = s.DictField(child=TrialBalanceBookShape())


class StatementRowShape(s.Serializer):
    accountCode = s.CharField()
    accountName = s.CharField()
    balance = s.IntegerField()


class StatementSectionShape(s.Serializer):
    rows = StatementRowShape(many=True)
    total = s.IntegerField()


class EquitySectionShape(StatementSectionShape):
    retainedEarnings = s.IntegerField(help_text="Revenue less expenses to date (not closed).")


class BalanceSheetBookShape(s.Serializer):
    assets = StatementSectionShape()
    liabilities = StatementSectionShape()
    equity = EquitySectionShape()
    totalLiabilitiesAndEquity = s.IntegerField()


class BalanceSheetShape(s.Serializer):
    asOf = s.DateField()
    currencies = s.DictField(child=BalanceSheetBookShape())


class ProfitLossRowShape(s.Serializer):
    accountCode = s.CharField()
    accountName = s.CharField()
    amount = s.IntegerField()


class ProfitLossSectionShape(s.Serializer):
    rows = ProfitLossRowShape(many=True)
    total = s.IntegerField()


class ProfitLossBookShape(s.Serializer):
    revenue = ProfitLossSectionShape(help_text="Credits less debits; contra-revenue (discounts, "
                                     "refunds) shows negative.")
    expenses = ProfitLossSectionShape()
    netIncome = s.IntegerField()


class ProfitLossShape(s.Serializer):
    def get_fields(self):
        return {"from": s.DateField(), "to": s.DateField(),
                "currencies": s.DictField(child=ProfitLossBookShape())}
