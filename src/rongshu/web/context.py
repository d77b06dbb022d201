"""Template context shared by every page of the three portals."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rongshu import __version__

PORTALS = (("customer", "/"), ("console", "/console/"), ("partners", "/partners/"))


def portal_of(path: str) -> str:
    for name, prefix in reversed(PORTALS):
        if path.startswith(prefix):
            return name
    return "customer"


def shell(request: HttpRequest) -> dict[str, Any]:
    return {"portal": portal_of(request.path), "rongshu_version": __version__}
