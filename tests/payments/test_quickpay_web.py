"""Quick-pay pages without a browser: sign-in required, the bind form refuses a missing consent
in the page, the whole bind journey with the code from the SMS simulator, another customer's
binding answers 404; staff with ``payment.view`` find bindings beside the payment search."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from rongshu.identity import services as identity
from rongshu.identity.types import Role
from rongshu.payments.models import QuickPayBinding
from tests.identity.builders import make_staff, staff_client
from tests.payments.conftest import make_payer
from tests.payments.test_quickpay import bind, make_shop

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    r = Client().get("/me/payments/quickpay/")
    assert r.status_code == 302 and r["Location"].startswith("/signin/?next=")


def test_bind_journey_in_the_pages() -> None:
    payer, shop = make_payer(), make_shop()
    web = staff_client(payer.customer.user_id)  # a signed-in web session
    page = web.get("/me/payments/quickpay/")
    assert page.status_code == 200
    assert shop.code in page.content.decode() and 'href="/me/payments/quickpay/"' in (
        page.content.decode()
    )
    form = {
        "merchant_code": shop.code,
        "debit_account": str(payer.account.public_id),
        "per_transaction": "100.00",
    }
    refused = web.post("/me/payments/quickpay/", form)  # no consent box ticked
    assert refused.status_code == 400 and 'id="quickpay-error"' in refused.content.decode()
    assert not QuickPayBinding.objects.exists()

    started = web.post("/me/payments/quickpay/", {**form, "consent": "yes"})
    binding = QuickPayBinding.objects.get()
    assert started.status_code == 302 and started["Location"].endswith(f"/{binding.public_id}/")
    detail = web.get(started["Location"]).content.decode()
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', detail)
    assert challenge is not None and challenge.group(1) == str(binding.challenge_id)
    code = identity.latest_code(payer.customer.phone)
    assert code is not None
    done = web.post(
        f"/me/payments/quickpay/{binding.public_id}/confirm/",
        {"challenge_id": challenge.group(1), "code": code},
    )
    assert done.status_code == 302
    binding.refresh_from_db()
    assert binding.state == "active" and binding.per_transaction_minor == 100_00

    stranger = staff_client(make_payer(name="王五").customer.user_id)
    assert stranger.get(f"/me/payments/quickpay/{binding.public_id}/").status_code == 404
    assert stranger.post(f"/me/payments/quickpay/{binding.public_id}/unbind/").status_code == 404
    binding.refresh_from_db()
    assert binding.state == "active"


def test_staff_find_bindings_next_to_the_payment_search() -> None:
    payer, shop = make_payer(), make_shop()
    view = bind(payer, shop)
    teller = make_staff(Role.TELLER)
    assert teller.user_id is not None
    console = staff_client(teller.user_id)
    assert (
        'href="/console/payments/quickpay/"' in console.get("/console/payments/").content.decode()
    )
    found = console.get(f"/console/payments/quickpay/?customer_id={payer.customer_id}")
    html = found.content.decode()
    assert found.status_code == 200 and shop.code in html and 'data-state="active"' in html
    by_shop = console.get("/console/payments/quickpay/?merchant_code=NOPE").content.decode()
    assert 'data-state="' not in by_shop
    analyst = make_staff(Role.MARKETING_ANALYST, username="qp-analyst")
    assert analyst.user_id is not None
    assert staff_client(analyst.user_id).get("/console/payments/quickpay/").status_code == 403
    assert view.state == "active"
