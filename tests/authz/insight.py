"""Insight rows: staff with ``segment.view`` (relationship managers, branch managers, marketing
analysts) read the catalogue, segments, circles, quality and profiles; everyone else is refused.
An unknown segment or customer answers 404 (checked in tests/insight/test_api.py). Saving and
deactivating custom segments takes ``segment.manage`` (the same three roles)."""

from __future__ import annotations

from rongshu.identity.types import Role
from tests.authz import Rule, staff

V1 = "/api/v1/insight"
VIEW = staff(Role.RELATIONSHIP_MANAGER, Role.BRANCH_MANAGER, Role.MARKETING_ANALYST)
MANAGE = staff(Role.RELATIONSHIP_MANAGER, Role.BRANCH_MANAGER, Role.MARKETING_ANALYST)
SAVE = {"code": "authz_custom", "zh": "测试客群", "en": "Test segment", "rule": "age >= 60"}

RULES = {
    ("GET", f"{V1}/indicators"): Rule(VIEW),
    ("GET", f"{V1}/segments"): Rule(VIEW),
    ("GET", f"{V1}/segments/{{segment_id}}"): Rule(VIEW, params={"segment_id": "unknown_uuid"}),
    ("POST", f"{V1}/segments"): Rule(MANAGE, body=SAVE),
    ("DELETE", f"{V1}/segments/{{segment_id}}"): Rule(
        MANAGE, params={"segment_id": "unknown_uuid"}
    ),
    ("GET", f"{V1}/estimate"): Rule(VIEW),
    ("GET", f"{V1}/circles"): Rule(VIEW),
    ("GET", f"{V1}/quality"): Rule(VIEW),
    ("GET", f"{V1}/customers/{{customer_id}}/profile"): Rule(
        VIEW, params={"customer_id": "unknown_uuid"}
    ),
}
