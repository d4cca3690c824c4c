"""newsner's command line. `app` is the Typer application (console script `newsner`)."""

from newsner.cli._app import app

# Importing the command modules registers their commands on `app` and its groups.
from newsner.cli import annotations, corpus, doccano, export, ingest, labels  # noqa: E402,F401,I001

__all__ = ["app"]
