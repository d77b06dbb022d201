"""Quick pay (快捷支付): binding with consent and a one-time code, the partner's token, debits
within per-binding limits and the merchant's current maxima (also under concurrency), one
active binding per account and merchant, idempotent retries, suspension of a frozen account or
a withdrawn consent, unbinding and refunds."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import override_settings

from rongshu.identity import services as identity
from rongshu.identity.errors import InvalidOtp, ScopeMissing
from rongshu.identity.types import Principal
from rongshu.kernel.errors import DomainError, InvalidInput, PermissionDenied
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger import services as ledger
from rongshu.payments import quickpay, services
from rongshu.payments.errors import (
    PaymentRefused,
    QuickPayBindingNotFound,
    QuickPayBindingRevoked,
    QuickPayBindingSuspended,
    QuickPayConflict,
    QuickPayLimitExceeded,
    QuickPayMerchantUnavailable,
    RefundRefused,
)
from rongshu.payments.models import (
    PaymentOrder,
    QuickPayBinding,
    QuickPayDebit,
    QuickPayMerchant,
    QuickPayUsage,
)
from tests.payments.conftest import Payer, balance, cny, make_payer

_codes = iter(range(1, 10_000))


@dataclass
class Shop:
    code: str
    owner: Payer
    partner: Principal
    webhook_secret: str = ""  # the partner client's (signs its notifications)


def partner_principal(scopes: list[str]) -> tuple[identity.ClientCredentials, Principal]:
    creds = identity.do_create_client("Banyan Mall", scopes)
    token = identity.do_issue_client_token(creds.client_id, creds.client_secret).access_token
    who = identity.principal_for_token(token)
    assert who is not None
    return creds, who


def make_shop(
    *, per_tx: str = "500.00", daily: str = "1000.00", monthly: str | None = None
) -> Shop:
    owner = make_payer(name="榕树商城", balance=0)
    creds, who = partner_principal(["quickpay"])
    code = f"QP{next(_codes):04d}"
    services.do_create_merchant(
        merchant_code=code,
        name="榕树商城",
        city="Shenzhen",
        ledger_account_id=owner.account.public_id,
        partner_client_id=creds.client_id,
    )
    quickpay.do_enable_merchant(
        code,
        max_per_transaction=cny(per_tx),
        max_daily=cny(daily),
        max_monthly=cny(monthly) if monthly else None,
    )
    return Shop(code, owner, who, creds.webhook_secret)


def start(payer: Payer, shop: Shop, **limits: str) -> tuple[quickpay.BindingView, str, str]:
    """A pending binding, its challenge id and the one-time code sent for it."""
    view, challenge = quickpay.do_start_binding(
        payer.principal,
        merchant_code=shop.code,
        debit_account_id=payer.account.public_id,
        per_transaction=cny(limits["per_tx"]) if "per_tx" in limits else None,
        daily=cny(limits["daily"]) if "daily" in limits else None,
        monthly=cny(limits["monthly"]) if "monthly" in limits else None,
        consent=True,
    )
    assert view.state == "pending"
    code = identity.latest_code(payer.customer.phone)
    assert code is not None
    return view, str(challenge.challenge_id), code


def confirm(payer: Payer, started: tuple[quickpay.BindingView, str, str]) -> quickpay.BindingView:
    view, challenge_id, code = started
    return quickpay.do_confirm_binding(
        payer.principal, view.binding_id, challenge_id=challenge_id, code=code
    )


def bind(payer: Payer, shop: Shop, **limits: str) -> quickpay.BindingView:
    confirmed = confirm(payer, start(payer, shop, **limits))
    assert confirmed.state == "active"
    return confirmed


def bound(payer: Payer, shop: Shop, **limits: str) -> tuple[quickpay.BindingView, str]:
    view = bind(payer, shop, **limits)
    issued, token = quickpay.do_issue_binding_token(shop.partner, view.binding_id)
    assert issued.token_issued and token.startswith("qpt_")
    return view, token


def debit(shop: Shop, token: str, amount: str, order: str) -> quickpay.DebitView:
    return quickpay.do_debit(
        shop.partner, binding_token=token, amount=cny(amount), client_order_id=order
    )


pytestmark = pytest.mark.django_db


def test_bind_debit_and_replay_move_money_once() -> None:
    payer, shop = make_payer(balance=1_000_00), make_shop()
    view, token = bound(payer, shop)
    assert identity.has_consent(payer.customer_id, "third_party_sharing")
    assert view.per_transaction == cny("500.00") and view.daily == cny("1000.00")

    first = debit(shop, token, "120.50", "ORDER-1")
    assert first.state == "settled" and first.amount == cny("120.50")
    again = debit(shop, token, "120.50", "ORDER-1")  # the partner retries
    assert again.debit_id == first.debit_id
    assert balance(payer.account) == 1_000_00 - 120_50
    assert balance(shop.owner.account) == 120_50
    order = PaymentOrder.objects.get(public_id=first.debit_id)
    assert (order.rail, order.channel, order.auth_level) == ("quickpay", "quickpay", "binding")
    seen = quickpay.access_binding(payer.principal, view.binding_id)
    assert (seen.used_today, seen.used_this_month) == (cny("120.50"), cny("120.50"))
    # the customer sees it under the binding; the partner reads it by id
    assert [d.debit_id for d in quickpay.list_binding_debits(payer.principal, view.binding_id)] == [
        first.debit_id
    ]
    assert quickpay.access_debit(shop.partner, first.debit_id).client_order_id == "ORDER-1"
    assert ledger_queries.get_trial_balance().balanced


def test_same_client_order_id_with_another_body_is_refused() -> None:
    payer, shop = make_payer(), make_shop()
    _view, token = bound(payer, shop)
    debit(shop, token, "10.00", "ORDER-9")
    with pytest.raises(PaymentRefused) as caught:
        debit(shop, token, "11.00", "ORDER-9")
    assert caught.value.code == "quickpay.idempotency_key_reused"
    assert caught.value.status == 422
    assert QuickPayDebit.objects.count() == 1


def test_unknown_foreign_and_revoked_tokens_are_refused() -> None:
    payer, shop, other = make_payer(), make_shop(), make_shop()
    view, token = bound(payer, shop)
    with pytest.raises(QuickPayBindingNotFound):
        debit(shop, token + "x", "1.00", "A")
    with pytest.raises(QuickPayBindingNotFound):
        debit(shop, "not-a-token", "1.00", "A")
    with pytest.raises(QuickPayBindingNotFound):  # another partner cannot use it
        debit(other, token, "1.00", "A")
    with pytest.raises(QuickPayBindingNotFound):  # nor read it
        quickpay.access_binding(other.partner, view.binding_id)
    assert quickpay.do_unbind(payer.principal, view.binding_id).state == "revoked"
    with pytest.raises(QuickPayBindingRevoked) as caught:
        debit(shop, token, "1.00", "B")
    assert caught.value.code == "quickpay.binding_revoked"
    assert balance(shop.owner.account) == 0


def test_partner_unbinds_and_unscoped_callers_are_refused() -> None:
    payer, shop = make_payer(), make_shop()
    view, token = bound(payer, shop)
    _creds, unscoped = partner_principal(["payments"])
    with pytest.raises(ScopeMissing):
        quickpay.do_debit(unscoped, binding_token=token, amount=cny("1.00"), client_order_id="A")
    with pytest.raises(ScopeMissing):  # a customer cannot collect the token of their binding
        quickpay.do_issue_binding_token(payer.principal, view.binding_id)
    with pytest.raises(PermissionDenied):
        quickpay.list_my_bindings(shop.partner)
    before = debit(shop, token, "2.00", "C0")
    revoked = quickpay.do_unbind(shop.partner, view.binding_id)
    assert revoked.state == "revoked" and revoked.revoked_by.startswith("partner:")
    with pytest.raises(QuickPayBindingRevoked):
        debit(shop, token, "1.00", "C")
    # a retry of a debit made before the unbind still answers that debit (no new money moves)
    assert debit(shop, token, "2.00", "C0").debit_id == before.debit_id
    assert balance(shop.owner.account) == 2_00


def test_per_transaction_daily_and_monthly_limits() -> None:
    payer = make_payer(balance=10_000_00)
    shop = make_shop(per_tx="500.00", daily="1000.00", monthly="1500.00")
    _view, token = bound(payer, shop, per_tx="300.00", daily="500.00", monthly="600.00")
    with pytest.raises(QuickPayLimitExceeded) as caught:
        debit(shop, token, "300.01", "P1")
    assert caught.value.code == "quickpay.limit_exceeded"
    assert caught.value.data["limit"] == "per_transaction"
    debit(shop, token, "300.00", "D1")
    debit(shop, token, "200.00", "D2")
    with pytest.raises(QuickPayLimitExceeded) as caught:
        debit(shop, token, "0.01", "D3")
    assert caught.value.data["limit"] == "daily"
    assert balance(payer.account) == 10_000_00 - 500_00
    assert QuickPayUsage.objects.get(period="day").used_minor == 500_00
    # the refused debit left no order and no usage behind
    assert PaymentOrder.objects.filter(rail="quickpay").count() == 2


def test_monthly_limit_is_checked_across_days() -> None:
    payer, shop = make_payer(balance=10_000_00), make_shop(monthly="1500.00")
    view, token = bound(payer, shop, per_tx="300.00", daily="500.00", monthly="600.00")
    debit(shop, token, "300.00", "M1")
    QuickPayUsage.objects.filter(period="day").update(used_minor=0)  # as if a new day
    debit(shop, token, "300.00", "M2")
    with pytest.raises(QuickPayLimitExceeded) as caught:
        debit(shop, token, "0.01", "M3")
    assert caught.value.data["limit"] == "monthly"
    assert quickpay.access_binding(payer.principal, view.binding_id).used_this_month == cny(
        "600.00"
    )


def test_limits_above_the_merchant_maximum_and_raising_are_refused() -> None:
    payer, shop = make_payer(), make_shop(per_tx="500.00", daily="1000.00")
    with pytest.raises(QuickPayLimitExceeded):
        quickpay.do_start_binding(
            payer.principal,
            merchant_code=shop.code,
            debit_account_id=payer.account.public_id,
            per_transaction=cny("500.01"),
            consent=True,
        )
    with pytest.raises(DomainError) as caught:
        quickpay.do_start_binding(
            payer.principal,
            merchant_code=shop.code,
            debit_account_id=payer.account.public_id,
            consent=False,
        )
    assert caught.value.code == "quickpay.consent_required"
    view, token = bound(payer, shop)
    lowered = quickpay.do_set_limits(
        payer.principal, view.binding_id, per_transaction=cny("50.00"), daily=cny("80.00")
    )
    assert (lowered.per_transaction, lowered.daily) == (cny("50.00"), cny("80.00"))
    with pytest.raises(QuickPayLimitExceeded) as caught:
        quickpay.do_set_limits(
            payer.principal, view.binding_id, per_transaction=cny("60.00"), daily=cny("80.00")
        )
    assert caught.value.code == "quickpay.limit_increase_refused"
    with pytest.raises(QuickPayLimitExceeded):
        debit(shop, token, "50.01", "L1")
    assert debit(shop, token, "50.00", "L2").state == "settled"


@pytest.mark.parametrize(
    "limits",
    [
        {"per_tx": "100.00", "daily": "0.00"},
        {"per_tx": "0.00"},
        {"per_tx": "100.00", "daily": "200.00", "monthly": "0.00"},
    ],
)
def test_zero_limit_at_binding_is_refused_not_replaced_by_merchant_maximum(
    limits: dict[str, str],
) -> None:
    # 0.00 is a limit the customer asked for, not "left out": it must not become the
    # merchant's maximum (1,000.00 a day), and a limit must be greater than zero
    payer, shop = make_payer(), make_shop(per_tx="500.00", daily="1000.00", monthly="2000.00")
    with pytest.raises(InvalidInput) as caught:
        start(payer, shop, **limits)
    assert caught.value.code == "quickpay.invalid_limits"
    assert not QuickPayBinding.objects.exists()


def test_two_pending_bindings_cannot_both_become_active(monkeypatch: pytest.MonkeyPatch) -> None:
    # two active bindings of one account to one merchant would double its limits
    payer, shop = make_payer(), make_shop()
    first, second, third = (start(payer, shop) for _ in range(3))  # none active yet
    assert confirm(payer, first).state == "active"
    with pytest.raises(QuickPayConflict) as caught:
        confirm(payer, second)
    assert caught.value.code == "quickpay.already_bound"
    assert quickpay.access_binding(payer.principal, second[0].binding_id).state == "pending"
    # a concurrent confirmation that passes the check meets the unique constraint
    monkeypatch.setattr(
        "rongshu.payments.quickpay.services._live_binding",
        lambda *_args: QuickPayBinding.objects.none(),
    )
    with pytest.raises(QuickPayConflict) as caught:
        confirm(payer, third)
    assert caught.value.code == "quickpay.already_bound"
    assert QuickPayBinding.objects.filter(state=QuickPayBinding.ACTIVE).count() == 1


def test_lowered_merchant_maximum_bounds_existing_bindings() -> None:
    payer = make_payer(balance=10_000_00)
    shop = make_shop(per_tx="500.00", daily="1000.00")  # no monthly maximum
    view, token = bound(payer, shop)
    assert (view.per_transaction, view.daily, view.monthly) == (cny("500.00"), cny("1000.00"), None)
    # the bank lowers what this merchant may debit (a risk decision)
    quickpay.do_enable_merchant(
        shop.code, max_per_transaction=cny("100.00"), max_daily=cny("200.00")
    )
    with pytest.raises(QuickPayLimitExceeded) as caught:
        debit(shop, token, "400.00", "BIG")
    assert caught.value.data["limit"] == "per_transaction"
    debit(shop, token, "100.00", "D1")
    debit(shop, token, "100.00", "D2")
    with pytest.raises(QuickPayLimitExceeded) as caught:
        debit(shop, token, "0.01", "D3")
    assert caught.value.data["limit"] == "daily"
    # a monthly maximum set later bounds a binding that has no monthly limit of its own
    QuickPayUsage.objects.filter(period="day").update(used_minor=0)  # as if a new day
    quickpay.do_enable_merchant(
        shop.code,
        max_per_transaction=cny("500.00"),
        max_daily=cny("1000.00"),
        max_monthly=cny("250.00"),
    )
    debit(shop, token, "50.00", "M1")
    with pytest.raises(QuickPayLimitExceeded) as caught:
        debit(shop, token, "50.01", "M2")
    assert caught.value.data["limit"] == "monthly"
    assert balance(shop.owner.account) == 250_00
    assert PaymentOrder.objects.filter(rail="quickpay").count() == 3


def test_wrong_code_other_challenge_and_double_token_are_refused() -> None:
    payer, shop = make_payer(), make_shop()
    view, challenge = quickpay.do_start_binding(
        payer.principal,
        merchant_code=shop.code,
        debit_account_id=payer.account.public_id,
        consent=True,
    )
    with pytest.raises(QuickPayConflict):  # not confirmed yet: no token
        quickpay.do_issue_binding_token(shop.partner, view.binding_id)
    with pytest.raises(InvalidOtp):
        quickpay.do_confirm_binding(
            payer.principal, view.binding_id, challenge_id=str(uuid.uuid4()), code="123456"
        )
    code = identity.latest_code(payer.customer.phone)
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(InvalidOtp):
        quickpay.do_confirm_binding(
            payer.principal, view.binding_id, challenge_id=str(challenge.challenge_id), code=wrong
        )
    assert quickpay.access_binding(payer.principal, view.binding_id).state == "pending"
    other = make_payer(name="王五")
    with pytest.raises(QuickPayBindingNotFound):  # another customer's binding
        quickpay.do_confirm_binding(
            other.principal, view.binding_id, challenge_id=str(challenge.challenge_id), code=code
        )
    quickpay.do_confirm_binding(
        payer.principal, view.binding_id, challenge_id=str(challenge.challenge_id), code=code
    )
    quickpay.do_issue_binding_token(shop.partner, view.binding_id)
    with pytest.raises(QuickPayConflict) as caught:
        quickpay.do_issue_binding_token(shop.partner, view.binding_id)
    assert caught.value.code == "quickpay.token_already_issued"
    with pytest.raises(QuickPayConflict) as caught:  # one live binding per account and shop
        quickpay.do_start_binding(
            payer.principal,
            merchant_code=shop.code,
            debit_account_id=payer.account.public_id,
            consent=True,
        )
    assert caught.value.code == "quickpay.already_bound"


def test_frozen_account_or_withdrawn_consent_suspends_the_binding() -> None:
    payer, shop = make_payer(), make_shop()
    view, token = bound(payer, shop)
    ledger.do_freeze_account(payer.account.public_id, actor="staff:test", reason="judicial")
    seen = quickpay.access_binding(payer.principal, view.binding_id)
    assert (seen.state, seen.suspended_reason) == ("suspended", "account_frozen")
    with pytest.raises(QuickPayBindingSuspended) as caught:
        debit(shop, token, "1.00", "F1")
    assert caught.value.data["reason"] == "account_frozen"
    ledger.do_unfreeze_account(payer.account.public_id, actor="staff:test", reason="lifted")
    assert debit(shop, token, "1.00", "F2").state == "settled"

    identity.do_set_consent(payer.customer_id, "third_party_sharing", False)
    with pytest.raises(QuickPayBindingSuspended) as caught:
        debit(shop, token, "1.00", "F3")
    assert caught.value.data["reason"] == "consent_withdrawn"
    assert balance(shop.owner.account) == 1_00


def test_refunds_partial_full_never_above_the_debit() -> None:
    payer, shop = make_payer(balance=1_000_00), make_shop()
    _view, token = bound(payer, shop)
    paid = debit(shop, token, "100.00", "R1")
    after = quickpay.do_refund(shop.partner, paid.debit_id, cny("30.00"), reason="少发一件")
    assert after.refunded == cny("30.00")
    with pytest.raises(RefundRefused) as caught:
        quickpay.do_refund(shop.partner, paid.debit_id, cny("70.01"))
    assert caught.value.code == "quickpay.refund_exceeds_debit"
    assert quickpay.do_refund(shop.partner, paid.debit_id, cny("70.00")).refunded == cny("100.00")
    with pytest.raises(RefundRefused):
        quickpay.do_refund(shop.partner, paid.debit_id, cny("0.01"))
    assert balance(payer.account) == 1_000_00
    assert balance(shop.owner.account) == 0
    other = make_shop()
    with pytest.raises(DomainError) as caught:  # another partner's debit
        quickpay.do_refund(other.partner, paid.debit_id, cny("1.00"))
    assert caught.value.code == "quickpay.debit_not_found"


@override_settings(RONGSHU_PAYMENT_FEES={"quickpay": ()})
def test_merchant_pays_the_fee_linked_to_the_debit() -> None:
    from rongshu.payments.limits import FeeTier

    payer, shop = make_payer(balance=1_000_00), make_shop()
    _view, token = bound(payer, shop)
    with override_settings(RONGSHU_PAYMENT_FEES={"quickpay": (FeeTier(None, 1_50),)}):
        paid = debit(shop, token, "100.00", "FEE1")
    assert paid.merchant_fee == cny("1.50")
    assert balance(payer.account) == 1_000_00 - 100_00  # the customer pays no fee
    assert balance(shop.owner.account) == 100_00 - 1_50
    assert ledger_queries.get_trial_balance().balanced


@pytest.mark.django_db(transaction=True)
def test_concurrent_debits_never_pass_the_daily_limit() -> None:
    ledger.do_create_chart_of_accounts(("CNY",))
    payer = make_payer(balance=10_000_00)
    shop = make_shop(per_tx="100.00", daily="1000.00")
    _view, token = bound(payer, shop, per_tx="100.00", daily="550.00")
    threads_n = 8 if connection.vendor == "postgresql" else 4
    attempts = 16  # 16 × ¥100 against a ¥550 daily limit: exactly 5 may pass
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(indexes: list[int]) -> None:
        try:
            for i in indexes:
                for _attempt in range(50):
                    try:
                        debit(shop, token, "100.00", f"RACE-{i:02d}")
                        result = "ok"
                    except QuickPayLimitExceeded:
                        result = "limit"
                    except Exception as exc:  # SQLite under load: "database is locked"
                        if "locked" not in str(exc):
                            raise
                        continue
                    with lock:
                        outcomes.append(result)
                    break
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # this thread's own: connections persist (CONN_MAX_AGE)

    chunks = [list(range(attempts))[i::threads_n] for i in range(threads_n)]
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == ["limit"] * 11 + ["ok"] * 5
    assert QuickPayUsage.objects.get(period="day").used_minor == 500_00
    assert PaymentOrder.objects.filter(rail="quickpay", state="settled").count() == 5
    assert balance(payer.account) == 10_000_00 - 500_00
    assert balance(shop.owner.account) == 500_00


def test_a_merchant_taken_off_quick_pay_cannot_debit() -> None:
    payer, shop = make_payer(), make_shop()
    _view, token = bound(payer, shop)
    QuickPayMerchant.objects.filter(merchant__merchant_code=shop.code).update(active=False)
    with pytest.raises(QuickPayMerchantUnavailable):
        debit(shop, token, "1.00", "OFF-1")
    assert quickpay.list_merchants() == []
    assert balance(shop.owner.account) == 0
