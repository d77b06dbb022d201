"""Lifepay tables: the biller registry (cities × items), saved bill accounts, bill payments
(each with its two-phase ledger hold), auto-pay mandates, notices, reconciliation runs and
breaks, settlements, and the biller simulator's own state (the biller's side of the world)."""

from __future__ import annotations

from django.db import models

from rongshu.kernel.ids import new_id


class City(models.Model):
    code = models.CharField(max_length=6, unique=True)  # GB/T 2260 prefecture-level code
    province_code = models.CharField(max_length=6, db_index=True)
    name_zh = models.CharField(max_length=40)
    name_en = models.CharField(max_length=80)

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"


class PaymentItem(models.Model):
    BILL = "bill"  # the biller issues bills; the customer pays them
    PREPAID = "prepaid"  # any amount tops up a balance
    MODES = [(BILL, "bill"), (PREPAID, "prepaid")]

    code = models.CharField(max_length=30, unique=True)
    category = models.CharField(max_length=20, db_index=True)
    name_zh = models.CharField(max_length=40)
    name_en = models.CharField(max_length=80)
    mode = models.CharField(max_length=8, choices=MODES, default=BILL)
    partial_allowed = models.BooleanField(default=False)
    account_format = models.CharField(max_length=20)
    position = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return self.code


class Biller(models.Model):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    PENDING = "pending"  # onboarded by a partner, waiting for staff approval
    REJECTED = "rejected"  # a partner's application staff turned down

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    code = models.CharField(max_length=40, unique=True)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="billers")
    item = models.ForeignKey(PaymentItem, on_delete=models.PROTECT, related_name="billers")
    name_zh = models.CharField(max_length=80)
    name_en = models.CharField(max_length=120)
    adapter_type = models.CharField(max_length=20, default="simulator")
    account_format = models.CharField(max_length=20)
    cutoff = models.TimeField()  # local time after which no payment is accepted that day
    maintenance_start = models.TimeField(null=True, blank=True)
    maintenance_end = models.TimeField(null=True, blank=True)
    fee_minor = models.BigIntegerField(default=0)  # charged to the customer per payment
    commission_bp = models.PositiveIntegerField(default=0)  # kept by the bank at settlement
    min_minor = models.BigIntegerField(default=1)
    max_minor = models.BigIntegerField(default=5_000_000)
    currency = models.CharField(max_length=3, default="CNY")
    clearing_account_id = models.UUIDField(null=True, blank=True)
    settlement_account_id = models.UUIDField(null=True, blank=True)
    partner_client_id = models.CharField(max_length=80, blank=True, db_index=True)
    status = models.CharField(max_length=10, default=ACTIVE)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["city", "item", "partner_client_id"], name="lifepay_biller_city_item"
            )
        ]

    def __str__(self) -> str:
        return self.code


class SavedBillAccount(models.Model):
    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    customer_id = models.UUIDField(db_index=True)
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT)
    account_no = models.CharField(max_length=40)
    nickname = models.CharField(max_length=40, blank=True)
    remind = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "biller", "account_no"], name="lifepay_saved_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.biller_id}:{self.account_no}"


class Mandate(models.Model):
    """An auto-pay mandate (代扣): pay this account's bills on their due date, up to a limit."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    customer_id = models.UUIDField(db_index=True)
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT)
    account_no = models.CharField(max_length=40)
    debit_account_id = models.UUIDField()
    limit_minor = models.BigIntegerField()
    due_day = models.PositiveSmallIntegerField(db_index=True)  # the biller's due day of month
    active = models.BooleanField(default=True)
    paused = models.BooleanField(default=False)  # kept, but skipped by the due-date run
    retry_on = models.DateField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_period = models.CharField(max_length=6, blank=True)  # YYYYMM last paid or skipped
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"mandate {self.public_id}"


class Settlement(models.Model):
    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT)
    business_date = models.DateField()
    count = models.PositiveIntegerField()
    gross_minor = models.BigIntegerField()
    commission_minor = models.BigIntegerField()
    net_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    transfer_id = models.UUIDField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["biller", "business_date"], name="lifepay_settlement_unique"
            )
        ]

    def __str__(self) -> str:
        return f"settlement {self.biller_id} {self.business_date}"


class BillPayment(models.Model):
    HELD = "held"  # customer funds held (ledger pending transfer), biller not yet answered
    UNKNOWN = "unknown"  # the biller timed out: held, re-queried until definite
    PAID = "paid"  # biller confirmed; hold posted
    FAILED = "failed"  # definite failure; hold voided
    REFUNDED = "refunded"  # paid, then given back (a reconciliation break)
    STATES = [
        (HELD, "held"),
        (UNKNOWN, "unknown"),
        (PAID, "paid"),
        (FAILED, "failed"),
        (REFUNDED, "refunded"),
    ]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    customer_id = models.UUIDField(db_index=True)
    idempotency_key = models.CharField(max_length=80)
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT)
    account_no = models.CharField(max_length=40)
    bill_ref = models.CharField(max_length=40, blank=True)
    amount_minor = models.BigIntegerField()
    fee_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    debit_account_id = models.UUIDField()
    channel = models.CharField(max_length=10, default="api")
    mandate = models.ForeignKey(Mandate, null=True, blank=True, on_delete=models.PROTECT)
    state = models.CharField(max_length=10, choices=STATES, db_index=True)
    reason_code = models.CharField(max_length=60, blank=True)
    biller_ref = models.CharField(max_length=60, blank=True)
    confirmations = models.PositiveIntegerField(default=0)
    requeries = models.PositiveIntegerField(default=0)
    refunded_minor = models.BigIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    business_date = models.DateField(db_index=True)
    settlement = models.ForeignKey(Settlement, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "idempotency_key"], name="lifepay_payment_key"
            )
        ]
        indexes = [models.Index(fields=["biller", "business_date", "state"])]

    def __str__(self) -> str:
        return f"bill payment {self.public_id}"


class Notice(models.Model):
    """A message to the customer (reminders, auto-pay results)."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    customer_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=20)  # reminder, autopay_paid, autopay_failed, refund
    dedupe_key = models.CharField(max_length=120, unique=True)
    text_en = models.CharField(max_length=300)
    text_zh = models.CharField(max_length=300)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"notice {self.kind}"


class ReconRun(models.Model):
    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT)
    business_date = models.DateField()
    file_text = models.TextField()  # the biller's CSV as received
    ours_count = models.PositiveIntegerField(default=0)
    theirs_count = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    breaks = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["biller", "business_date"], name="lifepay_recon_unique")
        ]

    def __str__(self) -> str:
        return f"recon {self.biller_id} {self.business_date}"


class Break(models.Model):
    OURS_ONLY = "ours_only"
    THEIRS_ONLY = "theirs_only"
    AMOUNT_MISMATCH = "amount_mismatch"
    # we voided a payment on the biller's error answer, it is not in the file, and the biller
    # could not be asked whether it booked it all the same (docs/lifepay.md, Reconciliation)
    UNCONFIRMED = "unconfirmed"
    OPEN = "open"
    RESOLVED = "resolved"

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    run = models.ForeignKey(ReconRun, on_delete=models.PROTECT, related_name="break_rows")
    biller = models.ForeignKey(Biller, on_delete=models.PROTECT)
    our_ref = models.CharField(max_length=60, db_index=True)
    kind = models.CharField(max_length=20)
    ours_minor = models.BigIntegerField(default=0)
    theirs_minor = models.BigIntegerField(default=0)
    state = models.CharField(max_length=10, default=OPEN, db_index=True)
    resolution = models.CharField(max_length=20, blank=True)
    resolved_by = models.CharField(max_length=80, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"break {self.kind} {self.our_ref}"


# ------------------------------------------------------------------ the simulator's side
class SimBillerState(models.Model):
    biller_code = models.CharField(max_length=40, unique=True)
    down = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.biller_code


class SimReceipt(models.Model):
    """A payment as the biller booked it (its ledger, not ours)."""

    biller_code = models.CharField(max_length=40, db_index=True)
    our_ref = models.CharField(max_length=60, unique=True)
    biller_ref = models.CharField(max_length=60)
    account_no = models.CharField(max_length=40)
    bill_ref = models.CharField(max_length=40, blank=True, db_index=True)
    amount_minor = models.BigIntegerField()
    booked_on = models.DateField()
    reversed = models.BooleanField(default=False)
    callbacks = models.PositiveSmallIntegerField(default=0)  # confirmations still to send
    in_file = models.BooleanField(default=True)  # a "missing" fault leaves it out of the file
    file_delta_minor = models.BigIntegerField(default=0)  # a "mismatch" fault's difference
    at = models.DateTimeField()

    def __str__(self) -> str:
        return self.our_ref
