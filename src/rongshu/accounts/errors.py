"""Accounts errors: one stable code per refusal."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation


class AccountNotFound(NotFound):
    code = "account_not_found"
    title = _("The account does not exist.")


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    title = _("The message does not exist.")


class CustomersOnly(PermissionDenied):
    code = "customers_only"
    title = _("Only customers can do this.")


class InvalidAccountNumber(InvalidInput):
    code = "invalid_account_number"
    title = _("The account number is not valid.")


class InvalidAccountType(InvalidInput):
    code = "invalid_account_type"
    title = _("Only Type II and Type III accounts can be opened online.")


class BindingVerificationFailed(RuleViolation):
    """The Type I account to bind failed verification; ``code`` says why."""

    code = "binding_verification_failed"
    title = _("The account to bind could not be verified.")


class BindingUnavailable(Conflict):
    status = 503
    code = "binding_verifier_unavailable"
    title = _("Account verification is unavailable; try again later.")


class TooManyAccounts(RuleViolation):
    code = "account_limit_reached"
    title = _("You already hold the most accounts of this type our bank may open for you.")


class DailyLimitExceeded(RuleViolation):
    code = "account_daily_limit_exceeded"
    title = _("This payment would exceed the account's daily limit.")


class YearlyLimitExceeded(RuleViolation):
    code = "account_yearly_limit_exceeded"
    title = _("This payment would exceed the account's yearly limit.")


class BalanceCapExceeded(RuleViolation):
    code = "account_balance_cap_exceeded"
    title = _("This deposit would take a Type III account over its balance cap.")


class AccountFrozenByCustomer(RuleViolation):
    code = "account_self_frozen"
    title = _("The account is frozen by its owner.")


class AccountClosed(RuleViolation):
    code = "account_closed"
    title = _("The account is closed.")


class HoldsPending(RuleViolation):
    code = "account_has_pending_holds"
    title = _("The account has pending holds; it can be closed once they are settled.")


class CannotCloseOnline(RuleViolation):
    code = "account_close_not_online"
    title = _("This account cannot be closed online.")


class InvalidState(Conflict):
    code = "account_state_invalid"
    title = _("The account is not in a state that allows this.")


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    title = _("No deposit certificate with that code.")


class CertificateAmountExceeded(RuleViolation):
    code = "certificate_amount_exceeds_available"
    title = _("The certified amount is more than the account's available balance.")


class StatementTooLong(RuleViolation):
    code = "statement_too_long"
    title = _("Too many lines for one PDF: narrow the date range.")
