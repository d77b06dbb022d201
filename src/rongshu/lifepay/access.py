"""Who may see and pay what in lifepay (shared by ``services`` and ``queries``)."""

from __future__ import annotations

import uuid

from rongshu.identity.types import Principal, PrincipalKind
from rongshu.kernel.errors import PermissionDenied


def customer_id_of(principal: Principal) -> uuid.UUID:
    """The customer a principal acts for; anyone else may not pay bills or see payments."""
    if principal.kind is not PrincipalKind.CUSTOMER or principal.customer_id is None:
        raise PermissionDenied("Only customers pay bills.")
    return principal.customer_id
