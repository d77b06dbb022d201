"""Every message in the catalogue has a Chinese translation, and the compiled file is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parents[2] / "src" / "rongshu" / "locale"


def test_every_message_is_translated_to_chinese() -> None:
    with (LOCALE / "zh_Hans/LC_MESSAGES/django.po").open("rb") as handle:
        catalog = read_po(handle)
    assert len(catalog) > 200
    missing = [m.id for m in catalog if m.id and (not _text(m.string) or m.fuzzy)]
    assert missing == []


def _key(value: Any) -> Any:
    """A plural message's id and string are sequences (a list from the .mo file)."""
    return tuple(value) if isinstance(value, list | tuple) else value


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list | tuple) else (value or "")


def test_compiled_catalogue_matches_the_source() -> None:
    with (LOCALE / "zh_Hans/LC_MESSAGES/django.po").open("rb") as handle:
        source = {_key(m.id): _key(m.string) for m in read_po(handle) if m.id}
    with (LOCALE / "zh_Hans/LC_MESSAGES/django.mo").open("rb") as handle:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(handle) if m.id}
    assert compiled == source, "run `make messages` (scripts/po.py compile)"
