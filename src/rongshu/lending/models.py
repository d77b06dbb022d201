"""Lending tables: model registry, borrowers, pre-approved offers, applications, loans and
their instalments, write-off requests. Money columns are ``*_minor`` + currency (CNY)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from rongshu.kernel.ids import new_id


class ModelVersion(models.Model):
    """A credit model in the registry: draft → approved (four-eyes) → active → retired."""

    DRAFT, APPROVED, ACTIVE, RETIRED = "draft", "approved", "active", "retired"
    STATES = [(s, s) for s in (DRAFT, APPROVED, ACTIVE, RETIRED)]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    name = models.CharField(max_length=80)
    version = models.CharField(max_length=40)
    kind = models.CharField(max_length=20)
    artifact = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    metrics = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=STATES, default=DRAFT)
    submitted_by = models.CharField(max_length=80)
    approved_by = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="lending_model_uniq"),
            models.UniqueConstraint(
                fields=["state"], condition=Q(state="active"), name="lending_one_active_model"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version} ({self.state})"


class Borrower(models.Model):
    """What lending keeps about a customer: birth date (from the resident ID, cached at the
    first application), the blacklist flag and, for small businesses, the annual turnover."""

    customer_id = models.UUIDField(unique=True)
    birth_on = models.DateField(null=True, blank=True)
    blacklisted = models.BooleanField(default=False)
    blacklist_reason = models.CharField(max_length=200, blank=True)
    business_turnover_minor = models.BigIntegerField(default=0)  # annual, for 善融e贷
    branch_code = models.CharField(max_length=10, blank=True)  # staff data scope
    region_code = models.CharField(max_length=6, blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"borrower {self.customer_id}"


class Offer(models.Model):
    """A pre-approved line (快贷 预授信) set by the nightly job."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    customer_id = models.UUIDField(db_index=True)
    product_code = models.CharField(max_length=30)
    limit_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    annual_rate = models.DecimalField(max_digits=9, decimal_places=6)
    score = models.IntegerField()
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT)
    business_date = models.DateField()
    expires_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "product_code"], name="lending_offer_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"offer {self.customer_id} {self.product_code} {self.limit_minor}"


OPEN_APPLICATION_STATES = ("referred", "approved", "accepted")


class Application(models.Model):
    """A loan application and its decision (the model version that decided is recorded)."""

    REFERRED, APPROVED, DECLINED = "referred", "approved", "declined"
    ACCEPTED, DISBURSED, CANCELLED = "accepted", "disbursed", "cancelled"
    STATES = [(s, s) for s in (REFERRED, APPROVED, DECLINED, ACCEPTED, DISBURSED, CANCELLED)]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    customer_id = models.UUIDField(db_index=True)
    product_code = models.CharField(max_length=30)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    term_months = models.IntegerField()
    method = models.CharField(max_length=20)
    state = models.CharField(max_length=10, choices=STATES)
    score = models.IntegerField(null=True, blank=True)
    pd = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=list)
    policy_codes = models.JSONField(default=list)
    bureau = models.JSONField(default=dict)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True, blank=True)
    limit_minor = models.BigIntegerField(default=0)
    annual_rate = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    disbursement_account_id = models.UUIDField(null=True, blank=True)  # ledger account
    reviewed_by = models.CharField(max_length=80, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_ms = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "product_code"],
                condition=Q(state__in=OPEN_APPLICATION_STATES),
                name="lending_one_open_application",
            )
        ]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"application {self.public_id} ({self.state})"


class Loan(models.Model):
    """An accepted contract and its running balances (the ledger holds the money)."""

    ACTIVE, CLOSED, WRITTEN_OFF = "active", "closed", "written_off"
    STATES = [(s, s) for s in (ACTIVE, CLOSED, WRITTEN_OFF)]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    application = models.OneToOneField(Application, on_delete=models.PROTECT)
    customer_id = models.UUIDField(db_index=True)
    product_code = models.CharField(max_length=30)
    currency = models.CharField(max_length=3, default="CNY")
    principal_minor = models.BigIntegerField()
    annual_rate = models.DecimalField(max_digits=9, decimal_places=6)
    penalty_rate = models.DecimalField(max_digits=9, decimal_places=6)
    method = models.CharField(max_length=20)
    term_months = models.IntegerField()
    start_on = models.DateField()
    maturity_on = models.DateField()
    repayment_account_id = models.UUIDField()  # the customer's ledger deposit account
    outstanding_minor = models.BigIntegerField()
    # exact interest accrued in the current period (the instalment whose period holds
    # ``accrued_on``) and the day through which accrual has run (inclusive)
    accrued_interest = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    accrued_on = models.DateField(null=True, blank=True)
    interest_accrued_minor = models.BigIntegerField(default=0)  # posted to the receivable
    principal_paid_minor = models.BigIntegerField(default=0)
    interest_paid_minor = models.BigIntegerField(default=0)
    penalty_paid_minor = models.BigIntegerField(default=0)
    written_off_minor = models.BigIntegerField(default=0)
    dpd = models.IntegerField(default=0)
    state = models.CharField(max_length=12, choices=STATES, default=ACTIVE)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT)
    contract_text = models.TextField()
    accepted_at = models.DateTimeField()
    disbursement_transfer_id = models.UUIDField()

    class Meta:
        indexes = [models.Index(fields=["state", "dpd"])]

    def __str__(self) -> str:
        return f"loan {self.public_id} ({self.state})"


class Instalment(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="instalments")
    seq = models.IntegerField()
    due_on = models.DateField()
    principal_minor = models.BigIntegerField()
    interest_minor = models.BigIntegerField()
    principal_paid_minor = models.BigIntegerField(default=0)
    interest_paid_minor = models.BigIntegerField(default=0)
    interest_accrued_minor = models.BigIntegerField(default=0)  # of ``interest_minor``, posted
    penalty_minor = models.BigIntegerField(default=0)  # penalty interest charged so far
    penalty_accrued = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    penalty_paid_minor = models.BigIntegerField(default=0)
    paid_on = models.DateField(null=True, blank=True)
    was_late = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="lending_instalment_uniq")
        ]
        indexes = [models.Index(fields=["due_on", "paid_on"])]

    def __str__(self) -> str:
        return f"instalment {self.loan_id}/{self.seq}"

    @property
    def due_minor(self) -> int:
        return (
            self.principal_minor
            - self.principal_paid_minor
            + self.interest_minor
            - self.interest_paid_minor
            + self.penalty_minor
            - self.penalty_paid_minor
        )


class Repayment(models.Model):
    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    kind = models.CharField(max_length=12)  # manual, auto_debit
    amount_minor = models.BigIntegerField()
    penalty_minor = models.BigIntegerField()
    interest_minor = models.BigIntegerField()
    principal_minor = models.BigIntegerField()
    business_date = models.DateField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"repayment {self.public_id}"


class WriteOff(models.Model):
    """A write-off request: needs a second risk officer (four-eyes)."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="write_offs")
    requested_by = models.CharField(max_length=80)
    reason = models.CharField(max_length=300)
    approved_by = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=10, default="pending")  # pending, approved
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"write-off {self.public_id}"
