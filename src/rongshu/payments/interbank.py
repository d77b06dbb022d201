"""The port to the interbank clearing package (``rongshu.payments.clearing``).

That package (another team's) exposes ``get_network(name)``, ``on_outcome(callback)``,
``process_inbound()``, ``opens_at(network, at)`` (the networks' calendar and hours),
``CreditTransferInstruction``, ``ClearingOutcome``, ``ClearingRejected`` and
``ClearingUnavailable``. Payments reach it only through :func:`clearing`, which imports it
on first use and registers :func:`rongshu.payments.services.handle_clearing_outcome` for its
outcomes; tests (or a deployment's real adapter) install another implementation of the same
API with :func:`use_clearing`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from typing import TYPE_CHECKING, Any, Protocol

from rongshu.kernel.errors import InvalidInput
from rongshu.kernel.money import Money
from rongshu.payments.errors import ClearingDown

if TYPE_CHECKING:
    from rongshu.payments.models import PaymentOrder

CLEARING_MODULE = "rongshu.payments.clearing"
NETWORKS = ("ibps", "hvps", "bulk")
# The settlement account of each network in the ledger's chart of accounts.
SETTLEMENT_CODES = {
    "ibps": "settlement.ibps.{cur}",
    "hvps": "settlement.cnaps_hvps.{cur}",
    "bulk": "settlement.cnaps_beps.{cur}",
}
IBPS_CAP_MINOR = 50_000_00  # the 24/7 network's default cap (¥50,000)
CUT_OFF = "TM01"  # ISO 20022: outside the network's operating hours (cut-off time)


class ClearingApi(Protocol):
    """What payments uses of the clearing package (a module satisfies it)."""

    ClearingRejected: type[Exception]
    ClearingUnavailable: type[Exception]
    CreditTransferInstruction: Any

    def get_network(self, name: str) -> Any: ...

    def on_outcome(self, callback: Any) -> None: ...

    def process_inbound(self) -> int: ...

    def opens_at(self, network: str, at: dt.datetime) -> dt.datetime: ...


_api: ClearingApi | None = None


def use_clearing(api: ClearingApi | None) -> None:
    """Install a clearing implementation (``None``: import the real package on next use)."""
    global _api
    _api = api
    if api is not None:
        from rongshu.payments.services import handle_clearing_outcome

        api.on_outcome(handle_clearing_outcome)


def clearing() -> ClearingApi:
    if _api is None:
        try:
            module: Any = importlib.import_module(CLEARING_MODULE)
        except ModuleNotFoundError as exc:
            if exc.name != CLEARING_MODULE:
                raise
            raise ClearingDown("No interbank clearing adapter is installed.") from exc
        use_clearing(module)
    assert _api is not None
    return _api


def choose_network(requested: str, amount: Money) -> str:
    if requested:
        if requested not in NETWORKS:
            raise InvalidInput(f"Unknown network {requested!r}.", code="invalid_network")
        if requested == "ibps" and amount.minor > IBPS_CAP_MINOR:
            cap = Money(IBPS_CAP_MINOR, amount.currency).amount_str()
            raise InvalidInput(
                f"IBPS carries at most {cap} {amount.currency} per payment; choose HVPS or "
                "leave the network to us.",
                code="network_cap_exceeded",
                data={"cap": cap},
            )
        return requested
    return "ibps" if amount.minor <= IBPS_CAP_MINOR else "hvps"


def opens_at(api: ClearingApi, network: str, at: dt.datetime) -> dt.datetime:
    """When ``network`` takes payments next, from ``at`` on (``at`` itself while it is open),
    as the clearing package knows its calendar and hours (HVPS: working days, in its hours).
    An implementation without ``opens_at`` (an older adapter, a test's fake) counts as
    always open: the network's own answer decides."""
    hours = getattr(api, "opens_at", None)
    return at if hours is None else hours(network, at)


def closed_networks(api: ClearingApi, at: dt.datetime) -> frozenset[str]:
    """The networks that take no payments at ``at`` (HVPS outside its hours)."""
    return frozenset(name for name in NETWORKS if opens_at(api, name, at) > at)


def settlement_account(network: str, currency: str) -> uuid.UUID:
    from rongshu.ledger import services as ledger

    return ledger.get_chart_account(SETTLEMENT_CODES[network].format(cur=currency)).public_id


def end_to_end_id(order: PaymentOrder) -> str:
    """The order's id on the network (ISO 20022 Max35Text): the instruction id, the end-to-end
    id and the ``reference`` of the settlement-account transfers reconciliation matches on."""
    return order.public_id.hex


def instruction_for(api: ClearingApi, order: PaymentOrder) -> Any:
    return api.CreditTransferInstruction(
        instruction_id=end_to_end_id(order),
        end_to_end_id=end_to_end_id(order),
        amount=Money(order.amount_minor, order.currency),
        debtor_name=order.debtor_name or "NOTPROVIDED",  # Max140Text needs at least one char
        debtor_account=order.debit_account_id.hex,
        creditor_bank_code=order.creditor_bank_code,
        creditor_account=order.creditor_account_number,
        creditor_name=order.creditor_name,
        remittance_info=order.remittance_info,
    )
