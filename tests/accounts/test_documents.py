"""PDF documents of the accounts domain: the kernel builder, statement and e-statement PDFs,
deposit certificates (freeze through a ledger hold, release at expiry, staff verification),
and their refusals. PDFs are read back with the builder's own text extraction (the content
streams inflated, the CID font's UTF-16 strings decoded)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from rongshu.accounts import certificates, services
from rongshu.accounts.jobs import do_generate_month_statements
from rongshu.accounts.models import DepositCertificate
from rongshu.identity.types import Role
from rongshu.kernel import clock
from rongshu.kernel.pdf import Column, PdfDocument, extract_text, page_count, render_pdf
from rongshu.ledger import queries as ledger_queries
from tests.accounts.builders import customer, deposit, open_type2
from tests.identity.builders import app_tokens, bearer, make_staff, staff_client

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)


def _auth(c: Any) -> dict[str, str]:
    return bearer(app_tokens(c.fixture, f"doc-{c.fixture.phone}-01").access_token)


def _post(client: Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def _key(n: str) -> dict[str, str]:
    return {"HTTP_IDEMPOTENCY_KEY": f"cert-{n}"}


# ------------------------------------------------------------------ kernel builder
def test_builder_repeats_the_header_numbers_pages_and_is_deterministic() -> None:
    doc = PdfDocument(
        title="测试 Test",
        generated_at=AT,
        fields=[("户名 Holder", "周杰 (Zhou)")],
        columns=[Column("日期 Date", 2), Column("金额 Amount", 1, "right")],
        rows=[(f"第{i}行 (row) \\", f"{i}.00") for i in range(130)],
        verification_code="ABCD-EFGH",
    )
    data = render_pdf(doc)
    assert data.startswith(b"%PDF-")
    assert data == render_pdf(doc)  # same input, same bytes
    pages = page_count(data)
    assert pages >= 3
    text = extract_text(data)
    assert text.count("日期 Date") == pages  # the table header on every page
    assert f"Page / 页 {pages} / {pages}" in text
    assert "第129行 (row) \\" in text and "周杰 (Zhou)" in text
    assert text.count("ABCD-EFGH") == pages  # footer: verification code on each page
    other = render_pdf(PdfDocument(title="测试 Test", generated_at=AT + dt.timedelta(seconds=1)))
    assert other != render_pdf(PdfDocument(title="测试 Test", generated_at=AT))


# ------------------------------------------------------------------ statements
def test_statement_pdf_follows_the_filters(api_client: Client) -> None:
    c = customer("周杰")
    account = open_type2(c)
    deposit(account, 100_00, reference="工资 November")
    deposit(account, 25_50, reference="红包 from 小李")
    headers = _auth(c)
    r = api_client.get(f"/api/v1/accounts/{account.public_id}/statement.pdf", **headers)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = extract_text(r.content)
    assert account.account_number in text and "周杰" in text
    assert "工资 November" in text and "红包 from 小李" in text and "125.50" in text
    filtered = api_client.get(
        f"/api/v1/accounts/{account.public_id}/statement.pdf?q=红包", **headers
    )
    text = extract_text(filtered.content)
    assert "红包 from 小李" in text and "工资 November" not in text
    other = customer("王五")
    missing = api_client.get(f"/api/v1/accounts/{account.public_id}/statement.pdf", **_auth(other))
    assert missing.status_code == 404


def test_estatement_pdf_is_stable_and_shows_the_balances(api_client: Client) -> None:
    c = customer("周杰")
    account = open_type2(c)
    deposit(account, 60_00, reference="月初存入")
    today = clock.now().astimezone(clock.bank_zone()).date()
    month_end = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    assert do_generate_month_statements(month_end) >= 1
    url = f"/api/v1/accounts/{account.public_id}/e-statements/{month_end:%Y-%m}.pdf"
    first = api_client.get(url, **_auth(c))
    assert first.status_code == 200
    deposit(account, 1_00, reference="later")  # after generation, same month: not in the snapshot
    text = extract_text(first.content)
    assert "期末余额 Closing balance" in text and "60.00" in text and "月初存入" in text
    assert api_client.get(url, **_auth(c)).content == api_client.get(url, **_auth(c)).content
    bad = api_client.get(
        f"/api/v1/accounts/{account.public_id}/e-statements/1999-01.pdf", **_auth(c)
    )
    assert bad.status_code == 404


# ------------------------------------------------------------------ deposit certificates
def test_certificate_freezes_the_amount_and_is_released_at_expiry(api_client: Client) -> None:
    c = customer("周杰")
    account = open_type2(c)
    deposit(account, 5_000_00)
    headers = _auth(c)
    until = clock.local_today() + dt.timedelta(days=30)
    r = _post(
        api_client,
        f"/api/v1/accounts/{account.public_id}/deposit-certificates",
        {"amount": "3000.00", "frozen_until": until.isoformat(), "purpose": "留学签证"},
        headers | _key("a"),
    )
    assert r.status_code == 201, r.content
    cert = r.json()
    assert cert["state"] == "frozen" and cert["amount"] == "3000.00"
    view = ledger_queries.get_account(account.ledger_account_id)
    assert (view.balance, view.available) == (5_000_00, 2_000_00)  # held by the ledger
    pdf = api_client.get(f"/api/v1/deposit-certificates/{cert['id']}.pdf", **headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    text = extract_text(pdf.content)
    assert "叁仟元整" in text and cert["verification_code"] in text and "留学签证" in text
    assert until.isoformat() in text

    with pytest.raises(Exception) as refused:  # cannot close while the amount is held
        services.do_close_my_account(c.principal, account.public_id)
    assert getattr(refused.value, "code", "") == "account_has_pending_holds"

    # staff verify by code (lower case and without dashes works too)
    teller = staff_client(make_staff(Role.TELLER, username="cert-teller").user_id)
    code = cert["verification_code"].replace("-", "").lower()
    checked = teller.get(f"/api/v1/deposit-certificates/verify?code={code}")
    assert checked.status_code == 200 and checked.json()["id"] == cert["id"]
    assert teller.get("/api/v1/deposit-certificates/verify?code=ZZZZ-ZZZZ").status_code == 404
    assert (
        api_client.get(f"/api/v1/deposit-certificates/verify?code={code}", **headers).status_code
        == 403
    )

    assert certificates.do_release_due_certificates(until - dt.timedelta(days=1)) == 0
    assert certificates.do_release_due_certificates(until) == 1
    assert certificates.do_release_due_certificates(until) == 0  # idempotent
    assert DepositCertificate.objects.get().state == "released"
    assert ledger_queries.get_account(account.ledger_account_id).available == 5_000_00


def test_certificate_refusals(api_client: Client) -> None:
    c = customer("周杰")
    account = open_type2(c)
    deposit(account, 100_00)
    headers = _auth(c)
    url = f"/api/v1/accounts/{account.public_id}/deposit-certificates"
    too_much = _post(api_client, url, {"amount": "100.01"}, headers | _key("b1"))
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "certificate_amount_exceeds_available"
    past = _post(
        api_client,
        url,
        {"amount": "10.00", "frozen_until": clock.local_today().isoformat()},
        headers | _key("b2"),
    )
    assert past.status_code == 400 and past.json()["code"] == "freeze_until_invalid"
    other = customer("王五")
    hidden = _post(api_client, url, {"amount": "1.00"}, _auth(other) | _key("b3"))
    assert hidden.status_code == 404
    no_freeze = _post(api_client, url, {"amount": "100.00"}, headers | _key("b4"))
    assert no_freeze.status_code == 201 and no_freeze.json()["state"] == "issued"
    pdf_url = f"/api/v1/deposit-certificates/{no_freeze.json()['id']}.pdf"
    assert api_client.get(pdf_url, **_auth(other)).status_code == 404
    services.do_close_my_account(c.principal, account.public_id)
    closed = _post(api_client, url, {"amount": "1.00"}, headers | _key("b5"))
    assert closed.status_code == 422 and closed.json()["code"] == "account_closed"
    assert DepositCertificate.objects.count() == 1


def test_web_certificate_form_and_pdf_links() -> None:
    c = customer("周杰")
    account = open_type2(c)
    deposit(account, 800_00)
    client = staff_client(c.fixture.user_id)
    page = client.get(f"/me/accounts/{account.public_id}/").content.decode()
    assert 'id="pdf"' in page and 'id="request-certificate"' in page
    form = {"amount": "500.00", "frozen_until": "", "purpose": "", "idempotency_key": "k-1"}
    r = client.post(f"/me/accounts/{account.public_id}/certificate/", form)
    assert r.status_code == 302
    client.post(f"/me/accounts/{account.public_id}/certificate/", form)  # double submit
    cert = DepositCertificate.objects.get()
    assert cert.amount_minor == 500_00
    page = client.get(f"/me/accounts/{account.public_id}/").content.decode()
    assert f"/me/deposit-certificates/{cert.public_id}.pdf" in page
    pdf = client.get(f"/me/deposit-certificates/{cert.public_id}.pdf")
    assert pdf.status_code == 200 and "伍佰元整" in extract_text(pdf.content)
    statement = client.get(f"/me/accounts/{account.public_id}/statement.pdf")
    assert statement.status_code == 200 and "800.00" in extract_text(statement.content)
    teller = staff_client(make_staff(Role.TELLER, username="cert-web-teller").user_id)
    found = teller.get(f"/console/accounts/certificates/verify/?code={cert.verification_code}")
    assert 'id="certificate-found"' in found.content.decode()


# ------------------------------------------------------------------ binding through clearing
def test_clearing_verifier_maps_the_networks_answers(settings: Any) -> None:
    from rongshu.accounts.errors import BindingUnavailable, BindingVerificationFailed
    from rongshu.payments.clearing.simulator import do_add_account, do_set_network_down

    settings.RONGSHU_ACCOUNTS = {
        "verifier_delay_ms": 0,
        "verifier": "rongshu.accounts.verifier.ClearingBindingVerifier",
    }
    bank = "308584000013"
    do_add_account(bank, "6225880100001234", "周杰", "open")
    do_add_account(bank, "6225880100005678", "周杰", "closed")
    c = customer("周杰")
    opened = services.do_open_account(
        c.principal, account_type=2, bind_bank_code=bank, bind_account_number="6225880100001234"
    )
    assert opened.bound_bank_code == bank
    for number, code in (
        ("6225880100005678", "binding_account_closed"),
        ("6225880100009999", "binding_unknown_account"),
    ):
        with pytest.raises(BindingVerificationFailed) as refused:
            services.do_open_account(
                c.principal, account_type=2, bind_bank_code=bank, bind_account_number=number
            )
        assert refused.value.code == code
    with pytest.raises(BindingVerificationFailed) as refused:
        services.do_open_account(
            c.principal,
            account_type=2,
            bind_bank_code="999999999999",
            bind_account_number="6225880100001234",
        )
    assert refused.value.code == "binding_unknown_bank"
    do_set_network_down("ibps", True)
    with pytest.raises(BindingUnavailable):
        services.do_open_account(
            c.principal, account_type=3, bind_bank_code=bank, bind_account_number="6225880100001234"
        )


# ------------------------------------------------------------------ translated message titles
def test_message_titles_follow_the_readers_language() -> None:
    import importlib

    from django.apps import apps as django_apps
    from django.utils import translation

    from rongshu.accounts import queries
    from rongshu.accounts.models import Notification

    c = customer("周杰")
    account = open_type2(c)
    deposit(account, 12_00)
    stored = Notification.objects.get(dedupe_key__endswith=":in")
    assert (stored.title, stored.title_msgid) == ("入账 Money in", "Money in")  # SMS text kept
    with translation.override("en"):
        titles = {n.title for n in queries.list_notifications(c.principal)}
    assert {"Money in", "New account opened"} <= titles
    with translation.override("zh-hans"):
        titles = {n.title for n in queries.list_notifications(c.principal)}
    assert "收入" in titles and "Money in" not in titles

    # rows written before: the migration finds their msgid from the bilingual text
    legacy = [
        Notification.objects.create(
            customer_id=c.principal.customer_id,
            kind=kind,
            title=title,
            body="",
            dedupe_key=f"legacy:{n}",
            created_at=clock.now(),
        )
        for n, (kind, title) in enumerate(
            [
                ("movement", "支出 Money out"),
                ("statement", "2026-10 电子对账单 e-statement"),
                ("payment", "付款状态 Payment settled"),
                ("payment", "付款状态 Payment submitted"),
                ("payment", "something else"),
            ]
        )
    ]
    migration = importlib.import_module("rongshu.accounts.migrations.0003_notification_title_msgid")
    migration.forwards(django_apps, None)
    got = [
        (n.title_msgid, n.title_params)
        for n in Notification.objects.filter(pk__in=[x.pk for x in legacy]).order_by("pk")
    ]
    assert got == [
        ("Money out", {}),
        ("E-statement %(month)s", {"month": "2026-10"}),
        ("Payment settled", {}),
        ("Payment %(status)s", {"status": "submitted"}),
        ("", {}),
    ]
    with translation.override("en"):
        shown = {n.title for n in queries.list_notifications(c.principal)}
    assert {"E-statement 2026-10", "Payment submitted", "something else"} <= shown


def test_pdf_endpoints_are_documented_as_application_pdf(api_client: Client) -> None:
    paths = api_client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/accounts/{account_id}/statement.pdf",
        "/api/v1/accounts/{account_id}/e-statements/{month}.pdf",
        "/api/v1/deposit-certificates/{certificate_id}.pdf",
        "/api/v1/payments/orders/{order_id}/receipt.pdf",
    ):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert content["application/pdf"]["schema"]["format"] == "binary", path
