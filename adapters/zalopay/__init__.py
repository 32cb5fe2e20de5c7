"""ZaloPay Open API v2 adapter."""
