"""Customer-view errors: one stable snake_case code per refusal."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import Conflict, InvalidInput, NotFound


class CustomerNotFound(NotFound):
    code = "unified_customer_not_found"
    title = _("Customer not found.")


class ReviewPairNotFound(NotFound):
    code = "review_pair_not_found"
    title = _("Review pair not found.")


class ReviewAlreadyDecided(Conflict):
    code = "review_already_decided"
    title = _("This pair has already been decided.")


class SourceFileInvalid(InvalidInput):
    code = "source_file_invalid"
    title = _("The source file cannot be read.")


class UnknownSource(InvalidInput):
    code = "unknown_source"
    title = _("This source is not declared.")
