"""Accounts (layer 2): customer accounts on top of identity, the ledger and payments."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rongshu.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from rongshu.accounts import certificates, handlers, jobs, rules  # noqa: F401 - registers handlers
        from rongshu.payments.services import register_account_resolver, register_payment_rule

        register_payment_rule(rules.check_account_type_rules, sql="accounts_payment_rule_clear")
        register_account_resolver(rules.resolve_account_number)
