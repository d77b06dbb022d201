"""One small document builder for the bank's PDFs (statements, e-statements, deposit
certificates, payment receipts), on reportlab's canvas.

A :class:`PdfDocument` is a title, an optional key-value block, optional paragraphs and an
optional table whose header repeats on every page; every page carries the bank's name and the
title at the top and a footer with the generation time, the document id, the verification code
(when there is one) and "page x / y". Chinese and Latin text use reportlab's built-in CID font
``STSong-Light`` (no font file to ship). Output is deterministic: the same document (including
``generated_at``) gives the same bytes (``invariant`` mode: no wall-clock dates or random ids).

Layout is computed first (fixed row heights, long cells shortened with "…"), then drawn, so
the page count is known when each footer is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

FONT = "STSong-Light"
DEFAULT_BANK_NAME = "榕树生态银行 rongshu ecosystem bank"
PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
ROW_H = 5.2 * mm
BODY_SIZE = 9.0
SMALL_SIZE = 7.5


@dataclass(frozen=True)
class Column:
    title: str
    width: float  # a share of the table's width (the shares are normalised)
    align: Literal["left", "right"] = "left"


@dataclass(frozen=True)
class PdfDocument:
    title: str
    generated_at: dt.datetime
    bank_name: str = DEFAULT_BANK_NAME
    subtitle: str = ""
    fields: Sequence[tuple[str, str]] = ()
    paragraphs: Sequence[str] = ()
    columns: Sequence[Column] = ()
    rows: Sequence[Sequence[str]] = ()
    empty_table_text: str = "—"
    notes: Sequence[str] = ()  # after the table (small print)
    document_id: str = ""  # empty: a digest of the content (see :func:`content_digest`)
    verification_code: str = ""
    verification_label: str = "Verification code / 验证码"
    document_id_label: str = "Document / 文档编号"
    generated_label: str = "Generated / 生成时间"
    page_label: str = "Page / 页"
    time_zone: dt.tzinfo | None = None  # how generated_at is printed (default: as given)
    highlight: Sequence[tuple[str, str]] = field(default_factory=tuple)  # large key-values


_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def content_digest(doc: PdfDocument) -> str:
    """A stable id for a document without one: SHA-256 over what it shows, 16 hex digits."""
    h = hashlib.sha256()
    for part in (doc.title, doc.subtitle, doc.bank_name, doc.generated_at.isoformat()):
        h.update(part.encode())
        h.update(b"\x00")
    for key, value in (*doc.highlight, *doc.fields):
        h.update(f"{key}\x1f{value}\x00".encode())
    for row in doc.rows:
        h.update("\x1f".join(row).encode())
        h.update(b"\x1e")
    return h.hexdigest()[:16].upper()


def _width(text: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, _font(), size))


def fit(text: str, width: float, size: float = BODY_SIZE) -> str:
    """``text`` shortened with "…" to fit ``width`` points."""
    if _width(text, size) <= width:
        return text
    out = text
    while out and _width(out + "…", size) > width:
        out = out[:-1]
    return out + "…"


def wrap(text: str, width: float, size: float = BODY_SIZE) -> list[str]:
    """Greedy line breaking by glyph width (works for Chinese, which has no spaces)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for char in paragraph:
            if _width(current + char, size) > width and current:
                cut = current.rfind(" ")
                if cut > 0 and not char.isspace():
                    lines.append(current[:cut])
                    current = current[cut + 1 :] + char
                else:
                    lines.append(current)
                    current = char.lstrip()
            else:
                current += char
        lines.append(current)
    return lines


# ------------------------------------------------------------------ layout
@dataclass
class _Op:
    kind: str  # "text", "rule", "header", "row", "big"
    y: float
    args: tuple[object, ...] = ()


def _layout(doc: PdfDocument) -> list[list[_Op]]:
    inner = PAGE_W - 2 * MARGIN
    top = PAGE_H - MARGIN - 20 * mm  # below the page header
    bottom = MARGIN + 12 * mm  # above the footer
    pages: list[list[_Op]] = [[]]
    y = top

    def room(height: float) -> None:
        nonlocal y
        if y - height < bottom:
            pages.append([])
            y = top

    if doc.subtitle:
        for line in wrap(doc.subtitle, inner, BODY_SIZE + 1):
            room(ROW_H)
            pages[-1].append(_Op("text", y, (MARGIN, line, BODY_SIZE + 1)))
            y -= ROW_H
        y -= 1 * mm
    for key, value in doc.highlight:
        room(9 * mm)
        pages[-1].append(_Op("big", y, (key, value)))
        y -= 9 * mm
    label_w = inner * 0.32
    for key, value in doc.fields:
        value_lines = wrap(value, inner - label_w) or [""]
        room(ROW_H * len(value_lines))
        pages[-1].append(_Op("text", y, (MARGIN, fit(key, label_w - 2 * mm), BODY_SIZE, True)))
        for line in value_lines:
            pages[-1].append(_Op("text", y, (MARGIN + label_w, line, BODY_SIZE)))
            y -= ROW_H
    if doc.fields:
        y -= 2 * mm
    for paragraph in doc.paragraphs:
        for line in wrap(paragraph, inner):
            room(ROW_H)
            pages[-1].append(_Op("text", y, (MARGIN, line, BODY_SIZE)))
            y -= ROW_H
        y -= 1.5 * mm
    if doc.columns:
        total = sum(c.width for c in doc.columns) or 1.0
        widths = [inner * c.width / total for c in doc.columns]
        room(ROW_H * 2)
        pages[-1].append(_Op("header", y, (widths,)))
        y -= ROW_H
        if not doc.rows:
            pages[-1].append(_Op("text", y, (MARGIN, doc.empty_table_text, BODY_SIZE)))
            y -= ROW_H
        for row in doc.rows:
            if y - ROW_H < bottom:
                pages.append([])
                y = top
                pages[-1].append(_Op("header", y, (widths,)))
                y -= ROW_H
            pages[-1].append(_Op("row", y, (widths, tuple(row))))
            y -= ROW_H
        y -= 2 * mm
    for note in doc.notes:
        for line in wrap(note, inner, SMALL_SIZE):
            room(ROW_H * 0.85)
            pages[-1].append(_Op("text", y, (MARGIN, line, SMALL_SIZE)))
            y -= ROW_H * 0.85
    return pages


# ------------------------------------------------------------------ drawing
def _cell(c: Canvas, x: float, y: float, width: float, text: str, align: str) -> None:
    pad = 1.2 * mm
    shown = fit(text, width - 2 * pad)
    if align == "right":
        c.drawRightString(x + width - pad, y, shown)
    else:
        c.drawString(x + pad, y, shown)


def _draw_page(
    c: Canvas, doc: PdfDocument, ops: list[_Op], number: int, count: int, doc_id: str
) -> None:
    font = _font()
    inner = PAGE_W - 2 * MARGIN
    # header: bank name, title, rule
    c.setFont(font, SMALL_SIZE + 0.5)
    c.setFillGray(0.35)
    c.drawString(MARGIN, PAGE_H - MARGIN, doc.bank_name)
    c.setFillGray(0)
    c.setFont(font, 15)
    c.drawString(MARGIN, PAGE_H - MARGIN - 9 * mm, doc.title)
    c.setLineWidth(0.6)
    c.line(MARGIN, PAGE_H - MARGIN - 12.5 * mm, PAGE_W - MARGIN, PAGE_H - MARGIN - 12.5 * mm)
    for op in ops:
        if op.kind == "text":
            x, text, size = op.args[0], op.args[1], op.args[2]
            gray = len(op.args) > 3 and bool(op.args[3])
            c.setFont(font, float(size))  # type: ignore[arg-type]
            c.setFillGray(0.3 if gray else 0)
            c.drawString(float(x), op.y, str(text))  # type: ignore[arg-type]
            c.setFillGray(0)
        elif op.kind == "big":
            key, value = op.args
            c.setFont(font, BODY_SIZE)
            c.setFillGray(0.3)
            c.drawString(MARGIN, op.y, str(key))
            c.setFillGray(0)
            c.setFont(font, 14)
            c.drawString(MARGIN + inner * 0.32, op.y - 0.5 * mm, fit(str(value), inner * 0.68, 14))
        elif op.kind in ("header", "row"):
            widths: list[float] = op.args[0]  # type: ignore[assignment]
            cells = (
                [col.title for col in doc.columns] if op.kind == "header" else list(op.args[1])  # type: ignore[call-overload]
            )
            if op.kind == "header":
                c.setFillGray(0.92)
                c.rect(MARGIN, op.y - 1.6 * mm, inner, ROW_H, stroke=0, fill=1)
                c.setFillGray(0)
            c.setFont(font, BODY_SIZE - (0 if op.kind == "row" else 0.5))
            x = MARGIN
            for col, width, text in zip(doc.columns, widths, cells, strict=False):
                _cell(c, x, op.y, width, str(text), col.align)
                x += width
            if op.kind == "row":
                c.setStrokeGray(0.85)
                c.setLineWidth(0.3)
                c.line(MARGIN, op.y - 1.7 * mm, PAGE_W - MARGIN, op.y - 1.7 * mm)
                c.setStrokeGray(0)
    # footer
    c.setLineWidth(0.4)
    c.line(MARGIN, MARGIN + 6 * mm, PAGE_W - MARGIN, MARGIN + 6 * mm)
    c.setFont(font, SMALL_SIZE)
    when = doc.generated_at.astimezone(doc.time_zone) if doc.time_zone else doc.generated_at
    left = f"{doc.bank_name} · {doc.generated_label} {when:%Y-%m-%d %H:%M:%S %z}"
    c.drawString(MARGIN, MARGIN + 2 * mm, fit(left, inner * 0.75, SMALL_SIZE))
    c.drawRightString(PAGE_W - MARGIN, MARGIN + 2 * mm, f"{doc.page_label} {number} / {count}")
    ident = f"{doc.document_id_label} {doc_id}"
    if doc.verification_code:
        ident += f" · {doc.verification_label} {doc.verification_code}"
    c.drawString(MARGIN, MARGIN - 1.5 * mm, fit(ident, inner, SMALL_SIZE))


def render_pdf(doc: PdfDocument) -> bytes:
    """The document as PDF bytes (A4, compressed, deterministic)."""
    doc_id = doc.document_id or content_digest(doc)
    pages = _layout(doc)
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(doc.title)
    c.setAuthor(doc.bank_name)
    c.setSubject(doc_id)
    c.setCreator("rongshu")
    for number, ops in enumerate(pages, start=1):
        _draw_page(c, doc, ops, number, len(pages), doc_id)
        c.showPage()
    c.save()
    return buffer.getvalue()


def page_count(data: bytes) -> int:
    """Pages in a PDF that :func:`render_pdf` wrote (its page tree's ``/Count``)."""
    import re

    counts = [int(m) for m in re.findall(rb"/Count (\d+)", data)]
    return max(counts) if counts else 0


def extract_text(data: bytes) -> str:
    """The text drawn in a PDF that :func:`render_pdf` wrote (for tests and checks): each
    compressed content stream is inflated and its string operands are decoded (UTF-16BE, the
    CID font's encoding), one line per string."""
    import base64
    import re
    import zlib

    out: list[str] = []
    for match in re.finditer(rb"stream\r?\n(.*?)\s*endstream", data, re.S):
        raw = match.group(1).strip()
        try:
            if raw.endswith(b"~>"):  # reportlab's ASCII85 layer over Flate
                raw = base64.a85decode(raw[:-2].replace(b"\n", b""))
            content = zlib.decompress(raw)
        except (ValueError, zlib.error):
            continue
        out.extend(_literals(content))
    return "\n".join(out)


def _literals(content: bytes) -> list[str]:
    """The string operands of ``Tj`` in a content stream, decoded (escapes, nesting)."""
    found: list[str] = []
    i, n = 0, len(content)
    while i < n:
        if content[i] != 0x28:  # "("
            i += 1
            continue
        out = bytearray()
        depth, i = 1, i + 1
        while i < n:
            b = content[i]
            if b == 0x5C and i + 1 < n:  # backslash escape
                nxt = content[i + 1]
                if 0x30 <= nxt <= 0x37:
                    j = i + 1
                    while j < min(i + 4, n) and 0x30 <= content[j] <= 0x37:
                        j += 1
                    out.append(int(content[i + 1 : j], 8) & 0xFF)
                    i = j
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            if b == 0x28:
                depth += 1
            elif b == 0x29:
                depth -= 1
                if depth == 0:
                    i += 1
                    break
            out.append(b)
            i += 1
        if content[i : i + 4].lstrip().startswith(b"Tj"):
            found.append(bytes(out).decode("utf-16-be", errors="replace"))
    return found


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
