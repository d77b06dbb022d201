"""Opening accounts online (Type II/III bound to a verified Type I) and in person (Type I)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rongshu.accounts import queries, services
from rongshu.accounts.errors import (
    BindingVerificationFailed,
    InvalidAccountType,
    TooManyAccounts,
)
from rongshu.accounts.models import CustomerAccount, Notification
from rongshu.accounts.numbers import (
    account_type_of,
    is_valid_account_number,
    make_account_number,
)
from rongshu.identity.errors import AccessDenied
from rongshu.identity.types import Role
from rongshu.ledger import queries as ledger_queries
from rongshu.ledger.models import Account
from tests.accounts.builders import customer, external_type1, open_type2, teller
from tests.identity.builders import make_staff

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ numbers (no database)
@pytest.mark.django_db(False)
def test_account_number_has_luhn_check_digit() -> None:
    number = make_account_number("621788", "0001", 2, 1)
    assert number == "6217880001200000013"
    assert len(number) == 19
    assert is_valid_account_number(number)
    assert account_type_of(number) == 2
    # a single changed digit is detected
    bad = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not is_valid_account_number(bad)


@pytest.mark.django_db(False)
@given(st.integers(1, 9_999_999), st.sampled_from([1, 2, 3]), st.integers(0, 9999))
def test_every_number_is_valid_and_any_typo_is_caught(serial: int, kind: int, branch: int) -> None:
    number = make_account_number("621788", f"{branch:04d}", kind, serial)
    assert is_valid_account_number(number)
    assert account_type_of(number) == kind
    for position in range(19):
        digit = int(number[position])
        typo = number[:position] + str((digit + 3) % 10) + number[position + 1 :]
        assert not is_valid_account_number(typo)


# ------------------------------------------------------------------ opening
def test_open_type2_bound_to_an_external_type1() -> None:
    c = customer("王小明")
    account = open_type2(c)
    assert account.account_type == 2
    assert is_valid_account_number(account.account_number)
    assert account.account_number[10] == "2"
    ledger_view = ledger_queries.get_account(account.ledger_account_id)
    assert ledger_view.owner_id == str(c.principal.customer_id)
    assert ledger_view.product_code == "e_account_type2"
    assert ledger_view.balance == 0
    overview = queries.get_overview(c.principal)
    assert [a.account_number for a in overview.accounts] == [account.account_number]
    assert overview.accounts[0].daily_limit == 10_000_00
    assert Notification.objects.filter(customer_id=c.principal.customer_id).count() == 1


@pytest.mark.parametrize(
    ("registered_name", "status", "bank", "code"),
    [
        ("李四", "active", "105", "binding_name_mismatch"),
        ("王小明", "closed", "105", "binding_account_closed"),
        ("王小明", "active", "999", "binding_unknown_bank"),
    ],
)
def test_failed_verification_opens_nothing(
    registered_name: str, status: str, bank: str, code: str
) -> None:
    c = customer("王小明")
    number = external_type1(registered_name, bank="105", status=status)
    ledger_before = Account.objects.count()
    with pytest.raises(BindingVerificationFailed) as info:
        services.do_open_account(
            c.principal, account_type=2, bind_bank_code=bank, bind_account_number=number
        )
    assert info.value.code == code
    assert CustomerAccount.objects.count() == 0
    assert Account.objects.count() == ledger_before


def test_unknown_external_account_is_refused() -> None:
    c = customer("王小明")
    with pytest.raises(BindingVerificationFailed) as info:
        services.do_open_account(
            c.principal,
            account_type=3,
            bind_bank_code="102",
            bind_account_number="6222000011112222",
        )
    assert info.value.code == "binding_unknown_account"


def test_type1_cannot_be_opened_online() -> None:
    c = customer()
    with pytest.raises(InvalidAccountType):
        services.do_open_account(
            c.principal,
            account_type=1,
            bind_bank_code="105",
            bind_account_number=external_type1(c.name),
        )


def test_second_type3_over_the_bank_limit_is_refused(settings: Any) -> None:
    settings.RONGSHU_ACCOUNTS = {"verifier_delay_ms": 0, "max_type3": 1}
    c = customer()
    open_type2(c, 3)
    ledger_before = Account.objects.count()
    with pytest.raises(TooManyAccounts):
        open_type2(c, 3)
    assert CustomerAccount.objects.filter(account_type=3).count() == 1
    assert Account.objects.count() == ledger_before
    open_type2(c, 2)  # Type II has its own count


def test_teller_opens_type1_in_person_and_customer_binds_to_it() -> None:
    c = customer("赵六")
    staff = teller()
    type1 = services.do_open_type1_in_person(
        staff,
        c.principal.customer_id or uuid.uuid4(),
        verification_note="居民身份证原件核验，联网核查一致",
    )
    assert type1.account_type == 1
    assert type1.verified_in_person_by == staff.principal_key
    assert type1.holder_name == "赵六"
    type2 = services.do_open_account(
        c.principal, account_type=2, bind_bank_code="ours", bind_account_number=type1.account_number
    )
    assert type2.bound_ledger_account_id == type1.ledger_account_id


def test_binding_someone_elses_type1_of_ours_is_refused() -> None:
    a, b = customer("赵六"), customer("钱七")
    type1 = services.do_open_type1_in_person(
        teller(), a.principal.customer_id or uuid.uuid4(), verification_note="in person, ID card"
    )
    with pytest.raises(BindingVerificationFailed):
        services.do_open_account(
            b.principal,
            account_type=2,
            bind_bank_code="ours",
            bind_account_number=type1.account_number,
        )


def test_only_tellers_and_branch_managers_open_type1() -> None:
    c = customer()
    rm = make_staff(Role.RELATIONSHIP_MANAGER)
    with pytest.raises(AccessDenied):
        services.do_open_type1_in_person(
            rm, c.principal.customer_id or uuid.uuid4(), verification_note="in person check"
        )
    assert CustomerAccount.objects.count() == 0
