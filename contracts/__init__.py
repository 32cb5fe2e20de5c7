"""Pydantic models and ports shared by the gateway, the adapters and the simulators."""
