"""Reactions to other domains' events: a withdrawn profiling consent deletes the customer's
profile rows at once (the next build excludes them through the lake's consent column)."""

from __future__ import annotations

from rongshu.kernel.models import OutboxEvent
from rongshu.kernel.outbox import handles


@handles("identity.ConsentWithdrawn", name="insight.forget_profile")
def forget_profile(event: OutboxEvent) -> None:
    payload = event.payload
    if payload.get("purpose") != "profiling":
        return
    from rongshu.insight.services import do_forget_customer

    do_forget_customer(str(payload.get("customer_id", "")))
