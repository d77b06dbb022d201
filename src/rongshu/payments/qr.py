"""EMVCo QR codes, merchant-presented mode (EMV QRCPS-MPM): TLV encoding and decoding,
CRC-16/CCITT-FALSE, and the payloads rongshu prints for its merchants.

A payload is a sequence of ``ID (2 digits) ‖ length (2 digits) ‖ value``; lengths count
characters (not bytes). The last object is ``63`` (CRC): four uppercase hex digits of
CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR) over the
UTF-8 bytes of everything before it, including ``6304``. Templates (IDs 26–51 merchant
account information, 62 additional data, 64 alternate language, 80–99 unreserved) hold nested
TLV data.

This module is pure (no database): :func:`decode` refuses malformed payloads and bad CRCs with
:class:`QrInvalid` (stable codes ``qr_malformed`` and ``qr_bad_crc``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rongshu.kernel.errors import RuleViolation

# Our merchant account information template (ID 26) and its globally unique identifier.
RONGSHU_GUI = "CN.RONGSHU.PAY"
MERCHANT_TEMPLATE = "26"
STATIC = "11"
DYNAMIC = "12"
# ISO 4217 numeric codes for the currencies we print (tag 53).
NUMERIC_CURRENCY = {"CNY": "156", "USD": "840", "HKD": "344", "BRL": "986", "THB": "764"}
ALPHA_CURRENCY = {v: k for k, v in NUMERIC_CURRENCY.items()}
ASCII_DIGITS = frozenset("0123456789")
HEX_DIGITS = frozenset("0123456789ABCDEFabcdef")
TEMPLATE_IDS = frozenset({*(f"{i:02d}" for i in range(26, 52)), "62", "64"}) | frozenset(
    f"{i:02d}" for i in range(80, 100)
)


class QrInvalid(RuleViolation):
    code = "qr_malformed"


def _ascii_digits(text: str) -> bool:
    """Only ``0``–``9`` (``str.isdigit`` also accepts "²", Arabic-Indic and full-width
    digits, which ``int`` refuses or reads as a number EMVCo does not allow)."""
    return bool(text) and all(c in ASCII_DIGITS for c in text)


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (check value 0x29B1 for ``b"123456789"``)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def crc_of(payload_without_crc_value: str) -> str:
    """The 4 hex digits for a payload that ends in ``6304``."""
    return f"{crc16_ccitt_false(payload_without_crc_value.encode('utf-8')):04X}"


def encode_tlv(objects: list[tuple[str, str]]) -> str:
    out: list[str] = []
    for tag, value in objects:
        if len(tag) != 2 or not _ascii_digits(tag):
            raise ValueError(f"bad tag {tag!r}")
        if not 0 < len(value) < 100:
            raise ValueError(f"tag {tag}: a value has 1 to 99 characters")
        out.append(f"{tag}{len(value):02d}{value}")
    return "".join(out)


def decode_tlv(text: str) -> list[tuple[str, str]]:
    """Split TLV text into ``(tag, value)`` pairs; raises :class:`QrInvalid` when malformed
    (the ID and the length are two ASCII digits each)."""
    objects: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        head = text[pos : pos + 4]
        if len(head) < 4 or not _ascii_digits(head):
            raise QrInvalid(f"Malformed TLV at position {pos}.")
        tag, length = head[:2], int(head[2:])
        value = text[pos + 4 : pos + 4 + length]
        if length == 0 or len(value) != length:
            raise QrInvalid(f"Tag {tag} at position {pos} has a wrong length.")
        objects.append((tag, value))
        pos += 4 + length
    return objects


@dataclass(frozen=True)
class QrPayload:
    """A decoded payload: top-level objects in order, templates decoded one level down."""

    objects: tuple[tuple[str, str], ...]
    templates: dict[str, dict[str, str]] = field(default_factory=dict)

    def get(self, tag: str) -> str | None:
        for t, v in self.objects:
            if t == tag:
                return v
        return None

    @property
    def is_dynamic(self) -> bool:
        return self.get("01") == DYNAMIC

    @property
    def amount(self) -> str | None:
        return self.get("54")

    @property
    def currency(self) -> str | None:
        numeric = self.get("53")
        return ALPHA_CURRENCY.get(numeric, numeric) if numeric else None

    @property
    def merchant_name(self) -> str | None:
        return self.get("59")

    @property
    def rongshu_merchant_id(self) -> str | None:
        """Our merchant id when template 26 carries rongshu's GUI."""
        template = self.templates.get(MERCHANT_TEMPLATE, {})
        if template.get("00", "").upper() == RONGSHU_GUI:
            return template.get("01")
        return None

    @property
    def reference(self) -> str | None:
        """The reference label of a dynamic code (62/05): for our merchants, the reference
        of the collection request the bank issued (:mod:`rongshu.payments.dynamic_qr`)."""
        return self.templates.get("62", {}).get("05")

    @property
    def bill_number(self) -> str | None:
        """The merchant's bill number (62/01), shown to the payer."""
        return self.templates.get("62", {}).get("01")


def decode(payload: str) -> QrPayload:
    """Decode and verify a merchant-presented payload (format indicator and CRC)."""
    payload = payload.strip()
    if len(payload) < 12 or not payload.startswith("000201"):
        raise QrInvalid("This is not an EMVCo merchant QR code (format indicator 00 = 01).")
    objects = decode_tlv(payload)
    crc = objects[-1][1]
    if objects[-1][0] != "63" or len(crc) != 4 or not all(c in HEX_DIGITS for c in crc):
        raise QrInvalid("The QR code has no CRC (tag 63, four hex digits) at its end.")
    expected = crc_of(payload[:-4])
    if crc.upper() != expected:
        raise QrInvalid("The QR code's checksum is wrong (damaged or altered).", code="qr_bad_crc")
    templates: dict[str, dict[str, str]] = {}
    for tag, value in objects:
        if tag in TEMPLATE_IDS:
            try:
                templates[tag] = dict(decode_tlv(value))
            except QrInvalid:
                continue  # a template whose content is not TLV (allowed in 80–99 by some)
    return QrPayload(tuple(objects), templates)


def encode(objects: list[tuple[str, str]]) -> str:
    """Build a payload from top-level objects (without 63); appends the CRC."""
    body = encode_tlv(objects) + "6304"
    return body + crc_of(body)


def merchant_payload(
    *,
    merchant_id: str,
    name: str,
    city: str,
    mcc: str = "5999",
    currency: str = "CNY",
    amount: str | None = None,
    reference: str | None = None,
    bill_number: str | None = None,
) -> str:
    """A rongshu merchant QR: static (no amount) or dynamic (with amount and reference).

    A dynamic code is only payable when the bank issued it (``reference`` is the issued
    request's reference, :func:`rongshu.payments.dynamic_qr.do_issue_dynamic_qr`): the CRC
    is no signature, so the amount is taken from the issued request, never from here."""
    account = encode_tlv([("00", RONGSHU_GUI), ("01", merchant_id)])
    objects: list[tuple[str, str]] = [
        ("00", "01"),
        ("01", DYNAMIC if amount is not None else STATIC),
        (MERCHANT_TEMPLATE, account),
        ("52", mcc),
        ("53", NUMERIC_CURRENCY[currency]),
    ]
    if amount is not None:
        objects.append(("54", amount))
    objects += [("58", "CN"), ("59", name[:25]), ("60", city[:15])]
    additional: list[tuple[str, str]] = []
    if bill_number:
        additional.append(("01", bill_number[:25]))
    if reference:
        additional.append(("05", reference[:25]))
    if additional:
        objects.append(("62", encode_tlv(additional)))
    return encode(objects)


def qr_svg(payload: str, *, scale: int = 4) -> str:
    """The payload as an inline SVG QR image (segno, error correction M)."""
    import io

    import segno

    code = segno.make(payload, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=scale, xmldecl=False, svgns=True, border=2)
    return buffer.getvalue().decode("utf-8")
