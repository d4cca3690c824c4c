"""Models: pattern suggestions for annotators, and a spaCy NER baseline (train, evaluate).

Pre-annotations are AnnotationRecords written under annotations/suggestions/ (not a layer: they never vote in
a majority or count as an annotator); `newsner doccano push --with-annotations FILE` sends them to doccano where
annotators accept or correct them.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from newsner._io import normal_mode, read_jsonl
from newsner.errors import InputError, ModelError
from newsner.schema import AnnotationRecord, Article, LabelSchema, Span

SUGGESTER = "newsner-patterns"


def default_patterns_path() -> Path:
    """Conflict-news patterns shipped with the package (annotations/patterns/conflict.jsonl points to them)."""
    return Path(__file__).parent / "data" / "patterns.jsonl"


def load_patterns(path: Path, schema: LabelSchema) -> list[dict[str, Any]]:
    """Read spaCy EntityRuler patterns (JSONL: {"label", "pattern"}); every label must be in the schema."""
    patterns: list[dict[str, Any]] = []
    names = set(schema.names)
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        if not isinstance(obj, dict) or "label" not in obj or "pattern" not in obj:
            raise InputError(f"{where}: a pattern line needs 'label' and 'pattern' (spaCy EntityRuler format)")
        if obj["label"] not in names:
            raise InputError(f"{where}: label {obj['label']!r} is not in the label schema ({', '.join(schema.names)})")
        if not isinstance(obj["pattern"], (str, list)) or not obj["pattern"]:
            raise InputError(f"{where}: 'pattern' must be a phrase or a list of token patterns")
        patterns.append({"label": obj["label"], "pattern": obj["pattern"]})
    if not patterns:
        raise InputError(f"{path}: no patterns in the file")
    return patterns


def pre_annotate(
    articles: Iterable[Article],
    patterns: list[dict[str, Any]],
    *,
    annotator: str = SUGGESTER,
    progress: Callable[[int], None] | None = None,
) -> Iterator[AnnotationRecord]:
    """One unconfirmed record per article with the pattern matches as spans (longest match wins)."""
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spaCy is a core dependency
        raise ModelError(f"spaCy is not installed ({exc})") from None
    nlp = spacy.blank("en")
    # Phrases match case-insensitively: news text capitalises names at sentence starts and in headlines.
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    batch: list[Article] = []

    def flush() -> Iterator[AnnotationRecord]:
        for article, doc in zip(batch, nlp.pipe(a.text for a in batch), strict=True):
            spans = [Span(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents]
            yield AnnotationRecord(doc_id=article.id, text_sha256=article.text_sha256, annotator=annotator,
                                   spans=spans, status="unconfirmed", origin={"suggester": "patterns"})
        if progress:
            progress(len(batch))
        batch.clear()

    for article in articles:
        batch.append(article)
        if len(batch) >= 256:
            yield from flush()
    if batch:
        yield from flush()


# ------------------------------------------------------------------------------------------ training
CONFIG_PATH = Path(__file__).parent / "configs" / "ner.cfg"


@dataclass
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Scores:
    """Entity-level scores (seqeval, IOB2, strict span match) overall and per label, in schema order."""

    precision: float
    recall: float
    f1: float
    per_label: list[LabelScore]
    documents: int


def _docbin_path(data_dir: Path, split: str) -> Path:
    path = data_dir / f"{split}.spacy"
    if not path.exists():
        raise InputError(f"{path}: not found; create it with `newsner export spacy --out {data_dir}`")
    return path


def train(
    data_dir: Path,
    out: Path,
    schema: LabelSchema,
    *,
    max_steps: int = 2000,
    seed: int = 0,
    log: IO[str] | None = None,
) -> Path:
    """Train a spaCy NER baseline from `data_dir`/{train,validation}.spacy into `out` (atomically replaced).

    Returns the path of the best model (`out`/model-best). Labels are added in schema order, never from data.
    """
    import spacy
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as train_nlp
    from spacy.util import load_config

    train_path, dev_path = _docbin_path(data_dir, "train"), _docbin_path(data_dir, "validation")
    overrides = {
        "paths.train": str(train_path),
        "paths.dev": str(dev_path),
        "system.seed": seed,
        "training.max_steps": max_steps,
        "training.eval_frequency": max(20, min(200, max_steps // 10)),
    }
    config = load_config(CONFIG_PATH, overrides=overrides, interpolate=False)
    sink = log or io.StringIO()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(normal_mode(directory=True))  # mkdtemp makes 0700; the model is an ordinary output folder
    try:
        with contextlib.redirect_stdout(sink):
            nlp = init_nlp(config, use_gpu=-1)
            # spaCy collects labels from the training data; the schema decides which exist, so a label
            # with no example yet is still known to the model (and scored as 0, not missing).
            ner = nlp.get_pipe("ner")
            for name in schema.names:
                if name not in ner.labels:  # type: ignore[attr-defined]
                    ner.add_label(name)  # type: ignore[attr-defined]
            train_nlp(nlp, tmp, use_gpu=-1, stdout=sink, stderr=sink)
        if not (tmp / "model-best").exists():
            raise ModelError(f"training finished without a best model (see the log); data: {data_dir}")
        spacy.load(tmp / "model-best")  # fail here, not later, if what was written cannot be loaded
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except (ValueError, KeyError) as exc:
        raise ModelError(f"training on {data_dir} failed: {exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out / "model-best"


def _iob(doc: Any) -> list[str]:
    return [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ in ("B", "I") else "O" for t in doc]


def evaluate(model_dir: Path, data: Path, schema: LabelSchema) -> Scores:
    """Score a trained model on a DocBin (`test.spacy`); per-label entity-level P/R/F1 in schema order."""
    import spacy
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2
    from spacy.tokens import Doc, DocBin

    if not data.exists():
        raise InputError(f"{data}: not found; create it with `newsner export spacy --out {data.parent}`")
    try:
        nlp = spacy.load(model_dir)
    except OSError as exc:
        raise ModelError(f"{model_dir}: not a trained model ({exc}); run `newsner train` first") from None
    gold_docs = list(DocBin().from_disk(data).get_docs(nlp.vocab))
    if not gold_docs:
        raise InputError(f"{data}: holds no documents")
    gold = [_iob(d) for d in gold_docs]
    # Predict on the gold tokens (not a re-tokenized text) so both tag sequences line up token by token.
    fresh = (Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in gold_docs)
    predicted = [_iob(doc) for doc in nlp.pipe(fresh)]
    kwargs: dict[str, Any] = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    report = classification_report(gold, predicted, output_dict=True, **kwargs)
    per_label = [
        LabelScore(name, report.get(name, {}).get("precision", 0.0), report.get(name, {}).get("recall", 0.0),
                   report.get(name, {}).get("f1-score", 0.0), int(report.get(name, {}).get("support", 0)))
        for name in schema.names
    ]
    return Scores(precision=precision_score(gold, predicted, **kwargs), recall=recall_score(gold, predicted, **kwargs),
                  f1=f1_score(gold, predicted, **kwargs), per_label=per_label, documents=len(gold_docs))
