"""Staff: roles, the permission check, data scope, and four-eyes approvals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from rongshu.identity.errors import (
    AccessDenied,
    ApprovalAlreadyDecided,
    ApprovalNotFound,
    SelfApproval,
    StaffNotFound,
    UnknownRole,
)
from rongshu.identity.events import ApprovalDecided
from rongshu.identity.models import ApprovalRequest, StaffMember
from rongshu.identity.types import (
    APPROVERS,
    PERMISSIONS,
    ROLE_SCOPE,
    Action,
    Principal,
    PrincipalKind,
    Role,
    ScopeLevel,
)
from rongshu.kernel import clock
from rongshu.kernel.audit import do_audit
from rongshu.kernel.outbox import record_event


def _roles(principal: Principal) -> list[Role]:
    return [Role(r) for r in principal.roles if r in Role.__members__.values()]


def has_permission(principal: Principal, action: str) -> bool:
    """Whether a staff principal's role allows ``action`` (never for customers and partners)."""
    if principal.kind is not PrincipalKind.STAFF:
        return False
    return any(action in PERMISSIONS[role] for role in _roles(principal))


def deny(
    principal: Principal, action: str, *, object_type: str = "", object_id: str = ""
) -> AccessDenied:
    """Audit a refusal and return the error to raise."""
    do_audit(
        principal.principal_key,
        "identity.permission_denied",
        object_type=object_type,
        object_id=object_id,
        data={"action": action, "kind": principal.kind.value, "roles": sorted(principal.roles)},
    )
    return AccessDenied()


def check_permission(principal: Principal, action: str) -> None:
    """Raise :class:`AccessDenied` (audited) unless the staff principal may do ``action``."""
    if not has_permission(principal, action):
        raise deny(principal, action)


def in_data_scope(principal: Principal, *, branch_code: str, region_code: str) -> bool:
    """Whether a record of ``branch_code`` / ``region_code`` is within the staff's data scope."""
    level = principal.scope_level
    if principal.kind is not PrincipalKind.STAFF or level is None:
        return False
    if level is ScopeLevel.ALL:
        return True
    if level is ScopeLevel.REGION:
        return bool(region_code) and region_code == principal.region_code
    return bool(branch_code) and branch_code == principal.branch_code


def check_data_scope(
    principal: Principal,
    *,
    branch_code: str,
    region_code: str,
    object_type: str = "",
    object_id: str = "",
) -> None:
    if not in_data_scope(principal, branch_code=branch_code, region_code=region_code):
        raise deny(principal, "data_scope", object_type=object_type, object_id=object_id)


# ------------------------------------------------------------------ staff members
def do_create_staff(
    username: str,
    password: str,
    role: str,
    *,
    full_name: str = "",
    branch_code: str = "0001",
    region_code: str = "110000",
) -> StaffMember:
    """Create a staff login (set-up and demo; role changes afterwards go through four-eyes)."""
    if role not in Role.__members__.values():
        raise UnknownRole()
    first, _, last = full_name.partition(" ")
    user = get_user_model().objects.create_user(
        username=username,
        password=password,
        first_name=first,
        last_name=last,
        is_staff=True,  # staff console and (with model permissions) the admin site
    )
    return StaffMember.objects.create(
        user=user,
        role=role,
        branch_code=branch_code,
        region_code=region_code,
        created_at=clock.now(),
    )


@dataclass(frozen=True)
class StaffView:
    staff_id: uuid.UUID
    username: str
    name: str
    role: str
    scope: str
    branch_code: str
    region_code: str
    active: bool


def list_staff(principal: Principal) -> list[StaffView]:
    """Staff in the caller's data scope (``staff.list`` permission)."""
    check_permission(principal, Action.STAFF_LIST)
    rows = StaffMember.objects.select_related("user").order_by("user__username")
    return [
        StaffView(
            m.public_id,
            m.user.get_username(),
            m.user.get_full_name(),
            m.role,
            ROLE_SCOPE[Role(m.role)].value,
            m.branch_code,
            m.region_code,
            m.active,
        )
        for m in rows
        if in_data_scope(principal, branch_code=m.branch_code, region_code=m.region_code)
    ]


def _member_of(principal: Principal) -> StaffMember:
    if principal.staff_id is None:
        raise AccessDenied()
    member = StaffMember.objects.filter(public_id=principal.staff_id, active=True).first()
    if member is None:
        raise AccessDenied()
    return member


def do_request_role_change(principal: Principal, staff_id: uuid.UUID, role: str) -> ApprovalRequest:
    """Ask for a staff member's role to change; an administrator other than the requester
    approves it (four-eyes), then it applies."""
    check_permission(principal, Action.STAFF_MANAGE)
    if role not in Role.__members__.values():
        raise UnknownRole()
    target = StaffMember.objects.filter(public_id=staff_id).first()
    if target is None:
        raise StaffNotFound()
    return do_request_approval(
        principal,
        Action.STAFF_MANAGE,
        object_type="staff",
        object_id=str(staff_id),
        payload={"change": "role", "from": target.role, "to": role},
        branch_code=target.branch_code,
        region_code=target.region_code,
    )


# ------------------------------------------------------------------ four-eyes
def do_request_approval(
    principal: Principal,
    action: str,
    *,
    object_type: str,
    object_id: str,
    payload: dict[str, Any] | None = None,
    reason: str = "",
    branch_code: str | None = None,
    region_code: str | None = None,
) -> ApprovalRequest:
    """Open a four-eyes request for ``action`` on an object. The requester needs the action's
    own permission (or ``approval.request``); :data:`APPROVERS` names who may decide."""
    if action not in APPROVERS:
        raise AccessDenied(f"{action} does not take four-eyes approval.")
    if not (
        has_permission(principal, action) or has_permission(principal, Action.APPROVAL_REQUEST)
    ):
        raise deny(principal, action, object_type=object_type, object_id=object_id)
    member = _member_of(principal)
    approval = ApprovalRequest.objects.create(
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        payload=payload or {},
        reason=reason,
        requested_by=member,
        requested_at=clock.now(),
        branch_code=branch_code if branch_code is not None else member.branch_code,
        region_code=region_code if region_code is not None else member.region_code,
    )
    do_audit(
        principal.principal_key,
        "identity.approval_requested",
        object_type="approval",
        object_id=str(approval.public_id),
        data={"action": action, "object_id": str(object_id)},
    )
    return approval


def get_approval(approval_id: uuid.UUID) -> ApprovalRequest:
    approval = (
        ApprovalRequest.objects.select_related("requested_by__user")
        .filter(public_id=approval_id)
        .first()
    )
    if approval is None:
        raise ApprovalNotFound()
    return approval


def access_approval(principal: Principal, approval_id: uuid.UUID) -> ApprovalRequest:
    """Fetch an approval the staff principal may see (decider roles in scope, the requester)."""
    approval = get_approval(approval_id)
    if principal.staff_id is not None and approval.requested_by.public_id == principal.staff_id:
        return approval
    may_decide = any(r in APPROVERS.get(approval.action, frozenset()) for r in _roles(principal))
    if not (may_decide or has_permission(principal, Action.AUDIT_VIEW)) or not in_data_scope(
        principal, branch_code=approval.branch_code, region_code=approval.region_code
    ):
        raise deny(principal, "approval.view", object_type="approval", object_id=str(approval_id))
    return approval


def list_approvals(principal: Principal, *, state: str | None = "pending") -> list[ApprovalRequest]:
    """Approvals the principal may decide or has requested."""
    if principal.kind is not PrincipalKind.STAFF:
        raise deny(principal, "approval.list")
    rows = ApprovalRequest.objects.select_related("requested_by__user").order_by("-requested_at")
    if state:
        rows = rows.filter(state=state)
    roles = set(_roles(principal))
    return [
        a
        for a in rows[:500]
        if a.requested_by.public_id == principal.staff_id
        or (
            roles & APPROVERS.get(a.action, frozenset())
            and in_data_scope(principal, branch_code=a.branch_code, region_code=a.region_code)
        )
    ]


def _decide(
    principal: Principal, approval_id: uuid.UUID, approve: bool, note: str
) -> ApprovalRequest:
    decider = _member_of(principal)
    with transaction.atomic():
        approval = ApprovalRequest.objects.select_for_update().filter(public_id=approval_id).first()
        if approval is None:
            raise ApprovalNotFound()
        if approval.requested_by_id == decider.pk:
            raise SelfApproval()
        allowed = APPROVERS.get(approval.action, frozenset())
        permitted = any(r in allowed for r in _roles(principal)) and in_data_scope(
            principal, branch_code=approval.branch_code, region_code=approval.region_code
        )
        if permitted:
            if approval.state != ApprovalRequest.PENDING:
                raise ApprovalAlreadyDecided()
            _record_decision(principal, approval, decider, approve, note)
    if not permitted:  # audited outside the block so the entry survives
        raise deny(
            principal,
            f"approve:{approval.action}",
            object_type="approval",
            object_id=str(approval_id),
        )
    return approval


def _record_decision(
    principal: Principal, approval: ApprovalRequest, decider: StaffMember, approve: bool, note: str
) -> None:
    approval.state = ApprovalRequest.APPROVED if approve else ApprovalRequest.REJECTED
    approval.decided_by = decider
    approval.decided_at = clock.now()
    approval.decision_note = note
    approval.save()
    if approve and approval.action == Action.STAFF_MANAGE and approval.object_type == "staff":
        _apply_staff_change(approval)
    record_event(
        ApprovalDecided(
            approval_id=str(approval.public_id),
            action=approval.action,
            object_type=approval.object_type,
            object_id=approval.object_id,
            approved=approve,
            details=dict(approval.payload),
        ),
        dedupe_key=f"identity.approval:{approval.public_id}",
    )
    do_audit(
        principal.principal_key,
        "identity.approval_approved" if approve else "identity.approval_rejected",
        object_type="approval",
        object_id=str(approval.public_id),
        data={"action": approval.action, "object_id": approval.object_id},
    )


def _apply_staff_change(approval: ApprovalRequest) -> None:
    if approval.payload.get("change") == "role":
        StaffMember.objects.filter(public_id=approval.object_id).update(role=approval.payload["to"])


def do_approve(principal: Principal, approval_id: uuid.UUID, note: str = "") -> ApprovalRequest:
    """Approve a pending request (not one's own); records ``identity.ApprovalDecided``."""
    return _decide(principal, approval_id, True, note)


def do_reject(principal: Principal, approval_id: uuid.UUID, note: str = "") -> ApprovalRequest:
    return _decide(principal, approval_id, False, note)
