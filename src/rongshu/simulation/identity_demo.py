"""Demo logins: a customer, one staff member per role, an administrator for /admin/ and a
partner client (listed in the README). Idempotent."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from rongshu.identity import services as identity
from rongshu.identity.models import CustomerCredential, PartnerClient, StaffMember
from rongshu.identity.types import ConsentPurpose, PartnerScope, Principal, Role

DEMO_CUSTOMER_PHONE = "13800000001"
DEMO_CUSTOMER_PASSWORD = "rongshu-demo-1"  # noqa: S105 - published demo login
DEMO_STAFF_PASSWORD = "rongshu-staff-1"  # noqa: S105
DEMO_ADMIN = ("admin", "rongshu-admin-1")
DEMO_PARTNER_CLIENT_ID = "rsp_demo_fundhouse"
DEMO_PARTNER_SECRET = "rss_demo_fundhouse_secret_change_me"  # noqa: S105


def load_identity_demo() -> str:
    created: list[str] = []
    if not CustomerCredential.objects.filter(phone=DEMO_CUSTOMER_PHONE).exists():
        login = identity.do_create_customer_login(
            DEMO_CUSTOMER_PHONE,
            DEMO_CUSTOMER_PASSWORD,
            real_name="张伟",
            resident_id="110105199003070025",
        )
        identity.do_set_consent(login.customer_id, ConsentPurpose.MARKETING, True, channel="demo")
        created.append("customer")
    for role in Role:
        username = f"demo-{role.value.replace('_', '-')}"
        if not StaffMember.objects.filter(user__username=username).exists():
            identity.do_create_staff(
                username, DEMO_STAFF_PASSWORD, role, full_name=f"Demo {role.value}"
            )
            created.append(username)
    users = get_user_model().objects
    if not users.filter(username=DEMO_ADMIN[0]).exists():
        users.create_superuser(DEMO_ADMIN[0], password=DEMO_ADMIN[1])
        created.append("admin")
    if not PartnerClient.objects.filter(client_id=DEMO_PARTNER_CLIENT_ID).exists():
        identity.do_create_client(
            "Demo Fund House 演示基金",
            [s.value for s in PartnerScope],
            partner_ref="demo-fund-house",
            client_id=DEMO_PARTNER_CLIENT_ID,
            client_secret=DEMO_PARTNER_SECRET,
        )
        created.append("partner")
    return f"created {', '.join(created)}" if created else "already there"


def demo_customer_principal() -> Principal | None:
    """The demo customer (13800000001) as a principal, for the other demo steps."""
    credential = CustomerCredential.objects.filter(phone=DEMO_CUSTOMER_PHONE).first()
    return None if credential is None else identity.principal_for_user(credential.user_id)


def sign_ins() -> list[str]:
    """The published demo sign-ins, printed by ``rongshu demo`` once the data is loaded."""
    staff = ", ".join(f"demo-{role.value.replace('_', '-')}" for role in Role)
    return [
        f"customer  /signin/          {DEMO_CUSTOMER_PHONE} / {DEMO_CUSTOMER_PASSWORD}",
        f"staff     /console/signin/  {staff} / {DEMO_STAFF_PASSWORD}",
        f"admin     /admin/           {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}",
        f"partner   POST /api/v1/auth/token (client_credentials)  "
        f"{DEMO_PARTNER_CLIENT_ID} / {DEMO_PARTNER_SECRET}",
    ]
