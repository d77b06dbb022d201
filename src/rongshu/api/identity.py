"""Identity endpoints: registration, OAuth2-style tokens, sessions, devices, step-up,
consents, staff and approvals, partner clients.

The token endpoint takes JSON (not form-encoded) and answers errors as problem+json with the
OAuth2 error name as ``code`` (``invalid_grant``, ``invalid_client``, ``insufficient_scope``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from rongshu.api.auth import principal, principal_auth
from rongshu.api.base import command
from rongshu.identity import services as identity
from rongshu.identity.errors import AccessDenied, InvalidGrant
from rongshu.identity.types import (
    CONSENT_LABELS,
    CURRENT_NOTICE_VERSION,
    ConsentPurpose,
    IssuedTokens,
    OtpChallengeInfo,
    Principal,
    PrincipalKind,
)
from rongshu.kernel.errors import InvalidInput

router = Router(tags=["identity"])


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def _customer(request: HttpRequest) -> Principal:
    who = principal(request)
    if who.kind is not PrincipalKind.CUSTOMER:
        raise AccessDenied("Only customers can do this.")
    return who


def _signed_in_user(request: HttpRequest) -> Principal:
    who = principal(request)
    if who.kind not in (PrincipalKind.CUSTOMER, PrincipalKind.STAFF):
        raise AccessDenied("Only signed-in people have sessions and devices.")
    return who


# ------------------------------------------------------------------ schemas
class ChallengeOut(Schema):
    challenge_id: uuid.UUID
    masked_phone: str
    expires_in: int


def _challenge(info: OtpChallengeInfo) -> ChallengeOut:
    return ChallengeOut(
        challenge_id=info.challenge_id, masked_phone=info.masked_phone, expires_in=info.expires_in
    )


class PhoneIn(Strict):
    phone: str = Field(max_length=20, examples=["13800000001"])


class RegisterIn(Strict):
    challenge_id: str = Field(max_length=64)
    code: str = Field(max_length=10)
    password: str = Field(min_length=1, max_length=128)
    real_name: str = Field(max_length=50)
    resident_id: str = Field(max_length=20)


class RegisteredOut(Schema):
    customer_id: uuid.UUID


class TokenIn(Strict):
    grant_type: Literal["password", "client_credentials", "refresh_token"]
    username: str | None = Field(None, max_length=20, description="Mobile number (password)")
    password: str | None = Field(None, max_length=128)
    device_id: str | None = Field(None, max_length=128, description="App install id")
    device_name: str | None = Field(None, max_length=100)
    client_id: str | None = Field(None, max_length=40)
    client_secret: str | None = Field(None, max_length=100)
    scope: str | None = Field(None, max_length=200)
    refresh_token: str | None = Field(None, max_length=100)


class TokenOut(Schema):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str | None
    scope: str


def _tokens(issued: IssuedTokens) -> TokenOut:
    return TokenOut(
        access_token=issued.access_token,
        token_type=issued.token_type,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        scope=issued.scope,
    )


class RevokeIn(Strict):
    token: str = Field(max_length=100)


class ResetIn(Strict):
    challenge_id: str = Field(max_length=64)
    code: str = Field(max_length=10)
    new_password: str = Field(min_length=1, max_length=128)


class MeOut(Schema):
    kind: str
    customer_id: uuid.UUID | None
    staff_id: uuid.UUID | None
    partner_client_id: str | None
    session_id: uuid.UUID | None
    roles: list[str]
    scopes: list[str]
    branch_code: str
    region_code: str
    data_scope: str | None


class SessionOut(Schema):
    session_id: uuid.UUID
    kind: str
    user_agent: str
    ip_address: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    current: bool


class DeviceOut(Schema):
    device_id: uuid.UUID
    label: str
    trusted: bool
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime


class StepUpIn(Strict):
    action: str = Field(min_length=1, max_length=80, examples=["transfer.large"])


class StepUpVerifyIn(Strict):
    challenge_id: str = Field(max_length=64)
    code: str = Field(max_length=10)
    trust_device_id: str | None = Field(None, max_length=128)


class StepUpOut(Schema):
    action: str
    verified: bool


class ConsentOut(Schema):
    purpose: str
    description: str
    granted: bool
    notice_version: str
    at: dt.datetime | None


class ConsentIn(Strict):
    granted: bool
    notice_version: str = Field(CURRENT_NOTICE_VERSION, max_length=20)


class CustomerOut(Schema):
    customer_id: uuid.UUID
    phone: str
    real_name: str
    resident_id: str
    home_branch_code: str
    region_code: str


class StaffOut(Schema):
    staff_id: uuid.UUID
    username: str
    name: str
    role: str
    scope: str
    branch_code: str
    region_code: str
    active: bool


class RoleChangeIn(Strict):
    role: str = Field(max_length=30)


class ApprovalOut(Schema):
    approval_id: uuid.UUID
    action: str
    object_type: str
    object_id: str
    state: str
    requested_by: uuid.UUID
    requested_at: dt.datetime
    reason: str


class DecisionIn(Strict):
    note: str = Field("", max_length=500)


class ClientOut(Schema):
    client_id: str
    name: str
    partner_ref: str
    scopes: list[str]
    rate_limit_per_minute: int
    active: bool
    secret_rotated_at: dt.datetime
    previous_secret_valid_until: dt.datetime | None


class SecretOut(Schema):
    client_id: str
    client_secret: str
    previous_secret_valid_until: dt.datetime | None


class WebhookSecretOut(Schema):
    webhook_secret: str


# ------------------------------------------------------------------ anonymous: sign-up and tokens
@router.post(
    "/auth/register/start", response={202: ChallengeOut}, summary="Send a registration code"
)
@command()
def register_start(request: HttpRequest, payload: PhoneIn) -> Status[ChallengeOut]:
    return Status(202, _challenge(identity.do_start_registration(payload.phone)))


@router.post("/auth/register", response={201: RegisteredOut}, summary="Register a customer")
@command()
def register(request: HttpRequest, payload: RegisterIn) -> Status[RegisteredOut]:
    result = identity.do_register_customer(
        challenge_id=payload.challenge_id,
        code=payload.code,
        password=payload.password,
        real_name=payload.real_name,
        resident_id=payload.resident_id,
    )
    return Status(201, RegisteredOut(customer_id=uuid.UUID(result.customer_id)))


@router.post("/auth/token", response=TokenOut, summary="Issue tokens (OAuth2 grants)")
@command()
def token(request: HttpRequest, payload: TokenIn, response: HttpResponse) -> TokenOut:
    response["Cache-Control"] = "no-store"
    if payload.grant_type == "password":
        if not payload.username or payload.password is None:
            raise InvalidInput("username and password are required.", code="invalid_request")
        user_id = identity.do_authenticate_customer(
            payload.username, payload.password, address=_address(request)
        )
        return _tokens(
            identity.do_issue_app_tokens(
                user_id,
                device_key=payload.device_id,
                device_label=payload.device_name or "",
                address=_address(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        )
    if payload.grant_type == "client_credentials":
        if not payload.client_id or not payload.client_secret:
            raise InvalidInput("client_id and client_secret are required.", code="invalid_request")
        return _tokens(
            identity.do_issue_client_token(
                payload.client_id, payload.client_secret, payload.scope or ""
            )
        )
    if not payload.refresh_token:
        raise InvalidGrant()
    return _tokens(identity.do_refresh_tokens(payload.refresh_token))


@router.post("/auth/revoke", response={200: None}, summary="Revoke a token (RFC 7009)")
@command()
def revoke(request: HttpRequest, payload: RevokeIn) -> Status[None]:
    identity.do_revoke_token(payload.token)
    return Status(200, None)


@router.post(
    "/auth/password-reset/start", response={202: ChallengeOut}, summary="Send a reset code"
)
@command()
def password_reset_start(request: HttpRequest, payload: PhoneIn) -> Status[ChallengeOut]:
    return Status(202, _challenge(identity.do_start_password_reset(payload.phone)))


@router.post("/auth/password-reset/complete", response={204: None}, summary="Set a new password")
@command()
def password_reset_complete(request: HttpRequest, payload: ResetIn) -> Status[None]:
    identity.do_complete_password_reset(payload.challenge_id, payload.code, payload.new_password)
    return Status(204, None)


# ------------------------------------------------------------------ the caller
@router.get("/identity/me", response=MeOut, auth=principal_auth, summary="Who am I")
def me(request: HttpRequest) -> MeOut:
    who = principal(request)
    return MeOut(
        kind=who.kind.value,
        customer_id=who.customer_id,
        staff_id=who.staff_id,
        partner_client_id=who.partner_client_id,
        session_id=who.session_id,
        roles=sorted(who.roles),
        scopes=sorted(who.scopes),
        branch_code=who.branch_code,
        region_code=who.region_code,
        data_scope=who.scope_level.value if who.scope_level else None,
    )


@router.get(
    "/identity/sessions", response=list[SessionOut], auth=principal_auth, summary="My sessions"
)
def sessions(request: HttpRequest) -> list[SessionOut]:
    who = _signed_in_user(request)
    return [SessionOut(**vars(s)) for s in identity.list_sessions(who)]


@router.delete(
    "/identity/sessions/{session_id}",
    response={204: None},
    auth=principal_auth,
    summary="End one of my sessions",
)
@command()
def session_revoke(request: HttpRequest, session_id: uuid.UUID) -> Status[None]:
    identity.do_revoke_session(_signed_in_user(request), session_id)
    return Status(204, None)


@router.get(
    "/identity/devices", response=list[DeviceOut], auth=principal_auth, summary="My devices"
)
def devices(request: HttpRequest) -> list[DeviceOut]:
    who = _signed_in_user(request)
    return [DeviceOut(**vars(d)) for d in identity.list_devices(who)]


@router.delete(
    "/identity/devices/{device_id}",
    response={204: None},
    auth=principal_auth,
    summary="Forget a device",
)
@command()
def device_remove(request: HttpRequest, device_id: uuid.UUID) -> Status[None]:
    identity.do_remove_device(_signed_in_user(request), device_id)
    return Status(204, None)


@router.post(
    "/identity/step-up",
    response={202: ChallengeOut},
    auth=principal_auth,
    summary="Send a one-time code to confirm an action",
)
@command()
def step_up_start(request: HttpRequest, payload: StepUpIn) -> Status[ChallengeOut]:
    return Status(202, _challenge(identity.do_start_step_up(_customer(request), payload.action)))


@router.post(
    "/identity/step-up/verify",
    response=StepUpOut,
    auth=principal_auth,
    summary="Confirm an action with the code",
)
@command()
def step_up_verify(request: HttpRequest, payload: StepUpVerifyIn) -> StepUpOut:
    who = _customer(request)
    action = identity.do_verify_step_up(who, payload.challenge_id, payload.code)
    if payload.trust_device_id:
        identity.do_trust_device(who, payload.trust_device_id)
    return StepUpOut(action=action, verified=True)


@router.get(
    "/identity/consents", response=list[ConsentOut], auth=principal_auth, summary="My consents"
)
def consents(request: HttpRequest) -> list[ConsentOut]:
    who = _customer(request)
    assert who.customer_id is not None
    return [_consent(c) for c in identity.list_consents(who.customer_id)]


def _consent(state: identity.ConsentState) -> ConsentOut:
    return ConsentOut(
        purpose=state.purpose,
        description=str(CONSENT_LABELS[ConsentPurpose(state.purpose)]),
        granted=state.granted,
        notice_version=state.notice_version,
        at=state.at,
    )


@router.put(
    "/identity/consents/{purpose}",
    response=ConsentOut,
    auth=principal_auth,
    summary="Grant or withdraw a consent",
)
@command()
def consent_set(request: HttpRequest, purpose: str, payload: ConsentIn) -> ConsentOut:
    who = _customer(request)
    assert who.customer_id is not None
    return _consent(
        identity.do_set_consent(
            who.customer_id,
            purpose,
            payload.granted,
            notice_version=payload.notice_version,
            channel="api",
        )
    )


# ------------------------------------------------------------------ staff
@router.get(
    "/identity/customers/{customer_id}",
    response=CustomerOut,
    auth=principal_auth,
    summary="A customer's identity profile (masked by role; staff views audited)",
)
def customer(request: HttpRequest, customer_id: uuid.UUID) -> CustomerOut:
    return CustomerOut(**vars(identity.access_customer(principal(request), customer_id)))


@router.get("/identity/staff", response=list[StaffOut], auth=principal_auth, summary="Staff")
def staff(request: HttpRequest) -> list[StaffOut]:
    return [StaffOut(**vars(s)) for s in identity.list_staff(principal(request))]


@router.post(
    "/identity/staff/{staff_id}/role",
    response={202: ApprovalOut},
    auth=principal_auth,
    summary="Request a role change (four-eyes)",
)
@command()
def staff_role(
    request: HttpRequest, staff_id: uuid.UUID, payload: RoleChangeIn
) -> Status[ApprovalOut]:
    approval = identity.do_request_role_change(principal(request), staff_id, payload.role)
    return Status(202, _approval(approval))


def _approval(a: object) -> ApprovalOut:
    from rongshu.identity.models import ApprovalRequest

    assert isinstance(a, ApprovalRequest)
    return ApprovalOut(
        approval_id=a.public_id,
        action=a.action,
        object_type=a.object_type,
        object_id=a.object_id,
        state=a.state,
        requested_by=a.requested_by.public_id,
        requested_at=a.requested_at,
        reason=a.reason,
    )


@router.get(
    "/identity/approvals",
    response=list[ApprovalOut],
    auth=principal_auth,
    summary="Approvals I may decide or have requested",
)
def approvals(request: HttpRequest) -> list[ApprovalOut]:
    return [_approval(a) for a in identity.list_approvals(principal(request))]


@router.post(
    "/identity/approvals/{approval_id}/approve",
    response=ApprovalOut,
    auth=principal_auth,
    summary="Approve (not your own request)",
)
@command()
def approve(request: HttpRequest, approval_id: uuid.UUID, payload: DecisionIn) -> ApprovalOut:
    return _approval(identity.do_approve(principal(request), approval_id, payload.note))


@router.post(
    "/identity/approvals/{approval_id}/reject",
    response=ApprovalOut,
    auth=principal_auth,
    summary="Reject (not your own request)",
)
@command()
def reject(request: HttpRequest, approval_id: uuid.UUID, payload: DecisionIn) -> ApprovalOut:
    return _approval(identity.do_reject(principal(request), approval_id, payload.note))


@router.get(
    "/identity/partners", response=list[ClientOut], auth=principal_auth, summary="Partner clients"
)
def partners(request: HttpRequest) -> list[ClientOut]:
    return [ClientOut(**vars(c)) for c in identity.list_clients(principal(request))]


@router.post(
    "/identity/partners/{client_id}/rotate-secret",
    response=SecretOut,
    auth=principal_auth,
    summary="Rotate a partner client's secret (the old one works 24 h more)",
)
@command()
def partner_rotate(request: HttpRequest, client_id: str) -> SecretOut:
    creds = identity.do_rotate_secret(principal(request), client_id)
    return SecretOut(
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        previous_secret_valid_until=creds.previous_secret_valid_until,
    )


# ------------------------------------------------------------------ partners themselves
@router.get(
    "/identity/partner/me",
    response=ClientOut,
    auth=principal_auth,
    summary="The calling partner client (scope: profile)",
)
def partner_me(request: HttpRequest) -> ClientOut:
    return ClientOut(**vars(identity.access_own_client(principal(request))))


@router.post(
    "/identity/partner/webhook-secret",
    response=WebhookSecretOut,
    auth=principal_auth,
    summary="Rotate the webhook signing secret (scope: webhooks)",
)
@command()
def partner_webhook_secret(request: HttpRequest) -> WebhookSecretOut:
    return WebhookSecretOut(webhook_secret=identity.do_rotate_webhook_secret(principal(request)))
