"""Proration: unused credit of a paid period, upgrade previews and immediate-cancel refunds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.periods import period_containing
from billing.proration import (
    UpgradePreview,
    refund_for_immediate_cancel,
    unused_credit,
    upgrade_preview,
)


def utc(year, month, day, hour=0, minute=0, second=0, microsecond=0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


# April has 30 days: the API's "Pro at 2000 a month" example, a quarter of the way in.
APRIL = (utc(2026, 4, 1), utc(2026, 5, 1))
QUARTER_IN = utc(2026, 4, 8, 12)


# --- the API.md preview example --------------------------------------------------------------


def test_a_customer_on_pro_who_upgrades_a_quarter_into_the_month_is_charged_3500():
    preview = upgrade_preview("Pro", 2000, *APRIL, "Enterprise", 5000, QUARTER_IN)
    assert preview == UpgradePreview(
        line_items=(("Enterprise", 5000), ("Credit for Pro", -1500)),
        total=3500,
        amount_due=3500,
        credit=1500,
        credit_carried=0,
    )


def test_the_api_example_holds_on_a_period_found_by_the_schedule():
    period = period_containing(utc(2026, 1, 1), "month", 1, QUARTER_IN)
    assert period == APRIL
    assert unused_credit(2000, period.start, period.end, QUARTER_IN) == 1500


# --- unused credit scenarios -----------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, paid, at, credit",
    [
        ("at the very start everything is unused", 2000, utc(2026, 4, 1), 2000),
        ("before the period starts everything is unused", 2000, utc(2026, 3, 1), 2000),
        ("a quarter in", 2000, QUARTER_IN, 1500),
        ("half way", 2000, utc(2026, 4, 16), 1000),
        ("one day in", 3000, utc(2026, 4, 2), 2900),
        ("a second before the end rounds to nothing", 2000, utc(2026, 4, 30, 23, 59, 59), 0),
        ("at the end nothing is left", 2000, utc(2026, 5, 1), 0),
        ("after the end nothing is left", 2000, utc(2026, 6, 1), 0),
        ("a free plan leaves no credit", 0, QUARTER_IN, 0),
        ("a third left of 1000 rounds down", 1000, utc(2026, 4, 21), 333),
        ("two thirds left of 1000 rounds up", 1000, utc(2026, 4, 11), 667),
        ("exactly half a sen left rounds up", 1, utc(2026, 4, 16), 1),
    ],
)
def test_unused_credit(scenario, paid, at, credit):
    assert unused_credit(paid, *APRIL, at) == credit


def test_unused_credit_counts_seconds_not_days():
    # February 2026 has 28 days; 6 hours in leaves 27.75 of 28 days of 2800 unused.
    assert unused_credit(2800, utc(2026, 2, 1), utc(2026, 3, 1), utc(2026, 2, 1, 6)) == 2775


def test_a_31_day_month_a_quarter_in():
    # 7 days 18 hours into 31 days leaves exactly 75%.
    assert unused_credit(2000, utc(2026, 3, 1), utc(2026, 4, 1), utc(2026, 3, 8, 18)) == 1500


def test_a_large_yearly_amount_is_prorated_exactly():
    paid = 10**15  # a very large invoice in minor units
    start, end = utc(2024, 1, 1), utc(2025, 1, 1)  # 366 days
    assert unused_credit(paid, start, end, utc(2024, 7, 2)) == paid * 183 // 366


@pytest.mark.parametrize(
    "paid, start, end, at, error",
    [
        (-1, *APRIL, QUARTER_IN, ValueError),
        (20.0, *APRIL, QUARTER_IN, TypeError),
        (True, *APRIL, QUARTER_IN, TypeError),
        (2000, utc(2026, 5, 1), utc(2026, 4, 1), QUARTER_IN, ValueError),
        (2000, utc(2026, 4, 1), utc(2026, 4, 1), QUARTER_IN, ValueError),
        (2000, *APRIL, datetime(2026, 4, 8), ValueError),
    ],
)
def test_unused_credit_refuses_bad_input(paid, start, end, at, error):
    with pytest.raises(error):
        unused_credit(paid, start, end, at)


# --- upgrades and cancellations --------------------------------------------------------------


def test_an_upgrade_whose_credit_exceeds_the_new_price_carries_the_rest_as_credit():
    preview = upgrade_preview(
        "Annual Pro",
        24000,
        utc(2026, 1, 1),
        utc(2027, 1, 1),
        "Monthly Enterprise",
        5000,
        utc(2026, 1, 1),
    )
    assert preview.line_items == (("Monthly Enterprise", 5000), ("Credit for Annual Pro", -24000))
    assert preview.total == -19000
    assert preview.amount_due == 0
    assert preview.credit_carried == 19000


def test_an_upgrade_after_the_old_period_ended_has_a_zero_credit_line():
    preview = upgrade_preview("Pro", 2000, *APRIL, "Enterprise", 5000, utc(2026, 5, 2))
    assert preview.line_items == (("Enterprise", 5000), ("Credit for Pro", 0))
    assert (preview.total, preview.amount_due, preview.credit_carried) == (5000, 5000, 0)


def test_an_upgrade_to_a_negative_price_is_refused():
    with pytest.raises(ValueError):
        upgrade_preview("Pro", 2000, *APRIL, "Enterprise", -5000, QUARTER_IN)


def test_canceling_immediately_a_quarter_in_refunds_three_quarters():
    assert refund_for_immediate_cancel(2000, *APRIL, QUARTER_IN) == 1500
    assert refund_for_immediate_cancel(2000, *APRIL, utc(2026, 5, 1)) == 0


# --- properties ------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=10**12)
starts = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
lengths = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3 * 366))
offsets = st.timedeltas(min_value=timedelta(days=-40), max_value=timedelta(days=4 * 366))


@given(amounts, starts, lengths, offsets)
def test_unused_credit_is_never_negative_and_never_more_than_was_paid(paid, start, length, offset):
    credit = unused_credit(paid, start, start + length, start + offset)
    assert 0 <= credit <= paid


@given(amounts, starts, lengths, offsets, offsets)
def test_unused_credit_never_grows_as_time_passes(paid, start, length, first, second):
    earlier, later = sorted((first, second))
    end = start + length
    assert unused_credit(paid, start, end, start + earlier) >= unused_credit(
        paid, start, end, start + later
    )


@given(amounts, starts, lengths, offsets)
def test_unused_credit_is_the_exact_share_of_time_left_rounded_half_up(paid, start, length, offset):
    end, at = start + length, start + offset
    left = min(max(end - at, timedelta(0)), length)
    share = paid * (left // timedelta(microseconds=1))
    whole = length // timedelta(microseconds=1)
    expected = (2 * share + whole) // (2 * whole)  # floor(share / whole + 1/2)
    assert unused_credit(paid, start, end, at) == expected


@given(amounts, amounts, starts, lengths, offsets)
def test_an_upgrade_preview_adds_up(old_paid, new_amount, start, length, offset):
    preview = upgrade_preview(
        "Old", old_paid, start, start + length, "New", new_amount, start + offset
    )
    assert preview.total == sum(amount for _, amount in preview.line_items)
    assert preview.total == new_amount - preview.credit
    assert preview.amount_due - preview.credit_carried == preview.total
    assert preview.amount_due >= 0 and preview.credit_carried >= 0
    assert 0 in (preview.amount_due, preview.credit_carried)
    assert preview.credit == refund_for_immediate_cancel(
        old_paid, start, start + length, start + offset
    )
