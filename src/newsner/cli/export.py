"""`newsner export` commands (being built)."""
