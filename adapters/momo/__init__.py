"""MoMo payment gateway v2 (AIO v2) adapter."""
