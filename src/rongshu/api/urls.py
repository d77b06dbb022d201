"""Mounts every domain's router on the one API (each domain adds one line here)."""

from django.urls import path

from rongshu.api import system
from rongshu.api.base import api

api.add_router("/", system.router)
api.add_router("/", "rongshu.api.identity.router")
api.add_router("/ledger", "rongshu.api.ledger.router")
api.add_router("/assistant", "rongshu.api.assistant.router")
api.add_router("/payments", "rongshu.api.payments.router")
api.add_router("/payments/quickpay", "rongshu.api.quickpay.router")
api.add_router("/", "rongshu.api.accounts.router")
api.add_router("/insight", "rongshu.api.insight.router")
api.add_router("/lifepay", "rongshu.api.lifepay.router")
api.add_router("/lending", "rongshu.api.lending.router")
api.add_router("/customers", "rongshu.api.customers.router")

urlpatterns = [path("", api.urls)]
