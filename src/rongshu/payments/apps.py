"""Payments: payment orders — internal, interbank (clearing adapter, ISO 20022), QR, quick pay;
limits, fees and step-up rules. Money moves only through the ledger."""

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "rongshu.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from rongshu.payments import jobs  # noqa: F401  (registers the EOD job)
        from rongshu.payments.quickpay import jobs as quickpay_jobs  # noqa: F401  (EOD, outbox)
