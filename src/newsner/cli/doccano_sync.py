"""`newsner doccano push|pull|users` (being built)."""
