"""Customer and staff accounts: registration, password sign-in with throttling and lockout,
password reset."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    NumericPasswordValidator,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from rongshu.identity import otp
from rongshu.identity._common import normalize_phone
from rongshu.identity.errors import (
    IdentityAlreadyRegistered,
    InvalidCredentials,
    InvalidName,
    InvalidPhone,
    InvalidResidentId,
    LoginThrottled,
    PhoneAlreadyRegistered,
    WeakPassword,
)
from rongshu.identity.events import CustomerRegistered
from rongshu.identity.models import CustomerCredential, LoginThrottle, OtpChallenge, StaffMember
from rongshu.identity.types import OtpChallengeInfo
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.outbox import record_event
from rongshu.kernel.pii import blind_index, mask_phone

# ------------------------------------------------------------------ throttling policy
DELAY_AFTER = 5  # consecutive failures before each further try must wait
MAX_DELAY = dt.timedelta(minutes=15)
LOCK_AFTER = 10  # consecutive failures that lock the login
LOCK_FOR = dt.timedelta(minutes=30)
ADDRESS_DELAY_AFTER = 30  # failures from one client address (any login name)

_VALIDATORS: list[Any] = [
    MinimumLengthValidator(min_length=8),
    CommonPasswordValidator(),
    NumericPasswordValidator(),
]


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check wrong login names against, so they cost what a real check costs."""
    return make_password("rongshu-dummy-password-for-timing")


def _throttle_key(kind: str, value: str) -> str:
    return f"{kind}:{blind_index(value, purpose='login-throttle')[:40]}"


def _refusal(keys: list[str], login_key: str) -> int | None:
    """Seconds to wait when a key is throttled or locked (the refusal is audited)."""
    now = clock.now()
    for row in LoginThrottle.objects.filter(key__in=keys):
        until = row.locked_until if row.locked else row.blocked_until
        if until is not None and until > now:
            retry = int((until - now).total_seconds()) + 1
            do_audit(
                "anonymous",
                "identity.login_refused",
                object_type="login",
                object_id=login_key,
                data={"reason": "locked" if row.locked else "throttled", "retry_after": retry},
            )
            return retry
    return None


def _record_failure(login_key: str, address_key: str | None) -> None:
    now = clock.now()
    for key, delay_after, lock_after in (
        (login_key, DELAY_AFTER, LOCK_AFTER),
        (address_key, ADDRESS_DELAY_AFTER, None),
    ):
        if key is None:
            continue
        row, _ = LoginThrottle.objects.select_for_update().get_or_create(key=key)
        if row.locked and row.locked_until is not None and row.locked_until <= now:
            row.locked, row.failures = False, 0  # the lock ran out: a fresh start
        row.failures += 1
        row.last_failure_at = now
        if lock_after is not None and row.failures >= lock_after and not row.locked:
            row.locked, row.locked_until = True, now + LOCK_FOR
            do_audit(
                "anonymous",
                "identity.login_locked",
                object_type="login",
                object_id=login_key,
                data={"failures": row.failures, "until": row.locked_until.isoformat()},
            )
        elif row.failures >= delay_after:
            row.blocked_until = now + min(
                dt.timedelta(seconds=2 ** min(row.failures - delay_after, 12)), MAX_DELAY
            )
        row.save()


def _clear_failures(login_key: str) -> None:
    LoginThrottle.objects.filter(key=login_key).delete()


def _password_sign_in(
    login_name: str,
    password: str,
    user: AbstractBaseUser | None,
    *,
    kind: str,
    address: str | None,
) -> AbstractBaseUser:
    login_key = _throttle_key(kind, login_name)
    address_key = _throttle_key("ip", address) if address else None
    keys = [login_key] + ([address_key] if address_key else [])
    ok = False
    with transaction.atomic():  # records commit even though the caller gets an error
        refused = _refusal(keys, login_key)
        if refused is None:
            if user is None or not user.is_active:
                check_password(password, _dummy_hash())  # same cost as a real check
            else:
                ok = user.check_password(password)
            if ok:
                _clear_failures(login_key)
            else:
                _record_failure(login_key, address_key)
                do_audit(
                    "anonymous",
                    "identity.login_failed",
                    object_type="login",
                    object_id=login_key,
                    data={"kind": kind, "address": address or ""},
                )
    if refused is not None:
        raise LoginThrottled(retry_after=refused)
    if not ok or user is None:
        raise InvalidCredentials()
    return user


def do_authenticate_customer(phone: str, password: str, *, address: str | None = None) -> int:
    """Check a customer's phone and password; returns the user id.

    Unknown phone, wrong password and malformed phone give the same :class:`InvalidCredentials`
    at the same cost (a dummy argon2 check); repeated failures raise :class:`LoginThrottled`.
    """
    try:
        login = normalize_phone(phone)
    except InvalidPhone:
        login = phone.strip()[:20]
    credential = (
        CustomerCredential.objects.select_related("user").filter(phone=login).first()
        if login
        else None
    )
    user = _password_sign_in(
        login, password, credential.user if credential else None, kind="customer", address=address
    )
    return int(user.pk)


def do_authenticate_staff(username: str, password: str, *, address: str | None = None) -> int:
    """Check a staff member's user name and password (same throttling as customers)."""
    member = (
        StaffMember.objects.select_related("user")
        .filter(user__username=username.strip(), active=True)
        .first()
    )
    user = _password_sign_in(
        username.strip(), password, member.user if member else None, kind="staff", address=address
    )
    return int(user.pk)


# ------------------------------------------------------------------ registration
def check_password_strength(password: str) -> None:
    try:
        validate_password(password, password_validators=_VALIDATORS)
    except ValidationError as exc:
        raise WeakPassword(" ".join(str(m) for m in exc.messages)) from exc


def check_resident_id(value: str) -> str:
    """An 18-digit resident ID with a valid check digit, birth date and region; compact form."""
    try:
        compact = str(ric.validate(value))
    except StdnumError as exc:
        raise InvalidResidentId() from exc
    if len(compact) != 18:
        raise InvalidResidentId()
    return compact


def check_real_name(value: str) -> str:
    name = " ".join((value or "").split())
    if not 2 <= len(name) <= 50 or any(c.isdigit() for c in name):
        raise InvalidName()
    return name


def do_start_registration(phone: str) -> OtpChallengeInfo:
    """Send a registration code to ``phone``. A number already registered gets a message
    saying so instead of a code; the answer to the caller is the same either way."""
    phone = normalize_phone(phone)
    registered = CustomerCredential.objects.filter(phone=phone).exists()
    return otp.do_issue_challenge(
        OtpChallenge.REGISTER,
        phone,
        text_override=(
            "【榕树银行】该手机号已注册，请直接登录或找回密码。"
            "This number is already registered: sign in or reset your password."
            if registered
            else None
        ),
    )


@dataclass(frozen=True)
class Registration:
    user_id: int
    customer_id: str


def do_register_customer(
    *,
    challenge_id: str,
    code: str,
    password: str,
    real_name: str,
    resident_id: str,
    home_branch_code: str = "0001",
) -> Registration:
    """Create a customer login after the phone's code checks out."""
    name = check_real_name(real_name)
    rid = check_resident_id(resident_id)
    check_password_strength(password)
    challenge = otp.do_verify_challenge(challenge_id, code, purpose=OtpChallenge.REGISTER)
    return do_create_customer_login(
        challenge.phone,
        password,
        real_name=name,
        resident_id=rid,
        home_branch_code=home_branch_code,
    )


def do_create_customer_login(
    phone: str,
    password: str,
    *,
    real_name: str,
    resident_id: str,
    home_branch_code: str = "0001",
) -> Registration:
    """Create a customer login whose phone is already verified (registration after its code,
    migration of an existing customer base, demo data)."""
    phone = normalize_phone(phone)
    name = check_real_name(real_name)
    rid = check_resident_id(resident_id)
    if CustomerCredential.objects.filter(phone=phone).exists():
        raise PhoneAlreadyRegistered()
    rid_index = blind_index(rid, purpose="resident_id")
    if CustomerCredential.objects.filter(resident_id_index=rid_index).exists():
        raise IdentityAlreadyRegistered()
    now = clock.now()
    user_model = get_user_model()
    try:
        with transaction.atomic():
            credential = CustomerCredential(
                phone=phone,
                real_name=name,
                resident_id=rid,
                resident_id_index=rid_index,
                home_branch_code=home_branch_code,
                region_code=rid[:2] + "0000",
                created_at=now,
            )
            user = user_model.objects.create_user(
                username=f"c-{credential.public_id}", password=password
            )
            credential.user = user
            credential.save()
    except IntegrityError as exc:  # a concurrent registration won
        raise PhoneAlreadyRegistered() from exc
    record_event(
        CustomerRegistered(customer_id=str(credential.public_id), at=now.isoformat()),
        dedupe_key=f"identity.registered:{credential.public_id}",
    )
    do_audit(
        f"customer:{credential.public_id}",
        "identity.customer_registered",
        object_type="customer",
        object_id=str(credential.public_id),
        data={"phone": mask_phone(phone)},
    )
    return Registration(user_id=int(user.pk), customer_id=str(credential.public_id))


# ------------------------------------------------------------------ password reset
def do_start_password_reset(phone: str) -> OtpChallengeInfo:
    """Send a reset code if the number is registered; the answer is the same if not."""
    try:
        normalized = normalize_phone(phone)
    except InvalidPhone:
        normalized = None
    credential = CustomerCredential.objects.filter(phone=normalized).first() if normalized else None
    if credential is None:
        # Nothing is sent, but the caller cannot tell: a challenge that can never be met.
        return otp.unsendable_challenge(OtpChallenge.PASSWORD_RESET, normalized or "")
    return otp.do_issue_challenge(
        OtpChallenge.PASSWORD_RESET, credential.phone, user_id=credential.user_id
    )


def do_complete_password_reset(challenge_id: str, code: str, new_password: str) -> None:
    """Set a new password after the code checks out; every session of the user ends."""
    from rongshu.identity import sessions

    check_password_strength(new_password)
    challenge = otp.do_verify_challenge(challenge_id, code, purpose=OtpChallenge.PASSWORD_RESET)
    credential = CustomerCredential.objects.select_related("user").get(phone=challenge.phone)
    user = credential.user
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _clear_failures(_throttle_key("customer", credential.phone))
    revoked = sessions.do_revoke_all_sessions(int(user.pk))
    do_audit(
        f"customer:{credential.public_id}",
        "identity.password_reset",
        object_type="customer",
        object_id=str(credential.public_id),
        data={"sessions_revoked": revoked},
    )
