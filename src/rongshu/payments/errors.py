"""Payment errors: one stable snake_case code per refusal."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import Conflict, NotFound, PartnerUnavailable, RuleViolation


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    title = _("Payment not found.")


class PayeeUnknown(RuleViolation):
    code = "payee_unknown"
    title = _("The payee account is unknown.")


class PayeeNameMismatch(RuleViolation):
    code = "payee_name_mismatch"
    title = _("The payee name does not match the account.")


class DebitAccountInvalid(RuleViolation):
    code = "debit_account_invalid"
    title = _("You cannot pay from this account.")


class LimitExceeded(RuleViolation):
    code = "limit_exceeded"
    title = _("The amount is over your payment limit.")


class InsufficientFunds(RuleViolation):
    code = "insufficient_funds"
    title = _("Insufficient funds.")


class PaymentRefused(RuleViolation):
    code = "payment_refused"
    title = _("The payment was refused.")


class PaymentCodeInvalid(RuleViolation):
    code = "payment_code_invalid"
    title = _("The payment code is expired, used or unknown.")


class MerchantUnknown(RuleViolation):
    code = "merchant_unknown"
    title = _("This QR code does not belong to a merchant of ours.")


class QrUnknown(RuleViolation):
    """A dynamic code of one of our merchants that the bank did not issue (or not for this
    merchant): forged, or a reference altered."""

    code = "qr_unknown"
    title = _("This QR code was not issued by the merchant; ask for a new one.")


class QrTampered(RuleViolation):
    """The amount or currency in the code is not the issued request's: the code was altered
    (its CRC recomputed). Nothing is held or moved."""

    code = "qr_tampered"
    title = _("This QR code was altered: its amount does not match the merchant's bill.")


class QrExpired(RuleViolation):
    code = "qr_expired"
    title = _("This QR code has expired; ask the merchant for a new one.")


class QrAlreadyPaid(Conflict):
    code = "qr_already_paid"
    title = _("This QR code has already been paid.")


class DynamicQrNotFound(NotFound):
    code = "dynamic_qr_not_found"
    title = _("No such QR code.")


class RefundRefused(RuleViolation):
    code = "refund_refused"
    title = _("The refund cannot be made.")


class InvalidTransition(Conflict):
    code = "payment_invalid_transition"
    title = _("The payment is not in a state that allows this.")


class ClearingDown(PartnerUnavailable):
    code = "clearing_unavailable"
    title = _("The interbank network is unavailable; try again later.")


# ------------------------------------------------------------------ quick pay
class QuickPayBindingNotFound(NotFound):
    code = "quickpay.binding_not_found"
    title = _("No such quick-pay binding.")


class QuickPayBindingRevoked(RuleViolation):
    code = "quickpay.binding_revoked"
    title = _("The quick-pay binding was cancelled.")


class QuickPayBindingSuspended(RuleViolation):
    code = "quickpay.binding_suspended"
    title = _("The quick-pay binding is suspended (the account is frozen or closed).")


class QuickPayLimitExceeded(RuleViolation):
    code = "quickpay.limit_exceeded"
    title = _("The amount is over the limit of this quick-pay binding.")


class QuickPayMerchantUnavailable(RuleViolation):
    code = "quickpay.merchant_unavailable"
    title = _("This merchant does not offer quick pay.")


class QuickPayDebitNotFound(NotFound):
    code = "quickpay.debit_not_found"
    title = _("No such quick-pay debit.")


class QuickPayConflict(Conflict):
    code = "quickpay.conflict"
    title = _("The quick-pay binding is not in a state that allows this.")
