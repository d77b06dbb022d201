"""Read-only admin for the ledger: balances move only through the ledger's services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rongshu.ledger.models import (
    Account,
    BalanceSnapshot,
    Hold,
    InterestAccrual,
    InterestRate,
    Transfer,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "code", "name", "currency", "kind", "status", "product_code")
    list_filter = ("currency", "kind", "status", "owner_type")
    search_fields = ("public_id", "code", "name", "owner_id")


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("transfer_id", "kind", "amount", "currency", "code", "created_at")
    list_filter = ("kind", "currency", "code")
    search_fields = ("transfer_id", "reference")
    raw_id_fields = ("debit_account", "credit_account")


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ("transfer_id", "state", "amount", "expires_at")
    list_filter = ("state",)


@admin.register(BalanceSnapshot)
class BalanceSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("account", "business_date", "debits_posted", "credits_posted")


@admin.register(InterestAccrual)
class InterestAccrualAdmin(ReadOnlyAdmin):
    list_display = ("account", "business_date", "balance", "annual_rate", "amount")


@admin.register(InterestRate)
class InterestRateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("product_code", "currency", "annual_rate", "effective_on", "rounding")
