"""The payments domain's public write API.

Extension points other domains use (registered in their ``AppConfig.ready``):

- :func:`register_payment_rule` — a callable ``rule(check: PaymentCheck) -> None`` that raises a
  ``rongshu.kernel.errors.RuleViolation`` subclass to refuse a payment. Every rule runs inside
  the order's transaction before funds are held (e.g. the Type II/III account limits of the
  accounts domain).
- :func:`register_account_resolver` — a callable ``resolve(account_number) ->
  ResolvedAccount | None`` that turns one of our account numbers into its ledger account.
"""

from __future__ import annotations

from collections.abc import Callable

from rongshu.payments.types import PaymentCheck, ResolvedAccount

PaymentRule = Callable[[PaymentCheck], None]
AccountResolver = Callable[[str], ResolvedAccount | None]

_rules: list[PaymentRule] = []
_resolvers: list[AccountResolver] = []


def register_payment_rule(rule: PaymentRule) -> None:
    if rule not in _rules:
        _rules.append(rule)


def register_account_resolver(resolver: AccountResolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def check_payment_rules(check: PaymentCheck) -> None:
    """Run every registered rule; the first refusal raises."""
    for rule in list(_rules):
        rule(check)


def find_account_by_number(account_number: str) -> ResolvedAccount | None:
    for resolver in list(_resolvers):
        found = resolver(account_number)
        if found is not None:
            return found
    return None
