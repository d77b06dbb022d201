"""A test-only API with commands that have visible side effects (audit entries)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI, Schema, Status

from rongshu.api.base import command, install_problem_handlers
from rongshu.kernel.audit import do_audit
from rongshu.kernel.errors import RuleViolation

test_api = NinjaAPI(urls_namespace="test_idem", docs_url=None)
install_problem_handlers(test_api)


class In(Schema):
    note: str
    fail: bool = False
    crash: bool = False


class Out(Schema):
    seq: int
    note: str


@test_api.post("/pay", response={201: Out})
@command(idempotent=True)
def pay(request: HttpRequest, payload: In) -> Status:
    entry = do_audit("test", "pay", data={"note": payload.note})
    if payload.fail:
        raise RuleViolation("Insufficient funds.", code="insufficient_funds")
    if payload.crash:
        raise RuntimeError("database exploded")
    return Status(201, Out(seq=entry.seq, note=payload.note))


@test_api.post("/note")
@command()
def note(request: HttpRequest, payload: In) -> dict[str, int]:
    entry = do_audit("test", "note")
    if payload.fail:
        raise RuleViolation("No.")
    return {"seq": entry.seq}


urlpatterns = [path("api/v1/test/", test_api.urls)]
