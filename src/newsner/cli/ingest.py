"""`newsner ingest` commands (being built)."""
