"""Layer 1: the double-entry ledger, the only writer of balances (docs/ledger.md)."""
