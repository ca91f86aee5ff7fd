"""Billing period arithmetic: renewals, month ends, leap years, anchor days, tiling."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.periods import (
    BillingPeriod,
    add_interval,
    iter_periods,
    next_period_end,
    period_containing,
    require_utc,
)


def utc(year, month, day, hour=0, minute=0, second=0, microsecond=0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


def renewals(anchor, interval, count=1, anchor_day=None, n=6) -> list[datetime]:
    """The first n period starts after the anchor, i.e. the renewal dates."""
    return [period.end for period in islice(iter_periods(anchor, interval, count, anchor_day), n)]


# --- scenarios -------------------------------------------------------------------------------


def test_a_monthly_subscription_started_on_31_january_renews_on_each_month_end():
    assert renewals(utc(2025, 1, 31, 9, 30), "month", n=6) == [
        utc(2025, 2, 28, 9, 30),
        utc(2025, 3, 31, 9, 30),
        utc(2025, 4, 30, 9, 30),
        utc(2025, 5, 31, 9, 30),
        utc(2025, 6, 30, 9, 30),
        utc(2025, 7, 31, 9, 30),
    ]


def test_in_a_leap_year_the_31_january_subscription_renews_on_29_february():
    assert renewals(utc(2024, 1, 31), "month", n=2) == [utc(2024, 2, 29), utc(2024, 3, 31)]


def test_a_yearly_subscription_from_29_february_renews_on_28_february_until_the_next_leap_year():
    assert renewals(utc(2024, 2, 29, 12), "year", n=4) == [
        utc(2025, 2, 28, 12),
        utc(2026, 2, 28, 12),
        utc(2027, 2, 28, 12),
        utc(2028, 2, 29, 12),
    ]


def test_a_subscription_on_the_30th_renews_on_the_28th_or_29th_in_february_then_the_30th():
    assert renewals(utc(2023, 12, 30), "month", n=4) == [
        utc(2024, 1, 30),
        utc(2024, 2, 29),
        utc(2024, 3, 30),
        utc(2024, 4, 30),
    ]


def test_a_quarterly_subscription_counts_three_months_at_a_time():
    assert renewals(utc(2025, 11, 30), "month", count=3, n=4) == [
        utc(2026, 2, 28),
        utc(2026, 5, 30),
        utc(2026, 8, 30),
        utc(2026, 11, 30),
    ]


def test_a_weekly_subscription_renews_every_seven_days_and_a_fortnightly_every_fourteen():
    start = utc(2026, 3, 28, 23, 59, 59)
    assert renewals(start, "week", n=2) == [start + timedelta(days=7), start + timedelta(days=14)]
    assert renewals(start, "week", count=2, n=2) == [
        start + timedelta(days=14),
        start + timedelta(days=28),
    ]


def test_a_two_year_plan_across_a_year_boundary():
    assert renewals(utc(2027, 12, 31, 18), "year", count=2, n=2) == [
        utc(2029, 12, 31, 18),
        utc(2031, 12, 31, 18),
    ]


def test_the_time_of_day_and_microseconds_of_the_anchor_are_kept():
    anchor = utc(2026, 1, 31, 23, 59, 59, 999999)
    for period in islice(iter_periods(anchor, "month", 1), 24):
        assert period.end.time() == anchor.time()
        assert period.end.tzinfo is UTC


# --- billing anchor day ----------------------------------------------------------------------


def test_an_anchor_day_gives_a_short_first_period_then_whole_months():
    periods = list(islice(iter_periods(utc(2026, 3, 10, 14, 30), "month", 1, anchor_day=1), 3))
    assert periods == [
        BillingPeriod(utc(2026, 3, 10, 14, 30), utc(2026, 4, 1, 14, 30)),
        BillingPeriod(utc(2026, 4, 1, 14, 30), utc(2026, 5, 1, 14, 30)),
        BillingPeriod(utc(2026, 5, 1, 14, 30), utc(2026, 6, 1, 14, 30)),
    ]


def test_an_anchor_day_later_in_the_same_month_ends_the_first_period_that_month():
    assert renewals(utc(2026, 3, 10), "month", anchor_day=15, n=2) == [
        utc(2026, 3, 15),
        utc(2026, 4, 15),
    ]


def test_starting_on_the_anchor_day_gives_a_whole_first_period():
    assert renewals(utc(2026, 3, 15, 8), "month", anchor_day=15, n=2) == [
        utc(2026, 4, 15, 8),
        utc(2026, 5, 15, 8),
    ]


def test_a_quarterly_plan_with_an_anchor_day_has_one_short_period_then_quarters():
    assert renewals(utc(2026, 3, 10), "month", count=3, anchor_day=1, n=3) == [
        utc(2026, 4, 1),
        utc(2026, 7, 1),
        utc(2026, 10, 1),
    ]


def test_a_yearly_plan_with_an_anchor_day_runs_to_that_day_then_whole_years():
    assert renewals(utc(2026, 3, 20), "year", anchor_day=1, n=2) == [
        utc(2026, 4, 1),
        utc(2027, 4, 1),
    ]


def test_a_31st_anchor_day_lands_on_each_month_end():
    assert renewals(utc(2026, 2, 10), "month", anchor_day=31, n=3) == [
        utc(2026, 2, 28),
        utc(2026, 3, 31),
        utc(2026, 4, 30),
    ]


def test_a_weekly_plan_takes_no_anchor_day():
    with pytest.raises(ValueError):
        next(iter_periods(utc(2026, 1, 1), "week", 1, anchor_day=1))
    with pytest.raises(ValueError):
        add_interval(utc(2026, 1, 1), "week", 1, anchor_day=1)


# --- add_interval and next_period_end --------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, dt, interval, count, anchor_day, expected",
    [
        ("month end clamps", utc(2025, 1, 31), "month", 1, None, utc(2025, 2, 28)),
        ("the anchor day is remembered", utc(2025, 2, 28), "month", 1, 31, utc(2025, 3, 31)),
        ("without it the day drifts", utc(2025, 2, 28), "month", 1, None, utc(2025, 3, 28)),
        ("leap day", utc(2024, 1, 30), "month", 1, None, utc(2024, 2, 29)),
        ("across a year", utc(2025, 12, 15), "month", 1, None, utc(2026, 1, 15)),
        ("thirteen months", utc(2025, 12, 15), "month", 13, None, utc(2027, 1, 15)),
        ("leap day plus a year", utc(2024, 2, 29), "year", 1, None, utc(2025, 2, 28)),
        ("back to a leap day", utc(2027, 2, 28), "year", 1, 29, utc(2028, 2, 29)),
        ("four years from a leap day", utc(2024, 2, 29), "year", 4, None, utc(2028, 2, 29)),
        ("a week", utc(2025, 12, 29, 7), "week", 1, None, utc(2026, 1, 5, 7)),
        ("a fortnight", utc(2024, 2, 20), "week", 2, None, utc(2024, 3, 5)),
    ],
)
def test_add_interval(scenario, dt, interval, count, anchor_day, expected):
    assert add_interval(dt, interval, count, anchor_day) == expected


@pytest.mark.parametrize(
    "scenario, start, interval, count, anchor_day, expected",
    [
        ("whole month", utc(2026, 1, 31), "month", 1, None, utc(2026, 2, 28)),
        ("renewal after a clamped month", utc(2026, 2, 28), "month", 1, 31, utc(2026, 3, 31)),
        ("short first period", utc(2026, 3, 10, 14, 30), "month", 1, 1, utc(2026, 4, 1, 14, 30)),
        ("short first period, same month", utc(2026, 3, 10), "month", 1, 28, utc(2026, 3, 28)),
        ("short first period of a quarter", utc(2026, 3, 10), "month", 3, 1, utc(2026, 4, 1)),
        ("on the anchor day", utc(2026, 4, 1), "month", 3, 1, utc(2026, 7, 1)),
        ("a week", utc(2026, 4, 1), "week", 1, None, utc(2026, 4, 8)),
    ],
)
def test_next_period_end(scenario, start, interval, count, anchor_day, expected):
    assert next_period_end(start, interval, count, anchor_day) == expected


@pytest.mark.parametrize(
    "interval, count, anchor_day",
    [
        ("day", 1, None),
        ("months", 1, None),
        ("month", 0, None),
        ("month", -1, None),
        ("month", True, None),
        ("month", 1.0, None),
        ("month", 1, 0),
        ("month", 1, 32),
        ("year", 1, True),
    ],
)
def test_bad_intervals_counts_and_anchor_days_are_refused(interval, count, anchor_day):
    with pytest.raises(ValueError):
        add_interval(utc(2026, 1, 1), interval, count, anchor_day)
    with pytest.raises(ValueError):
        next_period_end(utc(2026, 1, 1), interval, count, anchor_day)
    with pytest.raises(ValueError):
        period_containing(utc(2026, 1, 1), interval, count, utc(2026, 6, 1), anchor_day)


@pytest.mark.parametrize(
    "value, error",
    [
        (datetime(2026, 1, 1), ValueError),  # naive
        (datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8))), ValueError),  # Asia/KL
        ("2026-01-01T00:00:00Z", TypeError),
    ],
)
def test_only_utc_datetimes_are_taken(value, error):
    with pytest.raises(error):
        require_utc(value)
    with pytest.raises(error):
        add_interval(value, "month", 1)


def test_any_utc_tzinfo_is_taken():
    assert require_utc(datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))).year == 2026


# --- period_containing -----------------------------------------------------------------------


def test_the_period_holding_an_instant_inside_it():
    anchor = utc(2025, 1, 31, 9)
    assert period_containing(anchor, "month", 1, utc(2025, 3, 5)) == BillingPeriod(
        utc(2025, 2, 28, 9), utc(2025, 3, 31, 9)
    )


def test_an_instant_on_a_boundary_belongs_to_the_period_that_starts_there():
    anchor = utc(2025, 1, 31, 9)
    assert period_containing(anchor, "month", 1, utc(2025, 2, 28, 9)).start == utc(2025, 2, 28, 9)
    assert period_containing(anchor, "month", 1, anchor).start == anchor
    just_before = utc(2025, 2, 28, 9) - timedelta(microseconds=1)
    assert period_containing(anchor, "month", 1, just_before).start == anchor


def test_the_period_holding_an_instant_in_the_short_first_period():
    anchor = utc(2026, 3, 10, 14, 30)
    assert period_containing(anchor, "month", 1, utc(2026, 3, 31), anchor_day=1) == BillingPeriod(
        anchor, utc(2026, 4, 1, 14, 30)
    )
    assert period_containing(anchor, "month", 1, utc(2026, 4, 2), anchor_day=1) == BillingPeriod(
        utc(2026, 4, 1, 14, 30), utc(2026, 5, 1, 14, 30)
    )


def test_the_period_holding_an_instant_decades_later():
    period = period_containing(utc(2024, 2, 29), "year", 1, utc(2124, 3, 1))
    assert period == BillingPeriod(utc(2124, 2, 29), utc(2125, 2, 28))


def test_an_instant_before_the_anchor_has_no_period():
    with pytest.raises(ValueError):
        period_containing(utc(2026, 1, 1), "month", 1, utc(2025, 12, 31))


# --- properties ------------------------------------------------------------------------------

# Month ends and leap days are the hard cases, so the anchors lean on them.
anchors = st.one_of(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    st.builds(
        lambda year, month, from_end, hour, minute: utc(
            year, month, calendar.monthrange(year, month)[1] - from_end, hour, minute
        ),
        st.integers(1970, 2200),
        st.integers(1, 12),
        st.integers(0, 3),
        st.integers(0, 23),
        st.integers(0, 59),
    ),
    st.sampled_from(
        [
            utc(2024, 2, 29),
            utc(2000, 2, 29, 23, 59),
            utc(2100, 2, 28),
            utc(2025, 1, 31, 12),
            utc(2024, 12, 31, 23, 59, 59, 999999),
        ]
    ),
)
schedules = st.one_of(
    st.tuples(st.just("week"), st.integers(1, 8), st.none()),
    st.tuples(
        st.sampled_from(["month", "year"]),
        st.integers(1, 13),
        st.one_of(st.none(), st.integers(1, 28), st.integers(29, 31)),
    ),
)


@settings(max_examples=300)
@given(anchors, schedules)
def test_periods_tile_time_with_no_gap_or_overlap(anchor, schedule):
    interval, count, anchor_day = schedule
    periods = list(islice(iter_periods(anchor, interval, count, anchor_day), 40))
    assert periods[0].start == anchor
    for previous, current in pairwise(periods):
        assert current.start == previous.end
    for period in periods:
        assert period.start < period.end
        assert period.end.time() == anchor.time()
        assert period.end.tzinfo is UTC


@settings(max_examples=300)
@given(anchors, schedules)
def test_boundaries_stay_on_the_anchor_day_and_never_drift(anchor, schedule):
    interval, count, anchor_day = schedule
    periods = list(islice(iter_periods(anchor, interval, count, anchor_day), 40))
    if interval == "week":
        assert all(p.end - p.start == timedelta(weeks=count) for p in periods)
        return
    day = anchor_day or anchor.day
    months = count * (12 if interval == "year" else 1)
    for period in periods:
        last = calendar.monthrange(period.end.year, period.end.month)[1]
        assert period.end.day == min(day, last)
    anchor_month_last = calendar.monthrange(anchor.year, anchor.month)[1]
    short_first = anchor_day is not None and anchor.day != min(anchor_day, anchor_month_last)
    if short_first:
        # Runs to the next occurrence of the anchor day: within a month, never a whole interval.
        first = periods[0]
        assert first.end - first.start <= timedelta(days=31)
        assert first.end <= add_interval(anchor, "month", 1, anchor_day)
    for period in periods[1:] if short_first else periods:
        gap = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month
        assert gap == months


@settings(max_examples=300)
@given(anchors, schedules, st.integers(0, 60 * 366 * 24 * 3600))
def test_period_containing_agrees_with_iter_periods(anchor, schedule, seconds_later):
    interval, count, anchor_day = schedule
    at = anchor + timedelta(seconds=seconds_later)
    found = period_containing(anchor, interval, count, at, anchor_day)
    assert found.start <= at < found.end
    for period in iter_periods(anchor, interval, count, anchor_day):
        if period.end > at:
            assert period == found
            break


@given(anchors, schedules)
def test_next_period_end_walks_the_same_schedule(anchor, schedule):
    interval, count, anchor_day = schedule
    remembered = anchor_day or (anchor.day if interval != "week" else None)
    start = anchor
    for period in islice(iter_periods(anchor, interval, count, anchor_day), 24):
        assert period.start == start
        end = (
            next_period_end(start, interval, count, anchor_day)
            if start == anchor
            else next_period_end(start, interval, count, remembered)
        )
        assert end == period.end
        start = end


def test_iteration_stops_at_the_end_of_the_calendar():
    periods = list(iter_periods(utc(9990, 1, 31), "year", 1))
    assert periods[-1].end.year == 9999
    assert len(periods) == 9
