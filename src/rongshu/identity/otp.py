"""One-time codes by SMS and step-up authentication.

A code is six random digits, stored only as a keyed digest bound to its challenge id, valid for
:data:`CODE_TTL`, good for one successful use and :data:`MAX_ATTEMPTS` tries. A spent, expired or
exhausted challenge answers :class:`InvalidOtp` whatever the code (replay is rejected).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from django.db import transaction

from rongshu.identity._common import digest
from rongshu.identity.errors import (
    AccessDenied,
    InvalidOtp,
    OtpRateLimited,
    StepUpRequired,
)
from rongshu.identity.models import (
    CustomerCredential,
    OtpChallenge,
    StepUpGrant,
    UserSession,
)
from rongshu.identity.sms import SmsError, SmsRateLimited, get_gateway
from rongshu.identity.types import OtpChallengeInfo, Principal
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import PartnerUnavailable
from rongshu.kernel.ids import parse_id
from rongshu.kernel.pii import mask_phone

CODE_TTL = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
MAX_CHALLENGES = 5  # per phone and purpose …
CHALLENGE_WINDOW = dt.timedelta(minutes=15)  # … in this window
STEP_UP_TTL = dt.timedelta(minutes=5)  # a passed step-up must be spent within this time

_TEXTS = {
    OtpChallenge.STEP_UP: "【榕树银行】验证码{code}，用于确认操作，5分钟内有效，请勿告诉他人。"
    "Code {code} confirms your action; valid 5 min. Never share it.",
    OtpChallenge.REGISTER: "【榕树银行】验证码{code}，用于注册，5分钟内有效。"
    "Code {code} for registration; valid 5 min.",
    OtpChallenge.PASSWORD_RESET: "【榕树银行】验证码{code}，用于重置密码，5分钟内有效。"
    "Code {code} to reset your password; valid 5 min.",
}


def _code_digest(challenge: OtpChallenge, code: str) -> str:
    return digest(f"{challenge.public_id}:{code}", "otp")


def _info(challenge: OtpChallenge) -> OtpChallengeInfo:
    return OtpChallengeInfo(
        challenge_id=challenge.public_id,
        masked_phone=mask_phone(challenge.phone) or "",
        expires_in=int(CODE_TTL.total_seconds()),
        purpose=challenge.purpose,
    )


def _check_issue_rate(phone: str, purpose: str) -> None:
    now = clock.now()
    recent = list(
        OtpChallenge.objects.filter(
            phone=phone, purpose=purpose, created_at__gt=now - CHALLENGE_WINDOW
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)[:MAX_CHALLENGES]
    )
    if len(recent) >= MAX_CHALLENGES:
        retry = int((recent[0] + CHALLENGE_WINDOW - now).total_seconds()) + 1
        raise OtpRateLimited(retry_after=retry)


def do_issue_challenge(
    purpose: str,
    phone: str,
    *,
    user_id: int | None = None,
    session_id: int | None = None,
    action: str = "",
    text_override: str | None = None,
) -> OtpChallengeInfo:
    """Create a challenge and send its code by SMS (``text_override`` sends that text and no
    code: the challenge then cannot be met, yet looks the same to the caller)."""
    _check_issue_rate(phone, purpose)
    now = clock.now()
    code = f"{secrets.randbelow(10**6):06d}"
    challenge = OtpChallenge(
        purpose=purpose,
        phone=phone,
        user_id=user_id,
        session_id=session_id,
        action=action,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    challenge.code_hash = (
        _code_digest(challenge, code) if text_override is None else secrets.token_hex(32)
    )
    challenge.save()
    text = text_override if text_override is not None else _TEXTS[purpose].format(code=code)
    try:
        get_gateway().send(phone, text)
    except SmsRateLimited as exc:
        raise OtpRateLimited(retry_after=exc.retry_after) from exc
    except SmsError as exc:
        raise PartnerUnavailable(
            "The SMS service did not accept the message; try again.", code="sms_unavailable"
        ) from exc
    return _info(challenge)


def unsendable_challenge(purpose: str, phone: str) -> OtpChallengeInfo:
    """The answer given for a number that gets no code (not stored: it can never be met)."""
    fake = OtpChallenge(purpose=purpose, phone=phone or "00000000000")
    return _info(fake)


def _reject(challenge: OtpChallenge | None, reason: str) -> InvalidOtp:
    do_audit(
        "anonymous" if challenge is None else f"otp:{challenge.phone[-4:]}",
        "identity.otp_rejected",
        object_type="otp",
        object_id=str(challenge.public_id) if challenge else "",
        data={"reason": reason},
    )
    return InvalidOtp()


def do_verify_challenge(challenge_id: str, code: str, *, purpose: str) -> OtpChallenge:
    """Spend a challenge with its code; raises :class:`InvalidOtp` (and audits why) if the
    code is wrong, expired, exhausted or already used."""
    error: InvalidOtp | None = None
    with transaction.atomic():  # the attempt counts even though the caller gets an error
        try:
            public_id = parse_id(challenge_id)
        except Exception:
            public_id = None
        challenge = (
            OtpChallenge.objects.select_for_update()
            .filter(public_id=public_id, purpose=purpose)
            .first()
            if public_id
            else None
        )
        now = clock.now()
        if challenge is None:
            error = _reject(None, "unknown")
        elif challenge.consumed_at is not None:
            error = _reject(challenge, "replayed")
        elif challenge.expires_at <= now:
            error = _reject(challenge, "expired")
        elif challenge.attempts >= MAX_ATTEMPTS:
            error = _reject(challenge, "exhausted")
        else:
            challenge.attempts += 1
            if hmac.compare_digest(challenge.code_hash, _code_digest(challenge, code.strip())):
                challenge.consumed_at = now
            else:
                error = _reject(challenge, "wrong_code")
            challenge.save(update_fields=["attempts", "consumed_at"])
    if error is not None:
        raise error
    assert challenge is not None
    return challenge


# ------------------------------------------------------------------ step-up
def _session_pk(principal: Principal) -> int:
    if principal.session_id is None or principal.user_id is None:
        raise AccessDenied("Sign in again to confirm this action.")
    pk = (
        UserSession.objects.filter(
            public_id=principal.session_id, user_id=principal.user_id, revoked_at__isnull=True
        )
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise AccessDenied("Sign in again to confirm this action.")
    return int(pk)


def require_step_up(principal: Principal, action: str) -> None:
    """Spend a passed step-up of this session for ``action``, or raise
    :class:`StepUpRequired` (the client then calls ``POST /identity/step-up``)."""
    session_pk = _session_pk(principal)
    now = clock.now()
    with transaction.atomic():
        grant = (
            StepUpGrant.objects.select_for_update()
            .filter(session_id=session_pk, action=action, used_at__isnull=True, expires_at__gt=now)
            .order_by("-granted_at")
            .first()
        )
        if grant is None:
            raise StepUpRequired(data={"action": action})
        grant.used_at = now
        grant.save(update_fields=["used_at"])


def has_step_up(principal: Principal, action: str) -> bool:
    """Whether a passed, unspent step-up for ``action`` exists (does not spend it)."""
    try:
        session_pk = _session_pk(principal)
    except AccessDenied:
        return False
    return StepUpGrant.objects.filter(
        session_id=session_pk, action=action, used_at__isnull=True, expires_at__gt=clock.now()
    ).exists()


def do_start_step_up(principal: Principal, action: str) -> OtpChallengeInfo:
    """Send a code to the customer's phone to confirm ``action`` in this session."""
    session_pk = _session_pk(principal)
    credential = CustomerCredential.objects.filter(user_id=principal.user_id or 0).first()
    if credential is None:
        raise AccessDenied("Only customers confirm actions with a one-time code.")
    return do_issue_challenge(
        OtpChallenge.STEP_UP,
        credential.phone,
        user_id=principal.user_id,
        session_id=session_pk,
        action=action[:80],
    )


def do_verify_step_up(principal: Principal, challenge_id: str, code: str) -> str:
    """Check the code of a step-up challenge of this session; returns the action it grants."""
    session_pk = _session_pk(principal)
    challenge = do_verify_challenge(challenge_id, code, purpose=OtpChallenge.STEP_UP)
    if challenge.session_id != session_pk:
        raise _reject(challenge, "other_session")
    now = clock.now()
    StepUpGrant.objects.create(
        session_id=session_pk,
        action=challenge.action,
        granted_at=now,
        expires_at=now + STEP_UP_TTL,
    )
    do_audit(
        principal.principal_key,
        "identity.step_up_passed",
        object_type="session",
        object_id=str(principal.session_id),
        data={"action": challenge.action},
    )
    return challenge.action
