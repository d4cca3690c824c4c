"""`newsner pre-annotate`, `train`, `evaluate`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from newsner.cli._app import app, console, err_console, workspace_of
from newsner.errors import InputError

if TYPE_CHECKING:
    from newsner.model import Scores
    from newsner.schema import LabelSchema


class _Rate:
    """Progress on stderr for long loops: a line every few seconds with the count and the rate."""

    def __init__(self, what: str, every: float = 5.0) -> None:
        self.what, self.every = what, every
        self.started = self.last = time.monotonic()
        self.done = 0

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            err_console.print(f"{self.what}: {self.done} ({self.rate()})", markup=False)

    def rate(self) -> str:
        return f"{self.done / max(time.monotonic() - self.started, 1e-6):.1f}/s"


@app.command("pre-annotate")
def pre_annotate_cli(
    ctx: typer.Context,
    model: Annotated[Path | None, typer.Option(
        "--model", "-m", file_okay=False,
        help="A trained spaCy pipeline (`newsner train` output, e.g. models/baseline/model-best). Its spans carry "
             "source model:NAME and a beam probability as score. Alone, no patterns are used unless --patterns "
             "is given too (then model spans win overlaps, patterns fill gaps).")] = None,
    patterns: Annotated[Path | None, typer.Option(
        "--patterns", "-p", dir_okay=False,
        help="spaCy EntityRuler patterns (JSONL). Default without --model: "
             "WORKSPACE/annotations/patterns/conflict.jsonl, else the conflict-news patterns shipped with "
             "newsner.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", dir_okay=False,
        help="Where to write the suggestions. Default: WORKSPACE/annotations/suggestions/patterns.jsonl "
             "(model-NAME.jsonl or model-NAME+patterns.jsonl with --model).")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="local (this process) or ray (Ray Data workers, one model load per worker; needs "
                         "newsner[ray]; the model folder and corpus must be readable by every worker).")
    ] = "local",
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", envvar="RAY_ADDRESS", help="Ray cluster to run on with --engine ray (default: start Ray "
        "on this machine).")] = None,
) -> None:
    """Suggest spans for every corpus article from patterns and/or a trained model (unconfirmed records).

    Example: newsner pre-annotate --model models/baseline/model-best --patterns annotations/patterns/conflict.jsonl
    then: newsner doccano push --with-annotations annotations/suggestions/model-baseline+patterns.jsonl
    On a Ray cluster (same file, same bytes): RAY_ADDRESS=ray://head:10001 newsner pre-annotate --engine ray
    """
    from newsner._io import write_jsonl
    from newsner.corpus.store import Corpus
    from newsner.model.patterns import default_patterns_path
    from newsner.model.predict import Suggester, suggestion_records

    if engine not in ("local", "ray"):
        raise InputError(f"--engine must be local or ray, got {engine!r}")
    if engine == "ray":
        from newsner.ingest.ray_engine import require_ray

        require_ray()  # one line on how to install it, before any work
    ws = workspace_of(ctx)
    if patterns is None and model is None:
        own = ws.annotations_dir / "patterns" / "conflict.jsonl"
        patterns = own if own.exists() else default_patterns_path()
    corpus = Corpus(ws.corpus_dir)
    corpus.require()
    suggester = Suggester.load(ws.label_schema(), model_dir=model, patterns=patterns)  # checks before writing
    out = out or ws.annotations_dir / "suggestions" / f"{suggester.name.replace(':', '-')}.jsonl"
    spans = with_spans = 0
    rate = _Rate("articles suggested")

    def records() -> Iterator[dict[str, Any]]:
        nonlocal spans, with_spans
        if engine == "ray":
            from newsner.model.ray_predict import suggestion_records_ray

            recs: Iterator[Any] = suggestion_records_ray(corpus, suggester, ws.label_schema(), model_dir=model,
                                                         patterns=patterns, address=ray_address, progress=rate)
        else:
            recs = suggestion_records(corpus, suggester, progress=rate)
        for rec in recs:
            spans += len(rec.spans)
            with_spans += bool(rec.spans)
            yield rec.to_dict()

    n = write_jsonl(out, records())
    err_console.print(f"{suggester.name}: {n} article(s) at {rate.rate()}", markup=False)
    console.print(f"{spans} suggested span(s) on {with_spans} of {n} article(s) → {out}", markup=False)


@app.command("train")
def train_cli(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", "-d", file_okay=False,
                                       help="Folder with train.spacy, validation.spacy (`newsner export spacy`).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", file_okay=False,
                                             help="Model folder (default: WORKSPACE/models/baseline).")] = None,
    max_steps: Annotated[int, typer.Option(min=1, help="Training steps (more = better and slower).")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    curve: Annotated[bool, typer.Option(
        "--curve", help="Also train on 25/50/75 % of the training split (nested, seeded) and score every point: "
                        "F1 per label, a verdict line, OUT/curve.json. Takes about 4× as long.")] = False,
) -> None:
    """Train a spaCy NER baseline (CPU, no pretrained vectors) and print its scores on the test split.

    Example: newsner export spacy --out exports/spacy && newsner train --data exports/spacy
    Learning curve: newsner train --data exports/spacy --curve   (does more annotation still help?)
    """
    from newsner.model import evaluate, train

    ws = workspace_of(ctx)
    schema = ws.label_schema()
    out = out or ws.models_dir / "baseline"
    if curve:
        _train_curve(data, out, schema, max_steps=max_steps, seed=seed)
        return
    with err_console.status(f"training for up to {max_steps} steps…"):
        best = train(data, out, schema, max_steps=max_steps, seed=seed)
    console.print(f"model written to {best}", markup=False)
    test = data / "test.spacy"
    try:
        scores = evaluate(best, test, schema)
    except InputError as exc:  # no (or an empty) test split: the model is still fine, say why there are no scores
        err_console.print(f"no test scores: {exc}", markup=False)
    else:
        _print_scores(scores, title=f"scores on {test}")


def _train_curve(data: Path, out: Path, schema: LabelSchema, *, max_steps: int, seed: int) -> None:
    from newsner.model.curve import CurvePoint, train_curve

    started = time.monotonic()

    def on_point(p: CurvePoint) -> None:
        err_console.print(f"{p.fraction:.0%} of the training split ({p.train_docs} examples): F1 {p.scores.f1:.3f} "
                          f"({time.monotonic() - started:.0f} s)", markup=False)

    with err_console.status(f"learning curve: 4 trainings of up to {max_steps} steps…"):
        result = train_curve(data, out, schema, max_steps=max_steps, seed=seed, on_point=on_point)
    console.print(f"model written to {out / 'model-best'}", markup=False)
    table = Table(title=f"learning curve, F1 on {result.evaluated_on}", title_justify="left")
    table.add_column("train", justify="right")
    table.add_column("examples", justify="right")  # export units (sentences by default), not articles
    for name in schema.names:
        table.add_column(name, justify="right")
    table.add_column("overall", justify="right")
    for p in result.points:
        row = p.to_dict()["f1"]
        table.add_row(f"{p.fraction:.0%}", str(p.train_docs), *(f"{row[n]:.3f}" for n in schema.names),
                      f"{row['overall']:.3f}")
    console.print(table)
    console.print(f"verdict: {result.verdict}", markup=False)
    console.print(f"curve written to {out / 'curve.json'}", markup=False)


@app.command("evaluate")
def evaluate_cli(
    ctx: typer.Context,
    model: Annotated[Path | None, typer.Option(
        "--model", "-m", file_okay=False,
        help="A trained model folder (default: the workspace's models/baseline/model-best, what train writes)."
    )] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", "-d", dir_okay=False,
        help="A DocBin (default: the workspace's exports/spacy/test.spacy, what export spacy writes).")] = None,
) -> None:
    """Entity-level precision, recall and F1 per label (seqeval, strict IOB2) of a model on a DocBin.

    Example: newsner evaluate --model models/baseline/model-best --data exports/spacy/test.spacy
    """
    from newsner.model import evaluate

    ws = workspace_of(ctx)
    model = model or ws.models_dir / "baseline" / "model-best"
    data = data or ws.root / "exports" / "spacy" / "test.spacy"
    _print_scores(evaluate(model, data, ws.label_schema()), title=f"scores on {data}")


def _print_scores(scores: Scores, *, title: str) -> None:
    table = Table(title=f"{title} ({scores.documents} documents)", title_justify="left")
    for col in ("label", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "label" else "right")
    unmeasured = []
    for s in scores.per_label:
        if s.support == 0:  # nothing of this label to find here: 0.000 would read as "the model fails at it"
            unmeasured.append(s.label)
            table.add_row(s.label, f"{s.precision:.3f}" if s.precision else "–", "–", "–", "0")
        else:
            table.add_row(s.label, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support))
    table.add_row("[bold]all[/]", f"{scores.precision:.3f}", f"{scores.recall:.3f}", f"{scores.f1:.3f}",
                  str(sum(s.support for s in scores.per_label)))
    console.print(table)
    if unmeasured:
        console.print(f"note: no {', '.join(unmeasured)} in these documents, so their recall and F1 cannot be "
                      "measured here (annotate more of them, or export with another --seed / --splits)")
