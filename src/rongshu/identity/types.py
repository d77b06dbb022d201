"""Types that cross the identity boundary: the :class:`Principal`, roles, actions, scopes and
consent purposes. The per-role permission table lives here so every domain reads one truth."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class PrincipalKind(StrEnum):
    ANONYMOUS = "anonymous"
    CUSTOMER = "customer"
    STAFF = "staff"
    PARTNER = "partner"


class Role(StrEnum):
    TELLER = "teller"
    RELATIONSHIP_MANAGER = "relationship_manager"
    BRANCH_MANAGER = "branch_manager"
    RISK_OFFICER = "risk_officer"
    MARKETING_ANALYST = "marketing_analyst"
    PARTNER_MANAGER = "partner_manager"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


ROLE_LABELS = {
    Role.TELLER: _("Teller"),
    Role.RELATIONSHIP_MANAGER: _("Relationship manager"),
    Role.BRANCH_MANAGER: _("Branch manager"),
    Role.RISK_OFFICER: _("Risk officer"),
    Role.MARKETING_ANALYST: _("Marketing analyst"),
    Role.PARTNER_MANAGER: _("Partner manager"),
    Role.AUDITOR: _("Auditor"),
    Role.ADMINISTRATOR: _("Administrator"),
}


class ScopeLevel(StrEnum):
    """How far a staff member's data scope reaches."""

    BRANCH = "branch"  # customers of their own branch
    REGION = "region"  # customers of every branch in their region
    ALL = "all"  # the whole bank (auditors, administrators)


# The data scope each role gets (a staff row may narrow it, never widen it).
ROLE_SCOPE: dict[Role, ScopeLevel] = {
    Role.TELLER: ScopeLevel.BRANCH,
    Role.RELATIONSHIP_MANAGER: ScopeLevel.BRANCH,
    Role.BRANCH_MANAGER: ScopeLevel.BRANCH,
    Role.RISK_OFFICER: ScopeLevel.REGION,
    Role.MARKETING_ANALYST: ScopeLevel.REGION,
    Role.PARTNER_MANAGER: ScopeLevel.REGION,
    Role.AUDITOR: ScopeLevel.ALL,
    Role.ADMINISTRATOR: ScopeLevel.ALL,
}


class Action(StrEnum):
    """Staff actions checked by :func:`rongshu.identity.services.check_permission`.

    Later domains add their actions here (one line each) and a row in :data:`PERMISSIONS`.
    """

    CUSTOMER_VIEW = "customer.view"  # see a customer's profile (PII masked by role)
    CUSTOMER_VIEW_PII = "customer.view_pii"  # see identity numbers in clear (audited)
    CUSTOMER_EXPORT = "customer.export"  # export customer data (audited)
    STAFF_LIST = "staff.list"
    STAFF_MANAGE = "staff.manage"  # request role changes (four-eyes)
    PARTNER_VIEW = "partner.view"
    PARTNER_MANAGE = "partner.manage"  # create clients, rotate secrets
    APPROVAL_REQUEST = "approval.request"
    APPROVAL_DECIDE = "approval.decide"
    AUDIT_VIEW = "audit.view"
    CONSENT_VIEW = "consent.view"
    SEGMENT_VIEW = "segment.view"
    SEGMENT_MANAGE = "segment.manage"  # save and deactivate custom segments (audited)
    ACCOUNT_FREEZE = "account.freeze"
    ACCOUNT_UNFREEZE = "account.unfreeze"  # four-eyes
    LOAN_DECIDE = "loan.decide"
    LOAN_WRITE_OFF = "loan.write_off"  # four-eyes
    MODEL_APPROVE = "model.approve"  # four-eyes
    ALERT_HANDLE = "alert.handle"
    BRANCH_QUEUE = "branch.queue"
    LEDGER_VIEW = "ledger.view"
    LEDGER_POST = "ledger.post"
    ASSISTANT_MANAGE = "assistant.manage"  # edit the FAQ knowledge base, retrain
    ASSISTANT_CHAT = "assistant.chat"  # take handed-off chats, reply, hand back
    PAYMENT_VIEW = "payment.view"  # search and read payment orders
    PAYMENT_MANAGE = "payment.manage"  # refunds and other staff actions on payments (audited)
    ACCOUNT_OPEN_TYPE1 = "account.open_type1"  # open/upgrade a Type I account in person
    CUSTOMER_RESOLVE = "customer.resolve"  # ingest sources, resolve, decide the review queue


_A = Action
_TELLER = {_A.CUSTOMER_VIEW, _A.CUSTOMER_VIEW_PII, _A.BRANCH_QUEUE, _A.ACCOUNT_FREEZE}
_TELLER |= {_A.LEDGER_VIEW, _A.LEDGER_POST, _A.APPROVAL_REQUEST}
_TELLER |= {_A.PAYMENT_VIEW, _A.PAYMENT_MANAGE}
_TELLER |= {_A.ACCOUNT_OPEN_TYPE1}
_TELLER |= {_A.ASSISTANT_CHAT}

# Which role may do what. One table, read by every channel and domain.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.TELLER: frozenset(_TELLER),
    Role.RELATIONSHIP_MANAGER: frozenset(
        {_A.CUSTOMER_VIEW, _A.CONSENT_VIEW, _A.SEGMENT_VIEW, _A.LEDGER_VIEW, _A.APPROVAL_REQUEST}
        | {_A.PAYMENT_VIEW, _A.SEGMENT_MANAGE}
    ),
    Role.BRANCH_MANAGER: frozenset(
        _TELLER
        | {_A.STAFF_LIST, _A.ACCOUNT_UNFREEZE, _A.APPROVAL_DECIDE, _A.CONSENT_VIEW}
        | {_A.LOAN_DECIDE, _A.SEGMENT_VIEW, _A.SEGMENT_MANAGE}
        | {_A.CUSTOMER_RESOLVE}
    ),
    Role.RISK_OFFICER: frozenset(
        {_A.CUSTOMER_VIEW, _A.CUSTOMER_VIEW_PII, _A.ALERT_HANDLE, _A.LOAN_DECIDE}
        | {_A.LOAN_WRITE_OFF, _A.MODEL_APPROVE, _A.ACCOUNT_FREEZE, _A.ACCOUNT_UNFREEZE}
        | {_A.APPROVAL_REQUEST, _A.APPROVAL_DECIDE, _A.LEDGER_VIEW, _A.CONSENT_VIEW}
        | {_A.PAYMENT_VIEW, _A.PAYMENT_MANAGE}
        | {_A.CUSTOMER_RESOLVE}
    ),
    Role.MARKETING_ANALYST: frozenset(
        {_A.SEGMENT_VIEW, _A.SEGMENT_MANAGE, _A.CONSENT_VIEW, _A.ASSISTANT_MANAGE}
    ),
    Role.PARTNER_MANAGER: frozenset({_A.PARTNER_VIEW, _A.PARTNER_MANAGE, _A.APPROVAL_REQUEST}),
    Role.AUDITOR: frozenset(
        {_A.AUDIT_VIEW, _A.STAFF_LIST, _A.CUSTOMER_VIEW, _A.PARTNER_VIEW, _A.CONSENT_VIEW}
        | {_A.LEDGER_VIEW, _A.PAYMENT_VIEW}
    ),
    Role.ADMINISTRATOR: frozenset(
        {_A.STAFF_LIST, _A.STAFF_MANAGE, _A.APPROVAL_REQUEST, _A.APPROVAL_DECIDE, _A.AUDIT_VIEW}
        | {_A.PARTNER_VIEW, _A.PARTNER_MANAGE, _A.ASSISTANT_MANAGE}
    ),
}

# Actions that take two people: who may approve each (four-eyes).
APPROVERS: dict[str, frozenset[Role]] = {
    Action.ACCOUNT_UNFREEZE: frozenset({Role.BRANCH_MANAGER, Role.RISK_OFFICER}),
    Action.LOAN_WRITE_OFF: frozenset({Role.RISK_OFFICER}),
    Action.MODEL_APPROVE: frozenset({Role.RISK_OFFICER}),
    Action.STAFF_MANAGE: frozenset({Role.ADMINISTRATOR}),
    Action.PARTNER_MANAGE: frozenset({Role.ADMINISTRATOR}),
}


class PartnerScope(StrEnum):
    """OAuth2 scopes for partner clients, one per API area."""

    PROFILE = "profile"  # read the client's own registration
    WEBHOOKS = "webhooks"  # manage the webhook signing secret
    CATALOG = "catalog"  # list products and services
    COMMERCE = "commerce"  # merchant orders and settlements
    LIFEPAY = "lifepay"  # biller inquiry and payment notifications
    PAYMENTS = "payments"  # payment initiation
    QUICKPAY = "quickpay"  # debit and refund through customers' quick-pay bindings
    LEDGER_READ = "ledger:read"  # settlement account statements


class ConsentPurpose(StrEnum):
    """PIPL processing purposes that need a separate consent."""

    MARKETING = "marketing"
    PROFILING = "profiling"
    THIRD_PARTY_SHARING = "third_party_sharing"
    CREDIT_BUREAU_QUERY = "credit_bureau_query"
    CROSS_BORDER_TRANSFER = "cross_border_transfer"


CONSENT_LABELS = {
    ConsentPurpose.MARKETING: _("Marketing messages about products and offers"),
    ConsentPurpose.PROFILING: _("Profiling to personalise products and prices"),
    ConsentPurpose.THIRD_PARTY_SHARING: _("Sharing my data with partner companies"),
    ConsentPurpose.CREDIT_BUREAU_QUERY: _("Querying my credit report at the credit bureau"),
    ConsentPurpose.CROSS_BORDER_TRANSFER: _("Transferring my data outside mainland China"),
}

# The consent notice text version currently shown (bump when the notice text changes).
CURRENT_NOTICE_VERSION = "2026-01"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: resolved once per request by the channel, passed to every service."""

    kind: PrincipalKind
    user_id: int | None = None  # Django user (customers and staff)
    customer_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    partner_client_id: str | None = None
    session_id: uuid.UUID | None = None  # the sign-in session (web session or token family)
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    branch_code: str = ""
    region_code: str = ""
    scope_level: ScopeLevel | None = None  # staff data scope
    display_name: str = ""

    @property
    def principal_key(self) -> str:
        """A stable string naming the caller (idempotency scopes, audit actors)."""
        if self.kind is PrincipalKind.CUSTOMER:
            return f"customer:{self.customer_id}"
        if self.kind is PrincipalKind.STAFF:
            return f"staff:{self.staff_id}"
        if self.kind is PrincipalKind.PARTNER:
            return f"partner:{self.partner_client_id}"
        return "anonymous"

    @property
    def is_customer(self) -> bool:
        return self.kind is PrincipalKind.CUSTOMER

    @property
    def is_staff(self) -> bool:
        return self.kind is PrincipalKind.STAFF

    @property
    def is_partner(self) -> bool:
        return self.kind is PrincipalKind.PARTNER


ANONYMOUS = Principal(kind=PrincipalKind.ANONYMOUS)


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth2 token type, not a secret


@dataclass(frozen=True, slots=True)
class OtpChallengeInfo:
    challenge_id: uuid.UUID
    masked_phone: str
    expires_in: int
    purpose: str
