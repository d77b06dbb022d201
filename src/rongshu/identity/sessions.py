"""Sessions (web and app), devices, bearer tokens and principal resolution.

Access tokens live :data:`ACCESS_TTL` (15 minutes); refresh tokens :data:`REFRESH_TTL` (30 days)
and rotate on every use: presenting a spent refresh token revokes its whole family (the session),
the standard defence against a stolen refresh token (RFC 9700 §4.14.2).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from rongshu.identity._common import digest, new_secret
from rongshu.identity.errors import (
    AccessDenied,
    DeviceNotFound,
    InvalidGrant,
    SessionNotFound,
)
from rongshu.identity.models import (
    AccessToken,
    CustomerCredential,
    Device,
    RefreshToken,
    StaffMember,
    UserSession,
)
from rongshu.identity.types import (
    ANONYMOUS,
    ROLE_SCOPE,
    IssuedTokens,
    Principal,
    PrincipalKind,
    Role,
)
from rongshu.kernel import clock, fastsql
from rongshu.kernel.audit import do_audit

ACCESS_TTL = dt.timedelta(minutes=15)
REFRESH_TTL = dt.timedelta(days=30)
ACCESS_PREFIX = "rsa_"
REFRESH_PREFIX = "rsr_"


def _access_digest(token: str) -> str:
    return digest(token, "access-token")


def _refresh_digest(token: str) -> str:
    return digest(token, "refresh-token")


# ------------------------------------------------------------------ principals
def principal_for_user(user_id: int, *, session_id: uuid.UUID | None = None) -> Principal:
    """The principal of a signed-in Django user (customer or staff; anonymous otherwise)."""
    credential = CustomerCredential.objects.filter(user_id=user_id).values_list(
        "public_id", "home_branch_code", "region_code"
    )[:1]
    for customer_id, branch, region in credential:  # no encrypted column is read
        return Principal(
            kind=PrincipalKind.CUSTOMER,
            user_id=user_id,
            customer_id=customer_id,
            session_id=session_id,
            roles=frozenset({"customer"}),
            branch_code=branch,
            region_code=region,
        )
    member = StaffMember.objects.select_related("user").filter(user_id=user_id, active=True).first()
    if member is not None:
        return staff_principal(member, session_id=session_id)
    return ANONYMOUS


def staff_principal(member: StaffMember, *, session_id: uuid.UUID | None = None) -> Principal:
    role = Role(member.role)
    return Principal(
        kind=PrincipalKind.STAFF,
        user_id=member.user_id,
        staff_id=member.public_id,
        session_id=session_id,
        roles=frozenset({role.value}),
        branch_code=member.branch_code,
        region_code=member.region_code,
        scope_level=ROLE_SCOPE[role],
        display_name=member.user.get_full_name() or member.user.get_username(),
    )


def principal_for_web_session(user_id: int, session_key: str | None) -> Principal:
    """The principal of a web request; anonymous when its session was revoked."""
    session_id = None
    if session_key:
        row = (
            UserSession.objects.filter(session_key=session_key, user_id=user_id)
            .values_list("public_id", "revoked_at")
            .first()
        )
        if row is not None:
            if row[1] is not None:
                return ANONYMOUS
            session_id = row[0]
    return principal_for_user(user_id, session_id=session_id)


_TOKEN_FIELDS = (
    "scopes",
    "client__client_id",
    "client__active",
    "client__name",
    "session__public_id",
    "session__revoked_at",
    "session__user_id",
    "session__user__customer_credential__public_id",
    "session__user__customer_credential__home_branch_code",
    "session__user__customer_credential__region_code",
)


_HASH_MARK = "\x00token-hash"
_TIME_MARK = dt.datetime(1970, 1, 2, tzinfo=dt.UTC)
# (database alias, vendor) → the token query's SQL and where its two values go
_TOKEN_SQL: dict[tuple[str, str], tuple[str, list[Any], int, int]] = {}
_EXPIRES = AccessToken._meta.get_field("expires_at")


def _token_query(token_hash: str, now: dt.datetime) -> tuple[str, list[Any]]:
    """The ORM's own SQL for the token look-up, compiled once per connection kind: building
    the five-table query object cost the request more than PostgreSQL needs to run it."""
    key = (connection.alias, connection.vendor)
    found = _TOKEN_SQL.get(key)
    if found is None:
        query = AccessToken.objects.filter(
            token_hash=_HASH_MARK, revoked_at__isnull=True, expires_at__gt=_TIME_MARK
        ).values_list(*_TOKEN_FIELDS)[:1]
        sql, marked = query.query.sql_with_params()
        params = list(marked)
        time_mark = _EXPIRES.get_db_prep_value(_TIME_MARK, connection)
        found = (sql, params, params.index(_HASH_MARK), params.index(time_mark))
        _TOKEN_SQL[key] = found
    sql, template, at_hash, at_time = found
    params = list(template)
    params[at_hash] = token_hash
    params[at_time] = _EXPIRES.get_db_prep_value(now, connection)
    return sql, params


def _uuid(value: Any) -> uuid.UUID | None:
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def principal_for_token(token: str) -> Principal | None:
    """The principal a bearer access token stands for, or None (unknown, expired, revoked).

    One query on the hot path (every API request): token, session, client and customer are
    read together, and no encrypted column is decrypted. Its SQL is the ORM's, compiled once
    (:func:`_token_query`), and prepared on PostgreSQL.
    """
    if not token.startswith(ACCESS_PREFIX):
        return None
    rows = fastsql.fetchall(*_token_query(_access_digest(token), clock.now()))
    if not rows:
        return None
    (
        raw_scopes,
        client_id,
        client_active,
        client_name,
        raw_session_id,
        session_revoked,
        user_id,
        raw_customer_id,
        branch,
        region,
    ) = rows[0]
    # the values as the ORM would give them (the rows are the database's own: JSON as text,
    # UUIDs as text on SQLite)
    scopes = json.loads(raw_scopes) if isinstance(raw_scopes, str) else raw_scopes
    session_id = _uuid(raw_session_id)
    customer_id = _uuid(raw_customer_id)
    if client_id is not None:
        if not client_active:
            return None
        return Principal(
            kind=PrincipalKind.PARTNER,
            partner_client_id=client_id,
            scopes=frozenset(scopes),
            roles=frozenset({"partner"}),
            display_name=client_name,
        )
    if session_id is None or session_revoked is not None:
        return None
    if customer_id is not None:
        return Principal(
            kind=PrincipalKind.CUSTOMER,
            user_id=user_id,
            customer_id=customer_id,
            session_id=session_id,
            roles=frozenset({"customer"}),
            branch_code=branch,
            region_code=region,
        )
    principal = principal_for_user(user_id, session_id=session_id)
    return None if principal.kind is PrincipalKind.ANONYMOUS else principal


def _user_id(principal: Principal) -> int:
    if principal.user_id is None:
        raise AccessDenied("Only signed-in people have sessions and devices.")
    return principal.user_id


# ------------------------------------------------------------------ devices
def _device(user_id: int, device_key: str | None, label: str) -> Device | None:
    if not device_key:
        return None
    now = clock.now()
    device, created = Device.objects.get_or_create(
        user_id=user_id,
        fingerprint=digest(device_key, "device"),
        defaults={"label": label[:200], "first_seen_at": now, "last_seen_at": now},
    )
    if not created:
        device.last_seen_at = now
        if device.revoked_at is not None:  # a removed device comes back untrusted
            device.revoked_at, device.trusted_at = None, None
        device.save(update_fields=["last_seen_at", "revoked_at", "trusted_at"])
    return device


def is_trusted_device(user_id: int, device_key: str | None) -> bool:
    if not device_key:
        return False
    return Device.objects.filter(
        user_id=user_id,
        fingerprint=digest(device_key, "device"),
        trusted_at__isnull=False,
        revoked_at__isnull=True,
    ).exists()


def do_trust_device(principal: Principal, device_key: str) -> None:
    """Mark the device trusted (call after a passed step-up)."""
    assert principal.user_id is not None
    device = _device(principal.user_id, device_key, "")
    if device is not None and device.trusted_at is None:
        device.trusted_at = clock.now()
        device.save(update_fields=["trusted_at"])
        do_audit(
            principal.principal_key,
            "identity.device_trusted",
            object_type="device",
            object_id=str(device.public_id),
        )


@dataclass(frozen=True)
class DeviceView:
    device_id: uuid.UUID
    label: str
    trusted: bool
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime


def list_devices(principal: Principal) -> list[DeviceView]:
    return [
        DeviceView(d.public_id, d.label, d.trusted_at is not None, d.first_seen_at, d.last_seen_at)
        for d in Device.objects.filter(
            user_id=_user_id(principal), revoked_at__isnull=True
        ).order_by("-last_seen_at")
    ]


def do_remove_device(principal: Principal, device_id: uuid.UUID) -> None:
    """Forget a device: it is no longer trusted and its sessions end."""
    device = Device.objects.filter(
        public_id=device_id, user_id=_user_id(principal), revoked_at__isnull=True
    ).first()
    if device is None:
        raise DeviceNotFound()
    device.revoked_at, device.trusted_at = clock.now(), None
    device.save(update_fields=["revoked_at", "trusted_at"])
    for session in UserSession.objects.filter(device=device, revoked_at__isnull=True):
        _revoke_session(session)
    do_audit(
        principal.principal_key,
        "identity.device_removed",
        object_type="device",
        object_id=str(device_id),
    )


# ------------------------------------------------------------------ sessions
def do_start_session(
    user_id: int,
    *,
    kind: str,
    session_key: str = "",
    device_key: str | None = None,
    device_label: str = "",
    address: str = "",
    user_agent: str = "",
) -> UserSession:
    """Record a sign-in (the web's Django session key or an app's token family)."""
    now = clock.now()
    device = _device(user_id, device_key, device_label or user_agent)
    session = UserSession.objects.create(
        user_id=user_id,
        kind=kind,
        session_key=session_key,
        device=device,
        ip_address=address[:45],
        user_agent=user_agent[:300],
        created_at=now,
        last_seen_at=now,
    )
    principal = principal_for_user(user_id, session_id=session.public_id)
    do_audit(
        principal.principal_key,
        "identity.login",
        object_type="session",
        object_id=str(session.public_id),
        data={
            "kind": kind,
            "address": address,
            "new_device": bool(device and device.first_seen_at == now),
        },
    )
    return session


@dataclass(frozen=True)
class SessionView:
    session_id: uuid.UUID
    kind: str
    user_agent: str
    ip_address: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    current: bool


def list_sessions(principal: Principal) -> list[SessionView]:
    rows = UserSession.objects.filter(
        user_id=_user_id(principal), revoked_at__isnull=True
    ).order_by("-created_at")
    return [
        SessionView(
            s.public_id,
            s.kind,
            s.user_agent,
            s.ip_address,
            s.created_at,
            s.last_seen_at,
            s.public_id == principal.session_id,
        )
        for s in rows
    ]


def _revoke_session(session: UserSession) -> None:
    now = clock.now()
    session.revoked_at = now
    session.save(update_fields=["revoked_at"])
    AccessToken.objects.filter(session=session, revoked_at__isnull=True).update(revoked_at=now)
    RefreshToken.objects.filter(session=session, revoked_at__isnull=True).update(revoked_at=now)
    if session.session_key:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        store(session_key=session.session_key).delete()


def do_revoke_session(principal: Principal, session_id: uuid.UUID) -> None:
    """End one of the principal's own sessions (signs that browser or app out)."""
    session = UserSession.objects.filter(
        public_id=session_id, user_id=_user_id(principal), revoked_at__isnull=True
    ).first()
    if session is None:
        raise SessionNotFound()
    _revoke_session(session)
    do_audit(
        principal.principal_key,
        "identity.session_revoked",
        object_type="session",
        object_id=str(session_id),
    )


def do_end_web_session(session_key: str) -> None:
    """Sign-out of a web session (the view also flushes the Django session)."""
    session = UserSession.objects.filter(session_key=session_key, revoked_at__isnull=True).first()
    if session is not None:
        _revoke_session(session)
        do_audit(
            f"user:{session.user_id}",
            "identity.logout",
            object_type="session",
            object_id=str(session.public_id),
        )


def do_revoke_all_sessions(user_id: int) -> int:
    sessions = list(UserSession.objects.filter(user_id=user_id, revoked_at__isnull=True))
    for session in sessions:
        _revoke_session(session)
    return len(sessions)


# ------------------------------------------------------------------ tokens
def _issue_pair(session: UserSession, scopes: list[str]) -> IssuedTokens:
    now = clock.now()
    access = new_secret(ACCESS_PREFIX)
    refresh = new_secret(REFRESH_PREFIX)
    AccessToken.objects.create(
        token_hash=_access_digest(access),
        session=session,
        scopes=scopes,
        created_at=now,
        expires_at=now + ACCESS_TTL,
    )
    RefreshToken.objects.create(
        token_hash=_refresh_digest(refresh),
        session=session,
        created_at=now,
        expires_at=now + REFRESH_TTL,
    )
    return IssuedTokens(
        access_token=access,
        refresh_token=refresh,
        expires_in=int(ACCESS_TTL.total_seconds()),
        scope=" ".join(scopes),
    )


def do_issue_app_tokens(
    user_id: int,
    *,
    device_key: str | None = None,
    device_label: str = "",
    address: str = "",
    user_agent: str = "",
) -> IssuedTokens:
    """A new app session for a user who just proved their password (password grant)."""
    session = do_start_session(
        user_id,
        kind=UserSession.APP,
        device_key=device_key,
        device_label=device_label,
        address=address,
        user_agent=user_agent,
    )
    return _issue_pair(session, [])


def do_refresh_tokens(refresh_token: str) -> IssuedTokens:
    """Rotate a refresh token; reuse of a spent one revokes the whole session."""
    reused_session: UserSession | None = None
    tokens: IssuedTokens | None = None
    with transaction.atomic():  # a detected reuse commits its revocation
        row = (
            RefreshToken.objects.select_for_update()
            .select_related("session")
            .filter(token_hash=_refresh_digest(refresh_token))
            .first()
        )
        now = clock.now()
        if row is not None and row.used_at is not None and row.session.revoked_at is None:
            reused_session = row.session
            _revoke_session(row.session)
            do_audit(
                f"user:{row.session.user_id}",
                "identity.refresh_token_reused",
                object_type="session",
                object_id=str(row.session.public_id),
            )
        elif (
            row is not None
            and row.used_at is None
            and row.revoked_at is None
            and row.expires_at > now
            and row.session.revoked_at is None
        ):
            row.used_at = now
            row.save(update_fields=["used_at"])
            row.session.last_seen_at = now
            row.session.save(update_fields=["last_seen_at"])
            tokens = _issue_pair(row.session, [])
    if tokens is None:
        raise InvalidGrant(data={"reuse_detected": True} if reused_session else None)
    return tokens


def do_revoke_token(token: str) -> None:
    """RFC 7009 revocation: an access token ends alone, a refresh token ends its session.
    Unknown tokens are ignored (the answer is the same)."""
    now = clock.now()
    if token.startswith(REFRESH_PREFIX):
        row = (
            RefreshToken.objects.select_related("session")
            .filter(token_hash=_refresh_digest(token))
            .first()
        )
        if row is not None and row.session.revoked_at is None:
            _revoke_session(row.session)
            do_audit(
                f"user:{row.session.user_id}",
                "identity.token_revoked",
                object_type="session",
                object_id=str(row.session.public_id),
            )
    elif token.startswith(ACCESS_PREFIX):
        AccessToken.objects.filter(
            token_hash=_access_digest(token), revoked_at__isnull=True
        ).update(revoked_at=now)


def do_purge_expired_tokens() -> int:
    """Delete tokens past their expiry (run daily)."""
    now = clock.now()
    a, _ = AccessToken.objects.filter(expires_at__lt=now - dt.timedelta(days=1)).delete()
    r, _ = RefreshToken.objects.filter(
        Q(expires_at__lt=now) | Q(revoked_at__lt=now - dt.timedelta(days=1))
    ).delete()
    return a + r
