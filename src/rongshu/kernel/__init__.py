"""Layer 0: money, time, ids, errors, idempotency, outbox events, audit, PII."""
