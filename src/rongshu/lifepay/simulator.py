"""The biller adapter interface and the simulator playing every demo biller's side.

A real deployment registers an adapter per ``Biller.adapter_type`` with :func:`register_adapter`;
the demo catalogue's billers all use ``simulator``. The simulator keeps the biller's books in
database tables (:class:`SimReceipt`, :class:`SimBillerState`), so it survives restarts and is
shared by every worker, and derives each account's bills deterministically from a hash of
(biller, account, period): no bill table to seed, 100k mandates cost nothing to set up.

Faults are deterministic too (a hash of the seed and our reference against a rate), configured
by ``settings.RONGSHU_LIFEPAY_SIMULATOR`` and, per block, :func:`simulator_overrides`:

* ``timeout_rate`` — the biller books the payment but our call times out (after the debit);
* ``lost_rate`` — the call times out and the biller never booked it;
* ``duplicate_rate`` — the biller's asynchronous confirmation arrives twice;
* ``false_failure_rate`` — the biller books the payment but answers an error (theirs only);
* ``missing_rate`` — the biller confirms but leaves the payment out of its file (ours only);
* ``mismatch_rate`` — the biller's file shows another amount (amount mismatch);
* ``maintenance`` — honour each biller's daily maintenance window (answers "down");
* :func:`do_set_biller_down` — a biller is down until switched back.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Sum

from rongshu.kernel import clock
from rongshu.kernel.errors import DomainError
from rongshu.lifepay.errors import (
    BillAccountUnknown,
    BillAlreadyPaid,
    BillerDown,
    BillerTimeout,
    BillNotFound,
)
from rongshu.lifepay.models import Biller, SimBillerState, SimReceipt

CSV_HEADER = (
    "biller_code",
    "business_date",
    "our_ref",
    "biller_ref",
    "account_no",
    "bill_ref",
    "amount",
    "currency",
    "status",
)


@dataclass(frozen=True)
class SimBill:
    bill_ref: str
    period: str
    amount_minor: int  # outstanding
    due_on: dt.date


@dataclass(frozen=True)
class Confirmation:
    our_ref: str
    biller_ref: str
    amount_minor: int


@dataclass(frozen=True)
class PayOrder:
    """One line of a batch (代扣) file sent to a biller."""

    our_ref: str
    account_no: str
    bill_ref: str
    amount_minor: int


Inquired = tuple[str, list[SimBill]]


class BillerAdapter(Protocol):
    """What lifepay needs from a biller (errors: BillerDown, BillerTimeout, BillAccountUnknown,
    BillAlreadyPaid, BillNotFound — the last three are definite refusals)."""

    def inquire(self, biller: Biller, account_no: str) -> tuple[str, list[SimBill]]: ...

    def pay(
        self, biller: Biller, our_ref: str, account_no: str, bill_ref: str, amount_minor: int
    ) -> Confirmation: ...

    def inquire_many(
        self, biller: Biller, account_nos: Sequence[str]
    ) -> dict[str, Inquired | DomainError]:
        """Batch inquiry (raises BillerDown when the whole biller is down)."""
        ...

    def pay_many(
        self, biller: Biller, orders: Sequence[PayOrder]
    ) -> list[Confirmation | DomainError]:
        """A batch payment file: one answer per order, in order (a timeout is an answer)."""
        ...

    def query(self, biller: Biller, our_ref: str) -> Confirmation | None: ...

    def reverse(self, biller: Biller, our_ref: str) -> None: ...

    def correct(self, biller: Biller, our_ref: str, amount_minor: int) -> None: ...

    def reconciliation_file(self, biller: Biller, day: dt.date) -> str: ...

    def take_callbacks(self, limit: int = 1000) -> list[tuple[str, Confirmation]]: ...


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 0
    timeout_rate: float = 0.0
    lost_rate: float = 0.0
    duplicate_rate: float = 0.0
    false_failure_rate: float = 0.0
    missing_rate: float = 0.0
    mismatch_rate: float = 0.0
    maintenance: bool = True


DEFAULTS = SimulatorConfig()
_overrides: list[dict[str, Any]] = []


def simulator_config() -> SimulatorConfig:
    values: dict[str, Any] = dict(getattr(settings, "RONGSHU_LIFEPAY_SIMULATOR", {}) or {})
    for layer in _overrides:
        values.update(layer)
    unknown = set(values) - {f.name for f in fields(SimulatorConfig)}
    if unknown:
        raise ValueError(f"unknown lifepay simulator settings: {sorted(unknown)}")
    return replace(DEFAULTS, **values)


@contextmanager
def simulator_overrides(**values: Any) -> Iterator[SimulatorConfig]:
    _overrides.append(values)
    try:
        yield simulator_config()
    finally:
        _overrides.remove(values)


def _h(*parts: object) -> int:
    return int(hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:12], 16)


def _fault(name: str, our_ref: str, rate: float) -> bool:
    return rate > 0 and (_h(simulator_config().seed, name, our_ref) % 10_000) < rate * 10_000


def unknown_at_biller(account_no: str) -> bool:
    """The simulator's rule for an account number the biller does not know (1 in 100)."""
    return _h("unknown", account_no) % 100 == 99


def due_day(biller_code: str, account_no: str) -> int:
    return 5 + _h("due", biller_code, account_no) % 20


def holder_of(account_no: str) -> str:
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    return surnames[_h("holder", account_no) % len(surnames)] + "**"


def do_set_biller_down(biller_code: str, down: bool) -> None:
    SimBillerState.objects.update_or_create(biller_code=biller_code, defaults={"down": down})


def _in_window(biller: Biller, at: dt.datetime) -> bool:
    if biller.maintenance_start is None or biller.maintenance_end is None:
        return False
    local = at.astimezone(clock.bank_zone()).time()
    return biller.maintenance_start <= local < biller.maintenance_end


def _check_up(biller: Biller) -> None:
    if SimBillerState.objects.filter(biller_code=biller.code, down=True).exists():
        raise BillerDown()
    if simulator_config().maintenance and _in_window(biller, clock.now()):
        raise BillerDown()


def _period_add(period: str, months: int) -> str:
    year, month = int(period[:4]), int(period[4:])
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}{index % 12 + 1:02d}"


class Simulator:
    """Every demo biller's side (the BillerAdapter for ``adapter_type='simulator'``)."""

    def _refs(self, biller: Biller, account_no: str, today: dt.date) -> dict[str, str]:
        period = f"{today.year:04d}{today.month:02d}"
        periods = [period]
        if _h("arrears", biller.code, account_no) % 4 == 0:
            periods.insert(0, _period_add(period, -1))
        return {p: f"{p}-{_h('bill', biller.code, account_no, p) % 1_000_000:06d}" for p in periods}

    def _paid(self, biller: Biller, refs: list[str]) -> dict[str, int]:
        return {
            ref: int(total or 0)
            for ref, total in SimReceipt.objects.filter(
                biller_code=biller.code, bill_ref__in=refs, reversed=False
            )
            .values("bill_ref")
            .annotate(total=Sum("amount_minor"))
            .values_list("bill_ref", "total")
        }

    def _bills_from(
        self, biller: Biller, account_no: str, refs: dict[str, str], paid: dict[str, int]
    ) -> list[SimBill]:
        day = due_day(biller.code, account_no)
        bills = []
        for p, ref in refs.items():
            amount = 20_00 + _h("amount", biller.code, account_no, p) % 480_00
            outstanding = amount - paid.get(ref, 0)
            if outstanding > 0:
                bills.append(SimBill(ref, p, outstanding, dt.date(int(p[:4]), int(p[4:]), day)))
        return bills

    def _bills(self, biller: Biller, account_no: str) -> list[SimBill]:
        if biller.item.mode != "bill":
            return []
        refs = self._refs(biller, account_no, clock.get_business_date())
        return self._bills_from(biller, account_no, refs, self._paid(biller, list(refs.values())))

    def _bills_many(self, biller: Biller, account_nos: Sequence[str]) -> dict[str, list[SimBill]]:
        if biller.item.mode != "bill":
            return {a: [] for a in account_nos}
        today = clock.get_business_date()
        refs = {a: self._refs(biller, a, today) for a in account_nos}
        wanted = [r for per in refs.values() for r in per.values()]
        paid: dict[str, int] = {}
        for start in range(0, len(wanted), 4000):
            paid.update(self._paid(biller, wanted[start : start + 4000]))
        return {a: self._bills_from(biller, a, refs[a], paid) for a in account_nos}

    def inquire_many(
        self, biller: Biller, account_nos: Sequence[str]
    ) -> dict[str, Inquired | DomainError]:
        _check_up(biller)
        known = [a for a in account_nos if not unknown_at_biller(a)]
        bills = self._bills_many(biller, known)
        out: dict[str, Inquired | DomainError] = {a: BillAccountUnknown() for a in account_nos}
        for a in known:
            out[a] = (holder_of(a), bills[a])
        return out

    def pay_many(
        self, biller: Biller, orders: Sequence[PayOrder]
    ) -> list[Confirmation | DomainError]:
        """The batch file: one existing-receipt read, one bill read, one INSERT."""
        try:
            _check_up(biller)
        except BillerDown as exc:
            return [exc for _ in orders]
        config = simulator_config()
        refs = [o.our_ref for o in orders]
        existing = {r.our_ref: r for r in SimReceipt.objects.filter(our_ref__in=refs)}
        bills = self._bills_many(
            biller, sorted({o.account_no for o in orders if not unknown_at_biller(o.account_no)})
        )
        open_bills = {b.bill_ref: b.amount_minor for per in bills.values() for b in per}
        now, today = clock.now(), clock.get_business_date()
        answers: list[Confirmation | DomainError] = []
        new: list[SimReceipt] = []
        for o in orders:
            if _fault("lost", o.our_ref, config.lost_rate):
                answers.append(BillerTimeout())
                continue
            receipt = existing.get(o.our_ref)
            fresh = receipt is None  # a re-sent order of a booked payment is answered
            if receipt is None:
                if unknown_at_biller(o.account_no):
                    answers.append(BillAccountUnknown())
                    continue
                if biller.item.mode == "bill":
                    left = open_bills.get(o.bill_ref)
                    if left is None or left <= 0:
                        answers.append(BillAlreadyPaid() if left is not None else BillNotFound())
                        continue
                    if o.amount_minor > left:
                        answers.append(BillNotFound("The amount is more than the bill."))
                        continue
                    open_bills[o.bill_ref] = left - o.amount_minor
                receipt = SimReceipt(
                    biller_code=biller.code,
                    our_ref=o.our_ref,
                    biller_ref=f"B{_h('ref', o.our_ref) % 10**12:012d}",
                    account_no=o.account_no,
                    bill_ref=o.bill_ref,
                    amount_minor=o.amount_minor,
                    booked_on=today,
                    callbacks=2 if _fault("duplicate", o.our_ref, config.duplicate_rate) else 1,
                    in_file=not _fault("missing", o.our_ref, config.missing_rate),
                    file_delta_minor=(
                        -1_00 if _fault("mismatch", o.our_ref, config.mismatch_rate) else 0
                    ),
                    at=now,
                )
                if _fault("false_failure", o.our_ref, config.false_failure_rate):
                    receipt.callbacks = 0
                new.append(receipt)
                existing[o.our_ref] = receipt
            if fresh and _fault("timeout", o.our_ref, config.timeout_rate):
                answers.append(BillerTimeout())
            elif fresh and _fault("false_failure", o.our_ref, config.false_failure_rate):
                answers.append(BillerDown())
            else:
                answers.append(Confirmation(o.our_ref, receipt.biller_ref, receipt.amount_minor))
        SimReceipt.objects.bulk_create(new, batch_size=2000)
        return answers

    def inquire(self, biller: Biller, account_no: str) -> tuple[str, list[SimBill]]:
        _check_up(biller)
        if unknown_at_biller(account_no):
            raise BillAccountUnknown()
        return holder_of(account_no), self._bills(biller, account_no)

    def _book(
        self, biller: Biller, our_ref: str, account_no: str, bill_ref: str, amount: int
    ) -> SimReceipt:
        existing = SimReceipt.objects.filter(our_ref=our_ref).first()
        if existing is not None:  # a resend or retry of the same reference books nothing new
            if not existing.in_file:
                existing.in_file = True
                existing.save(update_fields=["in_file"])
            return existing
        if unknown_at_biller(account_no):
            raise BillAccountUnknown()
        if biller.item.mode == "bill":
            bills = {b.bill_ref: b for b in self._bills(biller, account_no)}
            if bill_ref not in bills:
                period = bill_ref[:6]
                if bill_ref and SimReceipt.objects.filter(bill_ref=bill_ref).exists():
                    raise BillAlreadyPaid()
                raise BillNotFound(code="bill_not_found" if period else "bill_ref_required")
            if amount > bills[bill_ref].amount_minor:
                raise BillNotFound("The amount is more than the bill.", code="amount_over_bill")
        now = clock.now()
        config = simulator_config()
        return SimReceipt.objects.create(
            biller_code=biller.code,
            our_ref=our_ref,
            biller_ref=f"B{_h('ref', our_ref) % 10**12:012d}",
            account_no=account_no,
            bill_ref=bill_ref,
            amount_minor=amount,
            booked_on=clock.get_business_date(),
            callbacks=2 if _fault("duplicate", our_ref, config.duplicate_rate) else 1,
            in_file=not _fault("missing", our_ref, config.missing_rate),
            file_delta_minor=-1_00 if _fault("mismatch", our_ref, config.mismatch_rate) else 0,
            at=now,
        )

    def pay(
        self, biller: Biller, our_ref: str, account_no: str, bill_ref: str, amount_minor: int
    ) -> Confirmation:
        _check_up(biller)
        config = simulator_config()
        if _fault("lost", our_ref, config.lost_rate):
            raise BillerTimeout()
        # timeouts and false failures are transient: a re-send of a booked payment is answered
        # (the existence check costs a query only when one of them is injected)
        timeout = _fault("timeout", our_ref, config.timeout_rate)
        false_failure = _fault("false_failure", our_ref, config.false_failure_rate)
        if (timeout or false_failure) and SimReceipt.objects.filter(
            biller_code=biller.code, our_ref=our_ref
        ).exists():
            timeout = false_failure = False
        receipt = self._book(biller, our_ref, account_no, bill_ref, amount_minor)
        if timeout:
            raise BillerTimeout()
        if false_failure:
            receipt.callbacks = 0
            receipt.save(update_fields=["callbacks"])
            raise BillerDown()
        return Confirmation(our_ref, receipt.biller_ref, receipt.amount_minor)

    def query(self, biller: Biller, our_ref: str) -> Confirmation | None:
        _check_up(biller)
        receipt = SimReceipt.objects.filter(our_ref=our_ref, reversed=False).first()
        if receipt is None:
            return None
        return Confirmation(our_ref, receipt.biller_ref, receipt.amount_minor)

    def reverse(self, biller: Biller, our_ref: str) -> None:
        SimReceipt.objects.filter(our_ref=our_ref).update(reversed=True)

    def correct(self, biller: Biller, our_ref: str, amount_minor: int) -> None:
        SimReceipt.objects.filter(our_ref=our_ref).update(
            amount_minor=amount_minor, file_delta_minor=0, in_file=True
        )

    def reconciliation_file(self, biller: Biller, day: dt.date) -> str:
        """The biller's CSV of what it booked from us on ``day`` (docs/lifepay.md)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        rows = SimReceipt.objects.filter(
            biller_code=biller.code, booked_on=day, reversed=False
        ).order_by("pk")
        for r in rows:
            if not r.in_file:
                continue
            amount = max(1, r.amount_minor + r.file_delta_minor)
            writer.writerow(
                [
                    biller.code,
                    day.isoformat(),
                    r.our_ref,
                    r.biller_ref,
                    r.account_no,
                    r.bill_ref,
                    f"{amount // 100}.{amount % 100:02d}",
                    biller.currency,
                    "paid",
                ]
            )
        return out.getvalue()

    def take_callbacks(self, limit: int = 1000) -> list[tuple[str, Confirmation]]:
        """Asynchronous confirmations the billers send (a duplicate fault sends two)."""
        out: list[tuple[str, Confirmation]] = []
        rows = list(SimReceipt.objects.filter(callbacks__gt=0, reversed=False)[:limit])
        for r in rows:
            out.extend(
                (r.biller_code, Confirmation(r.our_ref, r.biller_ref, r.amount_minor))
                for _ in range(r.callbacks)
            )
        SimReceipt.objects.filter(pk__in=[r.pk for r in rows]).update(callbacks=0)
        return out


_adapters: dict[str, BillerAdapter] = {"simulator": Simulator()}


def register_adapter(adapter_type: str, adapter: BillerAdapter) -> None:
    _adapters[adapter_type] = adapter


def adapter_for(biller: Biller) -> BillerAdapter:
    found = _adapters.get(biller.adapter_type)
    if found is None:
        raise BillerDown(f"No adapter for {biller.adapter_type!r}.", code="adapter_missing")
    return found


def all_adapters() -> list[BillerAdapter]:
    return list({id(a): a for a in _adapters.values()}.values())
