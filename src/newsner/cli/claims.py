"""`newsner export claims`: one row per casualty claim (who says how many), as Parquet or CSV."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from newsner.cli._app import console, err_console, export_app, workspace_of


class _Progress:
    """'claims: n/total articles' on stderr at most twice a second, only for runs longer than half a second."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started > 0.5 and now - self.last > 0.5:
            self.last = now
            err_console.print(f"claims: {done}/{total} articles ({done / (now - self.started):.0f}/s)",
                              markup=False)


@export_app.command("claims")
def claims_cli(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False,
                                      help="File to write: claims.parquet or claims.csv (format from the suffix).")],
    layer: Annotated[str, typer.Option("--layer", "-l", help="gold (annotations/gold.jsonl) or an annotator's "
                                                             "layer name.")] = "gold",
) -> None:
    """Write the claims table: one row per CASUALTY with its source, min/max, actor and location.

    Sources, actors and locations come from the relations (CLAIMED_BY, VICTIM, PERPETRATOR, LOCATED_IN); where
    a record has none, the row says how they were found (rule / nearest in the sentence).

    Example: newsner export claims --out claims.parquet --layer gold
    """
    from newsner.claims.table import export_claims

    result = export_claims(workspace_of(ctx), out, layer=layer, progress=_Progress())
    for problem in result.problems:
        err_console.print(f"warning: {problem}", markup=False)
    rate = result.articles / result.seconds if result.seconds > 0 else 0.0
    console.print(f"{result.claims} claims from {result.articles} articles ({result.unattributed} unattributed, "
                  f"{result.unparsed} counts unparsed) → {result.path} in {result.seconds:.1f} s "
                  f"({rate:.0f} articles/s)", markup=False)
    if result.claims == 0:  # an empty table is a valid answer, but say why so nobody reads it as "no casualties"
        err_console.print(f"note: layer {layer!r} has no CASUALTY span; annotate casualty counts (or pass another "
                          "--layer, e.g. an annotator's, or the pattern suggestions imported as a layer)",
                          markup=False)
