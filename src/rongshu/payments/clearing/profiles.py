"""The clearing networks we reach and their fixed facts (rules live in the network itself)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NetworkProfile:
    name: str  # our name: ibps, hvps, bulk
    clearing_system: str  # proprietary ClrSys id in the messages
    settlement_code: str  # ledger chart code of our settlement account ("{cur}" = currency)
    description: str

    def settlement_account_code(self, currency: str) -> str:
        return self.settlement_code.format(cur=currency)

    def account_at_network(self, bank_code: str) -> str:
        """Our settlement account's number at the network (camt.053 ``Acct/Id``)."""
        return f"{self.clearing_system}-{bank_code}"


PROFILES: dict[str, NetworkProfile] = {
    "ibps": NetworkProfile(
        "ibps",
        "IBPS",
        "settlement.ibps.{cur}",
        "Online-banking interbank payments (网上支付跨行清算系统): 24/7, small amounts, capped.",
    ),
    "hvps": NetworkProfile(
        "hvps",
        "HVPS",
        "settlement.cnaps_hvps.{cur}",
        "CNAPS large-value payments (大额实时支付系统): working days 08:30–17:00.",
    ),
    "bulk": NetworkProfile(
        "bulk",
        "BEPS",
        "settlement.cnaps_beps.{cur}",
        "CNAPS bulk electronic payments (小额批量支付系统): settled in batch windows.",
    ),
}
