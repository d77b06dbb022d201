"""Assistant rows: PLACEHOLDER written by the identity work for the route as it stands (public
FAQ answers, no sign-in). The assistant domain owns these rows and tightens them when answers
act for a signed-in customer."""

from __future__ import annotations

from tests.authz import EVERYONE, Rule

RULES = {
    ("POST", "/api/v1/assistant/messages"): Rule(EVERYONE, body={"text": "营业时间"}),
}
