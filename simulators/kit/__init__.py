"""What every payment simulator shares: the API faults, and the delivery of notifications (an HTTP client
with a deadline every transport keeps, background tasks, the re-delivery schedule, a notification held
back for out-of-order, shutdown). Simulators import this package, never adapters/ or gateway/."""
