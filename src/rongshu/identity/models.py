"""Identity tables. Secrets are never stored in clear: passwords are argon2 hashes (Django's
hasher), one-time codes, access and refresh tokens and client secrets are keyed SHA-256 digests
of high-entropy values; PII is encrypted (``EncryptedTextField``) with a blind index for
uniqueness; the webhook signing secret is encrypted because it must be used, not just checked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rongshu.kernel.ids import new_id
from rongshu.kernel.pii import EncryptedTextField


class CustomerCredential(models.Model):
    """A retail customer's login: mobile number, real-name data and the Django user."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="customer_credential"
    )
    phone = models.CharField(max_length=11, unique=True)  # the login name, e.g. 13800000001
    real_name = EncryptedTextField()
    resident_id = EncryptedTextField()
    resident_id_index = models.CharField(max_length=64, unique=True)  # blind index
    home_branch_code = models.CharField(max_length=10, default="0001")
    region_code = models.CharField(max_length=6, default="110000")  # GB/T 2260 province
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"customer {self.public_id}"


class StaffMember(models.Model):
    """A bank employee's role and data scope (one role per member; four-eyes to change it)."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_member"
    )
    role = models.CharField(max_length=30)
    branch_code = models.CharField(max_length=10, default="0001")
    region_code = models.CharField(max_length=6, default="110000")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"staff {self.user_id} ({self.role})"


class PartnerClient(models.Model):
    """An OAuth2 confidential client of a third party (client-credentials grant)."""

    client_id = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    partner_ref = models.CharField(max_length=80, blank=True)  # the catalog's partner id
    secret_hash = models.CharField(max_length=64)
    previous_secret_hash = models.CharField(max_length=64, blank=True)
    previous_secret_valid_until = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list)
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    webhook_secret = EncryptedTextField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    secret_rotated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class PartnerRateWindow(models.Model):
    """Requests of one client in one fixed one-minute window."""

    client = models.ForeignKey(PartnerClient, on_delete=models.CASCADE)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "window_start"], name="partner_rate_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}@{self.window_start}: {self.count}"


class LoginThrottle(models.Model):
    """Consecutive failed sign-ins for a key (a hashed login name or a client address)."""

    key = models.CharField(max_length=100, unique=True)
    failures = models.PositiveIntegerField(default=0)
    blocked_until = models.DateTimeField(null=True, blank=True)
    locked = models.BooleanField(default=False)  # locked out (until locked_until)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"


class Device(models.Model):
    """A browser or app install a customer signed in from; trusted after an OTP check."""

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    fingerprint = models.CharField(max_length=64)  # sha256 of the device identifier
    label = models.CharField(max_length=200, blank=True)
    trusted_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "fingerprint"], name="device_user_fp_uniq")
        ]

    def __str__(self) -> str:
        return f"device {self.public_id}"


class UserSession(models.Model):
    """A sign-in: a web session (Django session key) or an app's token family."""

    WEB = "web"
    APP = "app"
    KINDS = [(WEB, "web"), (APP, "app")]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=3, choices=KINDS)
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL)
    ip_address = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"session {self.public_id} ({self.kind})"


class AccessToken(models.Model):
    """A short-lived bearer token; only its digest is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    session = models.ForeignKey(UserSession, null=True, blank=True, on_delete=models.CASCADE)
    client = models.ForeignKey(PartnerClient, null=True, blank=True, on_delete=models.CASCADE)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"access token {self.pk}"


class RefreshToken(models.Model):
    """A refresh token, rotated on each use; reuse of a spent one revokes the whole family."""

    token_hash = models.CharField(max_length=64, unique=True)
    session = models.ForeignKey(UserSession, on_delete=models.CASCADE)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.pk}"


class OtpChallenge(models.Model):
    """A one-time code sent by SMS: hashed, single use, expiring, limited attempts."""

    STEP_UP = "step_up"
    REGISTER = "register"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose name
    PURPOSES = [(STEP_UP, "step-up"), (REGISTER, "registration"), (PASSWORD_RESET, "reset")]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    purpose = models.CharField(max_length=20, choices=PURPOSES)
    phone = models.CharField(max_length=11)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    session = models.ForeignKey(UserSession, null=True, blank=True, on_delete=models.CASCADE)
    action = models.CharField(max_length=80, blank=True)  # what a step-up is for
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"otp {self.public_id} ({self.purpose})"


class StepUpGrant(models.Model):
    """Proof that a session passed an OTP check for an action, spent by the action."""

    session = models.ForeignKey(UserSession, on_delete=models.CASCADE)
    action = models.CharField(max_length=80)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"step-up {self.action} for {self.session_id}"


class SmsMessage(models.Model):
    """The SMS simulator's inbox (and log of what the real gateway was asked to send)."""

    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"
    STATES = [(QUEUED, "queued"), (DELIVERED, "delivered"), (FAILED, "failed")]

    message_id = models.UUIDField(default=new_id, unique=True, editable=False)
    phone = models.CharField(max_length=11, db_index=True)
    text = EncryptedTextField()  # holds one-time codes: encrypted at rest
    state = models.CharField(max_length=10, choices=STATES, default=QUEUED)
    accepted_at = models.DateTimeField()
    deliver_at = models.DateTimeField()  # when the handset "receives" it
    error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"sms {self.message_id} ({self.state})"


class ApprovalRequest(models.Model):
    """Four-eyes: one staff member asks, another (never the same) approves or rejects."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    STATES = [(PENDING, "pending"), (APPROVED, "approved"), (REJECTED, "rejected")]

    public_id = models.UUIDField(default=new_id, unique=True, editable=False)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=80)
    payload = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    branch_code = models.CharField(max_length=10)
    region_code = models.CharField(max_length=6)
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    decided_by = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"approval {self.public_id} {self.action} ({self.state})"


class ConsentRecord(models.Model):
    """Append-only history of consent decisions; the latest per purpose is in force."""

    customer = models.ForeignKey(CustomerCredential, on_delete=models.CASCADE)
    purpose = models.CharField(max_length=30)
    granted = models.BooleanField()
    notice_version = models.CharField(max_length=20)
    channel = models.CharField(max_length=20, default="web")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["customer", "purpose", "at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.purpose} {'granted' if self.granted else 'withdrawn'}"
