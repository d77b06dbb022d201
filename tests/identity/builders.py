"""Builders for identity tests: customers (through the real registration flow), staff and
partner clients, and resident ids with valid check digits."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.test import Client
from stdnum.cn import ric

from rongshu.identity import services as identity
from rongshu.identity.models import UserSession
from rongshu.identity.types import IssuedTokens, PartnerScope, Principal

_serial = itertools.count(1)
PASSWORD = "correct-horse-battery"


def resident_id(region: str = "110105", born: str = "19900101", serial: int | None = None) -> str:
    seq = f"{(serial if serial is not None else next(_serial)) % 1000:03d}"
    body = region + born + seq
    return body + ric.calc_check_digit(body + "0")  # the function skips the last digit


def next_phone() -> str:
    return f"139{next(_serial):08d}"


@dataclass
class CustomerFixture:
    phone: str
    password: str
    user_id: int
    customer_id: str
    resident_id: str


def make_customer(
    *,
    phone: str | None = None,
    password: str = PASSWORD,
    real_name: str = "张三",
    rid: str | None = None,
) -> CustomerFixture:
    phone = phone or next_phone()
    rid = rid or resident_id()
    info = identity.do_start_registration(phone)
    code = identity.latest_code(phone)
    assert code is not None, "the simulator should have delivered a code"
    result = identity.do_register_customer(
        challenge_id=str(info.challenge_id),
        code=code,
        password=password,
        real_name=real_name,
        resident_id=rid,
    )
    return CustomerFixture(phone, password, result.user_id, result.customer_id, rid)


def app_tokens(customer: CustomerFixture, device: str = "device-test-0001") -> IssuedTokens:
    user_id = identity.do_authenticate_customer(customer.phone, customer.password)
    return identity.do_issue_app_tokens(user_id, device_key=device, device_label="test phone")


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def staff_client(user_id: int) -> Client:
    """A test client signed in to the web as ``user_id`` with a recorded session."""
    client = Client()
    client.force_login(_user(user_id))
    key = client.session.session_key or ""
    identity.do_start_session(user_id, kind=UserSession.WEB, session_key=key)
    return client


def _user(user_id: int):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=user_id)


def make_staff(
    role: str, *, username: str | None = None, branch: str = "0001", region: str = "110000"
) -> Principal:
    member = identity.do_create_staff(
        username or f"{role}-{next(_serial)}",
        PASSWORD,
        role,
        branch_code=branch,
        region_code=region,
    )
    return identity.principal_for_user(member.user_id)


def make_partner(scopes: list[str] | None = None) -> identity.ClientCredentials:
    return identity.do_create_client(
        "Test Fund House", [s.value for s in PartnerScope] if scopes is None else scopes
    )
