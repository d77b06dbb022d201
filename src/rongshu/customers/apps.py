"""Customers: source records from internal, group and third-party systems, entity resolution
and the golden record — the unified customer view."""

from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "rongshu.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from rongshu.customers import jobs  # noqa: F401  (registers the nightly quality job)
