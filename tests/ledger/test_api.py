"""/api/v1/ledger/: a merchant reads its books per currency, with a secret key."""

from datetime import date

import pytest

from ledger import rules
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db

LEDGER = "/api/v1/ledger"
MAY_3, MAY_20, JUNE_2 = date(2026, 5, 3), date(2026, 5, 20), date(2026, 6, 2)


@pytest.fixture
def may_books(books):
    """A month of trade: two invoices, a payment, a refund, a fee, a USD sale, one June invoice."""
    rules.invoice_finalized(scope=books, invoice_id="pinv_a", currency="MYR", subscription=2000,
                            date=MAY_3)
    rules.payment_captured(scope=books, payment_id="pay_a", gateway="stripe", amount=2000,
                           currency="MYR", invoice_id="pinv_a", date=MAY_3)
    rules.gateway_fee_charged(scope=books, payment_id="pay_a", gateway="stripe", amount=60,
                              currency="MYR", date=MAY_3)
    rules.invoice_finalized(scope=books, invoice_id="pinv_b", currency="MYR", subscription=1000,
                            usage=300, discount=100, tax=72, date=MAY_20)
    rules.refund_issued(scope=books, refund_id="ref_a", gateway="stripe", amount=500,
                        currency="MYR", invoice_id="pinv_a", date=MAY_20)
    rules.invoice_finalized(scope=books, invoice_id="pinv_usd", currency="USD", one_off=999,
                            date=MAY_20)
    rules.invoice_finalized(scope=books, invoice_id="pinv_c", currency="MYR", subscription=2000,
                            date=JUNE_2)
    return books


def test_accounts_show_balances_per_currency_with_parents_summing_their_gateways(api, may_books):
    response = api.get(f"{LEDGER}/accounts")
    accounts = {account["code"]: account for account in data_of(response)}
    assert response.json()["pagination"] == {"total": 14, "limit": 50, "offset": 0}
    assert accounts["1200"] == {
        "code": "1200", "name": "Accounts receivable", "type": "asset", "normalBalance": "debit",
        "parentCode": None, "balances": {"MYR": 2000 + 1272, "USD": 999},
    }
    assert accounts["1100-stripe"]["balances"] == {"MYR": 2000 - 60 - 500}
    assert accounts["1100-stripe"]["parentCode"] == "1100"
    assert accounts["1100"]["balances"] == {"MYR": 1440}
    assert accounts["4910"]["balances"] == {"MYR": 500}  # a contra-revenue, debit side up
    assert accounts["2100"]["balances"] == {}


def test_journal_entries_newest_first_with_lines(api, may_books):
    response = api.get(f"{LEDGER}/journal-entries")
    entries = data_of(response)
    assert response.json()["pagination"]["total"] == 7
    assert entries[0]["source"] == {"type": "invoice", "id": "pinv_c"}
    assert entries[0]["date"] == "2026-06-02"
    assert entries[0]["postedAt"].endswith("Z") and entries[0]["reversalOf"] is None
    assert set(entries[0]) == {"id", "date", "memo", "kind", "source", "invoiceId", "reversalOf",
                               "postedAt", "lines"}
    assert entries[0]["lines"] == [
        {"accountCode": "1200", "accountName": "Accounts receivable", "debit": 2000, "credit": 0,
         "currency": "MYR"},
        {"accountCode": "4001", "accountName": "Subscription revenue", "debit": 0,
         "credit": 2000, "currency": "MYR"},
    ]


def test_journal_entries_filter_by_month_and_by_source_and_paginate(api, may_books):
    june = data_of(api.get(f"{LEDGER}/journal-entries?period=2026-06"))
    assert [entry["source"]["id"] for entry in june] == ["pinv_c"]
    assert data_of(api.get(f"{LEDGER}/journal-entries?period=2026-04")) == []
    payments = data_of(api.get(f"{LEDGER}/journal-entries?source=payment"))
    assert sorted(entry["kind"] for entry in payments) == ["gateway_fee", "payment_captured"]
    one = data_of(api.get(f"{LEDGER}/journal-entries?source=invoice:pinv_b"))
    assert [entry["source"]["id"] for entry in one] == ["pinv_b"]
    page = api.get(f"{LEDGER}/journal-entries?period=2026-05&limit=2&offset=4")
    assert len(data_of(page)) == 2
    assert page.json()["pagination"] == {"total": 6, "limit": 2, "offset": 4}


def test_one_entry_by_id_and_a_reversal_points_at_what_it_reverses(api, books):
    entry = rules.invoice_finalized(scope=books, invoice_id="pinv_r", currency="MYR",
                                    subscription=100)
    reversal = rules.entry_reversed(scope=books, entry_id=entry.pk)
    shown = data_of(api.get(f"{LEDGER}/journal-entries/{reversal.pk}"))
    assert shown["reversalOf"] == entry.pk
    assert shown["source"] == {"type": "journal_entry", "id": entry.pk}
    assert [(line["accountCode"], line["debit"], line["credit"]) for line in shown["lines"]] == [
        ("4001", 100, 0), ("1200", 0, 100),
    ]


def test_trial_balance_as_of_a_date_balances_per_currency(api, may_books):
    report = data_of(api.get(f"{LEDGER}/reports/trial-balance?asOf=2026-05-31"))
    assert report["asOf"] == "2026-05-31"
    myr = report["currencies"]["MYR"]
    assert myr["rows"] == [
        {"accountCode": "1100-stripe", "accountName": "Gateway clearing: stripe", "debit": 1440,
         "credit": 0},
        {"accountCode": "1200", "accountName": "Accounts receivable", "debit": 1272, "credit": 0},
        {"accountCode": "2300", "accountName": "Tax payable", "debit": 0, "credit": 72},
        {"accountCode": "4001", "accountName": "Subscription revenue", "debit": 0,
         "credit": 3000},
        {"accountCode": "4002", "accountName": "Usage and overage revenue", "debit": 0,
         "credit": 300},
        {"accountCode": "4900", "accountName": "Discounts", "debit": 100, "credit": 0},
        {"accountCode": "4910", "accountName": "Refunds", "debit": 500, "credit": 0},
        {"accountCode": "6100", "accountName": "Gateway fees", "debit": 60, "credit": 0},
    ]
    assert myr["totalDebit"] == myr["totalCredit"] == 3372
    assert report["currencies"]["USD"]["totalDebit"] == 999
    early = data_of(api.get(f"{LEDGER}/reports/trial-balance?asOf=2026-05-02"))
    assert early["currencies"] == {}


def test_balance_sheet_assets_equal_liabilities_and_equity(api, may_books):
    sheet = data_of(api.get(f"{LEDGER}/reports/balance-sheet?asOf=2026-06-30"))["currencies"]
    myr = sheet["MYR"]
    assert myr["assets"] == {
        "rows": [
            {"accountCode": "1100-stripe", "accountName": "Gateway clearing: stripe",
             "balance": 1440},
            {"accountCode": "1200", "accountName": "Accounts receivable", "balance": 3272},
        ],
        "total": 4712,
    }
    assert myr["liabilities"]["total"] == 72
    assert myr["equity"]["retainedEarnings"] == 5000 + 300 - 100 - 500 - 60
    assert myr["assets"]["total"] == myr["totalLiabilitiesAndEquity"] == 4712
    assert sheet["USD"]["assets"]["total"] == sheet["USD"]["totalLiabilitiesAndEquity"] == 999


def test_profit_and_loss_for_a_period(api, may_books):
    report = data_of(api.get(f"{LEDGER}/reports/profit-loss?from=2026-05-01&to=2026-05-31"))
    assert (report["from"], report["to"]) == ("2026-05-01", "2026-05-31")
    myr = report["currencies"]["MYR"]
    assert [(row["accountCode"], row["amount"]) for row in myr["revenue"]["rows"]] == [
        ("4001", 3000), ("4002", 300), ("4900", -100), ("4910", -500),
    ]
    assert myr["revenue"]["total"] == 2700
    assert myr["expenses"] == {
        "rows": [{"accountCode": "6100", "accountName": "Gateway fees", "amount": 60}],
        "total": 60,
    }
    assert myr["netIncome"] == 2640
    assert report["currencies"]["USD"]["netIncome"] == 999
    june = data_of(api.get(f"{LEDGER}/reports/profit-loss?from=2026-06-01&to=2026-06-30"))
    assert june["currencies"]["MYR"]["netIncome"] == 2000


def test_reports_default_to_the_business_date_of_the_environment(api, books):
    rules.invoice_finalized(scope=books, invoice_id="pinv_today", currency="MYR",
                            subscription=700)
    balance = data_of(api.get(f"{LEDGER}/reports/trial-balance"))
    assert balance["currencies"]["MYR"]["totalDebit"] == 700
    profit = data_of(api.get(f"{LEDGER}/reports/profit-loss"))
    assert profit["to"] == balance["asOf"] and profit["from"].endswith("-01")
    assert profit["currencies"]["MYR"]["netIncome"] == 700
    assert data_of(api.get(f"{LEDGER}/reports/balance-sheet"))["asOf"] == balance["asOf"]


@pytest.mark.parametrize(
    "path, field",
    [
        ("journal-entries?period=2026-13", "period"),
        ("journal-entries?period=2026-00", "period"),
        ("journal-entries?period=May", "period"),
        ("journal-entries?period=2026-5", "period"),
        ("journal-entries?source=banana", "source"),
        ("journal-entries?source=:pinv_1", "source"),
        ("journal-entries?limit=0", "limit"),
        ("journal-entries?limit=101", "limit"),
        ("journal-entries?offset=-1", "offset"),
        ("accounts?limit=abc", "limit"),
        ("reports/trial-balance?asOf=2026-02-30", "asOf"),
        ("reports/trial-balance?asOf=yesterday", "asOf"),
        ("reports/balance-sheet?asOf=2026-06-01T00:00:00Z", "asOf"),
        ("reports/profit-loss?from=2026-06-01&to=2026-05-01", "from"),
        ("reports/profit-loss?from=garbage", "from"),
        ("reports/profit-loss?to=2026-99-99", "to"),
    ],
)
def test_bad_query_values_are_422_naming_the_parameter(api, path, field):
    response = api.get(f"{LEDGER}/{path}")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert field in [detail["field"] for detail in error["details"]]


PATHS = ["accounts", "journal-entries", "journal-entries/je_x", "reports/trial-balance",
         "reports/balance-sheet", "reports/profit-loss"]


@pytest.mark.parametrize("path", PATHS)
def test_the_ledger_needs_a_secret_key(public_api, path):
    response = public_api.get(f"{LEDGER}/{path}")
    assert response.status_code == 403
    assert error_of(response)["code"] == "FORBIDDEN"
    missing = Api(None).get(f"{LEDGER}/{path}")
    assert missing.status_code == 401
    assert error_of(missing)["code"] == "UNAUTHORIZED"


def test_the_ledger_is_read_only_over_the_api(api):
    response = api.post(f"{LEDGER}/journal-entries", {"memo": "sneaky"})
    assert response.status_code == 405


def test_another_merchants_entries_are_404_and_live_never_shows_test(
    api, live_api, books, other_merchant
):
    entry = rules.invoice_finalized(scope=books, invoice_id="pinv_t", currency="MYR",
                                    subscription=100)
    assert data_of(api.get(f"{LEDGER}/journal-entries/{entry.pk}"))["id"] == entry.pk
    stranger = Api(other_merchant.secret_test)
    response = stranger.get(f"{LEDGER}/journal-entries/{entry.pk}")
    assert response.status_code == 404 and error_of(response)["code"] == "NOT_FOUND"
    assert data_of(stranger.get(f"{LEDGER}/journal-entries")) == []
    assert live_api.get(f"{LEDGER}/journal-entries/{entry.pk}").status_code == 404
    assert data_of(live_api.get(f"{LEDGER}/journal-entries")) == []
    assert data_of(live_api.get(f"{LEDGER}/reports/trial-balance"))["currencies"] == {}
    live_accounts = {a["code"]: a for a in data_of(live_api.get(f"{LEDGER}/accounts"))}
    assert live_accounts["1200"]["balances"] == {}
