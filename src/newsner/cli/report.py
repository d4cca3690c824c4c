"""`newsner report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsner.cli._app import app, console, workspace_of


@app.command("report")
def report_cli(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(
        "--out", "-o", dir_okay=False,
        help="HTML file to write (self-contained: inline SVG plots, no scripts, no network).")] = Path("report.html"),
) -> None:
    """One HTML page with plots: entities per label per split, documents per annotator over time and per round,
    the agreement matrix, the learning curve (after `train --curve`), alignment problems by kind; then corpus
    counts, the label schema, annotation layers and exports (those under exports/ and those `newsner export`
    wrote elsewhere with --out). Annotators are the layers with confirmed work: suggestions and documents only
    opened are left out, and said so. Opens offline in any browser.

    Example: newsner report --out exports/report.html
    """
    from newsner.report import write_report

    path = write_report(workspace_of(ctx), out)
    console.print(f"report written to {path}", markup=False)
