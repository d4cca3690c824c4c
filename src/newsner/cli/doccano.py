"""`newsner doccano` commands (being built)."""
