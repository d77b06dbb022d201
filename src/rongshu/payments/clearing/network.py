"""The clearing adapter: our side of the wire, the same for every network and transport.

:class:`ClearingNetwork` maps a :class:`CreditTransferInstruction` to a pacs.008.001.08,
validates it against the XSD, records it and hands it to a :class:`ClearingGateway` (the
transport; the simulator by default, ``settings.RONGSHU_CLEARING_GATEWAY`` names another).
:func:`process_inbound` drains the gateway's due messages, validates and parses them, keeps our
record of each instruction and calls the registered outcome callbacks inside one transaction
per message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from rongshu.kernel import clock
from rongshu.kernel.ids import new_id
from rongshu.kernel.money import Money
from rongshu.payments.clearing import iso20022
from rongshu.payments.clearing.errors import ClearingRejected, InvalidMessage, UnknownNetwork
from rongshu.payments.clearing.profiles import PROFILES, NetworkProfile
from rongshu.payments.clearing.types import (
    AccountCheckResult,
    AccountReport,
    ClearingOutcome,
    CreditTransferInstruction,
    OutcomeStatus,
)

logger = logging.getLogger(__name__)

DEFAULT_GATEWAY = "rongshu.payments.clearing.simulator.SimulatedGateway"


class ClearingGateway(Protocol):
    """The transport to the networks (a real one speaks to the PBoC front-end processor)."""

    def our_bank_code(self) -> str: ...

    def opens_at(self, network: str, at: dt.datetime) -> dt.datetime:
        """When the network takes payments next, from ``at`` on (``at`` while it is open)."""
        ...

    def verify_account(
        self, network: str, bank_code: str, account_number: str, name: str
    ) -> AccountCheckResult: ...

    def send(self, network: str, xml: bytes) -> None:
        """Hand over a pacs.008; raise ClearingRejected / ClearingUnavailable on refusal."""
        ...

    def list_due(self, limit: int) -> list[int]: ...

    def claim(self, ref: int) -> tuple[str, bytes] | None: ...

    def ack(self, ref: int) -> None: ...

    def quarantine(self, ref: int, error: str) -> None: ...

    def record_failure(self, ref: int, error: str) -> None: ...

    def statement(self, network: str, on: dt.date, currency: str) -> bytes: ...


def get_gateway() -> ClearingGateway:
    path = getattr(settings, "RONGSHU_CLEARING_GATEWAY", DEFAULT_GATEWAY)
    gateway: ClearingGateway = import_string(path)()
    return gateway


def _fingerprint(instruction: CreditTransferInstruction, network: str) -> str:
    parts = [
        network,
        instruction.instruction_id,
        instruction.end_to_end_id,
        str(instruction.amount.minor),
        instruction.amount.currency,
        instruction.debtor_name,
        instruction.debtor_account,
        instruction.creditor_bank_code,
        instruction.creditor_account,
        instruction.creditor_name,
        instruction.remittance_info,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class ClearingNetwork:
    """One clearing network as our payment orders see it."""

    def __init__(self, profile: NetworkProfile, gateway: ClearingGateway) -> None:
        self.profile = profile
        self.gateway = gateway

    @property
    def name(self) -> str:
        return self.profile.name

    def settlement_account_code(self, currency: str = "CNY") -> str:
        return self.profile.settlement_account_code(currency)

    def opens_at(self, at: dt.datetime) -> dt.datetime:
        """When this network takes payments next, from ``at`` on: ``at`` itself while it is
        open (HVPS: working days, in its hours); a submission while it is closed is refused
        ``TM01``."""
        return self.gateway.opens_at(self.name, at)

    def verify_account(self, bank_code: str, account_number: str, name: str) -> AccountCheckResult:
        """Account-name verification at the creditor bank (AC01, AC04, AC06, BE01, RC01)."""
        return self.gateway.verify_account(self.name, bank_code, account_number, name)

    def submit(self, instruction: CreditTransferInstruction) -> None:
        """Send one credit transfer. Idempotent per ``instruction_id``: a resend of the same
        content does nothing, different content raises ``ClearingRejected("AM05")``."""
        from rongshu.payments.clearing.models import Instruction

        fingerprint = _fingerprint(instruction, self.name)
        existing = Instruction.objects.filter(instruction_id=instruction.instruction_id).first()
        if existing is not None:
            if existing.fingerprint == fingerprint:
                return
            raise ClearingRejected("AM05", "This instruction id was used for another payment.")
        now = clock.now()
        message_id = new_id().hex
        try:
            xml = iso20022.build_pacs008(
                message_id=message_id,
                created_at=now,
                instruction=instruction,
                debtor_bank_code=self.gateway.our_bank_code(),
                clearing_system=self.profile.clearing_system,
                settlement_date=now.astimezone(clock.bank_zone()).date(),
            )
        except InvalidMessage as exc:
            raise ClearingRejected("FF01", str(exc)) from exc
        with transaction.atomic():  # a refusal leaves nothing behind
            self.gateway.send(self.name, xml)
            try:
                with transaction.atomic():
                    Instruction.objects.create(
                        network=self.name,
                        instruction_id=instruction.instruction_id,
                        end_to_end_id=instruction.end_to_end_id,
                        message_id=message_id,
                        fingerprint=fingerprint,
                        amount_minor=instruction.amount.minor,
                        currency=instruction.amount.currency,
                        creditor_bank_code=instruction.creditor_bank_code,
                        creditor_account=instruction.creditor_account,
                        submitted_at=now,
                        updated_at=now,
                        pacs008=xml.decode(),
                    )
            except IntegrityError as exc:  # a concurrent submit of the same id won the race
                raise ClearingRejected("AM05", "This instruction id is being submitted.") from exc

    def fetch_statement(self, business_date: dt.date, currency: str = "CNY") -> AccountReport:
        """The network's camt.053 statement of our account for a date, parsed."""
        xml = self.gateway.statement(self.name, business_date, currency)
        return iso20022.parse_account_report(xml)


def get_network(name: str) -> ClearingNetwork:
    profile = PROFILES.get(name)
    if profile is None:
        raise UnknownNetwork(f"No clearing network {name!r}; known: {', '.join(PROFILES)}.")
    return ClearingNetwork(profile, get_gateway())


# ====================================================================== inbound
OutcomeCallback = Callable[[ClearingOutcome], None]
_callbacks: list[OutcomeCallback] = []


def on_outcome(callback: OutcomeCallback) -> OutcomeCallback:
    """Register ``callback(outcome)``; called inside the message's transaction (idempotent!)."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


# Which statuses an instruction may move to from which (anything else is stale: duplicate).
_MOVES: dict[str, set[str]] = {
    "settled": {"submitted"},
    "rejected": {"submitted"},
    "returned": {"submitted", "settled"},
}


def _apply(
    network: str,
    message_id: str,
    seen_before: bool,
    instruction_id: str,
    end_to_end_id: str,
    status: OutcomeStatus,
    reason_code: str | None,
    amount: Money | None,
) -> ClearingOutcome | None:
    from rongshu.payments.clearing.models import Instruction

    row = Instruction.objects.select_for_update().filter(instruction_id=instruction_id).first()
    if row is None:
        logger.warning("%s %s: unknown instruction %s", network, message_id, instruction_id)
        return None
    duplicate = seen_before or row.status not in _MOVES[status]
    if not duplicate:
        row.status = status
        row.reason_code = reason_code or ""
        row.updated_at = clock.now()
        row.save(update_fields=["status", "reason_code", "updated_at"])
    elif not seen_before and row.status != status and status != "settled":
        logger.error(
            "%s %s: %s for instruction %s that is already %s",
            network,
            message_id,
            status,
            instruction_id,
            row.status,
        )
    return ClearingOutcome(
        instruction_id=instruction_id,
        status=status,
        reason_code=reason_code,
        message_id=message_id,
        duplicate=duplicate,
        network=network,
        end_to_end_id=end_to_end_id or row.end_to_end_id,
        amount=amount or Money(row.amount_minor, row.currency),
    )


def _receive(network: str, message_id: str, kind: str) -> bool:
    """Record a message id; True if it was seen before (a duplicate copy)."""
    from rongshu.payments.clearing.models import ReceivedMessage

    row = ReceivedMessage.objects.select_for_update().filter(network=network, message_id=message_id)
    found = row.first()
    if found is not None:
        found.copies += 1
        found.save(update_fields=["copies"])
        return True
    ReceivedMessage.objects.create(
        network=network, message_id=message_id, kind=kind, received_at=clock.now()
    )
    return False


def interpret(network: str, xml: bytes) -> list[ClearingOutcome]:
    """Validate and parse one inbound message, update our records; the outcomes it carries."""
    kind = iso20022.message_type(xml)
    outcomes: list[ClearingOutcome | None] = []
    if kind == iso20022.PACS002:
        report = iso20022.parse_pacs002(xml)
        seen = _receive(network, report.message_id, kind)
        for item in report.items:
            if item.status not in ("ACSC", "RJCT"):
                continue  # interim statuses (ACSP, PDNG …) change nothing
            outcomes.append(
                _apply(
                    network,
                    report.message_id,
                    seen,
                    item.instruction_id,
                    item.end_to_end_id,
                    "settled" if item.status == "ACSC" else "rejected",
                    item.reason_code,
                    None,
                )
            )
    elif kind == iso20022.PACS004:
        ret = iso20022.parse_pacs004(xml)
        seen = _receive(network, ret.message_id, kind)
        for r in ret.items:
            outcomes.append(
                _apply(
                    network,
                    ret.message_id,
                    seen,
                    r.instruction_id,
                    r.end_to_end_id,
                    "returned",
                    r.reason_code,
                    r.amount,
                )
            )
    elif kind in (iso20022.CAMT054, iso20022.CAMT053):
        notification = iso20022.parse_account_report(xml)
        _receive(network, notification.message_id, kind)
    else:
        raise InvalidMessage(f"unexpected inbound message {kind}")
    return [o for o in outcomes if o is not None]


def process_inbound(limit: int = 10_000) -> int:
    """Deliver every due inbound message; returns how many were processed.

    One transaction per message: parse, record, callbacks, acknowledge. A message that fails
    its XSD is quarantined (logged, not counted). A callback that raises rolls its message
    back; the failure is logged and recorded on the message, which is retried next time.
    """
    gateway = get_gateway()
    processed = 0
    for ref in gateway.list_due(limit):
        try:
            with transaction.atomic():
                claimed = gateway.claim(ref)
                if claimed is None:
                    continue
                network, xml = claimed
                try:
                    outcomes = interpret(network, xml)
                except InvalidMessage as exc:
                    logger.error("quarantined inbound message %s: %s", ref, exc)
                    gateway.quarantine(ref, str(exc))
                    continue
                for outcome in outcomes:
                    for callback in list(_callbacks):
                        callback(outcome)
                gateway.ack(ref)
        except Exception as exc:
            logger.exception("inbound clearing message %s failed; it will be retried", ref)
            gateway.record_failure(ref, f"{type(exc).__name__}: {exc}")
            continue
        processed += 1
    return processed
