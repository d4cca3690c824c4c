"""`newsner corpus stats|validate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from newsner.cli._app import console, corpus_app, fail, workspace_of
from newsner.corpus.store import Corpus

CorpusOpt = Annotated[
    Path | None, typer.Option("--corpus", "-c", file_okay=False, help="Corpus folder (default: WORKSPACE/corpus).")
]


def _corpus(ctx: typer.Context, corpus: Path | None) -> Corpus:
    return Corpus(corpus or workspace_of(ctx).corpus_dir)


@corpus_app.command("stats")
def stats_cli(ctx: typer.Context, corpus: CorpusOpt = None) -> None:
    """Counts by source, language, month and length, and near-duplicate clusters.

    Example: newsner corpus stats --corpus corpus/
    """
    st = _corpus(ctx, corpus).stats()
    console.print(f"[bold]{st.articles}[/] articles in {st.shards} shard(s), {st.characters:,} characters "
                  f"(shortest {st.min_length:,}, longest {st.max_length:,})")
    console.print(f"near-duplicates: {st.near_duplicates} in {st.duplicate_clusters} cluster(s)")
    for title, counter in (("source", st.by_source), ("language", st.by_language),
                           ("published (month)", st.by_month), ("length (characters)", st.length_buckets)):
        table = Table(title=f"by {title}", title_justify="left")
        table.add_column(title)
        table.add_column("articles", justify="right")
        for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(key, str(n))
        console.print(table)


@corpus_app.command("validate")
def validate_cli(ctx: typer.Context, corpus: CorpusOpt = None) -> None:
    """Check every record against the Article contract; prints FILE:LINE: problem for each.

    Exit code 1 when any record is invalid.

    Example: newsner corpus validate
    """
    c = _corpus(ctx, corpus)
    problems = c.validate()
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        fail(f"{len(problems)} problem(s) in {c.root}")
    console.print(f"{len(c)} articles in {c.root}: all valid")


@corpus_app.command("reindex")
def reindex_cli(ctx: typer.Context, corpus: CorpusOpt = None) -> None:
    """Rebuild the corpus index (corpus/.index.sqlite3) from the JSONL shards.

    The index is never the store of record: every command checks it against the shards and rebuilds it when
    they differ, so this is only needed to rebuild it ahead of time (or after copying a corpus by hand).

    Example: newsner corpus reindex --corpus corpus/
    """
    import time

    c = _corpus(ctx, corpus)
    started = time.monotonic()
    n = c.reindex()
    seconds = time.monotonic() - started
    console.print(f"indexed {n} articles of {c.root} in {seconds:.1f} s ({n / max(seconds, 1e-9):,.0f} articles/s)")
