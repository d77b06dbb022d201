from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from rongshu.identity import services as identity
from rongshu.identity.accounts import LOCK_AFTER
from rongshu.identity.errors import (
    IdentityAlreadyRegistered,
    InvalidCredentials,
    InvalidOtp,
    InvalidPhone,
    InvalidResidentId,
    LoginThrottled,
    WeakPassword,
)
from rongshu.identity.models import CustomerCredential, LoginThrottle, UserSession
from rongshu.kernel import clock
from rongshu.kernel.models import AuditEntry, OutboxEvent
from tests.identity.builders import PASSWORD, app_tokens, make_customer, next_phone, resident_id

pytestmark = pytest.mark.django_db


def test_registration_stores_pii_encrypted_and_unique() -> None:
    customer = make_customer(real_name="欧阳娜娜")
    row = CustomerCredential.objects.get(public_id=customer.customer_id)
    assert row.real_name == "欧阳娜娜" and row.resident_id == customer.resident_id
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT real_name, resident_id FROM identity_customercredential WHERE id = %s",
            [row.pk],
        )
        stored_name, stored_id = cursor.fetchone()
    assert "欧阳" not in stored_name and customer.resident_id not in stored_id
    assert row.user.password.startswith("argon2$argon2id$v=19$m=47104,t=1,p=1$")
    assert OutboxEvent.objects.filter(event_type="identity.CustomerRegistered").count() == 1
    with pytest.raises(IdentityAlreadyRegistered):
        make_customer(rid=customer.resident_id)


def _wrong_check_digit(valid: str) -> str:
    return valid[:-1] + ("1" if valid[-1] != "1" else "2")


@pytest.mark.parametrize(
    "bad",
    [
        _wrong_check_digit(resident_id(serial=1)),  # check digit
        resident_id(serial=1)[:-1],  # 17 digits
        "not-an-id",
        resident_id(born="19901301", serial=2),  # no 13th month
        resident_id(region="990105", serial=3),  # no such region
    ],
)
def test_resident_ids_are_checked(bad: str) -> None:
    assert bad != resident_id(serial=1)
    with pytest.raises(InvalidResidentId):
        identity.check_resident_id(bad)


def test_a_valid_resident_id_with_x_check_digit_is_accepted() -> None:
    assert identity.check_resident_id("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("phone", ["12800000001", "1380000000", "+1 555 0100", ""])
def test_only_mainland_mobiles_register(phone: str) -> None:
    with pytest.raises(InvalidPhone):
        identity.do_start_registration(phone)


def test_weak_passwords_are_refused() -> None:
    for weak in ("short1", "12345678901", "password123"):
        with pytest.raises(WeakPassword):
            identity.check_password_strength(weak)


def test_registering_a_taken_number_sends_no_code_and_answers_the_same() -> None:
    customer = make_customer()
    info = identity.do_start_registration(customer.phone)
    assert info.masked_phone == customer.phone[:3] + "****" + customer.phone[-4:]
    inbox = identity.read_inbox(customer.phone)
    assert "已注册" in inbox[0].text and identity.latest_code(customer.phone) != inbox[0].text
    with pytest.raises(InvalidOtp):
        identity.do_register_customer(
            challenge_id=str(info.challenge_id),
            code="000000",
            password=PASSWORD,
            real_name="李四",
            resident_id=resident_id(),
        )


def test_wrong_password_and_unknown_phone_give_the_same_answer() -> None:
    customer = make_customer()
    with pytest.raises(InvalidCredentials) as wrong:
        identity.do_authenticate_customer(customer.phone, "not-the-password")
    with pytest.raises(InvalidCredentials) as unknown:
        identity.do_authenticate_customer(next_phone(), "not-the-password")
    with pytest.raises(InvalidCredentials) as malformed:
        identity.do_authenticate_customer("hello", "not-the-password")
    assert wrong.value.to_problem() == unknown.value.to_problem() == malformed.value.to_problem()
    assert identity.do_authenticate_customer(customer.phone, customer.password) == customer.user_id


def test_fifty_wrong_passwords_lock_the_login_and_are_audited() -> None:
    customer = make_customer()
    start = clock.now()
    outcomes: list[str] = []
    with clock.frozen_time(start):
        for _ in range(50):
            try:
                identity.do_authenticate_customer(
                    customer.phone, "wrong-password", address="10.0.0.9"
                )
            except LoginThrottled as exc:
                outcomes.append(f"throttled:{exc.retry_after > 0}")
            except InvalidCredentials:
                outcomes.append("invalid")
        # The right password is refused too while locked.
        with pytest.raises(LoginThrottled) as locked:
            identity.do_authenticate_customer(customer.phone, customer.password)
    assert outcomes.count("invalid") == 5  # then every try must wait (exponential delay)
    assert outcomes[5:] == ["throttled:True"] * 45
    assert locked.value.status == 429 and locked.value.retry_after > 0
    assert AuditEntry.objects.filter(action="identity.login_failed").count() == 5
    assert AuditEntry.objects.filter(action="identity.login_refused").count() == 46

    # Waiting out each delay, the failures go on until the lock (audited once).
    moment = start
    for _ in range(LOCK_AFTER - 5):
        moment += dt.timedelta(minutes=16)
        with clock.frozen_time(moment), pytest.raises((InvalidCredentials, LoginThrottled)):
            identity.do_authenticate_customer(customer.phone, "wrong-password")
    locks = AuditEntry.objects.filter(action="identity.login_locked")
    assert locks.count() == 1 and locks.get().data["failures"] == LOCK_AFTER
    with clock.frozen_time(moment + dt.timedelta(minutes=1)), pytest.raises(LoginThrottled):
        identity.do_authenticate_customer(customer.phone, customer.password)
    # After the lock runs out the right password works and clears the counter.
    with clock.frozen_time(moment + dt.timedelta(minutes=31)):
        assert identity.do_authenticate_customer(customer.phone, customer.password)
    assert not LoginThrottle.objects.filter(key__startswith="customer:").exists()


def test_unknown_numbers_are_throttled_like_known_ones() -> None:
    phone = next_phone()
    with clock.frozen_time(clock.now()):
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                identity.do_authenticate_customer(phone, "guess")
        with pytest.raises(LoginThrottled):
            identity.do_authenticate_customer(phone, "guess")


def test_password_reset_sets_the_password_and_ends_every_session() -> None:
    customer = make_customer()
    app_tokens(customer)
    info = identity.do_start_password_reset(customer.phone)
    code = identity.latest_code(customer.phone)
    assert code is not None
    identity.do_complete_password_reset(str(info.challenge_id), code, "a-brand-new-secret")
    assert not UserSession.objects.filter(
        user_id=customer.user_id, revoked_at__isnull=True
    ).exists()
    with pytest.raises(InvalidCredentials):
        identity.do_authenticate_customer(customer.phone, customer.password)
    assert identity.do_authenticate_customer(customer.phone, "a-brand-new-secret")
    with pytest.raises(InvalidOtp):  # the code is spent
        identity.do_complete_password_reset(str(info.challenge_id), code, "yet-another-secret")


def test_password_reset_for_an_unknown_number_looks_the_same_and_sends_nothing() -> None:
    phone = next_phone()
    info = identity.do_start_password_reset(phone)
    assert info.masked_phone == phone[:3] + "****" + phone[-4:] and info.expires_in == 300
    assert identity.read_inbox(phone) == []
