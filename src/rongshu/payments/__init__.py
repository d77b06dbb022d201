"""Payments: payment orders — internal, interbank (clearing adapter, ISO 20022), QR, quick pay;
limits, fees and step-up rules. Money moves only through the ledger."""
