"""Object access: ``access_*`` fetches an object and checks the principal may see it.

Customers see only their own records, partners only theirs (see
:func:`rongshu.identity.partners.access_own_client`), staff by role (:data:`PERMISSIONS`) and
data scope. A refusal is audited; a record outside the caller's reach answers "not found" to
customers and partners (nothing disclosed) and "permission denied" to staff.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from rongshu.identity.errors import CustomerNotFound
from rongshu.identity.models import CustomerCredential
from rongshu.identity.staff import check_data_scope, check_permission, deny, has_permission
from rongshu.identity.types import Action, Principal, PrincipalKind
from rongshu.kernel.audit import do_audit
from rongshu.kernel.pii import PiiKind, reveal_for


@dataclass(frozen=True)
class CustomerProfile:
    customer_id: uuid.UUID
    phone: str
    real_name: str
    resident_id: str
    home_branch_code: str
    region_code: str


def check_owner(
    principal: Principal,
    customer_id: uuid.UUID | str,
    *,
    branch_code: str = "",
    region_code: str = "",
    action: str = Action.CUSTOMER_VIEW,
    object_type: str = "customer",
    object_id: str = "",
) -> None:
    """The one rule for a record owned by a customer: the customer, or staff with ``action``
    in scope. Other domains call it from their own ``access_*`` functions."""
    if principal.kind is PrincipalKind.CUSTOMER:
        if str(principal.customer_id) != str(customer_id):
            do_audit(
                principal.principal_key,
                "identity.permission_denied",
                object_type=object_type,
                object_id=object_id or str(customer_id),
                data={"action": str(action), "kind": "customer"},
            )
            raise CustomerNotFound()
        return
    if principal.kind is PrincipalKind.STAFF:
        check_permission(principal, action)
        check_data_scope(
            principal,
            branch_code=branch_code,
            region_code=region_code,
            object_type=object_type,
            object_id=object_id or str(customer_id),
        )
        return
    raise deny(
        principal, str(action), object_type=object_type, object_id=object_id or str(customer_id)
    )


def access_customer(principal: Principal, customer_id: uuid.UUID | str) -> CustomerProfile:
    """A customer's identity profile, as the principal may see it. Staff views are audited;
    identity numbers are in clear only with ``customer.view_pii``."""
    credential = CustomerCredential.objects.filter(public_id=customer_id).first()
    if credential is None:
        raise CustomerNotFound()
    check_owner(
        principal,
        credential.public_id,
        branch_code=credential.home_branch_code,
        region_code=credential.region_code,
    )
    if principal.kind is PrincipalKind.CUSTOMER:
        role = "owner"
    else:
        # What is shown in clear follows the kernel's masking table for the staff's role.
        role = next(iter(principal.roles), "")
        clear = has_permission(principal, Action.CUSTOMER_VIEW_PII)
        do_audit(
            principal.principal_key,
            "identity.customer_pii_viewed",
            object_type="customer",
            object_id=str(credential.public_id),
            data={"role": role, "clear_id": clear},
        )
        if not clear:
            role = "masked"  # no role of that name: every field masked
    return CustomerProfile(
        customer_id=credential.public_id,
        phone=reveal_for(role, PiiKind.PHONE, credential.phone) or "",
        real_name=reveal_for(role, PiiKind.NAME, credential.real_name) or "",
        resident_id=reveal_for(role, PiiKind.RESIDENT_ID, credential.resident_id) or "",
        home_branch_code=credential.home_branch_code,
        region_code=credential.region_code,
    )
