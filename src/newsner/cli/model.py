"""`newsner pre-annotate`, `train`, `evaluate`."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
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
             "is given too (then a rule span wins an overlap, the model fills in where no rule fired).")] = None,
    patterns: Annotated[Path | None, typer.Option(
        "--patterns", "-p", dir_okay=False,
        help="The project's own patterns (spaCy EntityRuler JSONL, or rule lines with 'keep'; see the README), "
             "added to the rules shipped for each article's language (English, French; none: read from the "
             "text; another: both). "
             "Default without --model: WORKSPACE/annotations/patterns/conflict.jsonl, else the patterns "
             "shipped with newsner. Records carry the relations the relation rule finds over the spans.")] = None,
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
    base: Annotated[str | None, typer.Option(
        "--base", help="A pretrained spaCy pipeline (installed name such as fr_core_news_sm or en_core_web_sm, or "
                       "a folder) whose entities are mapped to the schema by base_map in labels.json: suggestions "
                       "before anything is annotated (round 0), merged with the patterns (a rule span wins an "
                       "overlap; the base fills in where no rule fired).")] = None,
) -> None:
    """Suggest spans for every corpus article from patterns, a pretrained base and/or a trained model
    (unconfirmed records). --model takes a spaCy or a transformers model `newsner train` wrote.

    Example: newsner pre-annotate --model models/baseline/model-best --patterns annotations/patterns/conflict.jsonl
    then: newsner doccano push --with-annotations annotations/suggestions/model-baseline+patterns.jsonl
    Round 0 from a pretrained pipeline: newsner pre-annotate --base fr_core_news_sm
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
    suggester = Suggester.load(ws.label_schema(), model_dir=model, patterns=patterns, base=base)  # checks first
    out = out or ws.annotations_dir / "suggestions" / f"{suggester.name.replace(':', '-')}.jsonl"
    spans = with_spans = relations = 0
    rate = _Rate("articles suggested")

    def records() -> Iterator[dict[str, Any]]:
        nonlocal spans, with_spans, relations
        if engine == "ray":
            from newsner.model.ray_predict import suggestion_records_ray

            recs: Iterator[Any] = suggestion_records_ray(corpus, suggester, ws.label_schema(), model_dir=model,
                                                         patterns=patterns, address=ray_address, progress=rate,
                                                         base=base)
        else:
            recs = suggestion_records(corpus, suggester, progress=rate)
        for rec in recs:
            spans += len(rec.spans)
            relations += len(rec.relations)
            with_spans += bool(rec.spans)
            yield rec.to_dict()

    n = write_jsonl(out, records())
    err_console.print(f"{suggester.name}: {n} article(s) at {rate.rate()}", markup=False)
    console.print(f"{spans} suggested span(s) and {relations} relation(s) on {with_spans} of {n} article(s) → {out}",
                  markup=False)


@app.command("train")
def train_cli(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option(
        "--data", "-d", file_okay=False,
        help="The export to train on: `newsner export spacy` (train/validation/test.spacy) for the spacy engine, "
             "`newsner export hf` for transformers. Default: WORKSPACE/exports/spacy or exports/hf.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", file_okay=False,
        help="Model folder (default: WORKSPACE/models/baseline, models/transformer for --engine transformers).")
    ] = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="spacy (CNN, CPU, from scratch or from a pretrained spaCy --base) or transformers "
                         "(fine-tunes --base, a transformers model folder or name; needs newsner[transformers]; "
                         "a GPU when there is one).")] = "spacy",
    base: Annotated[str | None, typer.Option(
        "--base", help="spacy: an installed pipeline (fr_core_news_sm) or its folder, whose NER is the start; "
                       "transformers: a local model folder, or a hub name transformers resolves itself.")] = None,
    max_steps: Annotated[int | None, typer.Option(
        min=1, help="Training steps (more = better and slower). Default: 2000 (spacy); transformers: --epochs.")
    ] = None,
    epochs: Annotated[float, typer.Option(min=0.01, help="transformers: passes over the training split when "
                                                         "--max-steps is not given.")] = 3.0,
    learning_rate: Annotated[float, typer.Option("--learning-rate", min=1e-8, help="transformers: AdamW's "
                                                 "peak learning rate.")] = 5e-5,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="transformers: examples a step.")] = 16,
    patience: Annotated[int, typer.Option(min=1, help="transformers: stop after this many evaluations without a "
                                                      "better validation F1.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    curve: Annotated[bool, typer.Option(
        "--curve", help="Also train on 25/50/75 % of the training split (nested, seeded) and score every point: "
                        "F1 per label, a verdict line, OUT/curve.json. Takes about 4× as long.")] = False,
) -> None:
    """Train an NER model and print its scores on the test split; one progress line per evaluation on stderr.

    Example: newsner export spacy --out exports/spacy && newsner train --data exports/spacy
    From a pretrained spaCy pipeline: newsner train --data exports/spacy --base fr_core_news_sm
    Transformers: newsner export hf --out exports/hf && newsner train --engine transformers --base PATH_OR_NAME
    Learning curve: newsner train --data exports/spacy --curve   (does more annotation still help?)
    """
    from newsner.model import evaluate

    if engine not in ("spacy", "transformers"):
        raise InputError(f"--engine must be spacy or transformers, got {engine!r}")
    ws = workspace_of(ctx)
    schema = ws.label_schema()
    hf = engine == "transformers"
    if hf:
        from newsner.model.hf_data import require_transformers

        require_transformers()  # one line on how to install it, before any work
        if base is None:
            raise InputError("--engine transformers needs --base: a local model folder (config.json, weights, "
                             "tokenizer) or a name transformers resolves, e.g. --base models/bases/camembert-base")
    data = data or ws.root / "exports" / ("hf" if hf else "spacy")
    out = out or ws.models_dir / ("transformer" if hf else "baseline")
    opts = _TrainOpts(engine=engine, base=base, max_steps=max_steps, epochs=epochs, learning_rate=learning_rate,
                      batch_size=batch_size, patience=patience, seed=seed)
    if curve:
        _train_curve(data, out, schema, opts)
        return
    best = _train_one(data, out, schema, opts)
    console.print(f"model written to {best}", markup=False)
    test = data if hf else data / "test.spacy"
    try:
        scores = evaluate(best, test, schema)
    except InputError as exc:  # no (or an empty) test split: the model is still fine, say why there are no scores
        err_console.print(f"no test scores: {exc}", markup=False)
    else:
        _print_scores(scores, title=f"scores on {test}" + (" (test split)" if hf else ""))


@dataclass
class _TrainOpts:
    engine: str
    base: str | None
    max_steps: int | None
    epochs: float
    learning_rate: float
    batch_size: int
    patience: int
    seed: int

    def library_kwargs(self) -> dict[str, Any]:
        if self.engine == "spacy":
            return {"max_steps": self.max_steps or 2000, "seed": self.seed, "base": self.base}
        return {"base": self.base, "max_steps": self.max_steps, "epochs": self.epochs,
                "learning_rate": self.learning_rate, "batch_size": self.batch_size, "patience": self.patience,
                "seed": self.seed}

    def describe(self) -> str:
        if self.engine == "spacy":
            start = f" from {self.base}" if self.base else ""
            return f"training spaCy NER{start} for up to {self.max_steps or 2000} steps"
        steps = f"{self.max_steps} steps" if self.max_steps else f"{self.epochs:g} epoch(s)"
        return f"fine-tuning {self.base} for up to {steps}"


def _progress_line(line: str) -> None:
    err_console.print(line, markup=False, highlight=False)


def _train_one(data: Path, out: Path, schema: LabelSchema, opts: _TrainOpts) -> Path:
    """Train with one progress line per evaluation on stderr (a spinner too when stderr is a terminal)."""
    from newsner.model import train

    if opts.engine == "spacy":
        from newsner.model.train import check_data

        check_data(data)  # bad data is one line, not a start line followed by an error
    status = err_console.status(f"{opts.describe()}…") if err_console.is_terminal else contextlib.nullcontext()
    if not err_console.is_terminal:
        _progress_line(f"{opts.describe()}…")
    with status:
        if opts.engine == "transformers":
            from newsner.model.hf_train import train_transformer

            result = train_transformer(data, out, schema, progress=_progress_line, **opts.library_kwargs())
            _progress_line(f"trained {result.steps} steps in {result.seconds:.0f} s "
                           f"({result.examples_per_second:.1f} examples/s)")
            return result.path
        return train(data, out, schema, progress=_progress_line, **opts.library_kwargs())


def _train_curve(data: Path, out: Path, schema: LabelSchema, opts: _TrainOpts) -> None:
    from newsner.model.curve import CurvePoint, train_curve

    started = time.monotonic()

    def on_point(p: CurvePoint) -> None:
        err_console.print(f"{p.fraction:.0%} of the training split ({p.train_docs} examples): F1 {p.scores.f1:.3f} "
                          f"({time.monotonic() - started:.0f} s)", markup=False)

    what = f"learning curve: 4 trainings, each {opts.describe()}"
    status = err_console.status(f"{what}…") if err_console.is_terminal else contextlib.nullcontext()
    if not err_console.is_terminal:
        _progress_line(f"{what}…")
    with status:
        result = train_curve(data, out, schema, on_point=on_point, engine=opts.engine, progress=_progress_line,
                             **opts.library_kwargs())
    console.print(f"model written to {out if opts.engine == 'transformers' else out / 'model-best'}", markup=False)
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
        help="A trained model folder (default: the workspace's models/baseline/model-best, what train writes; "
             "a transformers model folder works too).")] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", "-d",
        help="A DocBin (default: the workspace's exports/spacy/test.spacy, what export spacy writes); for a "
             "transformers model also an `export hf` folder, whose test split is scored (default: the export "
             "the model was trained on).")] = None,
) -> None:
    """Entity-level precision, recall and F1 per label (seqeval, strict IOB2) of a model on the test split.

    Example: newsner evaluate --model models/baseline/model-best --data exports/spacy/test.spacy
    Transformers: newsner evaluate --model models/transformer --data exports/hf
    """
    from newsner.model import evaluate
    from newsner.model.meta import is_transformer_dir, read_meta

    ws = workspace_of(ctx)
    model = model or ws.models_dir / "baseline" / "model-best"
    if data is None and model.is_dir() and is_transformer_dir(model):
        trained_on = ((read_meta(model) or {}).get("export") or {}).get("path")
        data = Path(trained_on) if trained_on and Path(trained_on).is_dir() else ws.root / "exports" / "hf"
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
