from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rongshu.identity import services as identity
from rongshu.identity.errors import InvalidOtp, OtpRateLimited, StepUpRequired
from rongshu.identity.models import OtpChallenge, SmsMessage
from rongshu.identity.otp import MAX_ATTEMPTS, do_issue_challenge, do_verify_challenge
from rongshu.identity.sms import SimulatedSmsGateway, SimulatorSettings, SmsRateLimited
from rongshu.kernel import clock
from rongshu.kernel.errors import PartnerUnavailable
from rongshu.kernel.models import AuditEntry
from tests.identity.builders import app_tokens, make_customer, next_phone

pytestmark = pytest.mark.django_db


def _challenge(phone: str | None = None) -> tuple[str, str, str]:
    phone = phone or next_phone()
    info = do_issue_challenge(OtpChallenge.PASSWORD_RESET, phone)
    code = identity.latest_code(phone)
    assert code is not None
    return str(info.challenge_id), code, phone


def test_codes_are_stored_hashed() -> None:
    challenge_id, code, _ = _challenge()
    row = OtpChallenge.objects.get(public_id=challenge_id)
    assert code not in row.code_hash and len(row.code_hash) == 64


def test_a_code_works_once_and_a_replay_is_rejected_and_audited() -> None:
    challenge_id, code, _ = _challenge()
    assert do_verify_challenge(challenge_id, code, purpose=OtpChallenge.PASSWORD_RESET)
    with pytest.raises(InvalidOtp):
        do_verify_challenge(challenge_id, code, purpose=OtpChallenge.PASSWORD_RESET)
    reasons = [e.data["reason"] for e in AuditEntry.objects.filter(action="identity.otp_rejected")]
    assert reasons == ["replayed"]


def test_expired_codes_are_rejected() -> None:
    challenge_id, code, _ = _challenge()
    with (
        clock.frozen_time(clock.now() + dt.timedelta(minutes=5, seconds=1)),
        pytest.raises(InvalidOtp),
    ):
        do_verify_challenge(challenge_id, code, purpose=OtpChallenge.PASSWORD_RESET)


def test_a_challenge_allows_only_a_few_tries() -> None:
    challenge_id, code, _ = _challenge()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(InvalidOtp):
            do_verify_challenge(challenge_id, wrong, purpose=OtpChallenge.PASSWORD_RESET)
    with pytest.raises(InvalidOtp):  # even the right code, now
        do_verify_challenge(challenge_id, code, purpose=OtpChallenge.PASSWORD_RESET)


def test_a_code_is_bound_to_its_purpose() -> None:
    challenge_id, code, _ = _challenge()
    with pytest.raises(InvalidOtp):
        do_verify_challenge(challenge_id, code, purpose=OtpChallenge.STEP_UP)


def test_too_many_codes_for_one_number_are_refused() -> None:
    phone = next_phone()
    for _ in range(5):
        do_issue_challenge(OtpChallenge.PASSWORD_RESET, phone)
    with pytest.raises(OtpRateLimited) as info:
        do_issue_challenge(OtpChallenge.PASSWORD_RESET, phone)
    assert info.value.retry_after > 0


# ------------------------------------------------------------------ the SMS simulator
def test_simulator_enforces_per_number_frequency_limits() -> None:
    gateway = SimulatedSmsGateway(SimulatorSettings(failure_rate=0, per_minute=1, seed=1))
    phone = next_phone()
    gateway.send(phone, "one")
    with pytest.raises(SmsRateLimited) as info:
        gateway.send(phone, "two")
    assert 0 < info.value.retry_after <= 61
    with clock.frozen_time(clock.now() + dt.timedelta(seconds=61)):
        gateway.send(phone, "three")
    assert SmsMessage.objects.filter(phone=phone).count() == 2


def test_simulator_delivers_after_a_delay() -> None:
    gateway = SimulatedSmsGateway(
        SimulatorSettings(failure_rate=0, min_delay_ms=1000, max_delay_ms=1000)
    )
    phone = next_phone()
    now = clock.now()
    with clock.frozen_time(now):
        gateway.send(phone, "code 123456")
        assert identity.read_inbox(phone) == []
    with clock.frozen_time(now + dt.timedelta(seconds=1)):
        assert identity.latest_code(phone) == "123456"


def test_gateway_failures_surface_as_partner_unavailable(settings: Any) -> None:
    settings.RONGSHU_SMS_SIMULATOR = {"failure_rate": 1.0}
    phone = next_phone()
    with pytest.raises(PartnerUnavailable) as info:
        do_issue_challenge(OtpChallenge.PASSWORD_RESET, phone)
    assert info.value.code == "sms_unavailable" and info.value.status == 503
    assert SmsMessage.objects.get(phone=phone).state == SmsMessage.FAILED


def test_simulator_fails_some_sends_at_its_configured_rate() -> None:
    gateway = SimulatedSmsGateway(
        SimulatorSettings(failure_rate=0.3, per_minute=1000, per_hour=1000, per_day=1000, seed=3)
    )
    failures = 0
    for _ in range(100):
        try:
            gateway.send("13900000000", "x")
        except Exception:
            failures += 1
    assert 15 <= failures <= 45


# ------------------------------------------------------------------ step-up
def test_step_up_is_required_then_granted_once_per_verification() -> None:
    customer = make_customer()
    tokens = app_tokens(customer)
    who = identity.principal_for_token(tokens.access_token)
    assert who is not None
    with pytest.raises(StepUpRequired) as needed:
        identity.require_step_up(who, "transfer.large")
    assert needed.value.data == {"action": "transfer.large"} and needed.value.status == 403
    info = identity.do_start_step_up(who, "transfer.large")
    code = identity.latest_code(customer.phone)
    assert code is not None
    assert identity.do_verify_step_up(who, str(info.challenge_id), code) == "transfer.large"
    assert identity.has_step_up(who, "transfer.large")
    assert not identity.has_step_up(who, "payee.add")
    identity.require_step_up(who, "transfer.large")  # spends it
    with pytest.raises(StepUpRequired):
        identity.require_step_up(who, "transfer.large")
    with pytest.raises(InvalidOtp):  # replaying the code gets nothing
        identity.do_verify_step_up(who, str(info.challenge_id), code)


def test_a_step_up_code_of_another_session_does_not_count() -> None:
    customer = make_customer()
    first = identity.principal_for_token(app_tokens(customer, "device-a-000000000001").access_token)
    second = identity.principal_for_token(
        app_tokens(customer, "device-b-000000000002").access_token
    )
    assert first is not None and second is not None and first.session_id != second.session_id
    info = identity.do_start_step_up(first, "payee.add")
    code = identity.latest_code(customer.phone)
    assert code is not None
    with pytest.raises(InvalidOtp):
        identity.do_verify_step_up(second, str(info.challenge_id), code)
    with pytest.raises(StepUpRequired):
        identity.require_step_up(second, "payee.add")
