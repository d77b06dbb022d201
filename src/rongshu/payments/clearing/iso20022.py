"""ISO 20022 messages with lxml: pacs.008 out; pacs.002, pacs.004, camt.053, camt.054 in.

Every message built here is validated against its official XSD before it leaves, and every
inbound message is validated before it is read. The schemas are the base ISO 20022 ones
(``data/iso20022/``, provenance in ``data/iso20022/ORIGIN.md``), found through
:func:`xsd_dir`: the setting ``RONGSHU_ISO20022_XSD_DIR`` if present, else ``data/iso20022``
of the source checkout this module lives in.

The builders of the inbound kinds (:func:`build_pacs002` …) exist for the simulator, which
plays the network's side; a real adapter only receives them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from lxml import etree

from rongshu.kernel.errors import DomainError
from rongshu.kernel.money import Money
from rongshu.payments.clearing.errors import InvalidMessage
from rongshu.payments.clearing.types import (
    AccountReport,
    CreditTransferInstruction,
    Entry,
    PaymentReturn,
    ReturnItem,
    StatusItem,
    StatusReport,
)

PACS008 = "pacs.008.001.08"
PACS002 = "pacs.002.001.10"
PACS004 = "pacs.004.001.09"
CAMT053 = "camt.053.001.08"
CAMT054 = "camt.054.001.08"
MESSAGES = (PACS008, PACS002, PACS004, CAMT053, CAMT054)

# src/rongshu/payments/clearing/iso20022.py → the checkout root is four levels up.
_CHECKOUT_XSD_DIR = Path(__file__).resolve().parents[4] / "data" / "iso20022"


def xsd_dir() -> Path:
    configured = getattr(settings, "RONGSHU_ISO20022_XSD_DIR", None)
    return Path(configured) if configured else _CHECKOUT_XSD_DIR


def ns(message: str) -> str:
    return f"urn:iso:std:iso:20022:tech:xsd:{message}"


_local = threading.local()  # lxml schema objects are not shared between threads


def schema(message: str) -> etree.XMLSchema:
    cache: dict[str, etree.XMLSchema] = _local.__dict__.setdefault("schemas", {})
    if message not in cache:
        if message not in MESSAGES:
            raise ValueError(f"no schema for {message}")
        path = xsd_dir() / f"{message}.xsd"
        cache[message] = etree.XMLSchema(etree.parse(str(path)))
    return cache[message]


_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, remove_blank_text=True, huge_tree=False
)


def validate(message: str, xml: bytes) -> etree._Element:
    """Parse ``xml`` safely and validate it against ``message``'s XSD; returns the root."""
    try:
        root = etree.fromstring(xml, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidMessage(f"{message}: not well-formed XML: {exc}") from exc
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise InvalidMessage(f"{message}: a DOCTYPE is not allowed in ISO 20022 messages")
    if root.tag != f"{{{ns(message)}}}Document":
        raise InvalidMessage(f"expected a {message} Document, got {root.tag}")
    xsd = schema(message)
    try:
        valid = xsd.validate(root)
    except etree.Error as exc:
        raise InvalidMessage(f"{message}: cannot be validated: {exc}") from exc
    if not valid:
        log: Any = xsd.error_log
        errors = "; ".join(f"line {e.line}: {e.message}" for e in list(log)[:3])
        raise InvalidMessage(f"{message} fails its XSD: {errors}")
    return root


def message_type(xml: bytes) -> str:
    """The message identifier (``pacs.002.001.10`` …) from the Document's namespace."""
    try:
        root = etree.fromstring(xml, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidMessage(f"not well-formed XML: {exc}") from exc
    namespace = etree.QName(root).namespace or ""
    prefix = "urn:iso:std:iso:20022:tech:xsd:"
    if not namespace.startswith(prefix):
        raise InvalidMessage(f"not an ISO 20022 document: {namespace!r}")
    return namespace[len(prefix) :]


def message_id_of(xml: bytes) -> str:
    """The GrpHdr/MsgId of any of our message kinds (the first MsgId in the document)."""
    root = etree.fromstring(xml, parser=_PARSER)
    found = root.xpath("//*[local-name()='GrpHdr']/*[local-name()='MsgId']")
    if not isinstance(found, list) or not found:
        raise InvalidMessage("no GrpHdr/MsgId")
    first = found[0]
    if not isinstance(first, etree._Element) or not first.text:
        raise InvalidMessage("empty GrpHdr/MsgId")
    return str(first.text).strip()


# ====================================================================== building
def _set_text(node: etree._Element, tag: str, text: str) -> None:
    """A text XML cannot carry (a control character, …) is an invalid message, not a crash."""
    try:
        node.text = text
    except ValueError as exc:
        raise InvalidMessage(f"{tag}: {exc}") from exc


class _Builder:
    def __init__(self, message: str) -> None:
        self.message = message
        self.ns = ns(message)
        nsmap: Any = {None: self.ns}
        self.root = etree.Element(f"{{{self.ns}}}Document", nsmap=nsmap)

    def el(self, parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> Any:
        node = etree.SubElement(parent, f"{{{self.ns}}}{tag}", attrs)
        if text is not None:
            _set_text(node, tag, text)
        return node

    def path(self, parent: etree._Element, tags: str, text: str) -> Any:
        """``a/b/c`` → nested elements, the last one carrying ``text``."""
        node = parent
        for tag in tags.split("/"):
            node = self.el(node, tag)
        _set_text(node, tags, text)
        return node

    def amount(self, parent: etree._Element, tag: str, money: Money) -> Any:
        return self.el(parent, tag, money.amount_str(), Ccy=money.currency)

    def agent(self, parent: etree._Element, tag: str, bank_code: str) -> None:
        self.path(self.el(parent, tag), "FinInstnId/ClrSysMmbId/MmbId", bank_code)

    def account(self, parent: etree._Element, tag: str, number: str) -> None:
        self.path(self.el(parent, tag), "Id/Othr/Id", number)

    def done(self) -> bytes:
        xml: bytes = etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")
        validate(self.message, xml)
        return xml


def isodt(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("ISO 20022 timestamps need an aware datetime")
    return at.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def build_pacs008(
    *,
    message_id: str,
    created_at: dt.datetime,
    instruction: CreditTransferInstruction,
    debtor_bank_code: str,
    clearing_system: str,
    settlement_date: dt.date,
) -> bytes:
    """A pacs.008.001.08 with one credit transfer, settled through ``clearing_system``."""
    b = _Builder(PACS008)
    doc = b.el(b.root, "FIToFICstmrCdtTrf")
    hdr = b.el(doc, "GrpHdr")
    b.el(hdr, "MsgId", message_id)
    b.el(hdr, "CreDtTm", isodt(created_at))
    b.el(hdr, "NbOfTxs", "1")
    sttlm = b.el(hdr, "SttlmInf")
    b.el(sttlm, "SttlmMtd", "CLRG")
    b.path(sttlm, "ClrSys/Prtry", clearing_system)
    tx = b.el(doc, "CdtTrfTxInf")
    pmt = b.el(tx, "PmtId")
    b.el(pmt, "InstrId", instruction.instruction_id)
    b.el(pmt, "EndToEndId", instruction.end_to_end_id)
    b.el(pmt, "TxId", instruction.instruction_id)
    b.amount(tx, "IntrBkSttlmAmt", instruction.amount)
    b.el(tx, "IntrBkSttlmDt", settlement_date.isoformat())
    b.el(tx, "ChrgBr", "SLEV")
    b.el(b.el(tx, "Dbtr"), "Nm", instruction.debtor_name)
    b.account(tx, "DbtrAcct", instruction.debtor_account)
    b.agent(tx, "DbtrAgt", debtor_bank_code)
    b.agent(tx, "CdtrAgt", instruction.creditor_bank_code)
    b.el(b.el(tx, "Cdtr"), "Nm", instruction.creditor_name)
    b.account(tx, "CdtrAcct", instruction.creditor_account)
    if instruction.remittance_info:
        b.el(b.el(tx, "RmtInf"), "Ustrd", instruction.remittance_info)
    return b.done()


def build_pacs002(
    *,
    message_id: str,
    created_at: dt.datetime,
    original_message_id: str,
    items: Sequence[StatusItem],
) -> bytes:
    b = _Builder(PACS002)
    doc = b.el(b.root, "FIToFIPmtStsRpt")
    hdr = b.el(doc, "GrpHdr")
    b.el(hdr, "MsgId", message_id)
    b.el(hdr, "CreDtTm", isodt(created_at))
    grp = b.el(doc, "OrgnlGrpInfAndSts")
    b.el(grp, "OrgnlMsgId", original_message_id)
    b.el(grp, "OrgnlMsgNmId", PACS008)
    for item in items:
        tx = b.el(doc, "TxInfAndSts")
        b.el(tx, "OrgnlInstrId", item.instruction_id)
        b.el(tx, "OrgnlEndToEndId", item.end_to_end_id)
        b.el(tx, "TxSts", item.status)
        if item.reason_code:
            b.path(b.el(tx, "StsRsnInf"), "Rsn/Cd", item.reason_code)
    return b.done()


def build_pacs004(
    *,
    message_id: str,
    created_at: dt.datetime,
    clearing_system: str,
    settlement_date: dt.date,
    items: Sequence[ReturnItem],
) -> bytes:
    b = _Builder(PACS004)
    doc = b.el(b.root, "PmtRtr")
    hdr = b.el(doc, "GrpHdr")
    b.el(hdr, "MsgId", message_id)
    b.el(hdr, "CreDtTm", isodt(created_at))
    b.el(hdr, "NbOfTxs", str(len(items)))
    sttlm = b.el(hdr, "SttlmInf")
    b.el(sttlm, "SttlmMtd", "CLRG")
    b.path(sttlm, "ClrSys/Prtry", clearing_system)
    for item in items:
        tx = b.el(doc, "TxInf")
        b.el(tx, "RtrId", item.return_id)
        b.el(tx, "OrgnlInstrId", item.instruction_id)
        b.el(tx, "OrgnlEndToEndId", item.end_to_end_id)
        b.amount(tx, "RtrdIntrBkSttlmAmt", item.amount)
        b.el(tx, "IntrBkSttlmDt", settlement_date.isoformat())
        if item.reason_code:
            b.path(b.el(tx, "RtrRsnInf"), "Rsn/Cd", item.reason_code)
    return b.done()


@dataclass(frozen=True)
class _Balance:
    code: str  # OPBD, CLBD
    amount: Money  # signed: negative = debit balance
    on: dt.date


def build_account_report(
    message: str,
    *,
    message_id: str,
    created_at: dt.datetime,
    report_id: str,
    account: str,
    currency: str,
    entries: Iterable[Entry],
    opening: Money | None = None,
    closing: Money | None = None,
    on: dt.date | None = None,
) -> bytes:
    """camt.053.001.08 (with opening and closing balances) or camt.054.001.08."""
    b = _Builder(message)
    if message == CAMT053:
        doc, report_tag = b.el(b.root, "BkToCstmrStmt"), "Stmt"
    elif message == CAMT054:
        doc, report_tag = b.el(b.root, "BkToCstmrDbtCdtNtfctn"), "Ntfctn"
    else:
        raise ValueError(f"{message} is not an account report")
    hdr = b.el(doc, "GrpHdr")
    b.el(hdr, "MsgId", message_id)
    b.el(hdr, "CreDtTm", isodt(created_at))
    rpt = b.el(doc, report_tag)
    b.el(rpt, "Id", report_id)
    b.el(rpt, "CreDtTm", isodt(created_at))
    acct = b.el(rpt, "Acct")
    b.path(acct, "Id/Othr/Id", account)
    b.el(acct, "Ccy", currency)
    if message == CAMT053:
        if opening is None or closing is None or on is None:
            raise ValueError("a statement needs opening and closing balances and a date")
        for bal in (_Balance("OPBD", opening, on), _Balance("CLBD", closing, on)):
            node = b.el(rpt, "Bal")
            b.path(node, "Tp/CdOrPrtry/Cd", bal.code)
            b.amount(node, "Amt", abs(bal.amount))
            b.el(node, "CdtDbtInd", "DBIT" if bal.amount.is_negative else "CRDT")
            b.path(node, "Dt/Dt", bal.on.isoformat())
    for entry in entries:
        ntry = b.el(rpt, "Ntry")
        b.el(ntry, "NtryRef", entry.entry_ref)
        b.amount(ntry, "Amt", entry.amount)
        b.el(ntry, "CdtDbtInd", entry.direction)
        b.path(ntry, "Sts/Cd", entry.status)
        if entry.booked_on is not None:
            b.path(ntry, "BookgDt/Dt", entry.booked_on.isoformat())
        code = b.el(ntry, "BkTxCd")
        domain = b.el(code, "Domn")
        b.el(domain, "Cd", "PMNT")
        fmly = b.el(domain, "Fmly")
        b.el(fmly, "Cd", "ICDT" if entry.direction == "DBIT" else "RCDT")
        b.el(fmly, "SubFmlyCd", "ESCT" if entry.direction == "DBIT" else "RRTN")
        refs = b.el(b.el(b.el(ntry, "NtryDtls"), "TxDtls"), "Refs")
        b.el(refs, "InstrId", entry.instruction_id)
        b.el(refs, "EndToEndId", entry.end_to_end_id)
    return b.done()


# ====================================================================== parsing
class Reader:
    def __init__(self, message: str, root: etree._Element) -> None:
        self.message = message
        self.ns = {"d": ns(message)}
        self.root = root

    def all(self, node: etree._Element, path: str) -> list[Any]:
        found: Any = node.xpath(path, namespaces=self.ns)
        return list(found)

    def text(self, node: etree._Element, path: str) -> str | None:
        found = self.all(node, path)
        if not found:
            return None
        value = found[0].text
        return None if value is None else str(value).strip()

    def need(self, node: etree._Element, path: str) -> str:
        value = self.text(node, path)
        if value is None:
            raise InvalidMessage(f"{self.message}: {path} is missing")
        return value

    def money(self, node: etree._Element, path: str) -> Money:
        found = self.all(node, path)
        if not found:
            raise InvalidMessage(f"{self.message}: {path} is missing")
        currency = str(found[0].get("Ccy"))
        try:
            value = Decimal(str(found[0].text).strip())
            exact = Money.from_decimal(value, currency, rounding=ROUND_HALF_UP)
        except (ArithmeticError, DomainError) as exc:
            raise InvalidMessage(f"{self.message}: bad amount at {path}: {exc}") from exc
        if exact.to_decimal() != value:  # more decimals than the currency has: refuse
            raise InvalidMessage(f"{self.message}: {value} has too many decimals for {currency}")
        return exact

    def datetime(self, node: etree._Element, path: str) -> dt.datetime:
        value = dt.datetime.fromisoformat(self.need(node, path))
        if value.tzinfo is None:  # ISO allows local time without offset: read it as UTC
            value = value.replace(tzinfo=dt.UTC)
        return value


def parse_pacs002(xml: bytes) -> StatusReport:
    r = Reader(PACS002, validate(PACS002, xml))
    doc = r.all(r.root, "d:FIToFIPmtStsRpt")[0]
    items = [
        StatusItem(
            instruction_id=r.text(tx, "d:OrgnlInstrId") or "",
            end_to_end_id=r.text(tx, "d:OrgnlEndToEndId") or "",
            status=r.text(tx, "d:TxSts") or "",
            reason_code=r.text(tx, "d:StsRsnInf/d:Rsn/d:Cd"),
        )
        for tx in r.all(doc, "d:TxInfAndSts")
    ]
    return StatusReport(
        message_id=r.need(doc, "d:GrpHdr/d:MsgId"),
        created_at=r.datetime(doc, "d:GrpHdr/d:CreDtTm"),
        original_message_id=r.text(doc, "d:OrgnlGrpInfAndSts/d:OrgnlMsgId") or "",
        items=items,
    )


def parse_pacs004(xml: bytes) -> PaymentReturn:
    r = Reader(PACS004, validate(PACS004, xml))
    doc = r.all(r.root, "d:PmtRtr")[0]
    items = [
        ReturnItem(
            return_id=r.text(tx, "d:RtrId") or "",
            instruction_id=r.text(tx, "d:OrgnlInstrId") or "",
            end_to_end_id=r.text(tx, "d:OrgnlEndToEndId") or "",
            amount=r.money(tx, "d:RtrdIntrBkSttlmAmt"),
            reason_code=r.text(tx, "d:RtrRsnInf/d:Rsn/d:Cd"),
        )
        for tx in r.all(doc, "d:TxInf")
    ]
    return PaymentReturn(
        message_id=r.need(doc, "d:GrpHdr/d:MsgId"),
        created_at=r.datetime(doc, "d:GrpHdr/d:CreDtTm"),
        items=items,
    )


def _signed_balance(r: Reader, report: etree._Element, code: str) -> Money | None:
    for bal in r.all(report, "d:Bal"):
        if r.text(bal, "d:Tp/d:CdOrPrtry/d:Cd") == code:
            amount = r.money(bal, "d:Amt")
            return -amount if r.text(bal, "d:CdtDbtInd") == "DBIT" else amount
    return None


def parse_account_report(xml: bytes) -> AccountReport:
    """Parse a camt.053.001.08 statement or camt.054.001.08 notification (first report)."""
    message = message_type(xml)
    if message == CAMT053:
        doc_tag, report_tag = "d:BkToCstmrStmt", "d:Stmt"
        kind: Literal["camt.053", "camt.054"] = "camt.053"
    elif message == CAMT054:
        doc_tag, report_tag, kind = "d:BkToCstmrDbtCdtNtfctn", "d:Ntfctn", "camt.054"
    else:
        raise InvalidMessage(f"{message} is not a camt.053/camt.054 account report")
    r = Reader(message, validate(message, xml))
    doc = r.all(r.root, doc_tag)[0]
    report = r.all(doc, report_tag)[0]
    entries: list[Entry] = []
    for ntry in r.all(report, "d:Ntry"):
        direction = r.need(ntry, "d:CdtDbtInd")
        booked = r.text(ntry, "d:BookgDt/d:Dt")
        details = r.all(ntry, "d:NtryDtls/d:TxDtls/d:Refs")
        refs = details[0] if details else ntry
        entries.append(
            Entry(
                entry_ref=r.text(ntry, "d:NtryRef") or "",
                amount=r.money(ntry, "d:Amt"),
                direction="DBIT" if direction == "DBIT" else "CRDT",
                status=r.text(ntry, "d:Sts/d:Cd") or r.text(ntry, "d:Sts/d:Prtry") or "",
                booked_on=dt.date.fromisoformat(booked) if booked else None,
                end_to_end_id=(r.text(refs, "d:EndToEndId") or "") if details else "",
                instruction_id=(r.text(refs, "d:InstrId") or "") if details else "",
            )
        )
    return AccountReport(
        kind=kind,
        message_id=r.need(doc, "d:GrpHdr/d:MsgId"),
        created_at=r.datetime(doc, "d:GrpHdr/d:CreDtTm"),
        report_id=r.need(report, "d:Id"),
        account=r.text(report, "d:Acct/d:Id/d:Othr/d:Id") or "",
        currency=r.text(report, "d:Acct/d:Ccy") or "",
        opening_balance=_signed_balance(r, report, "OPBD"),
        closing_balance=_signed_balance(r, report, "CLBD"),
        entries=entries,
    )
