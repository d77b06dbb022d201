from __future__ import annotations

from tests.authz import EVERYONE, Rule

RULES = {
    ("GET", "/api/v1/health"): Rule(EVERYONE),
    ("POST", "/api/v1/tools/amount-in-words"): Rule(EVERYONE, body={"amount": "12.34"}),
}
