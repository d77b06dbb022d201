"""Lifepay errors: one stable snake_case code per refusal."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PartnerUnavailable,
    RuleViolation,
)


class BillerUnknown(NotFound):
    code = "biller_unknown"
    title = _("This biller is unknown.")


class BillPaymentNotFound(NotFound):
    code = "bill_payment_not_found"
    title = _("Bill payment not found.")


class MandateNotFound(NotFound):
    code = "mandate_not_found"
    title = _("Auto-pay mandate not found.")


class SavedAccountNotFound(NotFound):
    code = "bill_account_not_found"
    title = _("Saved bill account not found.")


class BreakNotFound(NotFound):
    code = "break_not_found"
    title = _("Reconciliation break not found.")


class AccountNumberInvalid(InvalidInput):
    code = "bill_account_invalid"
    title = _("The account number does not match this biller's format.")


class BillAccountUnknown(RuleViolation):
    code = "bill_account_unknown"
    title = _("The biller does not know this account number.")


class BillNotFound(RuleViolation):
    code = "bill_not_found"
    title = _("There is no outstanding bill with this reference.")


class AmountMismatch(RuleViolation):
    code = "amount_differs_from_bill"
    title = _("This biller only accepts payment of the full bill amount.")


class AmountInvalid(RuleViolation):
    code = "bill_amount_invalid"
    title = _("The amount is not allowed for this biller.")


class AfterCutoff(RuleViolation):
    code = "after_cutoff"
    title = _("The biller's cut-off time for today has passed; please pay tomorrow.")


class BillAlreadyPaid(RuleViolation):
    code = "bill_already_paid"
    title = _("This bill has already been paid.")


class DebitAccountInvalid(RuleViolation):
    code = "debit_account_invalid"
    title = _("You cannot pay from this account.")


class InsufficientFunds(RuleViolation):
    code = "insufficient_funds"
    title = _("Insufficient funds.")


class PaymentRefused(RuleViolation):
    code = "bill_payment_refused"
    title = _("The bill payment was refused.")


class MandateLimitInvalid(InvalidInput):
    code = "mandate_limit_invalid"
    title = _("The auto-pay limit must be greater than zero.")


class KeyReused(RuleViolation):
    code = "idempotency_key_reused"
    title = _("This key was already used for a different payment.")


class BreakAlreadyResolved(Conflict):
    code = "break_already_resolved"
    title = _("This break has already been resolved.")


class ResolutionInvalid(InvalidInput):
    code = "resolution_invalid"
    title = _("This resolution does not apply to this break.")


class BillerDown(PartnerUnavailable):
    code = "biller_unavailable"
    title = _("The biller is not available right now (maintenance); please try later.")


class BillerTimeout(PartnerUnavailable):
    code = "biller_timeout"
    title = _("The biller did not answer in time.")


class CityUnknown(InvalidInput):
    code = "city_unknown"
    title = _("This city is not in the catalogue.")


class PaymentItemUnknown(InvalidInput):
    code = "payment_item_unknown"
    title = _("This payment item is not in the catalogue.")


class BillerExists(InvalidInput):
    code = "biller_exists"
    title = _("A biller for this city and payment item is already registered.")


class FeeInvalid(InvalidInput):
    code = "biller_fee_invalid"
    title = _("The fee must be an amount between 0.00 and 100.00.")


class AccountFormatUnknown(InvalidInput):
    code = "account_format_unknown"
    title = _("This account-number format is not known.")


class BillerNotPending(Conflict):
    code = "biller_not_pending"
    title = _("This biller is not waiting for approval.")
