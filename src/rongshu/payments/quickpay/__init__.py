"""Quick pay (快捷支付): the public API of this payments subpackage (see ``services``).

Channels and other domains import ``rongshu.payments.quickpay``; the logic lives in
:mod:`rongshu.payments.quickpay.services`."""

from __future__ import annotations

from rongshu.payments.quickpay.services import (
    BIND_ACTION,
    CHANNEL,
    CONSENT_PURPOSE,
    MAX_CLIENT_ORDER_ID,
    RAIL,
    TOKEN_PREFIX,
    BindingView,
    DebitView,
    QuickPayMerchantView,
    access_binding,
    access_debit,
    do_confirm_binding,
    do_debit,
    do_enable_merchant,
    do_issue_binding_token,
    do_refund,
    do_set_limits,
    do_start_binding,
    do_unbind,
    list_binding_debits,
    list_merchants,
    list_my_bindings,
    list_my_debits,
    search_bindings,
)

__all__ = [
    "BIND_ACTION",
    "CHANNEL",
    "CONSENT_PURPOSE",
    "MAX_CLIENT_ORDER_ID",
    "RAIL",
    "TOKEN_PREFIX",
    "BindingView",
    "DebitView",
    "QuickPayMerchantView",
    "access_binding",
    "access_debit",
    "do_confirm_binding",
    "do_debit",
    "do_enable_merchant",
    "do_issue_binding_token",
    "do_refund",
    "do_set_limits",
    "do_start_binding",
    "do_unbind",
    "list_binding_debits",
    "list_merchants",
    "list_my_bindings",
    "list_my_debits",
    "search_bindings",
]
