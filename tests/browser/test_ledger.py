"""The staff journey through the ledger console: sign in, find an account, read its statement,
check the trial balance."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from rongshu.ledger import services
from rongshu.ledger.types import TransferIn
from tests.browser.conftest import screenshot
from tests.identity.builders import PASSWORD, make_staff
from tests.ledger.conftest import make_account, make_bank_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_teller_reads_an_account_and_the_trial_balance(page: Any) -> None:
    make_staff("teller", username="browser-teller")
    bank, account = make_bank_account(), make_account(name="王芳 活期")
    services.do_create_transfers(
        [TransferIn(uuid.uuid4(), bank.public_id, account.public_id, 123_456, "CNY", code="salary")]
    )

    page.goto(page.base_url + "/console/ledger/")
    assert "/console/signin/" in page.url  # sent to sign in first
    page.fill("input[name=username]", "browser-teller")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/ledger/")

    page.goto(page.base_url + f"/console/ledger/accounts/{account.public_id}/")
    assert page.locator("h1").inner_text() == "王芳 活期"
    screenshot(page, "ledger-account-zh-Hans")
    assert "1234.56 CNY" in page.locator("article").first.inner_text()

    page.goto(page.base_url + "/console/ledger/trial-balance/")
    assert page.locator("h1").inner_text() == "试算平衡表"
    assert page.locator("[role=status]").count() == 1  # "the books balance"
