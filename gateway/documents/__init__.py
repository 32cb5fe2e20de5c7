"""Documents the gateway prints: the postal slips that travel with a dossier or a result."""
