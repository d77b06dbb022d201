"""Partner OAuth2 clients: client-credentials tokens, scopes, secret rotation with a grace
period, per-client rate limits and the webhook signing secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from rongshu.identity._common import digest, new_secret
from rongshu.identity.errors import (
    InvalidClient,
    PartnerClientNotFound,
    PartnerRateLimited,
    ScopeMissing,
)
from rongshu.identity.models import AccessToken, PartnerClient, PartnerRateWindow
from rongshu.identity.sessions import ACCESS_PREFIX, ACCESS_TTL
from rongshu.identity.staff import check_permission
from rongshu.identity.types import Action, IssuedTokens, PartnerScope, Principal, PrincipalKind
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import InvalidInput

SECRET_GRACE = dt.timedelta(hours=24)  # the previous secret keeps working this long
CLIENT_PREFIX = "rsp_"
SECRET_PREFIX = "rss_"  # noqa: S105
WEBHOOK_PREFIX = "whsec_"


def _secret_digest(secret: str) -> str:
    return digest(secret, "client-secret")


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str  # shown once
    webhook_secret: str
    previous_secret_valid_until: dt.datetime | None = None


def _check_scopes(scopes: list[str]) -> list[str]:
    known = set(PartnerScope.__members__.values())
    unknown = [s for s in scopes if s not in known]
    if unknown:
        raise InvalidInput(f"Unknown scopes: {', '.join(unknown)}.", code="invalid_scope")
    return sorted(set(scopes))


def do_create_client(
    name: str,
    scopes: list[str],
    *,
    partner_ref: str = "",
    rate_limit_per_minute: int = 600,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> ClientCredentials:
    """Register a partner client; returns its secret once (only a digest is kept)."""
    now = clock.now()
    secret = client_secret or new_secret(SECRET_PREFIX)
    webhook_secret = new_secret(WEBHOOK_PREFIX)
    client = PartnerClient.objects.create(
        client_id=client_id or CLIENT_PREFIX + secrets.token_hex(8),
        name=name,
        partner_ref=partner_ref,
        secret_hash=_secret_digest(secret),
        scopes=_check_scopes(scopes),
        rate_limit_per_minute=rate_limit_per_minute,
        webhook_secret=webhook_secret,
        created_at=now,
        secret_rotated_at=now,
    )
    return ClientCredentials(client.client_id, secret, webhook_secret)


def _client(client_id: str) -> PartnerClient:
    client = PartnerClient.objects.filter(client_id=client_id).first()
    if client is None:
        raise PartnerClientNotFound()
    return client


def do_issue_client_token(client_id: str, client_secret: str, scope: str = "") -> IssuedTokens:
    """Client-credentials grant: a short-lived token with the requested scopes (all granted
    scopes when none are asked for). Wrong id and wrong secret answer the same."""
    client = PartnerClient.objects.filter(client_id=client_id, active=True).first()
    now = clock.now()
    presented = _secret_digest(client_secret)
    valid = client is not None and (
        hmac.compare_digest(client.secret_hash, presented)
        or (
            bool(client.previous_secret_hash)
            and client.previous_secret_valid_until is not None
            and client.previous_secret_valid_until > now
            and hmac.compare_digest(client.previous_secret_hash, presented)
        )
    )
    if client is None or not valid:
        do_audit(
            "anonymous",
            "identity.client_auth_failed",
            object_type="partner_client",
            object_id=client_id[:80],
        )
        raise InvalidClient()
    requested = set(scope.split()) if scope.strip() else set(client.scopes)
    if not requested <= set(client.scopes):
        raise ScopeMissing("The client is not granted every scope it asked for.")
    token = new_secret(ACCESS_PREFIX)
    AccessToken.objects.create(
        token_hash=digest(token, "access-token"),
        client=client,
        scopes=sorted(requested),
        created_at=now,
        expires_at=now + ACCESS_TTL,
    )
    return IssuedTokens(
        access_token=token,
        refresh_token=None,
        expires_in=int(ACCESS_TTL.total_seconds()),
        scope=" ".join(sorted(requested)),
    )


def check_scope(principal: Principal, scope: str) -> None:
    """Raise :class:`ScopeMissing` (audited) unless a partner principal holds ``scope``."""
    if principal.kind is not PrincipalKind.PARTNER or scope not in principal.scopes:
        do_audit(
            principal.principal_key,
            "identity.permission_denied",
            data={"scope": scope, "kind": principal.kind.value},
        )
        raise ScopeMissing()


def check_partner_rate(client_id: str, limit: int | None = None) -> None:
    """Count a request against the client's per-minute budget; raise 429 when spent."""
    now = clock.now()
    window = now.replace(second=0, microsecond=0)
    if limit is None:
        limit = (
            PartnerClient.objects.filter(client_id=client_id)
            .values_list("rate_limit_per_minute", flat=True)
            .first()
        ) or 0
    client_pk = (
        PartnerClient.objects.filter(client_id=client_id).values_list("pk", flat=True).first()
    )
    if client_pk is None:
        return
    updated = PartnerRateWindow.objects.filter(client_id=client_pk, window_start=window).update(
        count=F("count") + 1
    )
    if not updated:
        try:
            with transaction.atomic():
                PartnerRateWindow.objects.create(client_id=client_pk, window_start=window, count=1)
        except IntegrityError:
            PartnerRateWindow.objects.filter(client_id=client_pk, window_start=window).update(
                count=F("count") + 1
            )
    count = (
        PartnerRateWindow.objects.filter(client_id=client_pk, window_start=window)
        .values_list("count", flat=True)
        .first()
    ) or 0
    if count > limit:
        retry = int((window + dt.timedelta(minutes=1) - now).total_seconds()) + 1
        raise PartnerRateLimited(retry_after=retry)


def do_rotate_secret(principal: Principal, client_id: str) -> ClientCredentials:
    """A new client secret (the old one keeps working for :data:`SECRET_GRACE`)."""
    check_permission(principal, Action.PARTNER_MANAGE)
    client = _client(client_id)
    now = clock.now()
    secret = new_secret(SECRET_PREFIX)
    client.previous_secret_hash = client.secret_hash
    client.previous_secret_valid_until = now + SECRET_GRACE
    client.secret_hash = _secret_digest(secret)
    client.secret_rotated_at = now
    client.save()
    do_audit(
        principal.principal_key,
        "identity.client_secret_rotated",
        object_type="partner_client",
        object_id=client_id,
    )
    return ClientCredentials(
        client.client_id, secret, client.webhook_secret, client.previous_secret_valid_until
    )


def do_rotate_webhook_secret(principal: Principal) -> str:
    """A partner rotates its own webhook signing secret (scope ``webhooks``)."""
    check_scope(principal, PartnerScope.WEBHOOKS)
    assert principal.partner_client_id is not None
    client = _client(principal.partner_client_id)
    client.webhook_secret = new_secret(WEBHOOK_PREFIX)
    client.save(update_fields=["webhook_secret"])
    do_audit(
        principal.principal_key,
        "identity.webhook_secret_rotated",
        object_type="partner_client",
        object_id=client.client_id,
    )
    return str(client.webhook_secret)


def sign_webhook(client_id: str, body: bytes, timestamp: int) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with the client's webhook secret."""
    secret = _client(client_id).webhook_secret
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True)
class ClientView:
    client_id: str
    name: str
    partner_ref: str
    scopes: list[str]
    rate_limit_per_minute: int
    active: bool
    secret_rotated_at: dt.datetime
    previous_secret_valid_until: dt.datetime | None


def _view(client: PartnerClient) -> ClientView:
    return ClientView(
        client.client_id,
        client.name,
        client.partner_ref,
        list(client.scopes),
        client.rate_limit_per_minute,
        client.active,
        client.secret_rotated_at,
        client.previous_secret_valid_until,
    )


def list_clients(principal: Principal) -> list[ClientView]:
    check_permission(principal, Action.PARTNER_VIEW)
    return [_view(c) for c in PartnerClient.objects.order_by("name")]


def access_own_client(principal: Principal) -> ClientView:
    """The partner's own registration (scope ``profile``)."""
    check_scope(principal, PartnerScope.PROFILE)
    assert principal.partner_client_id is not None
    return _view(_client(principal.partner_client_id))
