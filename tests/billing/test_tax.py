"""billing.tax: the tax a refund, credit or write-off gives back (pure, no database)."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.tax import tax_at_rate, tax_share


def test_a_refund_of_21067_on_21600_with_1600_tax_holds_1561_of_tax():
    assert tax_share(21067, tax=1600, total=21600) == 1561  # 1560.52, half-up
    assert tax_share(533, tax=1600, total=21600) == 39  # what the customer kept


def test_a_write_off_of_2160_with_160_tax_gives_back_all_160():
    assert tax_share(2160, tax=160, total=2160) == 160


def test_a_credit_of_5448_net_gives_back_436_at_8_percent():
    assert tax_at_rate(5448, Decimal(8)) == 436  # 435.84
    assert tax_at_rate(-5448, Decimal(8)) == -436  # a credit rounds like its charge
    assert tax_at_rate(5448, Decimal(0)) == 0


def test_nothing_is_given_back_of_an_invoice_without_tax():
    assert tax_share(1000, tax=0, total=1000) == 0
    assert tax_share(0, tax=160, total=2160) == 0


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # 2 shared cores
@given(total=st.integers(1, 10**7), rate=st.integers(0, 30),
       cuts=st.lists(st.integers(0, 100), min_size=1, max_size=8))
def test_refunds_in_pieces_never_give_back_more_tax_than_charged_and_all_of_it_at_the_end(
        total, rate, cuts):
    tax = total * rate // (100 + rate)
    left, given_back = total, 0
    for cut in cuts:
        amount = left * cut // 100
        share = tax_share(amount, tax=tax, total=total, given_back=given_back,
                          credited=total - left)
        assert 0 <= share <= amount
        given_back += share
        assert given_back <= tax
        left -= amount
    given_back += tax_share(left, tax=tax, total=total, given_back=given_back,
                            credited=total - left)
    assert given_back == tax  # refunded in full, in pieces: all the tax, exactly
