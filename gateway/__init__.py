"""dvc-gateway: the Litestar app, services, persistence and workers."""
