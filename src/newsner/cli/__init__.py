"""newsner's command line. `app` is the Typer application (console script `newsner`)."""

# Importing the command modules registers their commands on `app` and its groups.
from newsner.cli import annotations, corpus, doccano, doccano_sync, export, ingest, labels  # noqa: E402,F401,I001
from newsner.cli._app import app

__all__ = ["app"]
