"""Quick-pay partner notifications (notify_url) and the expiry of never-confirmed bindings:
signed JSON after commit through the outbox, retries and dead letters, the console's resend,
the real HTTP notifier against a local server, and the end-of-day expiry job."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import override_settings

from rongshu.identity import services as identity
from rongshu.identity.types import Role
from rongshu.kernel import clock, eod, outbox
from rongshu.kernel.models import OutboxEvent
from rongshu.ledger import services as ledger
from rongshu.payments import quickpay
from rongshu.payments.errors import QuickPayConflict
from rongshu.payments.models import QuickPayBinding, QuickPayNotification
from rongshu.payments.quickpay import notify
from rongshu.payments.quickpay.jobs import do_expire_pending_bindings
from tests.identity.builders import make_staff, staff_client
from tests.payments.conftest import cny, make_payer
from tests.payments.test_quickpay import Shop, bound, debit, make_shop

URL = "https://partner.example/qp/notify"


def make_notify_shop(url: str = URL) -> Shop:
    shop = make_shop()
    admin = make_staff(Role.TELLER, username=f"qn-teller-{shop.code}")
    quickpay.do_set_notify_url(admin, shop.code, url)
    return shop


@pytest.fixture(autouse=True)
def simulator() -> Iterator[notify.SimulatedNotifier]:
    notify.SIMULATOR.reset()
    with quickpay.use_notifier(notify.SIMULATOR):
        yield notify.SIMULATOR
    notify.SIMULATOR.reset()


def sent(kind: str | None = None) -> list[dict[str, object]]:
    bodies = [d.json() for d in notify.SIMULATOR.deliveries if d.result.delivered]
    return [b for b in bodies if kind is None or b["type"] == kind]


def event_of(n: QuickPayNotification) -> OutboxEvent:
    return OutboxEvent.objects.get(dedupe_key=f"quickpay.notify:{n.event_id}")


# ------------------------------------------------------------------ SQLite / PostgreSQL
@pytest.mark.django_db
def test_signed_notifications_round_trip_for_binding_debit_and_refund() -> None:
    payer, shop = make_payer(balance=1_000_00), make_notify_shop()
    view, token = bound(payer, shop)
    paid = debit(shop, token, "120.50", "ORDER-1")
    debit(shop, token, "120.50", "ORDER-1")  # a replay notifies nothing new
    quickpay.do_refund(shop.partner, paid.debit_id, cny("20.00"), reason="退货")
    assert notify.SIMULATOR.deliveries == []  # nothing leaves inside the transaction
    assert outbox.dispatch_pending()[1] == 0

    assert [b["type"] for b in sent()] == ["binding.active", "debit.settled", "debit.refunded"]
    settled, refunded = sent("debit.settled")[0], sent("debit.refunded")[0]
    assert settled["binding"] == {"id": str(view.binding_id)}
    assert settled["debit"] == {
        "id": str(paid.debit_id),
        "client_order_id": "ORDER-1",
        "state": "settled",
        "amount": {"amount": "120.50", "currency": "CNY"},
        "refunded": {"amount": "0.00", "currency": "CNY"},
        "merchant_fee": {"amount": "0.00", "currency": "CNY"},
    }
    assert refunded["refund"]["amount"] == {"amount": "20.00", "currency": "CNY"}  # type: ignore[index]
    assert refunded["debit"]["refunded"] == {"amount": "20.00", "currency": "CNY"}  # type: ignore[index]
    assert str(refunded["occurred_at"]).endswith("Z") and refunded["merchant_code"] == shop.code

    delivery = notify.SIMULATOR.deliveries[1]
    headers = delivery.headers
    assert headers["X-Rongshu-Event-Id"] == settled["event_id"]
    assert headers["Content-Type"].startswith("application/json")
    stamp, signature = headers[notify.TIMESTAMP_HEADER], headers[notify.SIGNATURE_HEADER]
    assert quickpay.verify_signature(shop.webhook_secret, delivery.body, stamp, signature)
    # tampered body, another secret, a stale timestamp, a mismatched timestamp header
    assert not quickpay.verify_signature(
        shop.webhook_secret, delivery.body.replace(b"120.50", b"999.99"), stamp, signature
    )
    assert not quickpay.verify_signature("whsec_other", delivery.body, stamp, signature)
    later = clock.now() + dt.timedelta(minutes=10)
    assert not quickpay.verify_signature(
        shop.webhook_secret, delivery.body, stamp, signature, now=later
    )
    assert not quickpay.verify_signature(
        shop.webhook_secret, delivery.body, str(int(stamp) + 1), signature
    )
    assert all(n.delivered_at for n in QuickPayNotification.objects.all())


@pytest.mark.django_db
def test_no_url_no_notification_and_unbind_and_suspension_are_notified() -> None:
    payer, shop = make_payer(), make_notify_shop(url="")
    bound(payer, shop)
    assert not QuickPayNotification.objects.exists()

    payer2, shop2 = make_payer(name="李四"), make_notify_shop()
    view, _token = bound(payer2, shop2)
    ledger.do_freeze_account(payer2.account.public_id, actor="staff:test", reason="judicial")
    outbox.dispatch_pending()
    outbox.dispatch_pending()  # the handler's own notification is an event after it
    suspended = sent("binding.suspended")
    assert [b["binding"] for b in suspended] == [
        {"id": str(view.binding_id), "state": "suspended", "reason": "account_frozen"}
    ]
    outbox.dispatch_pending()
    assert len(sent("binding.suspended")) == 1  # reported once per change
    ledger.do_unfreeze_account(payer2.account.public_id, actor="staff:test", reason="lifted")
    outbox.dispatch_pending()
    outbox.dispatch_pending()
    assert [b["binding"]["state"] for b in sent("binding.resumed")] == ["active"]  # type: ignore[index]
    quickpay.do_unbind(shop2.partner, view.binding_id)
    quickpay.do_unbind(payer2.principal, view.binding_id)  # idempotent: no second message
    outbox.dispatch_pending()
    revoked = sent("binding.revoked")
    assert [b["binding"]["reason"] for b in revoked] == ["partner"]  # type: ignore[index]


@pytest.mark.django_db
def test_failed_delivery_is_retried_with_backoff_and_keeps_its_event_id() -> None:
    payer, shop = make_payer(), make_notify_shop()
    notify.SIMULATOR.fail(URL, "status", status=503, times=1)
    bound(payer, shop)
    assert outbox.dispatch_pending()[1] == 1
    note = QuickPayNotification.objects.get()
    event = event_of(note)
    assert event.state == OutboxEvent.PENDING and event.attempts == 1
    assert "HTTP 503" in event.last_error and note.delivered_at is None
    assert outbox.dispatch_pending() == (0, 0)  # not due yet: backoff
    with clock.frozen_time(clock.now() + dt.timedelta(minutes=5)):
        assert outbox.dispatch_pending() == (1, 0)  # only the notification was due
    ids = {d.headers["X-Rongshu-Event-Id"] for d in notify.SIMULATOR.deliveries}
    assert ids == {str(note.event_id)} and len(notify.SIMULATOR.deliveries) == 2
    note.refresh_from_db()
    assert note.delivered_at is not None and note.last_status == 200 and note.deliveries == 1


@pytest.mark.django_db
def test_simulator_timeouts_and_delays() -> None:
    sim = notify.SimulatedNotifier(timeout_s=0.05)
    sim.fail("u1", "timeout")
    sim.fail("u2", "down", times=1)
    sim.delay("u3", 0.2)
    assert sim.deliver("u1", b"{}", {}) == notify.DeliveryResult(None, "timed out after 0.05 s")
    assert not sim.deliver("u2", b"{}", {}).delivered
    assert sim.deliver("u2", b"{}", {}).delivered  # healthy after one failure
    started = time.monotonic()
    assert not sim.deliver("u3", b"{}", {}).delivered  # later than the timeout
    assert 0.04 <= time.monotonic() - started < 0.2
    sim.heal()
    assert sim.deliver("u3", b"{}", {}).status == 200 and len(sim.for_url("u3")) == 2


@pytest.mark.django_db
def test_dead_letter_is_listed_and_resent_from_the_console() -> None:
    payer, shop = make_payer(), make_notify_shop()
    notify.SIMULATOR.fail(URL, "timeout")
    with override_settings(OUTBOX_MAX_ATTEMPTS=2):
        bound(payer, shop)
        outbox.dispatch_pending()
        with clock.frozen_time(clock.now() + dt.timedelta(hours=1)):
            outbox.dispatch_pending()
    note = QuickPayNotification.objects.get()
    assert event_of(note).state == OutboxEvent.DEAD

    teller = make_staff(Role.TELLER, username="qn-resend-teller")
    console = staff_client(teller.user_id)
    listing = console.get("/console/payments/quickpay/merchants/")
    assert listing.status_code == 200 and 'data-failed="1"' in listing.content.decode()
    page = console.get(f"/console/payments/quickpay/merchants/{shop.code}/?failed=1")
    html = page.content.decode()
    assert page.status_code == 200 and str(note.event_id) in html and "timed out" in html
    resend = (
        f"/console/payments/quickpay/merchants/{shop.code}/notifications/{note.event_id}/resend/"
    )

    # payment.view alone may look but not resend; a customer is sent to sign in
    viewer = staff_client(make_staff(Role.RELATIONSHIP_MANAGER, username="qn-rm").user_id)
    assert viewer.get(f"/console/payments/quickpay/merchants/{shop.code}/").status_code == 200
    assert viewer.post(resend).status_code == 403
    analyst = staff_client(make_staff(Role.MARKETING_ANALYST, username="qn-ma").user_id)
    assert analyst.get("/console/payments/quickpay/merchants/").status_code == 403
    assert event_of(note).state == OutboxEvent.DEAD

    notify.SIMULATOR.heal()
    answer = console.post(resend)
    assert answer.status_code == 302
    outbox.dispatch_pending()  # the test database never commits: dispatch by hand
    assert event_of(note).state == OutboxEvent.DELIVERED
    assert sent()[0]["event_id"] == str(note.event_id)
    again = console.post(resend)  # delivered now: nothing to resend
    assert again.status_code == 400 and "notify-error" in again.content.decode()


@pytest.mark.django_db
def test_console_sets_and_validates_the_notify_url() -> None:
    payer, shop = make_payer(), make_notify_shop(url="")
    console = staff_client(make_staff(Role.TELLER, username="qn-url-teller").user_id)
    where = f"/console/payments/quickpay/merchants/{shop.code}/notify-url/"
    bad = console.post(where, {"notify_url": "ftp://partner.example/x"})
    assert bad.status_code == 400
    assert console.post(where, {"notify_url": URL}).status_code == 302
    bound(payer, shop)
    outbox.dispatch_pending()
    assert [b["type"] for b in sent()] == ["binding.active"]
    viewer = staff_client(make_staff(Role.AUDITOR, username="qn-auditor").user_id)
    assert viewer.post(where, {"notify_url": ""}).status_code == 403
    assert console.get("/console/payments/quickpay/merchants/NOPE/").status_code == 404


@pytest.mark.django_db
def test_eod_expires_stale_pending_bindings_and_hides_them() -> None:
    payer, shop = make_payer(), make_notify_shop()
    started, challenge = quickpay.do_start_binding(
        payer.principal,
        merchant_code=shop.code,
        debit_account_id=payer.account.public_id,
        consent=True,
    )
    fresh_payer = make_payer(name="王五")
    assert eod.list_eod_jobs().index("payments.expire_pending_bindings") >= 0
    assert do_expire_pending_bindings() == 0  # still within the code's lifetime
    later = clock.now() + dt.timedelta(seconds=challenge.expires_in + 1)
    with clock.frozen_time(later):
        fresh, _ = quickpay.do_start_binding(
            fresh_payer.principal,
            merchant_code=shop.code,
            debit_account_id=fresh_payer.account.public_id,
            consent=True,
        )
        assert quickpay.list_my_bindings(payer.principal) == []  # hidden before the EOD, too
        shown = quickpay.list_my_bindings(payer.principal, include_expired=True)
        assert [(b.binding_id, b.state) for b in shown] == [(started.binding_id, "expired")]
        code = identity.latest_code(payer.customer.phone)
        with pytest.raises(QuickPayConflict) as caught:
            quickpay.do_confirm_binding(
                payer.principal,
                started.binding_id,
                challenge_id=str(challenge.challenge_id),
                code=code or "",
            )
        assert caught.value.code == "quickpay.binding_expired"
        with transaction.atomic():
            assert eod.do_run_eod().ran.count("payments.expire_pending_bindings") == 1
    row = QuickPayBinding.objects.get(public_id=started.binding_id)
    assert row.state == QuickPayBinding.EXPIRED and row.revoked_by == "system:expired"
    assert QuickPayBinding.objects.get(public_id=fresh.binding_id).state == "pending"
    assert quickpay.do_unbind(payer.principal, started.binding_id).state == "expired"
    outbox.dispatch_pending()
    assert [b["binding"] for b in sent("binding.expired")] == [
        {"id": str(started.binding_id), "state": "expired", "reason": "code_expired"}
    ]


@pytest.mark.django_db
def test_api_hides_expired_bindings_unless_asked(api_client) -> None:  # type: ignore[no-untyped-def]
    from tests.identity.builders import app_tokens

    payer, shop = make_payer(), make_notify_shop()
    started, challenge = quickpay.do_start_binding(
        payer.principal,
        merchant_code=shop.code,
        debit_account_id=payer.account.public_id,
        consent=True,
    )
    with clock.frozen_time(clock.now() + dt.timedelta(seconds=challenge.expires_in + 1)):
        do_expire_pending_bindings()
    token = app_tokens(payer.customer, "device-qn-api").access_token
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = "/api/v1/payments/quickpay/bindings"
    assert api_client.get(url, **auth).json() == []
    listed = api_client.get(f"{url}?include_expired=true", **auth).json()
    assert [(b["id"], b["state"]) for b in listed] == [(str(started.binding_id), "expired")]


# ------------------------------------------------------------------ after commit, for real
@pytest.mark.django_db(transaction=True)
def test_notifications_leave_after_commit_and_never_for_a_rollback() -> None:
    payer, shop = make_payer(balance=1_000_00), make_notify_shop()
    _view, token = bound(payer, shop)  # committed: delivered by the on-commit dispatch
    assert [b["type"] for b in sent()] == ["binding.active"]

    def debit_then_fail() -> None:
        with transaction.atomic():
            debit(shop, token, "10.00", "ROLLED-BACK")
            assert QuickPayNotification.objects.filter(event_type="debit.settled").count() == 1
            assert len(sent()) == 1  # nothing sent inside the transaction
            raise RuntimeError("the caller's transaction fails after the debit")

    with pytest.raises(RuntimeError):
        debit_then_fail()
    assert not QuickPayNotification.objects.filter(event_type="debit.settled").exists()
    assert not OutboxEvent.objects.filter(event_type=notify.NOTIFY_EVENT, state="pending").exists()
    assert len(sent()) == 1

    paid = debit(shop, token, "10.00", "COMMITTED")
    assert [b["debit"]["id"] for b in sent("debit.settled")] == [str(paid.debit_id)]  # type: ignore[index]


# ------------------------------------------------------------------ the real HTTP notifier
class _Partner(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes, dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Partner.received.append((self.path, body, dict(self.headers.items())))
        if self.path == "/slow":
            time.sleep(0.5)
        status = 500 if self.path == "/broken" else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_http_notifier_posts_and_reads_the_status(monkeypatch: pytest.MonkeyPatch) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Partner)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        http_notifier = quickpay.HttpNotifier(timeout_s=0.2)
        body = json.dumps({"event_id": "e1"}).encode()
        ok = http_notifier.deliver(f"{base}/ok", body, {"X-Rongshu-Event-Id": "e1"})
        assert ok == notify.DeliveryResult(204) and ok.delivered
        assert _Partner.received[0][1] == body
        assert _Partner.received[0][2]["X-Rongshu-Event-Id"] == "e1"
        broken = http_notifier.deliver(f"{base}/broken", body, {})
        assert broken.status == 500 and not broken.delivered
        slow = http_notifier.deliver(f"{base}/slow", body, {})
        assert slow.status is None and "timed out" in slow.error
        assert not http_notifier.deliver("file:///etc/passwd", body, {}).delivered
    finally:
        server.shutdown()
        server.server_close()
    refused = quickpay.HttpNotifier(timeout_s=0.5).deliver(f"{base}/gone", b"{}", {})
    assert refused.status is None and refused.error
    monkeypatch.setattr(notify, "_installed", None)
    with override_settings(RONGSHU_QUICKPAY_NOTIFIER="http"):
        assert isinstance(quickpay.notifier(), quickpay.HttpNotifier)
    assert quickpay.notifier() is notify.SIMULATOR  # the default
