"""`newsner annotations` commands (being built)."""
