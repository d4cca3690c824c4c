"""`newsner ingest PATH...`: files, folders, globs or '-' → cleaned articles in the corpus."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from newsner.cli._app import app, console, err_console, workspace_of

if TYPE_CHECKING:
    from rich.table import Table

    from newsner.ingest import IngestReport

# the ingest machinery (numpy, the readers, sqlite) is imported by the command, not by `newsner --help`
DEFAULT_MAX_MB = 10.0  # = newsner.ingest.decode.DEFAULT_MAX_BYTES
_SHOW_PROGRESS_AFTER = 0.5  # seconds: quick runs finish before a bar would be worth drawing
_LOG_EVERY = 10.0  # seconds between progress lines when stderr is not a terminal (logs, CI)


class _LazyProgress:
    """Progress on stderr with the rate in articles/s: a rich bar on a terminal once a run has taken more than
    half a second, else one plain line every 10 s (so logs show a long run is alive and how fast it goes)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last_line = self.started
        self.progress: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int, articles: int) -> None:
        now = time.monotonic()
        elapsed = max(now - self.started, 1e-9)
        rate = f"{articles / elapsed:,.0f} articles/s"
        if not err_console.is_terminal:
            if now - self.last_line >= _LOG_EVERY:
                self.last_line = now
                share = f" ({100 * done / total:.0f} % of the input)" if total else ""
                typer.echo(f"ingest: {articles:,} articles written{share}, {rate}", err=True)
            return
        if self.progress is None:
            if now - self.started < _SHOW_PROGRESS_AFTER:
                return
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(TextColumn("ingesting"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                                     TextColumn("{task.fields[rate]}"), console=err_console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task("ingest", total=total or None, rate=rate)
        self.progress.update(self.task, completed=done, total=total or None, rate=rate)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _summary(report: IngestReport) -> Table:
    from rich.table import Table

    table = Table(title=f"ingest → {report.corpus}", title_justify="left")
    table.add_column("")
    table.add_column("articles", justify="right")
    table.add_row("ingested (new)", str(report.ingested))
    table.add_row("  of which near-duplicates (kept, duplicate_of set)", str(report.near_duplicates))
    table.add_row("duplicates (skipped: already in the corpus or repeated)", str(report.duplicates))
    table.add_row("rejected", str(len(report.rejected)))
    for reason, n in sorted(report.rejected_by_reason().items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(f"  {reason}", str(n))
    if report.skipped:
        table.add_row("files skipped in folders (type not read)", str(len(report.skipped)))
    if report.ingested and report.seconds:
        table.add_row("rate (articles/s)", f"{report.ingested / report.seconds:,.0f}")
    return table


@app.command("ingest")
def ingest_cli(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(
        metavar="PATH...", show_default=False,
        help="Files (.txt .html .htm .jsonl .csv .tsv), folders (read recursively), globs, or - for stdin.")],
    corpus: Annotated[Path | None, typer.Option(
        "--corpus", "-c", file_okay=False, help="Corpus folder (default: WORKSPACE/corpus; created if missing).")
    ] = None,
    source: Annotated[str | None, typer.Option(
        "--source", "-s", help="Outlet name for every article of this batch (default: the site name the page or "
        "record gives; the input's own value is kept in meta).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Processes extracting HTML in parallel.")] = 1,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Write nothing at all if any input is rejected.")] = False,
    max_size: Annotated[float, typer.Option(
        "--max-size", min=0.001, help="Largest single document in MB (a file, or one JSONL line / CSV row).")
    ] = DEFAULT_MAX_MB,
    text_column: Annotated[str | None, typer.Option(
        "--text-column", help="CSV column / JSONL field holding the article text (default: text, else content, "
        "body, article, full_text, story).")] = None,
    encoding: Annotated[str | None, typer.Option(
        "--encoding", help="Read every input in this encoding instead of guessing (e.g. cp1252, latin-1, cp1250; "
        "default: UTF-8, else Western windows-1252 unless the bytes clearly say otherwise).")] = None,
    # = newsner.ingest.pipeline.DEFAULT_CHUNK (spelled out: importing the pipeline slows `newsner --help`)
    chunk: Annotated[int, typer.Option(
        "--chunk", min=1, help="Articles per commit: memory holds one chunk, a crash loses at most one.")] = 2500,
    engine: Annotated[str, typer.Option(
        "--engine", help="local (this machine, --jobs processes) or ray (Ray Data; needs newsner[ray]).")
    ] = "local",
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", envvar="RAY_ADDRESS", help="Ray cluster to run on with --engine ray (default: start Ray "
        "on this machine).")] = None,
) -> None:
    """Ingest articles: boilerplate removed, metadata kept, duplicates caught, bad files reported.

    Prints a summary table; each rejected input is listed on stderr as PATH[:LINE]: reason.

    Exit code 1 when anything was rejected (with --strict nothing is written then), 0 otherwise.

    Articles are committed in chunks (--chunk): a rerun after a crash finishes the job without duplicates.

    Example: newsner ingest corpus/raw/ ~/scraped/*.html feed.jsonl --source "Sahel Monitor" --jobs 2
    """
    from newsner.corpus.store import Corpus
    from newsner.ingest import ingest

    target = Corpus(corpus or workspace_of(ctx).corpus_dir)
    progress = _LazyProgress()
    try:
        report = ingest(paths, target, source=source, jobs=jobs, strict=strict,
                        max_bytes=max(1, int(max_size * 1_048_576)), text_column=text_column, progress=progress,
                        chunk_size=chunk, encoding=encoding, engine=engine, ray_address=ray_address)
    finally:
        progress.stop()
    console.print(_summary(report))
    if report.skipped:
        more = len(report.skipped) - 5
        shown = ", ".join(report.skipped[:5]) + (f" and {more} more" if more > 0 else "")
        typer.echo(f"note: skipped {len(report.skipped)} file(s) of other types in the folders: {shown}", err=True)
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for rejection in report.rejected:
        typer.echo(str(rejection), err=True)
    if report.rejected:
        if strict:
            typer.echo(f"--strict: {len(report.rejected)} input(s) rejected, nothing was written to "
                       f"{report.corpus}; fix or remove them and rerun", err=True)
        raise typer.Exit(1)
