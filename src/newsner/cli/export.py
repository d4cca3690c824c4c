"""`newsner export hf|spacy|conll`: annotated articles → DatasetDict / DocBins / CoNLL, with an alignment report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from newsner.cli._app import console, err_console, export_app, workspace_of

if TYPE_CHECKING:
    from newsner.export import ExportOptions, ExportResult


class LazyProgress:
    """A progress bar on stderr that appears only when a run takes more than half a second."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            if time.monotonic() - self.started < 0.5 or not err_console.is_terminal:
                return
            self.progress = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(),
                                     TimeRemainingColumn(), console=err_console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=total or None)
        assert self.task is not None
        self.progress.update(self.task, completed=done, total=total or None)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


Out = Annotated[Path, typer.Option("--out", "-o", file_okay=False,
                                   help="Folder to write (replaced as a whole; must be empty or an earlier export).")]
Layer = Annotated[str, typer.Option(
    "--layer", "-l", help="gold (annotations/gold.jsonl), an annotator's layer name, or majority (span-level vote "
    "over the annotator layers).")]
Unit = Annotated[str, typer.Option("--unit", "-u", help="sentence, document, or window (sentences packed into "
                                                        "--max-tokens).")]
MaxTokens = Annotated[int | None, typer.Option(
    "--max-tokens", min=1, help="Longest example in tokens (window size for --unit window, default 128; cuts "
    "longer sentences/documents).")]
Splits = Annotated[str, typer.Option("--splits", help="train,validation,test fractions.")]
Seed = Annotated[int, typer.Option("--seed", help="Changes which clusters land in which split.")]
Unconfirmed = Annotated[bool, typer.Option("--include-unconfirmed", help="Also export unconfirmed documents.")]
Strict = Annotated[bool, typer.Option("--strict", help="Write nothing if any span does not fit the tokens.")]
Resolution = Annotated[str, typer.Option(
    "--resolution", help="Misaligned spans: contract (tokens fully inside) or expand (tokens touched).")]
AllowEmpty = Annotated[bool, typer.Option(
    "--allow-empty", help="Write the export even with no confirmed document or no entity (refused otherwise).")]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Processes tokenizing in parallel.")]
License = Annotated[str | None, typer.Option(
    "--license", help="The dataset's licence identifier for the card and dataset_info.json (e.g. cc-by-4.0, mit, "
    "other). Default: the one licence the exported sources declare, else unknown.")]


def _run(ctx: typer.Context, options: ExportOptions, out: Path) -> None:
    from newsner.export import export  # numpy, the annotation store: not needed for --help
    from newsner.export.card import record_export

    progress = LazyProgress("exporting")
    workspace = workspace_of(ctx)
    try:
        result = export(workspace, out, options, progress=progress)
    finally:
        progress.stop()
    _render(result)
    problem = record_export(workspace, result.out, options.fmt)  # so `newsner report` finds it outside exports/
    if problem:
        typer.echo(f"note: {problem}", err=True)


def _render(result: ExportResult) -> None:
    o = result.options
    for line in result.recovered:
        typer.echo(f"recovered: {line}", err=True)
    console.print(f"export {o.fmt} → {result.out}  (layer {o.layer}, unit {o.unit})", markup=False, soft_wrap=True)
    table = Table(title="splits", title_justify="left")
    for col in ("split", "examples", "articles", "tokens", "entities"):
        table.add_column(col, justify="left" if col == "split" else "right", no_wrap=True)
    for split, st in result.splits.items():
        table.add_row(split, str(st.examples), str(st.documents), str(st.tokens), str(sum(st.entities.values())))
    console.print(table)
    labels = Table(title="entities per label", title_justify="left")
    for col in ("label", *result.splits):
        labels.add_column(col, justify="left" if col == "label" else "right", no_wrap=True)
    for label in result.labels:
        labels.add_row(label, *(str(st.entities.get(label, 0)) for st in result.splits.values()))
    console.print(labels)
    align = Table(title="alignment", title_justify="left")
    align.add_column("")
    align.add_column("spans", justify="right")
    for key, value in result.alignment.items():
        align.add_row(key.replace("_", " "), str(value))
    console.print(align)
    if result.issues_total:
        console.print(f"{result.issues_total} span(s) did not go in as annotated (resolution: {o.resolution}); "
                      f"all listed in {result.out / 'alignment.jsonl'}. First:", markup=False, soft_wrap=True)
        for issue in result.issues_preview[:10]:
            console.print(f"  {issue}", markup=False, soft_wrap=True)
    for line in result.skipped_documents:
        typer.echo(f"skipped {line}", err=True)
    if result.unconfirmed_left_out:
        console.print(f"{result.unconfirmed_left_out} unconfirmed record(s) left out (--include-unconfirmed to "
                      "export them)", markup=False)
    for move in result.split_moves:
        console.print(f"split: {move}", markup=False, soft_wrap=True)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    console.print(f"dataset card: {result.out / 'README.md'}", markup=False, soft_wrap=True)


@export_app.command("hf")
def hf_cli(
    ctx: typer.Context,
    out: Out,
    layer: Layer = "gold",
    unit: Unit = "sentence",
    max_tokens: MaxTokens = None,
    splits: Splits = "0.8,0.1,0.1",
    seed: Seed = 0,
    include_unconfirmed: Unconfirmed = False,
    strict: Strict = False,
    resolution: Resolution = "contract",
    jobs: Jobs = 1,
    allow_empty: AllowEmpty = False,
    license_: License = None,
    parquet: Annotated[bool, typer.Option("--parquet", help="Also write parquet/<split>.parquet.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Also write jsonl/<split>.jsonl.")] = False,
) -> None:
    """A datasets.DatasetDict (train/validation/test) that loads with load_from_disk, like conll2003.

    Features: id, doc_id, tokens, ner_tags (ClassLabel names from the label schema), source, published,
    language. Writes README.md (dataset card), export.json and alignment.jsonl beside the data.

    Example: newsner export hf --out exports/hf --layer gold --unit sentence --splits 0.8,0.1,0.1 --license cc-by-4.0
    """
    from newsner.export import ExportOptions, parse_splits

    _run(ctx, ExportOptions("hf", layer, unit, max_tokens, parse_splits(splits), seed, include_unconfirmed, strict,
                            resolution, parquet, jsonl, jobs, allow_empty=allow_empty, license=license_), out)


@export_app.command("spacy")
def spacy_cli(
    ctx: typer.Context,
    out: Out,
    layer: Layer = "gold",
    unit: Unit = "sentence",
    max_tokens: MaxTokens = None,
    splits: Splits = "0.8,0.1,0.1",
    seed: Seed = 0,
    include_unconfirmed: Unconfirmed = False,
    strict: Strict = False,
    resolution: Resolution = "contract",
    jobs: Jobs = 1,
    allow_empty: AllowEmpty = False,
    license_: License = None,
) -> None:
    """spaCy DocBins train.spacy / validation.spacy / test.spacy (one Doc per example, entities in doc.ents).

    Example: newsner export spacy --out exports/spacy && newsner train --data exports/spacy
    """
    from newsner.export import ExportOptions, parse_splits

    _run(ctx, ExportOptions("spacy", layer, unit, max_tokens, parse_splits(splits), seed, include_unconfirmed,
                            strict, resolution, jobs=jobs, allow_empty=allow_empty, license=license_), out)


@export_app.command("conll")
def conll_cli(
    ctx: typer.Context,
    out: Out,
    layer: Layer = "gold",
    unit: Unit = "sentence",
    max_tokens: MaxTokens = None,
    splits: Splits = "0.8,0.1,0.1",
    seed: Seed = 0,
    include_unconfirmed: Unconfirmed = False,
    strict: Strict = False,
    resolution: Resolution = "contract",
    jobs: Jobs = 1,
    allow_empty: AllowEmpty = False,
    license_: License = None,
    scheme: Annotated[str, typer.Option("--scheme", help="Tag dialect: iob2, iob1, io or bioes.")] = "iob2",
    columns: Annotated[int, typer.Option(
        "--columns", help="4 (TOKEN _ _ TAG, article id on -DOCSTART-) or 2 (TOKEN TAG).")] = 4,
) -> None:
    """CoNLL-2003 style train.conll / validation.conll / test.conll (`annotations import --format conll` reads them).

    Example: newsner export conll --out exports/conll --scheme iob2 --columns 4
    """
    from newsner.export import ExportOptions, parse_splits

    _run(ctx, ExportOptions("conll", layer, unit, max_tokens, parse_splits(splits), seed, include_unconfirmed,
                            strict, resolution, jobs=jobs, conll_scheme=scheme, conll_columns=columns,
                            allow_empty=allow_empty, license=license_), out)
