"""Reactions to other domains' events.

An unfreeze takes two people (identity's four-eyes table): the API or console opens an
approval for ``account.unfreeze`` on object type ``ledger.account``; when a second staff
member approves it, identity records ``identity.ApprovalDecided`` and
:func:`apply_approved_unfreeze` lifts the freeze. The ledger stays on ``rongshu.kernel``: the
event, action and object type are matched by their stable names.
"""

from __future__ import annotations

import contextlib
import logging
import uuid

from rongshu.kernel.models import AuditEntry, OutboxEvent
from rongshu.kernel.outbox import handles
from rongshu.ledger.errors import AccountStatusInvalid
from rongshu.ledger.models import Account
from rongshu.ledger.types import ACCOUNT_OBJECT_TYPE, FROZEN_STATUSES, UNFREEZE_ACTION

logger = logging.getLogger(__name__)

APPROVAL_DECIDED = "identity.ApprovalDecided"


@handles(APPROVAL_DECIDED, name="ledger.apply_approved_unfreeze")
def apply_approved_unfreeze(event: OutboxEvent) -> None:
    """Unfreeze the account of an approved ``account.unfreeze`` request (and, approved or
    rejected, let the account take a new request).

    Idempotent: an approval is carried out once (its audit entry names it as the actor), and
    an account that is no longer frozen is left alone, so a redelivered event changes nothing
    — also after the account was frozen again by a new order.
    """
    from rongshu.ledger.services import do_clear_unfreeze_request, do_unfreeze_account

    payload = event.payload
    if not (
        payload.get("action") == UNFREEZE_ACTION
        and payload.get("object_type") == ACCOUNT_OBJECT_TYPE
    ):
        return
    try:
        account_id = uuid.UUID(str(payload.get("object_id")))
    except ValueError:
        logger.warning("approval %s names no ledger account", payload.get("approval_id"))
        return
    with contextlib.suppress(ValueError):  # decided either way: a new request may follow
        do_clear_unfreeze_request(account_id, uuid.UUID(str(payload.get("approval_id"))))
    if payload.get("approved") is not True:
        return
    status = Account.objects.filter(public_id=account_id).values_list("status", flat=True).first()
    if status not in FROZEN_STATUSES:
        return
    actor = f"approval:{payload.get('approval_id')}"
    if AuditEntry.objects.filter(
        object_id=str(account_id), action="ledger.account_unfrozen", actor=actor
    ).exists():
        return
    details = payload.get("details") or {}
    reason = str(details.get("reason") or "")
    try:
        do_unfreeze_account(
            account_id,
            actor=actor,
            reason=f"four-eyes approval {payload.get('approval_id')}: {reason}"[:500],
        )
    except AccountStatusInvalid:  # changed between the read and the lock
        return
