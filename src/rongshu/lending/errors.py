"""Lending errors (each with a stable ``code``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation


class LoanNotFound(NotFound):
    code = "loan_not_found"
    title = _("Loan not found.")


class ApplicationNotFound(NotFound):
    code = "application_not_found"
    title = _("Loan application not found.")


class ModelNotFound(NotFound):
    code = "model_not_found"
    title = _("Credit model not found.")


class UnknownProduct(InvalidInput):
    code = "unknown_product"
    title = _("Unknown loan product.")


class AmountOutOfBounds(RuleViolation):
    code = "amount_out_of_bounds"
    title = _("The amount is outside the product's limits.")


class TermOutOfBounds(RuleViolation):
    code = "term_out_of_bounds"
    title = _("The term is outside the product's limits.")


class MethodNotOffered(RuleViolation):
    code = "method_not_offered"
    title = _("This repayment method is not offered for the product.")


class ConsentRequired(RuleViolation):
    code = "consent_required"
    title = _("Consent to a credit bureau query is required.")


class KycIncomplete(RuleViolation):
    code = "kyc_incomplete"
    title = _("A verified Type I account is required to borrow.")


class ApplicationOpen(Conflict):
    code = "application_open"
    title = _("You already have an open application for this product.")


class InvalidState(Conflict):
    code = "invalid_state"
    title = _("The loan or application is not in a state that allows this.")


class NoActiveModel(RuleViolation):
    code = "no_active_model"
    title = _("No approved credit model is active; applications cannot be decided.")


class FourEyes(PermissionDenied):
    code = "four_eyes"
    title = _("A second person must approve this.")


class RepaymentTooLarge(RuleViolation):
    code = "repayment_exceeds_outstanding"
    title = _("The repayment is larger than what is outstanding.")


class InsufficientFunds(RuleViolation):
    code = "insufficient_funds"
    title = _("The account does not have enough money.")


class AccountUnavailable(RuleViolation):
    code = "account_unavailable"
    title = _("The deposit account is frozen or closed.")


class ArtifactInvalid(InvalidInput):
    code = "artifact_invalid"
    title = _("The model artifact cannot be read.")
