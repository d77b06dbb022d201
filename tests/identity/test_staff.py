from __future__ import annotations

import pytest

from rongshu.identity import services as identity
from rongshu.identity.errors import (
    AccessDenied,
    ApprovalAlreadyDecided,
    CustomerNotFound,
    SelfApproval,
)
from rongshu.identity.models import StaffMember
from rongshu.identity.types import APPROVERS, PERMISSIONS, Action, Role
from rongshu.kernel.models import AuditEntry, OutboxEvent
from tests.identity.builders import make_customer, make_staff

pytestmark = pytest.mark.django_db


def test_every_role_has_a_permission_row_and_every_approval_action_an_approver() -> None:
    assert set(PERMISSIONS) == set(Role)
    for action, roles in APPROVERS.items():
        assert roles, action
        assert any(action in PERMISSIONS[r] for r in roles) or action == Action.STAFF_MANAGE


def test_permissions_follow_the_table() -> None:
    teller = make_staff(Role.TELLER)
    analyst = make_staff(Role.MARKETING_ANALYST)
    assert identity.has_permission(teller, Action.LEDGER_POST)
    assert not identity.has_permission(analyst, Action.CUSTOMER_VIEW)
    with pytest.raises(AccessDenied):
        identity.check_permission(analyst, Action.CUSTOMER_VIEW)
    denial = AuditEntry.objects.get(action="identity.permission_denied")
    assert denial.data["action"] == "customer.view" and denial.actor == analyst.principal_key


def test_data_scope_branch_region_and_all() -> None:
    teller = make_staff(Role.TELLER, branch="0001", region="110000")
    risk = make_staff(Role.RISK_OFFICER, branch="0009", region="110000")
    auditor = make_staff(Role.AUDITOR, branch="0009", region="310000")
    assert identity.in_data_scope(teller, branch_code="0001", region_code="110000")
    assert not identity.in_data_scope(teller, branch_code="0002", region_code="110000")
    assert identity.in_data_scope(risk, branch_code="0002", region_code="110000")
    assert not identity.in_data_scope(risk, branch_code="0002", region_code="310000")
    assert identity.in_data_scope(auditor, branch_code="0777", region_code="440000")


def test_customers_see_only_themselves_and_staff_only_in_scope() -> None:
    a, b = make_customer(), make_customer()
    who_a = identity.principal_for_user(a.user_id)
    assert str(identity.access_customer(who_a, a.customer_id).customer_id) == a.customer_id
    with pytest.raises(CustomerNotFound):
        identity.access_customer(who_a, b.customer_id)
    far_teller = make_staff(Role.TELLER, branch="0999")
    with pytest.raises(AccessDenied):
        identity.access_customer(far_teller, a.customer_id)


def test_four_eyes_requester_cannot_approve_and_another_admin_can() -> None:
    admin_a = make_staff(Role.ADMINISTRATOR)
    admin_b = make_staff(Role.ADMINISTRATOR)
    teller = make_staff(Role.TELLER)
    risk = make_staff(Role.RISK_OFFICER)
    assert teller.staff_id is not None
    approval = identity.do_request_role_change(admin_a, teller.staff_id, Role.BRANCH_MANAGER)
    with pytest.raises(SelfApproval):
        identity.do_approve(admin_a, approval.public_id)
    with pytest.raises(AccessDenied):  # not an approver for staff changes
        identity.do_approve(risk, approval.public_id)
    assert StaffMember.objects.get(public_id=teller.staff_id).role == Role.TELLER
    decided = identity.do_approve(admin_b, approval.public_id, "checked with HR")
    assert decided.state == "approved" and decided.decided_by is not None
    assert StaffMember.objects.get(public_id=teller.staff_id).role == Role.BRANCH_MANAGER
    event = OutboxEvent.objects.get(event_type="identity.ApprovalDecided")
    assert event.payload["approved"] is True and event.payload["action"] == "staff.manage"
    with pytest.raises(ApprovalAlreadyDecided):
        identity.do_reject(admin_b, approval.public_id)


def test_other_domains_request_approvals_for_their_actions() -> None:
    teller = make_staff(Role.TELLER)
    manager = make_staff(Role.BRANCH_MANAGER)
    other_branch_manager = make_staff(Role.BRANCH_MANAGER, branch="0002")
    approval = identity.do_request_approval(
        teller,
        Action.ACCOUNT_UNFREEZE,
        object_type="account",
        object_id="acc-1",
        payload={"reason": "court order lifted"},
    )
    assert [a.public_id for a in identity.list_approvals(manager)] == [approval.public_id]
    assert identity.list_approvals(other_branch_manager) == []
    with pytest.raises(AccessDenied):  # out of data scope
        identity.do_approve(other_branch_manager, approval.public_id)
    rejected = identity.do_reject(manager, approval.public_id, "documents missing")
    assert rejected.state == "rejected"
    event = OutboxEvent.objects.get(event_type="identity.ApprovalDecided")
    assert event.payload["approved"] is False and event.payload["details"] == {
        "reason": "court order lifted"
    }


def test_only_listed_actions_take_four_eyes() -> None:
    teller = make_staff(Role.TELLER)
    with pytest.raises(AccessDenied):
        identity.do_request_approval(teller, "coffee.order", object_type="x", object_id="1")
