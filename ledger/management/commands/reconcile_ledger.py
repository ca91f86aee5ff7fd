"""`manage.py reconcile_ledger`: check the books, print a table, exit 1 on any difference."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cynco.models import Environment
from ledger.reconciliation import Check
from ledger.services.reconciliation import reconciliation_run

COLUMNS = ("merchant", "env", "check", "subject", "expected", "actual", "status")


class Command(BaseCommand):
    help = (
        "Reconcile the general ledger: entries balanced, trial balance zero, no orphan lines, "
        "and the figures of settings.LEDGER_RECONCILIATION_SOURCES (receivable, clearing, paid "
        "invoices). Prints a table, records the run, exits 1 on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", help="only this merchant id")
        parser.add_argument("--environment", choices=Environment.values)
        parser.add_argument(
            "--differences-only", action="store_true", help="print only the rows that differ"
        )

    def handle(self, *args, merchant=None, environment=None, differences_only=False, **options):
        run, findings = reconciliation_run(merchant_id=merchant, environment=environment)
        shown = findings.differences if differences_only else findings.checks
        self.stdout.write(_table(shown))
        summary = f"{len(findings.checks)} checks, {len(findings.differences)} difference(s)"
        if not findings.ok:
            raise CommandError(f"Ledger does not reconcile: {summary} (run {run.pk})")
        self.stdout.write(self.style.SUCCESS(f"Ledger reconciles: {summary} (run {run.pk})"))


def _table(checks: list[Check]) -> str:
    rows = [
        (c.merchant_id, c.environment, c.check, c.subject, str(c.expected), str(c.actual),
         "ok" if c.ok else "DIFFERS")
        for c in checks
    ]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(COLUMNS)]
    lines = [COLUMNS, tuple("-" * w for w in widths), *rows]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
                     for line in lines)
