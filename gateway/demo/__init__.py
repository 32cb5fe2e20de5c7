"""The demo at /demo: a person plays the portal in a browser against the gateway and the VNPay simulator."""
