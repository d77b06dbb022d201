"""Who may reach an account: the customer who owns it (anyone else gets "not found")."""

from __future__ import annotations

import uuid

from rongshu.accounts.errors import AccountNotFound, CustomersOnly
from rongshu.accounts.models import CustomerAccount
from rongshu.identity import services as identity
from rongshu.identity.types import Principal


def _customer_id(principal: Principal) -> uuid.UUID:
    if not principal.is_customer or principal.customer_id is None:
        raise CustomersOnly()
    return principal.customer_id


def access_account(
    principal: Principal, account_id: uuid.UUID, *, lock: bool = False
) -> CustomerAccount:
    """The principal's own account (others' answer 404: nothing disclosed)."""
    customer_id = _customer_id(principal)
    qs = CustomerAccount.objects.select_related("holder")
    if lock:
        qs = qs.select_for_update()
    account = qs.filter(public_id=account_id).first()
    if account is None:
        raise AccountNotFound()
    if account.customer_id != customer_id:
        identity.check_owner(
            principal, account.customer_id, object_type="account", object_id=str(account_id)
        )
    return account
