"""Benchmarks of dvc-gateway against a bare Litestar app served the same way (see bench/README.md)."""
