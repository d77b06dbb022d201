"""Deposit certificates (存款证明).

A customer asks for a certificate of an amount held in one of their open accounts (at most its
available balance), optionally **frozen** until a date, as a real 存款证明 for a visa or a
school does: the amount is held in the ledger by a two-phase pending transfer (account →
``suspense.<cur>``, a fixed transfer id per certificate) so it cannot be spent, and the EOD job
``accounts.release_certificate_holds`` voids the hold after the last frozen day. While held the
account cannot be closed (pending holds). Each certificate has a verification code that staff
(``customer.view``) check; the check is audited.

Public through :mod:`rongshu.accounts.services` (writes) and :mod:`rongshu.accounts.queries`
(reads).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from django.db import transaction

from rongshu.accounts.access import _customer_id, access_account
from rongshu.accounts.errors import (
    AccountClosed,
    AccountFrozenByCustomer,
    CertificateAmountExceeded,
    CertificateNotFound,
)
from rongshu.accounts.models import CustomerAccount, DepositCertificate
from rongshu.accounts.notify import do_notify
from rongshu.accounts.types import CertificateView
from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.eod import eod_job
from rongshu.kernel.errors import InvalidInput
from rongshu.kernel.money import format_minor
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.ledger.errors import TransferRefused
from rongshu.ledger.types import TransferIn

HOLD_CODE = "deposit_certificate_hold"
RELEASE_CODE = "deposit_certificate_release"
MAX_FREEZE_DAYS = 3 * 366
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _view(cert: DepositCertificate) -> CertificateView:
    account = cert.account
    return CertificateView(
        certificate_id=cert.public_id,
        account_id=account.public_id,
        account_number=account.account_number,
        holder_name=str(account.holder_name),
        amount=cert.amount_minor,
        currency=cert.currency,
        purpose=cert.purpose,
        state=cert.state,
        frozen_until=cert.frozen_until,
        verification_code=cert.verification_code,
        issued_at=cert.issued_at,
        released_at=cert.released_at,
    )


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalize_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def do_request_certificate(
    principal: Principal,
    account_id: uuid.UUID,
    *,
    amount: int,
    frozen_until: dt.date | None = None,
    purpose: str = "",
    request_key: str | None = None,
) -> CertificateView:
    """Issue a certificate for ``amount`` (minor units) of the account; with ``frozen_until``
    the amount is held until the end of that day. Refused for a closed or self-frozen
    account, an amount above the available balance, or a date not in the future. A repeated
    ``request_key`` (the web form's one-time key) returns the first certificate."""
    today = clock.local_today()
    if amount <= 0:
        raise InvalidInput("The certified amount must be positive.", code="amount_not_positive")
    if frozen_until is not None and not today < frozen_until <= today + dt.timedelta(
        days=MAX_FREEZE_DAYS
    ):
        raise InvalidInput(
            "The freeze must end after today and within three years.", code="freeze_until_invalid"
        )
    with transaction.atomic():
        account = access_account(principal, account_id, lock=True)
        if request_key:
            earlier = (
                DepositCertificate.objects.select_related("account")
                .filter(customer_id=account.customer_id, request_key=request_key[:64])
                .first()
            )
            if earlier is not None:
                return _view(earlier)
        if account.status != CustomerAccount.OPEN:
            raise AccountClosed()
        if account.self_frozen and frozen_until is not None:
            raise AccountFrozenByCustomer()
        view = ledger_queries.get_account(account.ledger_account_id)
        if amount > view.available:
            raise CertificateAmountExceeded(
                data={"available": format_minor(view.available, account.currency)}
            )
        cert = DepositCertificate(
            account=account,
            customer_id=account.customer_id,
            amount_minor=amount,
            currency=account.currency,
            purpose=purpose.strip()[:100],
            frozen_until=frozen_until,
            state=DepositCertificate.FROZEN if frozen_until else DepositCertificate.ISSUED,
            verification_code=_new_code(),
            issued_at=clock.now(),
            request_key=(request_key or "")[:64],
        )
        if frozen_until is not None:
            hold_id = uuid.uuid5(cert.public_id, "hold")
            ledger.do_create_transfer(  # refused (e.g. exceeds_credits) → the whole request is
                TransferIn(
                    transfer_id=hold_id,
                    debit_account=account.ledger_account_id,
                    credit_account=ledger.get_chart_account(
                        f"suspense.{account.currency}"
                    ).public_id,
                    amount=amount,
                    currency=account.currency,
                    code=HOLD_CODE,
                    kind="pending",
                    reference=f"存款证明冻结 {cert.verification_code}",
                )
            )
            cert.hold_transfer_id = hold_id
        cert.save()
        do_audit(
            principal.principal_key,
            "accounts.certificate_issued",
            object_type="account",
            object_id=str(account.public_id),
            data={
                "certificate": str(cert.public_id),
                "amount": amount,
                "frozen_until": frozen_until.isoformat() if frozen_until else None,
            },
        )
        do_notify(
            account.customer_id,
            "security",
            "",
            f"····{account.account_number[-4:]} {format_minor(amount, account.currency)}"
            + (f" 冻结至 frozen until {frozen_until.isoformat()}" if frozen_until else ""),
            dedupe_key=f"certificate:{cert.public_id}",
            account_number=account.account_number,
            title_msgid="Deposit certificate issued",
        )
        return _view(cert)


def list_certificates(principal: Principal, account_id: uuid.UUID) -> list[CertificateView]:
    account = access_account(principal, account_id)
    qs = DepositCertificate.objects.filter(account=account).select_related("account")
    return [_view(c) for c in qs.order_by("-pk")]


def get_certificate(principal: Principal, certificate_id: uuid.UUID) -> CertificateView:
    """One of the customer's certificates (another customer's answers 404)."""
    customer_id = _customer_id(principal)
    cert = (
        DepositCertificate.objects.select_related("account")
        .filter(public_id=certificate_id, customer_id=customer_id)
        .first()
    )
    if cert is None:
        raise CertificateNotFound()
    return _view(cert)


def verify_certificate(staff: Principal, code: str) -> CertificateView:
    """Staff check a certificate by its code (``customer.view``; audited)."""
    identity.check_permission(staff, Action.CUSTOMER_VIEW)
    normalized = normalize_code(code)
    cert = (
        DepositCertificate.objects.select_related("account")
        .filter(verification_code=normalized)
        .first()
    )
    do_audit(
        staff.principal_key,
        "accounts.certificate_verified",
        object_type="certificate",
        object_id=str(cert.public_id) if cert else normalized[:40],
        data={"found": cert is not None},
    )
    if cert is None:
        raise CertificateNotFound()
    return _view(cert)


def do_release_due_certificates(business_date: dt.date) -> int:
    """Void the holds of certificates whose freeze ended on or before ``business_date``
    (idempotent: a fixed void id per certificate). Returns how many were released."""
    due = list(
        DepositCertificate.objects.filter(
            state=DepositCertificate.FROZEN, frozen_until__lte=business_date
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    released = 0
    for pk in due:
        with transaction.atomic():
            cert = (
                DepositCertificate.objects.select_for_update()
                .select_related("account")
                .filter(pk=pk, state=DepositCertificate.FROZEN)
                .first()
            )
            if cert is None or cert.hold_transfer_id is None:
                continue
            result = ledger.do_create_transfers(
                [
                    TransferIn(
                        transfer_id=uuid.uuid5(cert.public_id, "release"),
                        debit_account=None,
                        credit_account=None,
                        amount=None,
                        currency=cert.currency,
                        code=RELEASE_CODE,
                        kind="void",
                        pending_id=cert.hold_transfer_id,
                        reference=f"存款证明解冻 {cert.verification_code}",
                    )
                ]
            )[0]
            if result.transfer is None and result.result not in (
                "exists",
                "pending_transfer_already_voided",
                "pending_transfer_expired",
            ):
                raise TransferRefused(result.result)
            cert.state = DepositCertificate.RELEASED
            cert.released_at = clock.now()
            cert.save(update_fields=["state", "released_at"])
            do_notify(
                cert.customer_id,
                "security",
                "",
                f"····{cert.account.account_number[-4:]} "
                f"{format_minor(cert.amount_minor, cert.currency)}",
                dedupe_key=f"certificate:{cert.public_id}:released",
                account_number=cert.account.account_number,
                title_msgid="Deposit certificate freeze released",
            )
            released += 1
    return released


@eod_job("accounts.release_certificate_holds", order=55)
def release_certificate_holds(business_date: dt.date) -> dict[str, Any]:
    return {"released": do_release_due_certificates(business_date)}
