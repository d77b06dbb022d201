"""The accounts domain's public write API: open, close, freeze and unfreeze accounts; mark
messages read; set notification preferences.

Every write runs in one ``transaction.atomic``: an account is opened (ledger account + row +
message + audit) or not at all, and closed (sweep + ledger close + row) or not at all.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction

from rongshu.accounts.access import _customer_id as _customer_id
from rongshu.accounts.access import access_account as access_account
from rongshu.accounts.errors import (
    AccountNotFound,
    BindingUnavailable,
    BindingVerificationFailed,
    CannotCloseOnline,
    HoldsPending,
    InvalidAccountNumber,
    InvalidAccountType,
    InvalidState,
    NotificationNotFound,
    TooManyAccounts,
)
from rongshu.accounts.events import AccountClosed, AccountOpened
from rongshu.accounts.imports import Type1Import as Type1Import
from rongshu.accounts.imports import do_import_type1_accounts as do_import_type1_accounts
from rongshu.accounts.limits import get_limits
from rongshu.accounts.models import AccountHolder, CustomerAccount, Notification, NumberSequence
from rongshu.accounts.notify import do_notify as do_notify  # public: the notification writer
from rongshu.accounts.numbers import is_valid_account_number, make_account_number
from rongshu.accounts.types import DEFAULT_PRODUCT, PRODUCTS, Preferences
from rongshu.accounts.verifier import VerifierUnavailable, get_verifier
from rongshu.identity import services as identity
from rongshu.identity.types import Action, Principal
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import InvalidInput
from rongshu.kernel.ids import new_id
from rongshu.kernel.money import Money
from rongshu.kernel.outbox import record_event
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger

OUR_BANK_CODE = "ours"
ROMAN = {1: "I", 2: "II", 3: "III"}
UNFREEZE_ACTION = "accounts.unfreeze"
NOTIFICATION_KINDS = ("movement", "security", "payment", "statement")


def _holder(customer_id: uuid.UUID, phone: str = "") -> AccountHolder:
    holder, _ = AccountHolder.objects.get_or_create(
        customer_id=customer_id,
        defaults={"phone": phone, "sms_kinds": ["security"], "created_at": clock.now()},
    )
    if phone and holder.phone != phone:
        holder.phone = phone
        holder.save(update_fields=["phone"])
    return AccountHolder.objects.select_for_update().get(pk=holder.pk)  # per-customer lock


def _next_number(account_type: int) -> str:
    limits = get_limits()
    seq, _ = NumberSequence.objects.get_or_create(branch_code=limits.branch_code)
    seq = NumberSequence.objects.select_for_update().get(pk=seq.pk)
    serial = seq.next_serial
    NumberSequence.objects.filter(pk=seq.pk).update(next_serial=serial + 1)
    return make_account_number(limits.bin, limits.branch_code, account_type, serial)


def _create(
    holder: AccountHolder,
    *,
    real_name: str,
    account_type: int,
    product_code: str,
    actor: str,
    bound_bank_code: str = "",
    bound_account_number: str = "",
    bound_ledger_account_id: uuid.UUID | None = None,
    verified_by: str = "",
    note: str = "",
) -> CustomerAccount:
    number = _next_number(account_type)
    ledger_account = ledger.do_create_customer_account(
        owner_id=str(holder.customer_id),
        name=f"{real_name} {PRODUCTS[product_code]}",
        product_code=product_code,
    )
    account = CustomerAccount.objects.create(
        holder=holder,
        customer_id=holder.customer_id,
        ledger_account_id=ledger_account.public_id,
        account_number=number,
        account_type=account_type,
        product_code=product_code,
        holder_name=real_name,
        bound_bank_code=bound_bank_code,
        bound_account_number=bound_account_number,
        bound_ledger_account_id=bound_ledger_account_id,
        verified_in_person_by=verified_by,
        verification_note=note,
        opened_at=clock.now(),
    )
    do_audit(
        actor,
        "accounts.account_opened",
        object_type="account",
        object_id=str(account.public_id),
        data={"type": account_type, "product": product_code, "bound_bank": bound_bank_code},
    )
    record_event(
        AccountOpened(
            account_id=str(account.public_id),
            customer_id=str(holder.customer_id),
            account_type=account_type,
            ledger_account_id=str(ledger_account.public_id),
        )
    )
    do_notify(
        holder.customer_id,
        "security",
        "",
        f"{ROMAN[account_type]}类账户 Type {ROMAN[account_type]} ····{number[-4:]}",
        dedupe_key=f"opened:{account.public_id}",
        account_number=number,
        holder=holder,
        title_msgid="New account opened",
    )
    return account


def _check_count(holder: AccountHolder, account_type: int) -> None:
    limit = get_limits().max_accounts(account_type)
    held = CustomerAccount.objects.filter(
        holder=holder, account_type=account_type, status=CustomerAccount.OPEN
    ).count()
    if limit is not None and held >= limit:
        raise TooManyAccounts(data={"limit": limit, "account_type": account_type})


def do_open_account(
    principal: Principal,
    *,
    account_type: int,
    bind_bank_code: str,
    bind_account_number: str,
    product_code: str | None = None,
) -> CustomerAccount:
    """Open a Type II or III account online, bound to a verified Type I account: one of ours
    (``bind_bank_code="ours"``, the account number) or another bank's (its CNAPS bank code)."""
    customer_id = _customer_id(principal)
    if account_type not in (2, 3):
        raise InvalidAccountType()
    product = product_code or DEFAULT_PRODUCT[account_type]
    if product not in PRODUCTS:
        raise InvalidInput(f"Unknown product {product!r}.", code="unknown_product")
    number = "".join(bind_account_number.split())
    if not number.isdigit() or not 8 <= len(number) <= 32:
        raise InvalidAccountNumber()
    profile = identity.access_customer(principal, customer_id)
    bound_ledger: uuid.UUID | None = None
    bank = bind_bank_code.strip()
    if bank == OUR_BANK_CODE:
        if not is_valid_account_number(number):
            raise InvalidAccountNumber()
        own = CustomerAccount.objects.filter(account_number=number).first()
        if own is None or own.status != CustomerAccount.OPEN:
            raise BindingVerificationFailed(code="unknown_account")
        if own.customer_id != customer_id:
            raise BindingVerificationFailed(code="name_mismatch")
        if own.account_type != 1:
            raise BindingVerificationFailed(code="not_type1")
        bound_ledger = own.ledger_account_id
    else:
        try:  # outside any lock: the network answers with a delay
            result = get_verifier().verify(bank, number, profile.real_name)
        except VerifierUnavailable as exc:
            raise BindingUnavailable(str(exc)) from exc
        if not result.ok:
            do_audit(
                principal.principal_key,
                "accounts.binding_refused",
                object_type="customer",
                object_id=str(customer_id),
                data={"bank": bank, "reason": result.code},
            )
            raise BindingVerificationFailed(code=f"binding_{result.code}")
    with transaction.atomic():
        holder = _holder(customer_id, profile.phone)
        _check_count(holder, account_type)
        return _create(
            holder,
            real_name=profile.real_name,
            account_type=account_type,
            product_code=product,
            actor=principal.principal_key,
            bound_bank_code=bank,
            bound_account_number=number,
            bound_ledger_account_id=bound_ledger,
        )


def do_open_type1_in_person(
    staff: Principal, customer_id: uuid.UUID, *, verification_note: str
) -> CustomerAccount:
    """A teller opens a Type I account after checking the customer face to face (recorded)."""
    identity.check_permission(staff, Action.ACCOUNT_OPEN_TYPE1)
    note = verification_note.strip()
    if len(note) < 4:
        raise InvalidInput(
            "Record how the customer was verified in person.", code="verification_note_required"
        )
    profile = identity.access_customer(staff, customer_id)  # audited; names in clear
    phone = profile.phone if profile.phone.isdigit() else ""
    with transaction.atomic():
        holder = _holder(profile.customer_id, phone)
        return _create(
            holder,
            real_name=profile.real_name,
            account_type=1,
            product_code="demand_deposit",
            actor=staff.principal_key,
            verified_by=staff.principal_key,
            note=note[:300],
        )


def do_upgrade_to_type1(
    staff: Principal, account_id: uuid.UUID, *, verification_note: str
) -> CustomerAccount:
    """Upgrade a Type II account to Type I after in-person verification (limits no longer apply;
    the account number keeps its original class digit)."""
    identity.check_permission(staff, Action.ACCOUNT_OPEN_TYPE1)
    with transaction.atomic():
        account = CustomerAccount.objects.select_for_update().filter(public_id=account_id).first()
        if account is None:
            raise AccountNotFound()
        if account.account_type != 2 or account.status != CustomerAccount.OPEN:
            raise InvalidState("Only an open Type II account can be upgraded.")
        account.account_type = 1
        account.verified_in_person_by = staff.principal_key
        account.verification_note = verification_note.strip()[:300]
        account.save(update_fields=["account_type", "verified_in_person_by", "verification_note"])
        do_audit(
            staff.principal_key,
            "accounts.upgraded_type1",
            object_type="account",
            object_id=str(account_id),
        )
        return account


# ------------------------------------------------------------------ freeze, unfreeze, close
def do_freeze_my_account(principal: Principal, account_id: uuid.UUID) -> CustomerAccount:
    """Self-service freeze (lost phone): no payments out until unfrozen with step-up."""
    with transaction.atomic():
        account = access_account(principal, account_id, lock=True)
        if account.status != CustomerAccount.OPEN or account.self_frozen:
            raise InvalidState("The account is already frozen or closed.")
        view = ledger_queries.get_account(account.ledger_account_id)
        if view.status != "open":
            raise InvalidState("The bank has restricted this account; please contact us.")
        ledger.do_freeze_account(
            account.ledger_account_id,
            actor=principal.principal_key,
            reason="customer self-service freeze",
            debits_only=True,
        )
        account.self_frozen = True
        account.save(update_fields=["self_frozen"])
        return account


def do_unfreeze_my_account(principal: Principal, account_id: uuid.UUID) -> CustomerAccount:
    """Lift the customer's own freeze; needs a passed step-up for ``accounts.unfreeze``."""
    with transaction.atomic():
        account = access_account(principal, account_id, lock=True)
        if not account.self_frozen:
            raise InvalidState("The account is not frozen by you.")
        identity.require_step_up(principal, UNFREEZE_ACTION)
        # Staff may have lifted the ledger freeze already (e.g. an approved unfreeze): then
        # only the customer's own flag is left to clear.
        if ledger_queries.get_account(account.ledger_account_id).status != "open":
            ledger.do_unfreeze_account(
                account.ledger_account_id,
                actor=principal.principal_key,
                reason="customer self-service unfreeze",
            )
        account.self_frozen = False
        account.save(update_fields=["self_frozen"])
        return account


def do_close_my_account(
    principal: Principal, account_id: uuid.UUID, *, channel: str = "api"
) -> CustomerAccount:
    """Close a Type II/III account: its balance goes to the bound account, then the ledger
    account is closed. Refused with pending holds or while frozen; all or nothing.

    Bound to one of our accounts: one ledger transfer, and the account is closed at once.
    Bound to another bank's: the balance leaves as an interbank payment order to the bound
    account (``payments.services.do_create_close_sweep``: no fee, outside the channel's
    limits, the payment's step-up above its threshold) and the account is ``closing`` until
    the network answers (:func:`settle_close_sweep`): settled → closed; rejected or
    returned → open again, with its money back. Its ledger account stays open meanwhile:
    the order's hold covers the whole balance."""
    with transaction.atomic():
        account = access_account(principal, account_id, lock=True)
        if account.status == CustomerAccount.CLOSING:
            raise InvalidState("The account is closing: its balance is on its way to the bank.")
        if account.status != CustomerAccount.OPEN:
            raise InvalidState("The account is already closed.")
        if account.account_type == 1:
            raise CannotCloseOnline("A Type I account is closed at a branch.")
        if account.self_frozen:
            raise InvalidState("Unfreeze the account before closing it.")
        if ledger_queries.list_holds(account.ledger_account_id):
            raise HoldsPending()
        swept = ledger_queries.get_account(account.ledger_account_id).balance
        if swept > 0 and account.bound_ledger_account_id is None:
            _start_close_sweep(principal, account, swept, channel)
            return account
        if swept > 0:
            assert account.bound_ledger_account_id is not None
            ledger.do_transfer(
                debit=account.ledger_account_id,
                credit=account.bound_ledger_account_id,
                amount=swept,
                currency=account.currency,
                code="close_sweep",
                transfer_id=uuid.uuid5(account.public_id, "close-sweep"),
                reference=f"销户转出 → ····{account.bound_account_number[-4:]}",
            )
        _close(account, principal.principal_key, swept)
        return account


def _start_close_sweep(
    principal: Principal, account: CustomerAccount, amount: int, channel: str
) -> None:
    """The interbank order that takes the whole balance to the bound account at another
    bank (its head office's CNAPS code: the binding stores the bank type code); the account
    becomes ``closing``. The order goes to the network after commit."""
    from rongshu.payments import clearing
    from rongshu.payments import services as payments
    from rongshu.payments.types import PaymentRequest

    bank = clearing.head_office(account.bound_bank_code)
    if bank is None:
        raise CannotCloseOnline(
            "The bound account's bank cannot be paid through the clearing network; "
            "close the account at a branch."
        )
    view = payments.do_create_close_sweep(
        principal,
        PaymentRequest(
            debit_account_id=account.ledger_account_id,
            amount=Money(amount, account.currency),
            payee_account_number=account.bound_account_number,
            payee_name=account.holder_name,
            payee_bank_code=bank,
            remittance_info=f"销户转出 {account.account_number[-4:]}",
        ),
        channel=channel,
        idempotency_key=f"account-close:{new_id()}",  # one per attempt: a retry is a new one
    )
    account.status = CustomerAccount.CLOSING
    account.closing_order_id = view.order_id
    account.save(update_fields=["status", "closing_order_id"])
    do_audit(
        principal.principal_key,
        "accounts.account_closing",
        object_type="account",
        object_id=str(account.public_id),
        data={"swept": amount, "order": str(view.order_id)},
    )
    payments.submit_after_commit(view)


def _close(account: CustomerAccount, actor: str, swept: int) -> None:
    """Close the (empty) account's ledger account and the account itself."""
    ledger.do_close_account(account.ledger_account_id, actor=actor, reason="closed by customer")
    account.status = CustomerAccount.CLOSED
    account.closed_at = clock.now()
    account.save(update_fields=["status", "closed_at"])
    record_event(
        AccountClosed(
            account_id=str(account.public_id), customer_id=str(account.customer_id), swept=swept
        )
    )
    do_audit(
        actor,
        "accounts.account_closed",
        object_type="account",
        object_id=str(account.public_id),
        data={"swept": swept},
    )


def settle_close_sweep(order_id: str, state: str, amount_minor: int) -> None:
    """The close sweep ``order_id`` reached ``state`` (its payment event; idempotent). A
    settled sweep closes the account if it is empty; a rejected or returned one — or money
    that arrived meanwhile — opens it again, and the customer is told."""
    actor = "system:accounts"
    try:
        order = uuid.UUID(order_id)
    except ValueError:
        return
    with transaction.atomic():
        account = (
            CustomerAccount.objects.select_for_update()
            .filter(closing_order_id=order, status=CustomerAccount.CLOSING)
            .first()
        )
        if account is None:
            return  # not a sweep, or answered already (a redelivered event)
        balance = ledger_queries.get_account(account.ledger_account_id).balance
        holds = ledger_queries.list_holds(account.ledger_account_id)
        if state == "settled" and balance == 0 and not holds:
            _close(account, actor, amount_minor)
            return
        account.status = CustomerAccount.OPEN
        account.closing_order_id = None
        account.save(update_fields=["status", "closing_order_id"])
        do_audit(
            actor,
            "accounts.account_close_failed",
            object_type="account",
            object_id=str(account.public_id),
            data={"order": order_id, "state": state, "balance": balance},
        )
        do_notify(
            account.customer_id,
            "security",
            "",
            f"····{account.account_number[-4:]}",
            title_msgid=(
                "Account not closed: the transfer came back"
                if state != "settled"
                else "Account not closed: money arrived while closing"
            ),
            dedupe_key=f"close-failed:{order_id}",
            account_number=account.account_number,
        )


# ------------------------------------------------------------------ notifications
def do_mark_read(principal: Principal, notification_id: uuid.UUID | None = None) -> int:
    """Mark one message (or all, with None) read; returns how many changed."""
    customer_id = _customer_id(principal)
    qs = Notification.objects.filter(customer_id=customer_id, read_at__isnull=True)
    if notification_id is not None:
        if not Notification.objects.filter(
            customer_id=customer_id, public_id=notification_id
        ).exists():
            raise NotificationNotFound()
        qs = qs.filter(public_id=notification_id)
    return qs.update(read_at=clock.now())


def do_set_preferences(
    principal: Principal,
    *,
    sms_kinds: list[str],
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
) -> Preferences:
    customer_id = _customer_id(principal)
    unknown = set(sms_kinds) - set(NOTIFICATION_KINDS)
    if unknown:
        raise InvalidInput(f"Unknown message kinds: {sorted(unknown)}.", code="unknown_kind")
    if (quiet_start is None) != (quiet_end is None):
        raise InvalidInput("Quiet hours need a start and an end.", code="quiet_hours_invalid")
    with transaction.atomic():
        phone = identity.access_customer(principal, customer_id).phone
        holder = _holder(customer_id, phone)
        holder.sms_kinds = sorted(set(sms_kinds))
        holder.quiet_start, holder.quiet_end = quiet_start, quiet_end
        holder.save(update_fields=["sms_kinds", "quiet_start", "quiet_end"])
    return Preferences(holder.sms_kinds, holder.quiet_start, holder.quiet_end)


# deposit certificates (rongshu.accounts.certificates), part of this write API
from rongshu.accounts.certificates import (  # noqa: E402
    do_release_due_certificates as do_release_due_certificates,
)
from rongshu.accounts.certificates import (  # noqa: E402
    do_request_certificate as do_request_certificate,
)
