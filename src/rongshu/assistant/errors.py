from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import DomainError, NotFound, RuleViolation


class AssistantNotReady(DomainError):
    status = 503
    code = "assistant_not_trained"
    title = _("The assistant has no trained model yet.")


class FaqNotFound(NotFound):
    code = "faq_not_found"
    title = _("No such FAQ entry.")


class InvalidFaq(RuleViolation):
    code = "invalid_faq"
    title = _("The FAQ entry is not valid.")


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    title = _("No such conversation.")


class InvalidBinding(RuleViolation):
    code = "invalid_binding_code"
    title = _("The code is wrong or has expired.")


class InvalidFeedback(RuleViolation):
    code = "invalid_feedback"
    title = _("Only the assistant's answers take feedback.")


class ClusterNotFound(NotFound):
    code = "cluster_not_found"
    title = _("This group of questions has changed or was already handled; reload the page.")
