"""Insight errors: one stable code per refusal."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import InvalidInput, NotFound


class InvalidRule(InvalidInput):
    status = 422  # well-formed request, the rule does not parse or type-check
    code = "invalid_segment_rule"
    title = _("The segment rule is not valid.")


class InvalidSegmentCode(InvalidInput):
    status = 422
    code = "invalid_segment_code"
    title = _("The segment code is not valid.")


class UnknownIndicator(NotFound):
    code = "unknown_indicator"
    title = _("The indicator does not exist.")


class UnknownSegment(NotFound):
    code = "unknown_segment"
    title = _("The segment does not exist.")


class LakeMissing(NotFound):
    code = "lake_missing"
    title = _("The lake has no customers table; export or generate it first.")
