"""How the web pages show a domain error and an amount of money, in the user's language."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from rongshu.kernel.errors import DomainError
from rongshu.kernel.money import Money, format_money


def error_message(exc: DomainError) -> str:
    """The error in the user's language: the detail when it is translated (or already in the
    user's language), else the translated title."""
    title = str(exc.title)
    if exc.detail is None:
        return title
    detail = str(exc.detail)
    translated = _(detail)
    if translated != detail or not detail.isascii():
        return translated
    return detail if not (get_language() or "").startswith("zh") else title


def money(m: Money | None) -> str:
    """An amount for the page in the active language (``¥1,234.56``, ``CN¥1,234.56``); an
    amount that is not set (a limit left open) shows as an empty string."""
    return format_money(m, get_language() or "zh-hans") if m is not None else ""
