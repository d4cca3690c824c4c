"""newsner's command line. `app` is the Typer application (console script `newsner`)."""

# Importing the command modules registers their commands on `app` and its groups.
from newsner.cli import (  # noqa: F401  (importing registers the commands)
    annotations,
    claims,
    corpus,
    doccano,
    doccano_review,
    doccano_sync,
    export,
    ingest,
    labels,
    model,
    report,
    serve,
)
from newsner.cli._app import app

__all__ = ["app"]
