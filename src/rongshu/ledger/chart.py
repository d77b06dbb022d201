"""The bank's chart of accounts, created at set-up (data migration 0002 for CNY, and
``do_create_chart_of_accounts`` for any currency; both idempotent)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartEntry:
    code: str  # "{cur}" is replaced by the currency
    name: str
    kind: str
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False


CHART: tuple[ChartEntry, ...] = (
    ChartEntry("cash.{cur}", "Cash in vaults and ATMs", "asset", False, True),
    ChartEntry("settlement.cnaps_hvps.{cur}", "Settlement: CNAPS HVPS (大额)", "asset"),
    ChartEntry("settlement.cnaps_beps.{cur}", "Settlement: CNAPS BEPS (小额)", "asset"),
    ChartEntry("settlement.ibps.{cur}", "Settlement: IBPS (网上支付跨行清算)", "asset"),
    ChartEntry("settlement.nucc.{cur}", "Settlement: NetsUnion (网联)", "asset"),
    ChartEntry("settlement.unionpay.{cur}", "Settlement: UnionPay (银联)", "asset"),
    ChartEntry("loans.receivable.{cur}", "Loan receivables", "asset", False, True),
    ChartEntry("deposits.customer.{cur}", "Customer deposits (control)", "liability"),
    ChartEntry("equity.capital.{cur}", "Paid-in capital", "equity"),
    ChartEntry("income.fees.{cur}", "Fee and commission income", "income"),
    ChartEntry("income.interest.{cur}", "Interest income", "income"),
    ChartEntry("expense.interest.{cur}", "Interest expense", "expense"),
    ChartEntry("suspense.{cur}", "Suspense (unreconciled items)", "liability"),
    ChartEntry("loans.interest_receivable.{cur}", "Interest receivable (应收利息)", "asset"),
    ChartEntry("income.penalty_interest.{cur}", "Penalty interest income (罚息收入)", "income"),
    ChartEntry("expense.credit_loss.{cur}", "Credit losses written off (核销损失)", "expense"),
)
