"""Billing periods: where a period starts and ends, for weekly, monthly and yearly prices.

A subscription's periods are counted from its anchor (the moment it started), as half-open
intervals [start, end) that tile time with no gap and no overlap. Every boundary is computed
from the anchor, never from the previous boundary, so clamping to a short month never makes
the schedule drift: a subscription anchored on 31 January renews on 28 February (29 in a leap
year), then 31 March, 30 April, 31 May. A yearly one anchored on 29 February 2024 renews on
28 February 2025, 2026 and 2027, then 29 February 2028. Weeks are 7 x count days.

The anchor day (`anchor_day`, 1-31; the API's `billingAnchorDay` allows 1-28) pins monthly and
yearly boundaries to one day of the month. A subscription that starts on another day gets a
short first period, from its start to the next occurrence of that day, then whole periods.

All datetimes are timezone-aware UTC; every boundary keeps the anchor's time of day. This
module is pure: no Django, no clock.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

Interval = Literal["week", "month", "year"]
INTERVALS: tuple[str, ...] = ("week", "month", "year")

_MONTHS_PER = {"month": 1, "year": 12}


class BillingPeriod(NamedTuple):
    """One billing period, the half-open interval [start, end)."""

    start: datetime
    end: datetime


def require_utc(value: object, name: str = "datetime") -> datetime:
    """Return `value` when it is a timezone-aware datetime at UTC offset 0; raise otherwise.

    Naive datetimes are refused rather than assumed to be UTC: a naive value in business time
    means some caller skipped the clock service.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{name} must be timezone-aware UTC, not naive")
    if offset != timedelta(0):
        raise ValueError(f"{name} must be in UTC, not at offset {offset}")
    return value


def add_interval(
    dt: datetime, interval: Interval, count: int, anchor_day: int | None = None
) -> datetime:
    """Move `dt` forward by `count` weeks, months or years, keeping its time of day.

    Months and years land on `anchor_day` (default: dt's own day), clamped to the last day of
    the month when the month is shorter: 31 Jan + 1 month is 28 Feb, and 28 Feb + 1 month with
    anchor_day 31 is 31 Mar. Passing the subscription's anchor day is what keeps a chain of
    renewals from drifting to the 28th. Weeks take no anchor_day (ValueError if given).
    """
    require_utc(dt, "dt")
    _check_interval(interval, count)
    _check_anchor_day(interval, anchor_day)
    return _advance(dt, interval, count, anchor_day or dt.day)


def next_period_end(
    start: datetime, interval: Interval, count: int, anchor_day: int | None = None
) -> datetime:
    """The end of the billing period that begins at `start`.

    Without anchor_day, or when `start` already falls on the anchor day (clamped to the month),
    that is one whole period later (add_interval). When it does not, the period is the short
    first period of a subscription with a billing anchor day, and it ends at the next
    occurrence of that day: starting 10 March with anchor day 1, it ends 1 April at 10 March's
    time of day.
    """
    require_utc(start, "start")
    _check_interval(interval, count)
    _check_anchor_day(interval, anchor_day)
    if anchor_day is None or _falls_on(start, anchor_day):
        return _advance(start, interval, count, anchor_day or start.day)
    return _next_occurrence(start, anchor_day)


def iter_periods(
    anchor: datetime, interval: Interval, count: int, anchor_day: int | None = None
) -> Iterator[BillingPeriod]:
    """Yield the subscription's periods in order, the first starting at `anchor`.

    Each period starts where the one before ended. The generator is endless in practice; it
    stops only when a boundary would pass datetime's year 9999.
    """
    schedule = _Schedule(anchor, interval, count, anchor_day)
    index = 0
    start = schedule.boundary(0)
    while True:
        try:
            end = schedule.boundary(index + 1)
        except (OverflowError, ValueError):
            return
        yield BillingPeriod(start, end)
        start = end
        index += 1


def period_containing(
    anchor_start: datetime,
    interval: Interval,
    count: int,
    at: datetime,
    anchor_day: int | None = None,
) -> BillingPeriod:
    """The period of the schedule anchored at `anchor_start` that holds the instant `at`.

    Periods are half-open: at a boundary, `at` belongs to the period that starts there. The
    answer is the same period iter_periods yields, found without walking from the anchor.
    Raises ValueError when `at` is before the anchor.
    """
    schedule = _Schedule(anchor_start, interval, count, anchor_day)
    require_utc(at, "at")
    if at < anchor_start:
        raise ValueError("at is before the first period starts")
    index = schedule.estimate(at)
    while schedule.boundary(index + 1) <= at:
        index += 1
    while index > 0 and schedule.boundary(index) > at:
        index -= 1
    return BillingPeriod(schedule.boundary(index), schedule.boundary(index + 1))


class _Schedule:
    """The boundaries of one subscription: boundary(0) is the anchor, boundary(k) the end of
    period k-1. With a short first period, boundaries from 1 on count from its end."""

    def __init__(self, anchor: datetime, interval: Interval, count: int, anchor_day: int | None):
        require_utc(anchor, "anchor")
        _check_interval(interval, count)
        _check_anchor_day(interval, anchor_day)
        self.anchor = anchor
        self.interval = interval
        self.count = count
        self.day = anchor_day or anchor.day
        self.short_first = anchor_day is not None and not _falls_on(anchor, anchor_day)
        # With a short first period, whole periods count from its end, not from the anchor.
        self.base = _next_occurrence(anchor, self.day) if self.short_first else anchor

    def boundary(self, index: int) -> datetime:
        if index == 0:
            return self.anchor
        steps = index - 1 if self.short_first else index
        return _advance(self.base, self.interval, self.count * steps, self.day)

    def estimate(self, at: datetime) -> int:
        """An index within one or two of the period holding `at`, found by arithmetic."""
        if at < self.base:
            return 0
        offset = 1 if self.short_first else 0
        if self.interval == "week":
            return offset + (at - self.base) // timedelta(weeks=self.count)
        months = (at.year - self.base.year) * 12 + at.month - self.base.month
        return offset + max(months // (_MONTHS_PER[self.interval] * self.count) - 1, 0)


def _advance(dt: datetime, interval: str, count: int, day: int) -> datetime:
    if interval == "week":
        return dt + timedelta(weeks=count)
    index = dt.year * 12 + dt.month - 1 + count * _MONTHS_PER[interval]
    year, month = divmod(index, 12)
    return _on_day(dt, year, month + 1, day)


def _on_day(dt: datetime, year: int, month: int, day: int) -> datetime:
    """dt moved to `day` of year/month, clamped to the month's last day, time unchanged."""
    return dt.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))


def _falls_on(dt: datetime, anchor_day: int) -> bool:
    return dt.day == min(anchor_day, calendar.monthrange(dt.year, dt.month)[1])


def _next_occurrence(dt: datetime, anchor_day: int) -> datetime:
    """The first instant after dt, at dt's time of day, on anchor_day (clamped)."""
    same_month = _on_day(dt, dt.year, dt.month, anchor_day)
    if same_month > dt:
        return same_month
    year, month = divmod(dt.year * 12 + dt.month, 12)
    return _on_day(dt, year, month + 1, anchor_day)


def _check_interval(interval: object, count: object) -> None:
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"interval count must be an integer of at least 1, not {count!r}")


def _check_anchor_day(interval: str, anchor_day: object) -> None:
    if anchor_day is None:
        return
    if interval == "week":
        raise ValueError("a weekly interval takes no anchor day")
    if isinstance(anchor_day, bool) or not isinstance(anchor_day, int) or not 1 <= anchor_day <= 31:
        raise ValueError(f"anchor day must be an integer from 1 to 31, not {anchor_day!r}")
