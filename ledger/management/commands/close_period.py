"""`manage.py close_period <merchant> <env> YYYY-MM`: close a month of a merchant's books."""

from __future__ import annotations

import getpass
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from cynco.errors import ApiError
from cynco.models import Environment, Merchant
from cynco.tenancy import Scope
from ledger.services.periods import period_close


class Command(BaseCommand):
    help = (
        "Close a month (and every month before it) of one merchant environment's books: from "
        "then on the database refuses entries dated in it, and corrections post in the open "
        "period. Reopening is a superuser's action in the operator console."
    )

    def add_arguments(self, parser):
        parser.add_argument("merchant", help="merchant id")
        parser.add_argument("environment", choices=Environment.values)
        parser.add_argument("month", help="YYYY-MM")
        parser.add_argument("--by", default="", help="who closes it (default: the OS user)")

    def handle(self, *args, merchant, environment, month, by="", **options):
        try:
            first = date.fromisoformat(f"{month}-01")
        except ValueError:
            raise CommandError(f"month must be YYYY-MM, got {month!r}") from None
        if not Merchant.objects.filter(pk=merchant).exists():
            raise CommandError(f"no merchant {merchant}")
        try:
            books = period_close(scope=Scope(merchant, environment), month=first,
                                 by=by or f"manage.py ({getpass.getuser()})")
        except ApiError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{merchant} {environment}: closed through {books.closed_through}")
