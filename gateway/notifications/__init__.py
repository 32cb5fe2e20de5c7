"""Provider → gateway: notifications and browser returns, one set of acceptance rules for every provider."""
