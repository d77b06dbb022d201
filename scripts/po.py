"""Developer tool: merge translations into a .po file and compile every .po to .mo with Babel.

    python scripts/po.py fill zh_Hans translations.json   # {"msgid": "译文", ...}
    python scripts/po.py compile                          # all locales -> django.mo

``django-admin makemessages`` (needs GNU gettext) extracts the messages; this script only
fills and compiles, so no gettext is needed to build or run rongshu.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

LOCALE = Path(__file__).resolve().parent.parent / "src" / "rongshu" / "locale"


def fill(lang: str, source: Path) -> None:
    path = LOCALE / lang / "LC_MESSAGES" / "django.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang.replace("_Hans", ""))
    table = json.loads(source.read_text())
    for message in catalog:
        if message.id and message.id in table:
            message.string = table[message.id]
            message.flags.discard("fuzzy")
    catalog.fuzzy = False
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)


def compile_all() -> None:
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/django.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        missing = [
            m.id
            for m in catalog
            if m.id
            and not "".join(m.string if isinstance(m.string, tuple) else [m.string or ""])
            and po.parts[-3] != "en"
        ]
        if missing:
            print(f"{po}: {len(missing)} untranslated, e.g. {missing[:3]}")
        with po.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        print(f"compiled {po.with_suffix('.mo')}")


if __name__ == "__main__":
    if sys.argv[1] == "fill":
        fill(sys.argv[2], Path(sys.argv[3]))
    else:
        compile_all()
