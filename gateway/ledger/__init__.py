"""The double-entry ledger: every đồng the gateway records, on which account, and why (docs/finance.md)."""
