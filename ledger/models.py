"""The general ledger: chart of accounts, journal entries and their lines, reconciliation runs.

The rules that keep the books right live in PostgreSQL as well as here (migrations 0002, 0004,
0005; docs/accounting.md "What the database enforces"): every entry balances per currency and
is of one merchant environment and one currency at commit (deferred constraint triggers), posted
entries and lines are never updated or deleted (a correction is a reversing entry), each line is
a debit or a credit, never both, on a leaf account, lines are added only in the transaction
that posts their entry, an account with lines keeps its identity, and no entry is dated before
its books were opened or in a closed month.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now

from cynco.ids import new_id
from cynco.models import TenantModel


def new_account_id() -> str:
    return new_id("lacct")


def new_journal_entry_id() -> str:
    return new_id("je")


def new_journal_line_id() -> str:
    return new_id("jl")


def new_reconciliation_run_id() -> str:
    return new_id("lrec")


class AccountType(models.TextChoices):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"


class NormalBalance(models.TextChoices):
    DEBIT = "debit"
    CREDIT = "credit"


class Account(TenantModel):
    """One account of a merchant environment's chart (DESIGN.md, Ledger), e.g. 1200 Receivable.

    Gateway clearing has one sub-account per gateway (`1100-stripe`) under its parent `1100`;
    lines are posted to the sub-accounts and the parent's balance is their sum.
    """

    id = models.CharField(primary_key=True, max_length=40, default=new_account_id, editable=False)
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=10, choices=AccountType.choices)
    normal_balance = models.CharField(max_length=6, choices=NormalBalance.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment", "code"], name="ledger_account_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SourceType(models.TextChoices):
    """What kind of business record caused an entry."""

    INVOICE = "invoice"
    PAYMENT = "payment"
    REFUND = "refund"
    SUBSCRIPTION_CHANGE = "subscription_change"
    JOURNAL_ENTRY = "journal_entry"  # the source of a reversing entry is the entry it reverses


class EntryKind(models.TextChoices):
    """Which posting rule made an entry; one entry per (source, kind)."""

    INVOICE_FINALIZED = "invoice_finalized"
    PAYMENT_CAPTURED = "payment_captured"
    REFUND = "refund"
    UPGRADE_CREDIT = "upgrade_credit"
    CREDIT_APPLIED = "credit_applied"
    WRITE_OFF = "write_off"
    GATEWAY_FEE = "gateway_fee"
    REVERSAL = "reversal"


class JournalEntry(TenantModel):
    """A posted, balanced transaction. Immutable once inserted (the database refuses changes)."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_journal_entry_id, editable=False
    )
    date = models.DateField()
    memo = models.CharField(max_length=500, blank=True, default="")
    source_type = models.CharField(max_length=30, choices=SourceType.choices)
    source_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=30, choices=EntryKind.choices)
    # The invoice an entry concerns (its own for a finalized invoice; the paid, refunded or
    # written-off one otherwise), so reconciliation can settle receivables invoice by invoice.
    invoice_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    # Set by the database to the posting transaction's start time (see migration 0002).
    posted_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name_plural = "journal entries"
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "environment", "source_type", "source_id", "kind"],
                name="ledger_entry_once_per_source_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "environment", "date"], name="ledger_entry_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.kind} {self.source_type} {self.source_id}"


class JournalLine(TenantModel):
    """One debit or one credit of an entry, in minor units of one currency."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_journal_line_id, editable=False
    )
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    debit = models.BigIntegerField(default=0)
    credit = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    (models.Q(debit__gt=0) & models.Q(credit=0))
                    | (models.Q(debit=0) & models.Q(credit__gt=0))
                ),
                name="ledger_line_debit_xor_credit",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"),
                name="ledger_line_currency_code",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "currency"], name="ledger_line_account_idx"),
        ]

    def __str__(self) -> str:
        side = f"DR {self.debit}" if self.debit else f"CR {self.credit}"
        return f"{self.account_id} {side} {self.currency}"


class ReconciliationRun(models.Model):
    """One run of `reconcile_ledger` (by the daily beat job or by hand) and what it found."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_reconciliation_run_id, editable=False
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    checks = models.PositiveIntegerField(default=0)
    differences = models.PositiveIntegerField(default=0)
    # Every check made: [{merchant, environment, check, subject, expected, actual, ok}].
    rows = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'clean' if self.ok else 'DIFFERENCES'}"


def new_books_id() -> str:
    return new_id("lbooks")


def new_period_event_id() -> str:
    return new_id("lper")


class Books(TenantModel):
    """The books of one merchant environment: the day they were opened and the last day of the
    last closed month. The database refuses an entry dated before `opened_on`, or on or before
    `closed_through` (migration 0005); a correction after a close is posted in the open period.
    """

    id = models.CharField(primary_key=True, max_length=40, default=new_books_id, editable=False)
    opened_on = models.DateField()
    closed_through = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "books"
        constraints = [
            models.UniqueConstraint(fields=["merchant", "environment"], name="ledger_books_once"),
        ]

    def __str__(self) -> str:
        closed = f"closed through {self.closed_through}" if self.closed_through else "none closed"
        return f"books opened {self.opened_on}, {closed}"


class PeriodAction(models.TextChoices):
    CLOSE = "close"
    REOPEN = "reopen"


class PeriodEvent(TenantModel):
    """One close or reopen of a month of the books, by whom and when (the audit of periods)."""

    id = models.CharField(
        primary_key=True, max_length=40, default=new_period_event_id, editable=False
    )
    action = models.CharField(max_length=6, choices=PeriodAction.choices)
    month = models.DateField()  # its first day
    closed_through_before = models.DateField(null=True, blank=True)
    closed_through_after = models.DateField(null=True, blank=True)
    by = models.CharField(max_length=150)
    reason = models.CharField(max_length=500, blank=True, default="")
    at = models.DateTimeField()  # wall time

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.action} {self.month:%Y-%m} by {self.by}"
