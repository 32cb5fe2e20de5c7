"""VNPay API 2.1.0 adapter."""
