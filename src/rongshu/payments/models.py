"""Payment orders and everything that explains them: state history, limit usage, payees,
merchants, one-time payment codes and QR refunds. Balances live only in the ledger."""

from __future__ import annotations

from django.db import models

from rongshu.kernel.ids import new_id


class PaymentOrder(models.Model):
    CREATED = "created"
    AUTHORIZED = "authorized"
    HELD = "funds_held"
    SUBMITTED = "submitted"
    SETTLED = "settled"
    REJECTED = "rejected"
    RETURNED = "returned"
    STATES = [
        (CREATED, "created"),
        (AUTHORIZED, "authorized"),
        (HELD, "funds held"),
        (SUBMITTED, "submitted"),
        (SETTLED, "settled"),
        (REJECTED, "rejected"),
        (RETURNED, "returned"),
    ]
    RAILS = [
        ("internal", "internal"),
        ("interbank", "interbank"),
        ("qr", "qr"),
        ("quickpay", "quick pay"),
    ]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    customer_id = models.UUIDField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    rail = models.CharField(max_length=10, choices=RAILS)
    channel = models.CharField(max_length=10)
    auth_level = models.CharField(max_length=10)
    state = models.CharField(max_length=12, choices=STATES, default=CREATED)
    debit_account_id = models.UUIDField()
    debtor_name = models.CharField(max_length=140, blank=True)
    amount_minor = models.BigIntegerField()
    fee_minor = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    creditor_account_id = models.UUIDField(null=True, blank=True)  # ledger account (ours)
    creditor_account_number = models.CharField(max_length=40, blank=True)
    creditor_name = models.CharField(max_length=140, blank=True)
    creditor_bank_code = models.CharField(max_length=20, blank=True)
    network = models.CharField(max_length=10, blank=True)
    # indexed only where set (Meta): most orders have no merchant
    merchant = models.ForeignKey(
        "Merchant", models.PROTECT, null=True, blank=True, related_name="orders", db_index=False
    )
    remittance_info = models.CharField(max_length=140, blank=True)
    reason_code = models.CharField(max_length=60, blank=True)
    hold_transfer_id = models.UUIDField(null=True, blank=True)
    settle_transfer_id = models.UUIDField(null=True, blank=True)
    fee_transfer_id = models.UUIDField(null=True, blank=True)
    reversal_transfer_id = models.UUIDField(null=True, blank=True)
    refunded_minor = models.BigIntegerField(default=0)
    limits_released = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="payments_order_unique_key",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="payments_order_amount_positive"
            ),
        ]
        # Partial indexes where most orders need no entry (docs/decisions/0006, third
        # addendum): an order in flight (the sweep's question) and an order with a merchant.
        indexes = [
            models.Index(fields=["customer_id", "-created_at"]),
            models.Index(
                fields=["state", "updated_at"],
                condition=models.Q(state__in=["funds_held", "submitted"]),
                name="payments_order_in_flight",
            ),
            models.Index(
                fields=["merchant", "-created_at"],
                condition=models.Q(merchant__isnull=False),
                name="payments_order_merchant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.rail} {self.state}"


class PaymentStateChange(models.Model):
    """One row per transition: the order's history (append-only)."""

    # No database constraint: a history row is written only with its order, in the order's
    # transaction, and orders are never deleted; a deferred check per row cost a trigger and
    # a row lock in every order's commit (docs/decisions/0006, third addendum).
    order = models.ForeignKey(
        PaymentOrder, models.CASCADE, related_name="history", db_constraint=False
    )
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    actor = models.CharField(max_length=120)
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.from_state}→{self.to_state}"


class LimitUsage(models.Model):
    """How much a customer has paid on a channel in a period (day or year); updated with a
    conditional UPDATE so concurrent payments can never pass the limit together."""

    customer_id = models.UUIDField()
    channel = models.CharField(max_length=10)
    period = models.CharField(max_length=4)  # "day" | "year"
    starts_on = models.DateField()
    currency = models.CharField(max_length=3)
    used_minor = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "channel", "period", "starts_on", "currency"],
                name="payments_limit_usage_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel} {self.period} {self.starts_on}"


class Payee(models.Model):
    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    customer_id = models.UUIDField(db_index=True)
    name = models.CharField(max_length=140)
    account_number = models.CharField(max_length=40, blank=True)
    ledger_account_id = models.UUIDField(null=True, blank=True)
    bank_code = models.CharField(max_length=20, blank=True)  # blank: one of ours
    nickname = models.CharField(max_length=60, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Merchant(models.Model):
    """A merchant holding an account with us (it receives QR payments there)."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    merchant_code = models.CharField(max_length=25, unique=True)
    name = models.CharField(max_length=25)
    city = models.CharField(max_length=15)
    mcc = models.CharField(max_length=4, default="5999")
    ledger_account_id = models.UUIDField()
    partner_client_id = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class PaymentCode(models.Model):
    """A customer-presented one-time payment code: short expiry, single use."""

    code = models.CharField(max_length=18, unique=True)
    customer_id = models.UUIDField(db_index=True)
    debit_account_id = models.UUIDField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    order = models.OneToOneField(
        PaymentOrder, models.PROTECT, null=True, blank=True, related_name="payment_code"
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.code[:4] + "…"


class DynamicQr(models.Model):
    """A dynamic merchant QR the bank issued: a collection request of the merchant (amount,
    bill number, expiry), payable once. Its ``reference`` travels in the payload (62/05);
    a payment takes the amount from here, not from the payload (whose CRC is no signature),
    and marks the request paid in the order's own transaction."""

    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"
    STATES = [(OPEN, "open"), (PAID, "paid"), (EXPIRED, "expired")]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    reference = models.CharField(max_length=25, unique=True)
    merchant = models.ForeignKey(Merchant, models.PROTECT, related_name="dynamic_qrs")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    bill_number = models.CharField(max_length=25, blank=True)
    state = models.CharField(max_length=8, choices=STATES, default=OPEN)
    expires_at = models.DateTimeField()
    order = models.OneToOneField(
        PaymentOrder, models.PROTECT, null=True, blank=True, related_name="dynamic_qr"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=120)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="payments_dynamic_qr_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(state="paid", order__isnull=False)
                | (~models.Q(state="paid") & models.Q(order__isnull=True)),
                name="payments_dynamic_qr_paid_has_order",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(state="open"),
                name="payments_dynamic_qr_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.state}"


class Refund(models.Model):
    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    order = models.ForeignKey(PaymentOrder, models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    transfer_id = models.UUIDField(unique=True)
    actor = models.CharField(max_length=120)
    reason = models.CharField(max_length=140, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"refund {self.amount_minor} of {self.order_id}"


# ------------------------------------------------------------------ quick pay (快捷支付)
class QuickPayMerchant(models.Model):
    """A merchant that debits bound customer accounts through the partner API (its
    ``Merchant.partner_client_id`` is the OAuth2 client that calls it), with the highest limits
    the bank allows a binding to it."""

    merchant = models.OneToOneField(Merchant, models.PROTECT, related_name="quickpay")
    max_per_transaction_minor = models.BigIntegerField()
    max_daily_minor = models.BigIntegerField()
    max_monthly_minor = models.BigIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    # where the bank POSTs the partner's signed notifications (blank: none are sent)
    notify_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"quick pay {self.merchant_id}"


class QuickPayBinding(models.Model):
    """A customer's account bound to a quick-pay merchant: consent, a one-time-code
    confirmation, an opaque token (only its digest is kept) and per-binding limits."""

    PENDING = "pending"
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"  # never confirmed: its one-time code ran out (end-of-day job)
    STATES = [
        (PENDING, "pending"),
        (ACTIVE, "active"),
        (REVOKED, "revoked"),
        (EXPIRED, "expired"),
    ]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    customer_id = models.UUIDField(db_index=True)
    debit_account_id = models.UUIDField()
    account_label = models.CharField(max_length=140, blank=True)
    merchant = models.ForeignKey(Merchant, models.PROTECT, related_name="quickpay_bindings")
    state = models.CharField(max_length=8, choices=STATES, default=PENDING)
    currency = models.CharField(max_length=3, default="CNY")
    per_transaction_minor = models.BigIntegerField()
    daily_minor = models.BigIntegerField()
    monthly_minor = models.BigIntegerField(null=True, blank=True)
    challenge_id = models.UUIDField(null=True, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)  # the one-time code's expiry
    # the suspension reason last notified to the partner ("" = none): a status change of the
    # account or the consent notifies only when the binding's suspension really changes
    reported_suspension = models.CharField(max_length=20, blank=True)
    consent_notice_version = models.CharField(max_length=20)
    consented_at = models.DateTimeField()
    token_hash = models.CharField(max_length=64, blank=True)
    token_issued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token_hash"],
                condition=~models.Q(token_hash=""),
                name="payments_quickpay_token_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(per_transaction_minor__gt=0, daily_minor__gt=0),
                name="payments_quickpay_limits_positive",
            ),
            # one active binding of an account to a merchant (two would add up their limits)
            models.UniqueConstraint(
                fields=["customer_id", "merchant", "debit_account_id"],
                condition=models.Q(state="active"),
                name="payments_quickpay_one_active_binding",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.state}"


class QuickPayUsage(models.Model):
    """How much a binding has been debited in a day or a month; consumed with one conditional
    UPDATE (the pattern of :class:`LimitUsage`), so concurrent debits never pass its limit."""

    binding = models.ForeignKey(QuickPayBinding, models.CASCADE, related_name="usage")
    period = models.CharField(max_length=5)  # "day" | "month"
    starts_on = models.DateField()
    used_minor = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["binding", "period", "starts_on"], name="payments_quickpay_usage_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.binding_id} {self.period} {self.starts_on}"


class QuickPayDebit(models.Model):
    """A partner's debit through a binding: the payment order it made, under the partner's own
    order id (unique per merchant: a retry answers the same order)."""

    order = models.OneToOneField(PaymentOrder, models.PROTECT, related_name="quickpay")
    binding = models.ForeignKey(QuickPayBinding, models.PROTECT, related_name="debits")
    merchant = models.ForeignKey(Merchant, models.PROTECT, related_name="quickpay_debits")
    client_order_id = models.CharField(max_length=64)
    merchant_fee_minor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "client_order_id"], name="payments_quickpay_client_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client_order_id} → {self.order_id}"


class QuickPayNotification(models.Model):
    """A signed notification to a quick-pay merchant's ``notify_url`` (binding state changes,
    settled and refunded debits). Created in the business transaction with an outbox event;
    delivered after commit by the outbox handler, at least once, under the stable
    ``event_id`` the partner de-duplicates on. Failed attempts are counted by the outbox event
    (its dedupe key is ``quickpay.notify:<event_id>``); a dead letter is resent from the
    console."""

    event_id = models.UUIDField(default=new_id, unique=True, editable=False)
    merchant = models.ForeignKey(Merchant, models.PROTECT, related_name="quickpay_notifications")
    event_type = models.CharField(max_length=40)
    body = models.JSONField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=0)  # successful deliveries (resends too)
    last_status = models.IntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["merchant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
