"""Clearing errors: immediate refusals by a network and a network that cannot be reached.

Both carry a stable ``code`` (the contract with channels); :class:`ClearingRejected` also carries
the ISO 20022 external status reason code (``AM02``, ``TM01`` …) in ``reason_code``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rongshu.kernel.errors import PartnerUnavailable, RuleViolation

# ISO 20022 ExternalStatusReason1Code / ExternalReturnReason1Code values the adapter uses.
REASON_CODES: dict[str, str] = {
    "AC01": "Incorrect account number (unknown at the creditor bank).",
    "AC04": "Closed account number.",
    "AC06": "Blocked account.",
    "AG01": "Transaction forbidden on this account.",
    "AM02": "Amount exceeds the network's maximum for one payment.",
    "AM03": "Currency not allowed on this network.",
    "AM05": "Duplicate instruction id with different content.",
    "BE01": "Creditor name does not match the account holder.",
    "FF01": "Invalid message (fails the ISO 20022 schema).",
    "MD07": "End customer deceased.",
    "RC01": "Creditor bank code unknown to the network.",
    "TM01": "Outside the network's operating hours (cut-off time).",
}


class ClearingRejected(RuleViolation):
    """The network refused the instruction at once (over cap, outside hours, invalid …)."""

    code = "clearing_rejected"
    title = _("The clearing network refused the payment.")

    def __init__(self, reason_code: str, detail: str | None = None) -> None:
        self.reason_code = reason_code
        super().__init__(
            detail or REASON_CODES.get(reason_code, reason_code),
            data={"reason_code": reason_code},
        )


class ClearingUnavailable(PartnerUnavailable):
    """The network cannot be reached (down, maintenance); the caller may retry later."""

    code = "clearing_unavailable"
    title = _("The clearing network is unavailable; try again later.")


class UnknownNetwork(RuleViolation):
    code = "unknown_clearing_network"
    title = _("There is no such clearing network.")


class InvalidMessage(Exception):
    """An ISO 20022 message that is not well formed or fails its XSD (inbound or outbound)."""
