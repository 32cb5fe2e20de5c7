"""Electronic receipts of fees and charges (biên lai thu phí, lệ phí điện tử): docs/finance.md."""
