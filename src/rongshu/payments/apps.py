from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "rongshu.payments"
    label = "payments"
    verbose_name = "Payments"
