"""VNPost (MyVNPost partner API) carrier adapter: quotes, bookings, cancellations, tracking and signed
status pushes."""
