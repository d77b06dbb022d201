"""Identity benchmark: sign-in latency at the chosen argon2 cost, authorization overhead per
request, bearer-token validations per second.

Runs on a fresh SQLite database in a temporary data folder (or on ``DATABASE_URL``).

    login_p95_ms              password sign-in (argon2id m=46 MiB, t=1, p=1), 95th percentile
    login_unknown_p95_ms      the same for an unknown phone (dummy hash: should match the above)
    authz_overhead_ms         median per request: resolve the bearer token to a Principal
                              (PrincipalAuth) + an object-level check (check_owner)
    authz_session_overhead_ms the same for a signed-in web session
    token_validations_per_s   principal_for_token calls per second, one thread
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import median, parse_args, percentile, report, setup_django


def main() -> None:
    args = parse_args(__doc__ or "identity benchmark")
    tmp = tempfile.TemporaryDirectory(prefix="rongshu-bench-identity-")
    if not os.environ.get("DATABASE_URL"):
        os.environ["RONGSHU_DATA_DIR"] = tmp.name
    os.environ.setdefault("RONGSHU_LOG_LEVEL", "WARNING")
    setup_django()
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.test import RequestFactory
    from stdnum.cn import ric

    from rongshu.api.auth import principal_auth
    from rongshu.identity import services as identity
    from rongshu.identity.errors import InvalidCredentials, LoginThrottled
    from rongshu.identity.models import UserSession

    call_command("migrate", verbosity=0)
    settings.RONGSHU_SMS_SIMULATOR = {"failure_rate": 0.0, "min_delay_ms": 0, "max_delay_ms": 0}
    logins = 30 if args.quick else 200
    requests = 300 if args.quick else 3000
    validations = 2000 if args.quick else 20000

    phone = f"137{int(time.time()) % 10**8:08d}"
    born = dt.date(1950, 1, 1) + dt.timedelta(days=random.randrange(18000))
    body = "110105" + born.strftime("%Y%m%d") + f"{random.randrange(1000):03d}"
    info = identity.do_start_registration(phone)
    code = identity.latest_code(phone)
    assert code is not None
    reg = identity.do_register_customer(
        challenge_id=str(info.challenge_id),
        code=code,
        password="bench-password-1",  # noqa: S106
        real_name="测试",
        resident_id=body + ric.calc_check_digit(body + "0"),
    )

    login_ms: list[float] = []
    for _ in range(logins):
        started = time.perf_counter()
        identity.do_authenticate_customer(phone, "bench-password-1")
        login_ms.append((time.perf_counter() - started) * 1000)
    unknown_ms = []
    for i in range(min(logins, 20)):
        started = time.perf_counter()
        with contextlib.suppress(InvalidCredentials, LoginThrottled):
            identity.do_authenticate_customer(f"136{i:08d}", "wrong-password")
        unknown_ms.append((time.perf_counter() - started) * 1000)

    tokens = identity.do_issue_app_tokens(reg.user_id, device_key="bench-device-0001")
    factory = RequestFactory()
    bearer_request = factory.get(
        "/api/v1/identity/me", HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}"
    )
    authz_ms = []
    for _ in range(requests):
        started = time.perf_counter()
        who = principal_auth(bearer_request)
        assert who is not None
        identity.check_owner(who, reg.customer_id)
        authz_ms.append((time.perf_counter() - started) * 1000)

    store = SessionStore()
    store.create()
    identity.do_start_session(
        reg.user_id, kind=UserSession.WEB, session_key=store.session_key or ""
    )
    session_request = factory.get("/api/v1/identity/me")
    session_request.session = store
    session_request.user = identity_user(reg.user_id)
    session_ms = []
    for _ in range(requests):
        started = time.perf_counter()
        who = principal_auth(session_request)
        assert who is not None
        identity.check_owner(who, reg.customer_id)
        session_ms.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    for _ in range(validations):
        identity.principal_for_token(tokens.access_token)
    per_s = validations / (time.perf_counter() - started)

    report(
        "identity",
        {
            "login_p95_ms": round(percentile(login_ms, 95), 2),
            "login_median_ms": round(median(login_ms), 2),
            "login_unknown_p95_ms": round(percentile(unknown_ms, 95), 2),
            "authz_overhead_ms": round(median(authz_ms), 3),
            "authz_overhead_p95_ms": round(percentile(authz_ms, 95), 3),
            "authz_session_overhead_ms": round(median(session_ms), 3),
            "token_validations_per_s": round(per_s),
            "argon2": "argon2id m=47104 KiB t=1 p=1",
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "logins": logins,
            "requests": requests,
        },
        quick=args.quick,
    )
    tmp.cleanup()


def identity_user(user_id: int):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=user_id)


if __name__ == "__main__":
    main()
