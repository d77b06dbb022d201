"""Ledger errors: one stable snake_case code per refusal (TigerBeetle's result codes).

A batch answers each item with ``created``, ``exists`` or one of :data:`TRANSFER_ERRORS`; a
single-transfer call raises :class:`TransferRefused` carrying the same code.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import Conflict, InvalidInput, NotFound, RuleViolation

# code → human description (English; the codes are the contract).
TRANSFER_ERRORS: dict[str, str] = {
    "invalid_amount": 'The amount is not a decimal string such as "12.34".',
    "amount_precision": "The amount has more decimal places than the currency allows.",
    "invalid_kind": "The kind must be single, pending, post or void.",
    "invalid_timeout": "The timeout must be between 0 and 2,147,483,647 seconds.",
    "invalid_code": "The code (transaction type) must be 1 to 40 characters.",
    "invalid_reference": "The reference must be at most 140 characters.",
    "linked_event_failed": "Another transfer of its linked chain failed.",
    "linked_event_chain_open": "The last transfer of the batch is linked to nothing.",
    "batch_too_large": "A batch holds at most 8,190 transfers.",
    "accounts_must_be_different": "The debit and credit accounts are the same.",
    "amount_must_be_positive": "The amount must be greater than zero.",
    "amount_out_of_range": "The amount exceeds 9,223,372,036,854,775,807 minor units.",
    "invalid_currency": "The currency is not an ISO 4217 code.",
    "debit_account_not_found": "The debit account does not exist.",
    "credit_account_not_found": "The credit account does not exist.",
    "debit_account_required": "A transfer needs a debit account.",
    "credit_account_required": "A transfer needs a credit account.",
    "currency_mismatch": "The accounts and the transfer are not all in one currency.",
    "debit_account_closed": "The debit account is closed.",
    "credit_account_closed": "The credit account is closed.",
    "debit_account_frozen": "The debit account is frozen for debits.",
    "credit_account_frozen": "The credit account is frozen.",
    "exceeds_credits": "Insufficient funds: debits would exceed credits (plus overdraft).",
    "exceeds_debits": "Credits would exceed debits on the credit account.",
    "overflows_debits": "The debit account's debits would overflow 64 bits.",
    "overflows_credits": "The credit account's credits would overflow 64 bits.",
    "timeout_reserved_for_pending_transfer": "Only a pending transfer may have a timeout.",
    "pending_id_must_be_different": "A transfer cannot post or void itself.",
    "pending_id_required": "Posting or voiding needs the pending transfer's id.",
    "pending_id_not_allowed": "Only posts and voids refer to a pending transfer.",
    "pending_transfer_not_found": "The pending transfer does not exist.",
    "pending_transfer_not_pending": "The referenced transfer is not a pending transfer.",
    "pending_transfer_has_different_debit_account": "The debit account differs from the hold's.",
    "pending_transfer_has_different_credit_account": "The credit account differs from the hold's.",
    "pending_transfer_has_different_currency": "The currency differs from the hold's.",
    "pending_transfer_has_different_amount": "A void must release the whole pending amount.",
    "exceeds_pending_transfer_amount": "Posting more than is pending.",
    "pending_transfer_already_posted": "The pending transfer was already posted.",
    "pending_transfer_already_voided": "The pending transfer was already voided.",
    "pending_transfer_expired": "The pending transfer has expired.",
    "exists_with_different_kind": "This id exists with a different kind (flags).",
    "exists_with_different_linked": "This id exists with a different linked flag.",
    "exists_with_different_debit_account": "This id exists with a different debit account.",
    "exists_with_different_credit_account": "This id exists with a different credit account.",
    "exists_with_different_amount": "This id exists with a different amount.",
    "exists_with_different_currency": "This id exists with a different currency.",
    "exists_with_different_pending_id": "This id exists with a different pending id.",
    "exists_with_different_timeout": "This id exists with a different timeout.",
    "exists_with_different_code": "This id exists with a different code.",
    "exists_with_different_reference": "This id exists with a different reference.",
    "exists_with_different_metadata": "This id exists with different metadata.",
}


class TransferRefused(RuleViolation):
    """A transfer the ledger refused; ``code`` is one of :data:`TRANSFER_ERRORS`."""

    code = "transfer_refused"
    title = _("The transfer was refused.")

    def __init__(self, code: str, *, index: int | None = None) -> None:
        data = {"index": index} if index is not None else None
        super().__init__(TRANSFER_ERRORS.get(code, code), code=code, data=data)


class BatchTooLarge(InvalidInput):
    status = 413
    code = "batch_too_large"
    title = _("The batch is too large.")


class AccountNotFound(NotFound):
    code = "account_not_found"
    title = _("The account does not exist.")


class AccountStatusInvalid(Conflict):
    code = "account_status_invalid"
    title = _("The account is not in a status that allows this.")


class UnfreezeAlreadyRequested(Conflict):
    code = "unfreeze_already_requested"
    title = _("An unfreeze of this account is already waiting for approval.")


class AccountBalanceNotZero(RuleViolation):
    code = "account_balance_not_zero"
    title = _("An account can only be closed with a zero balance and no holds.")


class AccountSpecInvalid(InvalidInput):
    code = "account_invalid"
    title = _("The account definition is not valid.")


class InterestRateMissing(RuleViolation):
    code = "interest_rate_missing"
    title = _("No interest rate is defined for this product on this date.")
