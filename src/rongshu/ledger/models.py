"""Ledger tables: accounts with their balances, immutable transfers, holds, snapshots, interest.

After TigerBeetle's data model: an account carries four running totals (debits and credits,
pending and posted) in minor units; a transfer moves an amount from a debit account to a credit
account of the same currency and is never changed once written. Two-phase transfers keep their
state (pending → posted / voided / expired) in :class:`Hold`, an index beside the immutable
transfer row.
"""

from __future__ import annotations

from django.db import models

from rongshu.kernel.ids import new_id

INT64_MAX = 2**63 - 1


class Account(models.Model):
    # Owners
    OWNER_BANK = "bank"
    OWNER_CUSTOMER = "customer"
    OWNER_COMPANY = "company"
    OWNER_PARTNER = "partner"
    OWNER_TYPES = [
        (OWNER_BANK, "bank"),
        (OWNER_CUSTOMER, "customer"),
        (OWNER_COMPANY, "company"),
        (OWNER_PARTNER, "partner"),
    ]
    # Kinds (the accounting equation's five)
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"
    KINDS = [
        (ASSET, "asset"),
        (LIABILITY, "liability"),
        (EQUITY, "equity"),
        (INCOME, "income"),
        (EXPENSE, "expense"),
    ]
    # Statuses
    OPEN = "open"
    DEBIT_FROZEN = "debit_frozen"
    FROZEN = "frozen"
    CLOSED = "closed"
    STATUSES = [
        (OPEN, "open"),
        (DEBIT_FROZEN, "debit frozen"),
        (FROZEN, "frozen"),
        (CLOSED, "closed"),
    ]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    # A stable key for accounts of the bank's chart ("deposits.customer.CNY"); null otherwise.
    code = models.CharField(max_length=80, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200)
    owner_type = models.CharField(max_length=10, choices=OWNER_TYPES)
    owner_id = models.CharField(max_length=80, blank=True, db_index=True)
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=10, choices=KINDS)
    product_code = models.CharField(max_length=40, blank=True, db_index=True)
    debits_must_not_exceed_credits = models.BooleanField(default=False)
    credits_must_not_exceed_debits = models.BooleanField(default=False)
    # With debits_must_not_exceed_credits: how far debits may exceed credits (an overdraft).
    overdraft_limit = models.BigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=STATUSES, default=OPEN)
    debits_pending = models.BigIntegerField(default=0)
    debits_posted = models.BigIntegerField(default=0)
    credits_pending = models.BigIntegerField(default=0)
    credits_posted = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # The open four-eyes approval to unfreeze this account (at most one at a time); cleared
    # when it is decided or the account leaves the frozen statuses.
    pending_unfreeze = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(debits_pending__gte=0)
                & models.Q(debits_posted__gte=0)
                & models.Q(credits_pending__gte=0)
                & models.Q(credits_posted__gte=0)
                & models.Q(overdraft_limit__gte=0),
                name="ledger_account_totals_non_negative",
            ),
            models.CheckConstraint(
                condition=~(
                    models.Q(debits_must_not_exceed_credits=True)
                    & models.Q(credits_must_not_exceed_debits=True)
                ),
                name="ledger_account_one_constraint_flag",
            ),
        ]
        indexes = [models.Index(fields=["currency", "kind"])]

    def __str__(self) -> str:
        return f"{self.code or self.public_id} {self.name} ({self.currency})"

    @property
    def normal_credit(self) -> bool:
        """Liabilities, equity and income grow with credits; assets and expenses with debits."""
        return self.kind in (self.LIABILITY, self.EQUITY, self.INCOME)

    @property
    def posted_balance(self) -> int:
        """Posted balance in the account's natural sign (positive for a normal balance)."""
        net = self.credits_posted - self.debits_posted
        return net if self.normal_credit else -net

    @property
    def available_balance(self) -> int:
        """Posted balance less holds against it (natural sign)."""
        if self.normal_credit:
            return self.credits_posted - self.debits_posted - self.debits_pending
        return self.debits_posted - self.credits_posted - self.credits_pending


class Transfer(models.Model):
    """One immutable movement from ``debit_account`` to ``credit_account``."""

    # kinds (TigerBeetle's flags pending / post_pending_transfer / void_pending_transfer)
    SINGLE = "single"
    PENDING = "pending"
    POST = "post"
    VOID = "void"
    EXPIRY = "expiry"  # written by the hold-expiry job: releases an expired hold
    KINDS = [
        (SINGLE, "single-phase"),
        (PENDING, "pending (hold)"),
        (POST, "post pending"),
        (VOID, "void pending"),
        (EXPIRY, "expire pending"),
    ]

    transfer_id = models.UUIDField(unique=True)  # client-supplied: the idempotency key
    # Indexed by the (account, id) indexes below, which also serve statements and as-of queries.
    # No database FOREIGN KEY (ADR 0005): every writer resolves and locks both accounts before
    # the insert and accounts are never deleted (closed instead); a deferred FK check per row
    # cost PostgreSQL a third of a batch's server time.
    debit_account = models.ForeignKey(
        Account, models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    credit_account = models.ForeignKey(
        Account, models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=8, choices=KINDS, default=SINGLE)
    linked = models.BooleanField(default=False)
    pending_id = models.UUIDField(null=True, blank=True)
    timeout = models.PositiveIntegerField(default=0)  # seconds, pending transfers only
    code = models.CharField(max_length=40)
    reference = models.CharField(max_length=140, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    # Posted balance (credits − debits) of each account right after this transfer, so a
    # statement page shows a running balance without summing the history.
    debit_account_net_after = models.BigIntegerField()
    credit_account_net_after = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="ledger_amount_gte_0"),
            models.CheckConstraint(
                condition=~models.Q(debit_account=models.F("credit_account")),
                name="ledger_accounts_differ",
            ),
        ]
        indexes = [
            models.Index(fields=["debit_account", "id"], name="ledger_tr_debit_idx"),
            models.Index(fields=["credit_account", "id"], name="ledger_tr_credit_idx"),
            models.Index(
                fields=["pending_id"],
                condition=models.Q(pending_id__isnull=False),
                name="ledger_tr_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.transfer_id} {self.amount} {self.currency}"

    @property
    def moves_posted(self) -> bool:
        return self.kind in (self.SINGLE, self.POST)


class Hold(models.Model):
    """The state of one pending transfer (the only mutable part of a two-phase transfer)."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"
    STATES = [(PENDING, "pending"), (POSTED, "posted"), (VOIDED, "voided"), (EXPIRED, "expired")]

    transfer_id = models.UUIDField(unique=True)  # the pending transfer's id
    debit_account = models.ForeignKey(Account, models.PROTECT, related_name="+")
    credit_account = models.ForeignKey(Account, models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    state = models.CharField(max_length=8, choices=STATES, default=PENDING)
    expires_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.UUIDField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "expires_at"], name="ledger_hold_expiry_idx")]

    def __str__(self) -> str:
        return f"hold {self.transfer_id} {self.state}"


class BalanceSnapshot(models.Model):
    """An account's balances at the end of a business date (interest and analytics read it)."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="snapshots")
    business_date = models.DateField()
    debits_posted = models.BigIntegerField()
    credits_posted = models.BigIntegerField()
    debits_pending = models.BigIntegerField()
    credits_pending = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "business_date"], name="ledger_snapshot_account_date_uniq"
            )
        ]
        indexes = [models.Index(fields=["business_date"])]

    def __str__(self) -> str:
        return f"{self.account_id} on {self.business_date}"


class InterestRate(models.Model):
    """An annual rate for a product from a date on (a later row changes the rate mid-period)."""

    product_code = models.CharField(max_length=40)
    currency = models.CharField(max_length=3)
    annual_rate = models.DecimalField(max_digits=9, decimal_places=6)  # 0.003500 = 0.35 %
    effective_on = models.DateField()
    day_count = models.PositiveSmallIntegerField(default=360)  # CN deposits: actual/360
    rounding = models.CharField(max_length=20, default="ROUND_HALF_UP")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product_code", "currency", "effective_on"], name="ledger_rate_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_code} {self.currency} {self.annual_rate} from {self.effective_on}"


class InterestAccrual(models.Model):
    """Interest accrued on one account for one business date (exact, unrounded Decimal)."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="accruals")
    business_date = models.DateField()
    balance = models.BigIntegerField()  # the day's closing posted balance, natural sign
    annual_rate = models.DecimalField(max_digits=9, decimal_places=6)
    amount = models.DecimalField(max_digits=30, decimal_places=10)  # minor units, unrounded
    settled_by = models.UUIDField(null=True, blank=True)  # the settlement transfer

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "business_date"], name="ledger_accrual_account_date_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.business_date} {self.amount}"
