"""Lending: 快贷 and 善融e贷 — model registry, pre-approved lines, applications, decisions,
contracts, disbursement, schedules, repayment, delinquency. Money moves only through the
ledger."""

from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "rongshu.lending"
    label = "lending"
    verbose_name = "Lending"

    def ready(self) -> None:
        from rongshu.lending import jobs  # noqa: F401  (registers the EOD jobs)
