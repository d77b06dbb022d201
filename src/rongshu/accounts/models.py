"""Accounts tables. Balances live in the ledger; these rows hold what makes a ledger account a
customer's bank account: its number, class (Type I/II/III), product, binding and usage."""

from __future__ import annotations

from django.db import models

from rongshu.kernel.ids import new_id
from rongshu.kernel.pii import EncryptedTextField


class AccountHolder(models.Model):
    """One row per customer who has accounts: the lock taken when opening (per-bank counts)
    and the notification preferences (channels per message kind, quiet hours)."""

    customer_id = models.UUIDField(unique=True)
    phone = models.CharField(max_length=11, blank=True)  # SMS destination (the login phone)
    sms_kinds = models.JSONField(default=list)  # kinds also sent by SMS
    quiet_start = models.TimeField(null=True, blank=True)  # bank time zone
    quiet_end = models.TimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"holder {self.customer_id}"


class CustomerAccount(models.Model):
    TYPE_I = 1
    TYPE_II = 2
    TYPE_III = 3
    TYPES = [(TYPE_I, "Type I"), (TYPE_II, "Type II"), (TYPE_III, "Type III")]
    OPEN = "open"
    CLOSING = "closing"  # its balance is on its way to the bound account at another bank
    CLOSED = "closed"
    STATUSES = [(OPEN, "open"), (CLOSING, "closing"), (CLOSED, "closed")]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    holder = models.ForeignKey(AccountHolder, on_delete=models.PROTECT, related_name="accounts")
    customer_id = models.UUIDField(db_index=True)
    ledger_account_id = models.UUIDField(unique=True)
    account_number = models.CharField(max_length=19, unique=True)
    account_type = models.PositiveSmallIntegerField(choices=TYPES)
    product_code = models.CharField(max_length=40)
    currency = models.CharField(max_length=3, default="CNY")
    holder_name = EncryptedTextField()
    # The Type I account a Type II/III account is bound to: ours or another bank's.
    bound_bank_code = models.CharField(max_length=12, blank=True)
    bound_account_number = models.CharField(max_length=32, blank=True)
    bound_ledger_account_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=STATUSES, default=OPEN)
    self_frozen = models.BooleanField(default=False)  # frozen by the customer (lost phone)
    verified_in_person_by = models.CharField(max_length=80, blank=True)  # Type I: staff key
    verification_note = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # while ``closing``: the payment order (public id) sweeping the balance to another bank
    closing_order_id = models.UUIDField(null=True, blank=True, unique=True)

    def __str__(self) -> str:
        return f"{self.account_number} (type {self.account_type})"


class NumberSequence(models.Model):
    """The next serial per branch for account numbers (row-locked while allocating)."""

    branch_code = models.CharField(max_length=4, unique=True)
    next_serial = models.BigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.branch_code}: {self.next_serial}"


class UsageCounter(models.Model):
    """Outgoing amounts to non-bound accounts per account and period (day or year).

    Raised only by a conditional ``UPDATE … WHERE used + amount <= cap``: two concurrent
    payments cannot both pass a cap."""

    DAY = "day"
    YEAR = "year"
    account = models.ForeignKey(CustomerAccount, on_delete=models.CASCADE)
    period = models.CharField(max_length=4)
    period_start = models.DateField()
    used_minor = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period", "period_start"], name="accounts_usage_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period} {self.period_start}: {self.used_minor}"


class Notification(models.Model):
    MOVEMENT = "movement"
    SECURITY = "security"
    PAYMENT = "payment"
    STATEMENT = "statement"
    KINDS = [
        (MOVEMENT, "account movement"),
        (SECURITY, "security"),
        (PAYMENT, "payment status"),
        (STATEMENT, "statement"),
    ]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    customer_id = models.UUIDField()
    kind = models.CharField(max_length=10, choices=KINDS)
    title = models.CharField(max_length=200)  # as written (bilingual): SMS and legacy rows
    # translated for each reader at display time: gettext(title_msgid) % title_params
    title_msgid = models.CharField(max_length=200, blank=True)
    title_params = models.JSONField(default=dict, blank=True)
    body = models.CharField(max_length=1000)
    account_number = models.CharField(max_length=19, blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True)  # handlers are idempotent
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer_id", "-id"], name="accounts_notif_cust")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"


class NotificationDelivery(models.Model):
    """A notification sent through another channel (SMS); deferred through quiet hours."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE)
    channel = models.CharField(max_length=10)
    destination = models.CharField(max_length=40)
    state = models.CharField(max_length=8, default=PENDING)
    send_after = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="accounts_delivery_uniq"
            )
        ]
        indexes = [models.Index(fields=["state", "send_after"], name="accounts_delivery_due")]

    def __str__(self) -> str:
        return f"{self.channel} {self.state}"


class EStatement(models.Model):
    """A monthly e-statement: the period and its balances (lines are re-read from the
    immutable ledger history when the statement is shown)."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    account = models.ForeignKey(CustomerAccount, on_delete=models.CASCADE)
    month = models.DateField()  # first day of the month
    opening_balance = models.BigIntegerField()
    closing_balance = models.BigIntegerField()
    generated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="accounts_estatement_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m}"


class SimulatedExternalAccount(models.Model):
    """Accounts at other banks as the binding-verification simulator knows them."""

    bank_code = models.CharField(max_length=12)
    account_number = models.CharField(max_length=32)
    holder_name = models.CharField(max_length=100)
    account_class = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, default="active")  # active, closed, frozen

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bank_code", "account_number"], name="accounts_simext_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bank_code}/{self.account_number}"


class DepositCertificate(models.Model):
    """A deposit certificate (存款证明): the certified amount of an account on the day it was
    issued, optionally frozen until ``frozen_until`` by a ledger hold (released by the EOD job
    ``accounts.release_certificate_holds`` after that day). Staff verify it by its code."""

    FROZEN = "frozen"  # the certified amount is held
    ISSUED = "issued"  # no freeze (a balance certificate as of the issue time)
    RELEASED = "released"  # the hold was released at expiry
    STATES = [(FROZEN, "frozen"), (ISSUED, "issued"), (RELEASED, "released")]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    account = models.ForeignKey(CustomerAccount, on_delete=models.PROTECT)
    customer_id = models.UUIDField(db_index=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    purpose = models.CharField(max_length=100, blank=True)
    frozen_until = models.DateField(null=True, blank=True)  # inclusive, bank time zone
    hold_transfer_id = models.UUIDField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=STATES)
    verification_code = models.CharField(max_length=19, unique=True)  # XXXX-XXXX-XXXX-XXXX
    issued_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    # the web form's one-time key: a double submit returns the first certificate
    request_key = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "frozen_until"], name="accounts_cert_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "request_key"],
                condition=~models.Q(request_key=""),
                name="accounts_cert_request_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"certificate {self.verification_code}"
