"""Payments: payment orders — internal, interbank (clearing adapter, ISO 20022), QR, quick pay;
limits, fees and step-up rules. Money moves only through the ledger."""

import contextlib

from django.apps import AppConfig

from rongshu.kernel import periodic


def _process_clearing() -> None:
    from rongshu.payments.services import do_process_clearing

    do_process_clearing()


class PaymentsConfig(AppConfig):
    name = "rongshu.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from rongshu.payments import (
            interbank,
            jobs,  # noqa: F401  (registers the EOD job)
        )
        from rongshu.payments.errors import ClearingDown
        from rongshu.payments.quickpay import jobs as quickpay_jobs  # noqa: F401  (EOD, outbox)

        # The network's outcomes reach the orders in every process — also a worker that only
        # drains the network (`rongshu clearing process`) and never made an order itself. No
        # adapter installed: nothing to register (interbank orders are refused, 503).
        with contextlib.suppress(ClearingDown):
            interbank.clearing()
        # `rongshu serve --periodic` (the demo): held orders go out, the network's answers
        # come in, every few seconds, as the worker's `payments process-clearing --loop` does
        periodic.register("payments.process_clearing", 5.0, _process_clearing)
