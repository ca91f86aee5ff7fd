"""Opening the books, closing a month, reopening one (docs/accounting.md, "Closing a month").

The database refuses any entry dated before the books were opened or on or before the last
day of the last closed month (migration 0005); these services move those two dates.
"""

from __future__ import annotations

import calendar
from datetime import date as Date
from datetime import timedelta

from django.db import transaction

from cynco import clock
from cynco.errors import Conflict, Forbidden, ValidationFailed
from cynco.tenancy import Scope
from ledger.models import Books, PeriodAction, PeriodEvent


def month_end(month: Date) -> Date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def books_open(*, merchant_id: str, environment: str) -> Books:
    """Open the books of one merchant environment on its business date (idempotent).

    Called with the chart of accounts (ledger.services.chart.create_chart), inside the
    merchant's creation. Takes no lock and posts no entry.
    """
    scope = Scope(merchant_id, environment)
    books, _ = Books.objects.get_or_create(
        merchant_id=merchant_id, environment=environment,
        defaults={"opened_on": clock.now(scope).date()},
    )
    return books


def books_opened_on(*, scope: Scope, opened_on: Date) -> Books:
    """Set the day `scope`'s books were opened — e.g. to bring in a merchant's earlier books —
    while they have no entry yet (the database refuses it after). Takes the books row's lock."""
    with transaction.atomic():
        books = Books.objects.select_for_update().for_scope(scope).get()
        books.opened_on = opened_on
        books.save(update_fields=["opened_on"])
    return books


def period_close(*, scope: Scope, month: Date, by: str) -> Books:
    """Close `month` (and every month before it) of `scope`'s books; closing a month already
    closed changes nothing. The month must be over on the scope's business clock.

    Takes the books row's lock (FOR UPDATE), which waits for postings in flight (each holds it
    FOR SHARE until it commits); postings after the close see it. Writes a `close`
    PeriodEvent; posts no entry.
    """
    first = month.replace(day=1)
    last = month_end(first)
    with transaction.atomic():
        books = Books.objects.select_for_update().for_scope(scope).first()
        if books is None:
            raise Conflict("the books of this merchant environment are not opened")
        if books.closed_through is not None and last <= books.closed_through:
            return books
        if last >= clock.now(scope).date():
            raise ValidationFailed.field("month", "only a month that is over can be closed")
        if last < books.opened_on:
            raise ValidationFailed.field(
                "month", f"the books were opened after that month (on {books.opened_on})")
        PeriodEvent.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment,
            action=PeriodAction.CLOSE, month=first, closed_through_before=books.closed_through,
            closed_through_after=last, by=by[:150], at=clock.wall_now(),
        )
        books.closed_through = last
        books.save(update_fields=["closed_through"])
    return books


def period_reopen(*, scope: Scope, user, reason: str) -> Books:
    """Reopen the last closed month of `scope`'s books: a superuser's action, audited by a
    `reopen` PeriodEvent (the database refuses moving the date back without one).

    Takes the books row's lock (FOR UPDATE); posts no entry.
    """
    if not getattr(user, "is_superuser", False):
        raise Forbidden("only a superuser can reopen a closed period")
    if not reason.strip():
        raise ValidationFailed.field("reason", "say why the period is reopened")
    with transaction.atomic():
        books = Books.objects.select_for_update().for_scope(scope).first()
        if books is None or books.closed_through is None:
            raise Conflict("no month of these books is closed")
        month = books.closed_through.replace(day=1)
        before = month - timedelta(days=1)  # the last day of the month before
        after = before if before >= books.opened_on else None
        PeriodEvent.objects.create(
            merchant_id=scope.merchant_id, environment=scope.environment,
            action=PeriodAction.REOPEN, month=month, closed_through_before=books.closed_through,
            closed_through_after=after, by=getattr(user, "username", str(user))[:150],
            reason=reason[:500], at=clock.wall_now(),
        )
        books.closed_through = after
        books.save(update_fields=["closed_through"])
    return books


def first_open_day(scope: Scope) -> Date | None:
    """The day after the last closed month, or None when no month is closed."""
    closed = Books.objects.for_scope(scope).values_list("closed_through", flat=True).first()
    return None if closed is None else closed + timedelta(days=1)
