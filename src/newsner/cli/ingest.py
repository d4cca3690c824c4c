"""`newsner ingest PATH...`: files, folders, globs or '-' → cleaned articles in the corpus."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from newsner.cli._app import app, console, err_console, workspace_of
from newsner.corpus import Corpus
from newsner.ingest import IngestReport, ingest
from newsner.ingest.decode import DEFAULT_MAX_BYTES

_SHOW_PROGRESS_AFTER = 0.5  # seconds: quick runs finish before a bar would be worth drawing


class _LazyProgress:
    """A rich progress bar on stderr that appears only once a run has taken more than half a second."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            if time.monotonic() - self.started < _SHOW_PROGRESS_AFTER or not err_console.is_terminal:
                return
            self.progress = Progress(TextColumn("ingesting"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                                     console=err_console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task("ingest", total=total or None)
        assert self.task is not None
        self.progress.update(self.task, completed=done, total=total or None)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _summary(report: IngestReport) -> Table:
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
    ] = DEFAULT_MAX_BYTES / 1_048_576,
    text_column: Annotated[str | None, typer.Option(
        "--text-column", help="CSV column / JSONL field holding the article text (default: text, else content, "
        "body, article, full_text, story).")] = None,
) -> None:
    """Ingest articles: boilerplate removed, metadata kept, duplicates caught, bad files reported.

    Prints a summary table; each rejected input is listed on stderr as PATH[:LINE]: reason.

    Exit code 1 when anything was rejected (with --strict nothing is written then), 0 otherwise.

    Example: newsner ingest corpus/raw/ ~/scraped/*.html feed.jsonl --source "Sahel Monitor" --jobs 2
    """
    target = Corpus(corpus or workspace_of(ctx).corpus_dir)
    progress = _LazyProgress()
    try:
        report = ingest(paths, target, source=source, jobs=jobs, strict=strict,
                        max_bytes=max(1, int(max_size * 1_048_576)), text_column=text_column, progress=progress)
    finally:
        progress.stop()
    console.print(_summary(report))
    if report.skipped:
        more = len(report.skipped) - 5
        shown = ", ".join(report.skipped[:5]) + (f" and {more} more" if more > 0 else "")
        typer.echo(f"note: skipped {len(report.skipped)} file(s) of other types in the folders: {shown}", err=True)
    for rejection in report.rejected:
        typer.echo(str(rejection), err=True)
    if report.rejected:
        if strict:
            typer.echo(f"--strict: {len(report.rejected)} input(s) rejected, nothing was written to "
                       f"{report.corpus}; fix or remove them and rerun", err=True)
        raise typer.Exit(1)
