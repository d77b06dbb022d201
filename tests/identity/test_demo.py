from __future__ import annotations

import pytest

from rongshu.identity import services as identity
from rongshu.identity.models import StaffMember
from rongshu.identity.types import Role
from rongshu.simulation import identity_demo as demo

pytestmark = pytest.mark.django_db


def test_demo_logins_work_and_loading_twice_changes_nothing() -> None:
    assert demo.load_identity_demo().startswith("created customer")
    assert demo.load_identity_demo() == "already there"
    user_id = identity.do_authenticate_customer(
        demo.DEMO_CUSTOMER_PHONE, demo.DEMO_CUSTOMER_PASSWORD
    )
    who = identity.principal_for_user(user_id)
    assert who.customer_id is not None and identity.has_consent(who.customer_id, "marketing")
    assert sorted(StaffMember.objects.values_list("role", flat=True)) == sorted(
        r.value for r in Role
    )
    assert identity.do_authenticate_staff("demo-teller", demo.DEMO_STAFF_PASSWORD)
    token = identity.do_issue_client_token(demo.DEMO_PARTNER_CLIENT_ID, demo.DEMO_PARTNER_SECRET)
    partner = identity.principal_for_token(token.access_token)
    assert partner is not None and "profile" in partner.scopes
