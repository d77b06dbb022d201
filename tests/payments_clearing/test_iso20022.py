"""ISO 20022 messages: pacs.008 out, pacs.002 / pacs.004 / camt.053 / camt.054 in, each
validated against the official XSD."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from rongshu.kernel.money import Money
from rongshu.payments.clearing import iso20022
from rongshu.payments.clearing.errors import InvalidMessage
from rongshu.payments.clearing.types import Entry, ReturnItem, StatusItem
from tests.payments_clearing.conftest import WORKDAY_10AM, make_instruction

NOW = WORKDAY_10AM.astimezone(dt.UTC)


def _pacs008(**overrides: object) -> bytes:
    return iso20022.build_pacs008(
        message_id="MSG0001",
        created_at=NOW,
        instruction=make_instruction(
            **{"instruction_id": "INSTR0001", "end_to_end_id": "E2E0001", **overrides}
        ),
        debtor_bank_code="999100000018",
        clearing_system="IBPS",
        settlement_date=NOW.date(),
    )


def test_pacs008_validates_and_carries_the_instruction() -> None:
    xml = _pacs008(amount=Money.parse("1234.56", "CNY"))
    root = iso20022.validate(iso20022.PACS008, xml)  # raises if invalid
    ns = {"d": iso20022.ns(iso20022.PACS008)}
    tx = root.xpath("//d:CdtTrfTxInf", namespaces=ns)[0]
    assert tx.xpath("string(d:PmtId/d:EndToEndId)", namespaces=ns) == "E2E0001"
    amt = tx.xpath("d:IntrBkSttlmAmt", namespaces=ns)[0]
    assert (amt.text, amt.get("Ccy")) == ("1234.56", "CNY")
    assert tx.xpath("string(d:Cdtr/d:Nm)", namespaces=ns) == "张伟"
    assert tx.xpath("string(d:CdtrAgt//d:MmbId)", namespaces=ns) == "102100099996"
    assert iso20022.message_type(xml) == "pacs.008.001.08"
    assert iso20022.message_id_of(xml) == "MSG0001"


def test_an_invalid_pacs008_fails_the_xsd() -> None:
    with pytest.raises(InvalidMessage, match="fails its XSD"):
        # 36 characters: more than ISO's Max35Text allows for an end-to-end id
        _pacs008(end_to_end_id="x" * 36)
    good = _pacs008()
    broken = good.replace(b"<ChrgBr>SLEV</ChrgBr>", b"")  # a mandatory element removed
    with pytest.raises(InvalidMessage, match=r"ChrgBr|Dbtr"):
        iso20022.validate(iso20022.PACS008, broken)


def test_a_hand_written_pacs002_is_parsed() -> None:
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10">
 <FIToFIPmtStsRpt>
  <GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2026-03-11T02:00:05</CreDtTm></GrpHdr>
  <OrgnlGrpInfAndSts><OrgnlMsgId>MSG0001</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId>
  </OrgnlGrpInfAndSts>
  <TxInfAndSts><OrgnlInstrId>I-1</OrgnlInstrId><OrgnlEndToEndId>E-1</OrgnlEndToEndId>
   <TxSts>ACSC</TxSts></TxInfAndSts>
  <TxInfAndSts><OrgnlInstrId>I-2</OrgnlInstrId><OrgnlEndToEndId>E-2</OrgnlEndToEndId>
   <TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts>
 </FIToFIPmtStsRpt>
</Document>"""
    report = iso20022.parse_pacs002(xml)
    assert report.message_id == "STS-1"
    assert report.original_message_id == "MSG0001"
    assert report.created_at == dt.datetime(2026, 3, 11, 2, 0, 5, tzinfo=dt.UTC)
    assert report.items == [
        StatusItem("I-1", "E-1", "ACSC", None),
        StatusItem("I-2", "E-2", "RJCT", "AC04"),
    ]


def test_pacs002_with_an_unknown_status_code_fails_the_xsd() -> None:
    xml = iso20022.build_pacs002(
        message_id="S", created_at=NOW, original_message_id="M", items=[]
    ).replace(b"</OrgnlGrpInfAndSts>", b"</OrgnlGrpInfAndSts><Bogus/>")
    with pytest.raises(InvalidMessage):
        iso20022.parse_pacs002(xml)


def test_pacs004_round_trip() -> None:
    item = ReturnItem("RTR1", "I-1", "E-1", Money.parse("88.80", "CNY"), "MD07")
    xml = iso20022.build_pacs004(
        message_id="RET-1",
        created_at=NOW,
        clearing_system="IBPS",
        settlement_date=NOW.date(),
        items=[item],
    )
    parsed = iso20022.parse_pacs004(xml)
    assert parsed.message_id == "RET-1"
    assert parsed.items == [item]


@pytest.mark.parametrize("message", [iso20022.CAMT053, iso20022.CAMT054])
def test_account_reports_round_trip(message: str) -> None:
    entries = [
        Entry("N1", Money.parse("100.00", "CNY"), "DBIT", "BOOK", NOW.date(), "E-1", "I-1"),
        Entry("N2", Money.parse("30.00", "CNY"), "CRDT", "BOOK", NOW.date(), "E-2", "I-2"),
    ]
    xml = iso20022.build_account_report(
        message,
        message_id="RPT-1",
        created_at=NOW,
        report_id="IBPS-20260311",
        account="IBPS-999100000018",
        currency="CNY",
        entries=entries,
        opening=Money.parse("-5.00", "CNY"),
        closing=Money.parse("-75.00", "CNY"),
        on=NOW.date(),
    )
    report = iso20022.parse_account_report(xml)
    assert report.kind == message[:8]
    assert report.account == "IBPS-999100000018"
    assert report.entries == entries
    if message == iso20022.CAMT053:
        assert report.opening_balance == Money.parse("-5.00", "CNY")
        assert report.closing_balance == Money.parse("-75.00", "CNY")
    else:
        assert report.opening_balance is None


def test_amounts_with_more_decimals_than_the_currency_are_refused() -> None:
    # The XSD allows five decimals; CNY has two.
    xml = iso20022.build_pacs004(
        message_id="RET-2",
        created_at=NOW,
        clearing_system="IBPS",
        settlement_date=NOW.date(),
        items=[ReturnItem("R", "I", "E", Money.parse("1.00", "CNY"), None)],
    ).replace(b">1.00<", b">1.005<")
    with pytest.raises(InvalidMessage, match="too many decimals"):
        iso20022.parse_pacs004(xml)


def test_hostile_and_broken_input_is_refused() -> None:
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>
<GrpHdr><MsgId>&x;</MsgId><CreDtTm>2026-03-11T02:00:05Z</CreDtTm></GrpHdr>
</FIToFIPmtStsRpt></Document>"""
    with pytest.raises(InvalidMessage, match="DOCTYPE"):
        iso20022.parse_pacs002(xxe)
    with pytest.raises(InvalidMessage, match="well-formed"):
        iso20022.parse_pacs002(b"<Document")
    with pytest.raises(InvalidMessage, match=r"expected a pacs\.002"):
        iso20022.parse_pacs002(_pacs008())
    with pytest.raises(InvalidMessage, match="not an ISO 20022"):
        iso20022.message_type(etree.tostring(etree.Element("x")))
