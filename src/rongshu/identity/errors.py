"""Identity errors: each has a stable snake_case ``code`` (the contract with clients).

Sign-in failures deliberately say the same thing whichever part was wrong (unknown phone, wrong
password, locked account): :class:`InvalidCredentials` and :class:`LoginThrottled` never name
the part.
"""

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    RuleViolation,
    Unauthenticated,
)


class Durable:
    """Errors whose side records (failure counters, spent codes, revoked token families, denial
    audits) must survive: the API's ``command`` wrapper commits instead of rolling back when the
    error is ``durable``. Raise them before a command writes anything else (the ``access_*`` and
    ``check_*`` functions run first by convention)."""

    durable: ClassVar[bool] = True


class InvalidCredentials(Durable, Unauthenticated):
    code = "invalid_credentials"
    title = _("The phone number or password is not correct.")


class InvalidToken(Unauthenticated):
    code = "invalid_token"
    title = _("The access token is missing, expired or revoked.")


class InvalidGrant(Durable, Unauthenticated):
    code = "invalid_grant"
    title = _("The grant is invalid, expired or already used.")


class InvalidClient(Durable, Unauthenticated):
    code = "invalid_client"
    title = _("The client credentials are not correct.")


class LoginThrottled(Durable, RateLimited):
    code = "login_throttled"
    title = _("Too many failed attempts; try again later.")


class OtpRateLimited(RateLimited):
    code = "otp_rate_limited"
    title = _("Too many codes were requested; try again later.")


class PartnerRateLimited(Durable, RateLimited):
    code = "partner_rate_limited"
    title = _("The partner's request rate limit is exceeded.")


class InvalidOtp(Durable, RuleViolation):
    code = "invalid_otp"
    title = _("The verification code is not correct, has expired or was already used.")


class StepUpRequired(PermissionDenied):
    """The action needs a fresh one-time code; start one with ``POST /identity/step-up``."""

    code = "step_up_required"
    title = _("This action needs verification with a one-time code.")


class ScopeMissing(Durable, PermissionDenied):
    code = "insufficient_scope"
    title = _("The client is not granted the scope this operation needs.")


class AccessDenied(Durable, PermissionDenied):
    code = "permission_denied"
    title = _("You are not allowed to do this.")


class PhoneAlreadyRegistered(Conflict):
    code = "phone_already_registered"
    title = _("This phone number cannot be registered.")


class IdentityAlreadyRegistered(Conflict):
    code = "identity_already_registered"
    title = _("This identity cannot be registered.")


class InvalidPhone(InvalidInput):
    code = "invalid_phone"
    title = _("Enter a mainland China mobile number (11 digits starting with 1).")


class InvalidResidentId(InvalidInput):
    code = "invalid_resident_id"
    title = _("Enter a valid 18-digit resident identity card number.")


class WeakPassword(InvalidInput):
    code = "weak_password"
    title = _("The password is too weak.")


class InvalidName(InvalidInput):
    code = "invalid_name"
    title = _("Enter your name as on your identity card.")


class UnknownPurpose(InvalidInput):
    code = "unknown_consent_purpose"
    title = _("Unknown consent purpose.")


class SessionNotFound(NotFound):
    code = "session_not_found"
    title = _("No such session.")


class DeviceNotFound(NotFound):
    code = "device_not_found"
    title = _("No such device.")


class ApprovalNotFound(NotFound):
    code = "approval_not_found"
    title = _("No such approval request.")


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    title = _("No such customer.")


class StaffNotFound(NotFound):
    code = "staff_not_found"
    title = _("No such staff member.")


class PartnerClientNotFound(NotFound):
    code = "partner_client_not_found"
    title = _("No such partner client.")


class SelfApproval(RuleViolation):
    code = "self_approval"
    title = _("The requester of an approval cannot decide it.")


class ApprovalAlreadyDecided(Conflict):
    code = "approval_already_decided"
    title = _("This approval request was already decided.")


class UnknownRole(InvalidInput):
    code = "unknown_role"
    title = _("Unknown staff role.")
