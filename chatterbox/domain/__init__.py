"""The chat rules: permissions, receipts, typing expiry, idempotency, seq, presence. Pure; no I/O."""
