"""Authorization matrix: every operation of the OpenAPI document × every principal.

The expected outcome of each operation comes from the tables in ``tests/authz/`` (one module
per domain). An operation without a row fails :func:`test_every_operation_has_a_row`; a row for
an operation that no longer exists fails too. Every request runs in a transaction rolled back
afterwards, so one principal's call never changes what the next one sees.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

import tests.authz
from rongshu.api.base import api
from rongshu.identity import services as identity
from rongshu.identity.models import Device, UserSession
from rongshu.identity.types import Action, Role
from tests.authz import PRINCIPALS, Rule
from tests.identity.builders import (
    CustomerFixture,
    app_tokens,
    bearer,
    make_customer,
    make_partner,
    make_staff,
    staff_client,
)

METHODS = {"get", "post", "put", "patch", "delete"}


def all_rules() -> dict[tuple[str, str], Rule]:
    rules: dict[tuple[str, str], Rule] = {}
    for info in pkgutil.iter_modules(tests.authz.__path__):
        module = importlib.import_module(f"tests.authz.{info.name}")
        for key, rule in getattr(module, "RULES", {}).items():
            assert key not in rules, f"{key} has rows in two tables"
            rules[key] = rule
    return rules


def operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in METHODS
    )


def test_every_operation_has_a_row() -> None:
    ops, rules = set(operations()), all_rules()
    missing = sorted(ops - set(rules))
    stale = sorted(set(rules) - ops)
    assert not missing, f"operations without an authorization row in tests/authz/: {missing}"
    assert not stale, f"rows for operations that do not exist: {stale}"
    for key, rule in rules.items():
        unknown = rule.allow - set(PRINCIPALS)
        assert not unknown, f"{key} names unknown principals {unknown}"


@dataclass
class World:
    customer_a: CustomerFixture
    customer_b: CustomerFixture
    partner_scoped: identity.ClientCredentials
    partner_unscoped: identity.ClientCredentials
    clients: dict[str, tuple[Client, dict[str, str]]]
    session_a: str
    device_a: str
    customer_a_id: str
    teller_id: str
    approval_id: str
    partner_client_id: str
    purpose: str = "marketing"
    unknown_uuid: str = str(uuid.uuid4())


@pytest.fixture
def world(db: Any) -> World:
    a, b = make_customer(), make_customer()
    token_a = app_tokens(a, "device-a-000000000001").access_token
    token_b = app_tokens(b, "device-b-000000000001").access_token
    scoped = make_partner()
    unscoped = make_partner([])
    scoped_token = identity.do_issue_client_token(
        scoped.client_id, scoped.client_secret
    ).access_token
    unscoped_token = identity.do_issue_client_token(
        unscoped.client_id, unscoped.client_secret
    ).access_token
    clients: dict[str, tuple[Client, dict[str, str]]] = {
        "anonymous": (Client(), {}),
        "customer_a": (Client(), bearer(token_a)),
        "customer_b": (Client(), bearer(token_b)),
        "partner_scoped": (Client(), bearer(scoped_token)),
        "partner_unscoped": (Client(), bearer(unscoped_token)),
    }
    staff_ids: dict[str, str] = {}
    for role in Role:
        who = make_staff(role)
        assert who.user_id is not None
        clients[f"staff:{role.value}"] = (staff_client(who.user_id), {})
        staff_ids[role.value] = str(who.staff_id)
    requester = make_staff(Role.ADMINISTRATOR, username="admin-requester")
    approval = identity.do_request_approval(
        requester,
        Action.STAFF_MANAGE,
        object_type="staff",
        object_id=staff_ids["teller"],
        payload={"change": "role", "from": "teller", "to": "auditor"},
    )
    session_a = UserSession.objects.filter(user_id=a.user_id).get()
    device_a = Device.objects.filter(user_id=a.user_id).get()
    return World(
        customer_a=a,
        customer_b=b,
        partner_scoped=scoped,
        partner_unscoped=unscoped,
        clients=clients,
        session_a=str(session_a.public_id),
        device_a=str(device_a.public_id),
        customer_a_id=a.customer_id,
        teller_id=staff_ids["teller"],
        approval_id=str(approval.public_id),
        partner_client_id=scoped.client_id,
    )


def _call(world: World, who: str, method: str, path: str, rule: Rule) -> int:
    client, headers = world.clients[who]
    url = path
    for name, attribute in rule.params.items():
        url = url.replace("{" + name + "}", str(getattr(world, attribute)))
    body = rule.body(world) if callable(rule.body) else rule.body
    kwargs: dict[str, Any] = dict(headers)
    if method != "GET":
        # Writes that move money require an Idempotency-Key; send one so the answer
        # reflects authorization, not the missing header.
        kwargs["HTTP_IDEMPOTENCY_KEY"] = f"authz-{who}-{method}-{uuid.uuid4().hex}"
    if method in {"POST", "PUT", "PATCH"}:
        kwargs.update(
            data=json.dumps(body if body is not None else {}), content_type="application/json"
        )
    with transaction.atomic():
        response = getattr(client, method.lower())(url, **kwargs)
        transaction.set_rollback(True)
    return int(response.status_code)


def _denied(status: int, rule: Rule) -> bool:
    return status in (401, 403) or (rule.missing_is_deny and status == 404)


def test_authorization_matrix(world: World) -> None:
    rules = all_rules()
    mismatches: list[str] = []
    checked = 0
    for method, path in operations():
        rule = rules.get((method, path))
        if rule is None:
            continue  # reported by test_every_operation_has_a_row
        for who in PRINCIPALS:
            status = _call(world, who, method, path, rule)
            expected_allow = who in rule.allow
            # 500 is a crash; 502/503 (a dependency down) come after authorization passed.
            if status == 500 or _denied(status, rule) == expected_allow:
                verdict = "allow" if expected_allow else "deny"
                mismatches.append(f"{method} {path} as {who}: expected {verdict}, got {status}")
            checked += 1
    assert not mismatches, "\n".join(mismatches)
    assert checked == len(operations()) * len(PRINCIPALS)
