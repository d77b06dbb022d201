"""悦生活 life-service payments: billers per city and item, bill inquiry and payment, auto-pay
mandates, daily reconciliation and net settlement (docs/lifepay.md)."""
