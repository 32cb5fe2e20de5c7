"""One self-contained package per provider: signing, request building, response parsing, status maps."""
