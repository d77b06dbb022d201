"""A simulator of China's interbank clearing networks, playing the network's side.

It implements :class:`~rongshu.payments.clearing.network.ClearingGateway` (the transport a real
deployment replaces) over database tables, so it survives restarts:

* a directory of counterparty banks and accounts (:mod:`.directory`; some closed or blocked);
* on receipt of a pacs.008 it validates it, applies the network's own rules (IBPS cap, HVPS
  hours on working days, CNY only, known bank, duplicate ids) and refuses at once, or accepts
  and decides the payment's whole fate from a seeded random generator: settle or reject (AC01
  unknown, AC04 closed, AC06 blocked, BE01 name mismatch, AG01 random), when (a delay, a long
  "timeout" delay, the next batch window for bulk), duplicates of its status messages,
  out-of-order delivery, a late return (pacs.004 plus a camt.054 credit notification);
* messages are rows revealed at ``due_at`` (kernel clock, so tests move time with
  ``clock.frozen_time``); bookings on our account are :class:`SimEntry` rows, reported by the
  day's camt.053 once their time has come;
* a per-network "down" switch: submissions and look-ups raise ``ClearingUnavailable`` and its
  messages are not delivered while it is down.

Configuration: ``settings.RONGSHU_CLEARING_SIMULATOR`` (a dict over :data:`DEFAULTS`) and, per
test, :func:`simulator_overrides`.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum

from rongshu.kernel import clock
from rongshu.kernel.ids import new_id
from rongshu.kernel.money import Money
from rongshu.payments.clearing import iso20022
from rongshu.payments.clearing.errors import ClearingRejected, ClearingUnavailable, InvalidMessage
from rongshu.payments.clearing.models import (
    SimAccount,
    SimBank,
    SimEntry,
    SimMessage,
    SimNetworkState,
    SimPayment,
)
from rongshu.payments.clearing.profiles import PROFILES, NetworkProfile
from rongshu.payments.clearing.types import AccountCheckResult, Entry, ReturnItem, StatusItem


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 0
    min_delay_s: float = 1.0  # before a status message
    max_delay_s: float = 5.0
    timeout_rate: float = 0.02  # the answer comes only after timeout_delay_s
    timeout_delay_s: float = 900.0
    duplicate_rate: float = 0.05  # each message may arrive twice (same MsgId)
    out_of_order_rate: float = 0.05  # the status is held back past later messages
    late_return_rate: float = 0.01  # a settled payment comes back (pacs.004) later
    late_return_min_s: float = 600.0
    late_return_max_s: float = 6 * 3600.0
    reject_rate: float = 0.0  # the creditor bank refuses an otherwise valid payment (AG01)
    ibps_cap: str = "50000.00"  # CNY, per payment
    hvps_open: str = "08:30"  # Asia/Shanghai, working days
    hvps_close: str = "17:00"
    bulk_window_minutes: int = 30  # bulk items settle at the next window boundary
    notify_returns: bool = True  # a camt.054 credit notification with each return
    bank_code: str = "999100000018"  # our own CNAPS code (debtor agent)


DEFAULTS = SimulatorConfig()
_overrides: list[dict[str, Any]] = []


def simulator_config() -> SimulatorConfig:
    values: dict[str, Any] = dict(getattr(settings, "RONGSHU_CLEARING_SIMULATOR", {}) or {})
    for layer in _overrides:
        values.update(layer)
    known = {f.name for f in fields(SimulatorConfig)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown clearing simulator settings: {sorted(unknown)}")
    return replace(DEFAULTS, **values)


@contextmanager
def simulator_overrides(**values: Any) -> Iterator[SimulatorConfig]:
    """Override simulator settings for a block (tests: faults, seed, cap …)."""
    _overrides.append(values)
    try:
        yield simulator_config()
    finally:
        _overrides.remove(values)


def _hhmm(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def network_opens_at(
    network: str, at: dt.datetime, config: SimulatorConfig | None = None
) -> dt.datetime:
    """When ``network`` takes payments next, from ``at`` on: ``at`` itself while it is open.
    HVPS: working days (:func:`rongshu.kernel.clock.is_working_day`: holidays and adjusted
    weekends) from ``hvps_open`` to ``hvps_close`` in the bank's zone (Asia/Shanghai); the
    others always take them (bulk settles in its windows by itself)."""
    if network != "hvps":
        return at
    config = config or simulator_config()
    opens, closes = _hhmm(config.hvps_open), _hhmm(config.hvps_close)
    zone = clock.bank_zone()
    local = at.astimezone(zone)
    day = local.date()
    if clock.is_working_day(day):
        if opens <= local.time() < closes:
            return at
        if local.time() < opens:
            return dt.datetime.combine(day, opens, zone)
    return dt.datetime.combine(clock.next_working_day(day), opens, zone)


def _norm(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def do_set_network_down(network: str, down: bool) -> None:
    SimNetworkState.objects.update_or_create(
        network=network, defaults={"down": down, "changed_at": clock.now()}
    )


def is_network_down(network: str) -> bool:
    return SimNetworkState.objects.filter(network=network, down=True).exists()


def do_add_account(bank_code: str, number: str, name: str, status: str = "open") -> SimAccount:
    """Add (or update) an account of the simulated directory (tests and demos)."""
    bank, _ = SimBank.objects.get_or_create(code=bank_code, defaults={"name": bank_code})
    account, _ = SimAccount.objects.update_or_create(
        bank=bank, number=number, defaults={"name": name, "status": status}
    )
    return account


def _msg_id() -> str:
    return "SIM" + new_id().hex[:29]


class SimulatedGateway:
    """The networks' side of the wire, in the database (see the module docstring)."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self._config = config

    @property
    def config(self) -> SimulatorConfig:
        return self._config or simulator_config()

    def our_bank_code(self) -> str:
        return self.config.bank_code

    def opens_at(self, network: str, at: dt.datetime) -> dt.datetime:
        """When ``network`` takes payments next (:func:`network_opens_at`)."""
        return network_opens_at(network, at, self.config)

    # ------------------------------------------------------------------ look-ups
    def _check_up(self, network: str) -> None:
        if is_network_down(network):
            raise ClearingUnavailable(f"The {network} network is not reachable.")

    def _account_fate(self, bank_code: str, number: str, name: str) -> str | None:
        account = (
            SimAccount.objects.filter(bank__code=bank_code, number=number)
            .only("name", "status")
            .first()
        )
        if account is None:
            return "AC01"
        if account.status == SimAccount.CLOSED:
            return "AC04"
        if account.status == SimAccount.BLOCKED:
            return "AC06"
        if _norm(account.name) != _norm(name):
            return "BE01"
        return None

    def verify_account(
        self, network: str, bank_code: str, account_number: str, name: str
    ) -> AccountCheckResult:
        self._check_up(network)
        if not SimBank.objects.filter(code=bank_code).exists():
            return AccountCheckResult(ok=False, reason_code="RC01")
        reason = self._account_fate(bank_code, account_number, name)
        return AccountCheckResult(ok=reason is None, reason_code=reason)

    # ------------------------------------------------------------------ receiving a pacs.008
    def _check_rules(self, profile: NetworkProfile, amount: Money, now: dt.datetime) -> None:
        config = self.config
        if amount.currency != "CNY":
            raise ClearingRejected("AM03", f"{profile.name} clears CNY only.")
        if profile.name == "ibps":
            cap = Money.parse(config.ibps_cap, "CNY")
            if amount > cap:
                raise ClearingRejected(
                    "AM02", f"IBPS takes at most {cap.amount_str()} CNY per payment."
                )
        if network_opens_at(profile.name, now, config) > now:  # HVPS outside its hours
            if not clock.is_working_day(now.astimezone(clock.bank_zone()).date()):
                raise ClearingRejected("TM01", "HVPS is closed on non-working days.")
            raise ClearingRejected(
                "TM01", f"HVPS is open {config.hvps_open}–{config.hvps_close} only."
            )

    def _settle_base(self, profile: NetworkProfile, now: dt.datetime) -> dt.datetime:
        """When the network processes a payment received at ``now``."""
        if profile.name != "bulk":
            return now
        window = dt.timedelta(minutes=self.config.bulk_window_minutes)
        local = now.astimezone(clock.bank_zone())
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        passed = (local - midnight) // window
        return (midnight + (passed + 1) * window).astimezone(dt.UTC)

    def send(self, network: str, xml: bytes) -> None:
        """Receive one pacs.008 (one transaction); refuse at once or accept and schedule."""
        profile = PROFILES[network]
        self._check_up(network)
        now = clock.now()
        try:
            root = iso20022.validate(iso20022.PACS008, xml)
        except InvalidMessage as exc:
            raise ClearingRejected("FF01", str(exc)) from exc
        r = iso20022.Reader(iso20022.PACS008, root)
        doc = r.all(root, "d:FIToFICstmrCdtTrf")[0]
        txs = r.all(doc, "d:CdtTrfTxInf")
        if len(txs) != 1:
            raise ClearingRejected("FF01", "One transaction per message, please.")
        tx = txs[0]
        instruction_id = r.text(tx, "d:PmtId/d:InstrId") or r.need(tx, "d:PmtId/d:EndToEndId")
        end_to_end_id = r.need(tx, "d:PmtId/d:EndToEndId")
        amount = r.money(tx, "d:IntrBkSttlmAmt")
        bank_code = r.text(tx, "d:CdtrAgt/d:FinInstnId/d:ClrSysMmbId/d:MmbId") or ""
        account_number = r.text(tx, "d:CdtrAcct/d:Id/d:Othr/d:Id") or ""
        creditor_name = r.text(tx, "d:Cdtr/d:Nm") or ""
        self._check_rules(profile, amount, now)
        if not SimBank.objects.filter(code=bank_code).exists():
            raise ClearingRejected("RC01", f"No participant {bank_code!r} on {network}.")
        existing = SimPayment.objects.filter(network=network, instruction_id=instruction_id)
        found = existing.first()
        if found is not None:
            if found.end_to_end_id == end_to_end_id and found.amount_minor == amount.minor:
                return  # a resend of the same payment: already accepted
            raise ClearingRejected("AM05", f"Instruction {instruction_id} was already used.")
        self._accept(
            profile,
            now=now,
            xml=xml,
            message_id=r.need(doc, "d:GrpHdr/d:MsgId"),
            instruction_id=instruction_id,
            end_to_end_id=end_to_end_id,
            amount=amount,
            bank_code=bank_code,
            account_number=account_number,
            creditor_name=creditor_name,
        )

    def _accept(
        self,
        profile: NetworkProfile,
        *,
        now: dt.datetime,
        xml: bytes,
        message_id: str,
        instruction_id: str,
        end_to_end_id: str,
        amount: Money,
        bank_code: str,
        account_number: str,
        creditor_name: str,
    ) -> None:
        config = self.config
        rng = random.Random(f"{config.seed}:{profile.name}:{instruction_id}")  # noqa: S311
        reason = self._account_fate(bank_code, account_number, creditor_name)
        if reason is None and rng.random() < config.reject_rate:
            reason = "AG01"
        fate = SimPayment.REJECTED if reason else SimPayment.SETTLED
        delay = rng.uniform(config.min_delay_s, config.max_delay_s)
        if rng.random() < config.timeout_rate:
            delay = config.timeout_delay_s + delay
        decided_at = self._settle_base(profile, now) + dt.timedelta(seconds=delay)
        returned_at: dt.datetime | None = None
        return_reason = ""
        if fate == SimPayment.SETTLED and rng.random() < config.late_return_rate:
            returned_at = decided_at + dt.timedelta(
                seconds=rng.uniform(config.late_return_min_s, config.late_return_max_s)
            )
            return_reason = rng.choice(("AC04", "AC06", "MD07"))
        status_due = decided_at
        if rng.random() < config.out_of_order_rate:
            # Held back: overtaken by later payments' statuses, and by its own return.
            after = returned_at or decided_at
            status_due = after + dt.timedelta(
                seconds=rng.uniform(2 * config.max_delay_s, 4 * config.max_delay_s + 1)
            )
        SimPayment.objects.create(
            network=profile.name,
            instruction_id=instruction_id,
            end_to_end_id=end_to_end_id,
            message_id=message_id,
            amount_minor=amount.minor,
            currency=amount.currency,
            creditor_bank_code=bank_code,
            creditor_account=account_number,
            received_at=now,
            fate=fate,
            reason_code=reason or "",
            decided_at=decided_at,
            returned_at=returned_at,
            return_reason=return_reason,
            pacs008=xml.decode(),
        )
        status = iso20022.build_pacs002(
            message_id=_msg_id(),
            created_at=decided_at,
            original_message_id=message_id,
            items=[
                StatusItem(
                    instruction_id, end_to_end_id, "RJCT" if reason else "ACSC", reason or None
                )
            ],
        )
        self._post(profile.name, iso20022.PACS002, status, status_due, rng)
        if fate == SimPayment.SETTLED:
            self._book(profile.name, decided_at, "DBIT", amount, end_to_end_id, instruction_id)
        if returned_at is not None:
            ret = iso20022.build_pacs004(
                message_id=_msg_id(),
                created_at=returned_at,
                clearing_system=profile.clearing_system,
                settlement_date=returned_at.astimezone(clock.bank_zone()).date(),
                items=[
                    ReturnItem(
                        "RTR" + new_id().hex[:29],
                        instruction_id,
                        end_to_end_id,
                        amount,
                        return_reason,
                    )
                ],
            )
            self._post(profile.name, iso20022.PACS004, ret, returned_at, rng)
            entry = self._book(
                profile.name, returned_at, "CRDT", amount, end_to_end_id, instruction_id
            )
            if config.notify_returns:
                note = iso20022.build_account_report(
                    iso20022.CAMT054,
                    message_id=_msg_id(),
                    created_at=returned_at,
                    report_id=_msg_id(),
                    account=profile.account_at_network(config.bank_code),
                    currency=amount.currency,
                    entries=[entry],
                )
                self._post(profile.name, iso20022.CAMT054, note, returned_at, rng)

    def _post(
        self, network: str, kind: str, xml: bytes, due_at: dt.datetime, rng: random.Random
    ) -> None:
        message_id = iso20022.message_id_of(xml)
        SimMessage.objects.create(
            network=network, message_id=message_id, kind=kind, xml=xml.decode(), due_at=due_at
        )
        if rng.random() < self.config.duplicate_rate:
            later = due_at + dt.timedelta(seconds=rng.uniform(0, 2 * self.config.max_delay_s))
            SimMessage.objects.create(
                network=network, message_id=message_id, kind=kind, xml=xml.decode(), due_at=later
            )

    def _book(
        self,
        network: str,
        at: dt.datetime,
        direction: str,
        amount: Money,
        end_to_end_id: str,
        instruction_id: str,
    ) -> Entry:
        ref = "E" + new_id().hex[:30]
        booked_on = at.astimezone(clock.bank_zone()).date()
        SimEntry.objects.create(
            network=network,
            entry_ref=ref,
            booked_at=at,
            booked_on=booked_on,
            direction=direction,
            amount_minor=amount.minor,
            currency=amount.currency,
            end_to_end_id=end_to_end_id,
            instruction_id=instruction_id,
        )
        return Entry(
            entry_ref=ref,
            amount=amount,
            direction="DBIT" if direction == "DBIT" else "CRDT",
            status="BOOK",
            booked_on=booked_on,
            end_to_end_id=end_to_end_id,
            instruction_id=instruction_id,
        )

    # ------------------------------------------------------------------ delivering to us
    def list_due(self, limit: int) -> list[int]:
        """Refs of messages due now from networks that are up, in delivery order."""
        down = list(SimNetworkState.objects.filter(down=True).values_list("network", flat=True))
        return list(
            SimMessage.objects.filter(state=SimMessage.PENDING, due_at__lte=clock.now())
            .exclude(network__in=down)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )

    def claim(self, ref: int) -> tuple[str, bytes] | None:
        """Lock one due message inside the caller's transaction: (network, xml) or None."""
        row = (
            SimMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=ref, state=SimMessage.PENDING)
            .first()
        )
        if row is None:
            return None
        return row.network, row.xml.encode()

    def ack(self, ref: int) -> None:
        SimMessage.objects.filter(pk=ref).update(
            state=SimMessage.DELIVERED, delivered_at=clock.now()
        )

    def quarantine(self, ref: int, error: str) -> None:
        SimMessage.objects.filter(pk=ref).update(state=SimMessage.INVALID, error=error[:2000])

    def record_failure(self, ref: int, error: str) -> None:
        row = SimMessage.objects.filter(pk=ref).first()
        if row is not None:
            row.attempts += 1
            row.error = error[:2000]
            row.save(update_fields=["attempts", "error"])

    # ------------------------------------------------------------------ the day's statement
    def statement(self, network: str, on: dt.date, currency: str) -> bytes:
        """The camt.053 of our account at ``network`` for ``on`` (entries booked by now)."""
        self._check_up(network)
        profile = PROFILES[network]
        now = clock.now()
        booked = SimEntry.objects.filter(network=network, currency=currency, booked_at__lte=now)

        def net(qs: Any) -> int:
            sums = qs.aggregate(
                d=Sum("amount_minor", filter=Q(direction="DBIT")),
                c=Sum("amount_minor", filter=Q(direction="CRDT")),
            )
            return int(sums["c"] or 0) - int(sums["d"] or 0)

        opening = net(booked.filter(booked_on__lt=on))
        rows = list(booked.filter(booked_on=on).order_by("booked_at", "pk"))
        closing = opening + sum(
            r.amount_minor if r.direction == "CRDT" else -r.amount_minor for r in rows
        )
        entries = [
            Entry(
                entry_ref=r.entry_ref,
                amount=Money(r.amount_minor, r.currency),
                direction="DBIT" if r.direction == "DBIT" else "CRDT",
                status="BOOK",
                booked_on=r.booked_on,
                end_to_end_id=r.end_to_end_id,
                instruction_id=r.instruction_id,
            )
            for r in rows
        ]
        return iso20022.build_account_report(
            iso20022.CAMT053,
            message_id=_msg_id(),
            created_at=now,
            report_id=f"{profile.clearing_system}-{on:%Y%m%d}",
            account=profile.account_at_network(self.config.bank_code),
            currency=currency,
            entries=entries,
            opening=Money(opening, currency),
            closing=Money(closing, currency),
            on=on,
        )
