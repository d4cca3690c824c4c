"""`newsner pre-annotate` (suggestions for annotators)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsner.cli._app import app, console, workspace_of


@app.command("pre-annotate")
def pre_annotate_cli(
    ctx: typer.Context,
    patterns: Annotated[Path | None, typer.Option(
        "--patterns", "-p", dir_okay=False,
        help="spaCy EntityRuler patterns (JSONL). Default: WORKSPACE/annotations/patterns/conflict.jsonl.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", dir_okay=False,
        help="Where to write the suggestions. Default: WORKSPACE/annotations/suggestions/patterns.jsonl.")] = None,
) -> None:
    """Suggest spans for every corpus article from patterns; push them with `doccano push --with-annotations`.

    Example: newsner pre-annotate && newsner doccano push --with-annotations annotations/suggestions/patterns.jsonl
    """
    from newsner._io import write_jsonl
    from newsner.corpus import Corpus
    from newsner.model import load_patterns, pre_annotate

    ws = workspace_of(ctx)
    patterns = patterns or ws.annotations_dir / "patterns" / "conflict.jsonl"
    out = out or ws.annotations_dir / "suggestions" / "patterns.jsonl"
    corpus = Corpus(ws.corpus_dir)
    corpus.require()
    rules = load_patterns(patterns, ws.label_schema())
    spans = 0

    def records():  # type: ignore[no-untyped-def]
        nonlocal spans
        for rec in pre_annotate(corpus, rules):
            spans += len(rec.spans)
            yield rec.to_dict()

    n = write_jsonl(out, records())
    console.print(f"{spans} suggested span(s) on {n} article(s) → {out}", markup=False)
