"""`newsner train --curve`: F1 per label at 25/50/75/100 % of the training split (as Prodigy's train-curve).

The subsets are nested (each larger one holds the smaller one) and drawn in a seeded order, so the curve shows what
adding annotations did, not what a different sample did. Every point is trained with the same steps and seed and
scored on the test split (the validation split when the export has no test documents). The 100 % point is the
ordinary training run: its model is written to the output folder as `newsner train` always does; the smaller ones
are trained in a temporary folder and discarded. The result goes to `<out>/curve.json`, which records the split
scored (`split`), the export's unit (`unit`: sentence examples are not documents) and, per point, the training
examples and (where known) documents.

A verdict needs evidence: the last step's change of overall F1 is tested with a paired bootstrap over the
evaluation split's examples (95 % interval, `evidence` in curve.json). "More annotation helps" is said only when the
whole interval is above 0, "flat" only when it is within ±`FLAT_CI`; a split under `MIN_EVAL_EXAMPLES` examples or
`MIN_EVAL_ENTITIES` entities, or an interval that spans 0 and more, gives "too little to tell".
"""

from __future__ import annotations

import json
import random
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from newsner._io import atomic_write_text, dumps, utc_now
from newsner.errors import InputError
from newsner.model.data import read_docbin
from newsner.model.evaluate import Scores, evaluate
from newsner.model.train import _docbin_path, train
from newsner.schema import LabelSchema

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
#: A verdict needs at least this many evaluation examples and gold entities: below, any change may be chance.
MIN_EVAL_EXAMPLES = 20
MIN_EVAL_ENTITIES = 30
#: "flat" needs the whole 95 % interval of the last step's F1 change within ± this.
FLAT_CI = 0.03
#: Bootstrap resamples of the evaluation examples.
BOOTSTRAP = 1000


@dataclass
class CurvePoint:
    fraction: float
    #: training examples (the export's units: sentences by default); the name is kept for older readers
    train_docs: int
    scores: Scores
    #: distinct articles behind those examples, when known (document unit, or the whole training split)
    train_documents: int | None = None
    #: per evaluation example (true positives, false positives, false negatives): the bootstrap's input
    counts: list[tuple[int, int, int]] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        f1 = {s.label: round(float(s.f1), 4) for s in self.scores.per_label}  # seqeval gives numpy floats
        f1["overall"] = round(float(self.scores.f1), 4)
        return {"fraction": self.fraction, "train_docs": self.train_docs, "train_examples": self.train_docs,
                "train_documents": self.train_documents, "f1": f1}


@dataclass
class Evidence:
    """What the verdict rests on: the evaluation split's size and the last step's F1 change with its interval."""

    eval_examples: int
    eval_entities: int
    delta: float
    ci95: tuple[float, float] | None
    seeds: int = 1
    resamples: int = BOOTSTRAP

    def to_dict(self) -> dict[str, Any]:
        return {"eval_examples": self.eval_examples, "eval_entities": self.eval_entities,
                "delta": round(self.delta, 4), "ci95": None if self.ci95 is None else [round(x, 4) for x in self.ci95],
                "method": "paired bootstrap over evaluation examples", "resamples": self.resamples,
                "seeds": self.seeds}


@dataclass
class Curve:
    data: str
    evaluated_on: str
    points: list[CurvePoint] = field(default_factory=list)
    created_at: str = field(default_factory=utc_now)
    #: the split scored ("test", or "validation" when the export has no test documents); None: read from
    #: `evaluated_on` ("…/test.spacy", "… (validation split)")
    split: str | None = None
    #: the export's example unit (sentence, document, window), from its export.json; None if unknown
    unit: str | None = None
    seed: int = 0

    @property
    def evidence(self) -> Evidence | None:
        if len(self.points) < 2 or not self.points[-1].counts:
            return None
        a, b = self.points[-2], self.points[-1]
        return Evidence(len(b.counts), sum(tp + fn for tp, _, fn in b.counts), b.scores.f1 - a.scores.f1,
                        bootstrap_delta(a.counts, b.counts, seed=self.seed))

    @property
    def verdict(self) -> str:
        return verdict([(p.fraction, p.scores.f1) for p in self.points], self.evidence)

    def to_dict(self) -> dict[str, Any]:
        evidence = self.evidence
        return {"created_at": self.created_at, "data": self.data, "evaluated_on": self.evaluated_on,
                "split": self.split or split_of(self.evaluated_on), "unit": self.unit,
                "points": [p.to_dict() for p in self.points],
                "evidence": None if evidence is None else evidence.to_dict(), "verdict": self.verdict}


def split_of(evaluated_on: str) -> str | None:
    """The split name in an `evaluated_on` string: "exports/spacy/test.spacy" → test, "x (validation split)" →
    validation; None when it names none."""
    m = re.search(r"\((\w+) split\)\s*$", evaluated_on)
    if m:
        return m.group(1)
    return Path(evaluated_on).stem if evaluated_on.endswith(".spacy") else None


def _f1(tp: Any, fp: Any, fn: Any) -> Any:
    import numpy as np

    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def bootstrap_delta(before: Sequence[tuple[int, int, int]], after: Sequence[tuple[int, int, int]], *,
                    resamples: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float] | None:
    """95 % interval of F1(after) − F1(before), resampling the same evaluation examples for both (paired)."""
    import numpy as np

    if not before or len(before) != len(after):
        return None
    a, b = np.asarray(before, dtype=np.int64), np.asarray(after, dtype=np.int64)
    idx = np.random.default_rng(seed).integers(0, len(a), size=(resamples, len(a)))
    sa, sb = a[idx].sum(axis=1), b[idx].sum(axis=1)
    delta = _f1(sb[:, 0], sb[:, 1], sb[:, 2]) - _f1(sa[:, 0], sa[:, 1], sa[:, 2])
    low, high = np.percentile(delta, [2.5, 97.5])
    return float(low), float(high)


def verdict(points: Sequence[tuple[float, float]], evidence: Evidence | None = None) -> str:
    """One plain line from (fraction, overall F1) points: does the last step still add, and can we tell?"""
    if len(points) < 2:
        return "one point only: no trend to read"
    if max(f for _, f in points) < 0.05:
        # Nothing was learned at any size: "flat" would wrongly blame the data's variety.
        return ("no learning: F1 stays near 0 at every size; train longer (--max-steps) and check that the "
                "export has entities in train and test before reading the curve")
    (f0, a), (f1, b) = points[-2], points[-1]
    step = f"the last {round((f1 - f0) * 100)}% of the training data"
    delta = b - a
    change = f"{step} changed F1 by {delta:+.2f} ({a:.2f} → {b:.2f})"
    if evidence is None or evidence.ci95 is None:
        return f"too little to tell: {change}, with no confidence interval to say whether that is more than chance"
    if evidence.eval_examples < MIN_EVAL_EXAMPLES or evidence.eval_entities < MIN_EVAL_ENTITIES:
        return (f"too little to tell: {change} on an evaluation split of {evidence.eval_examples} example(s) "
                f"with {evidence.eval_entities} entities; a verdict needs at least {MIN_EVAL_EXAMPLES} examples "
                f"and {MIN_EVAL_ENTITIES} entities (export more test data, or read the per-label scores)")
    low, high = evidence.ci95
    ci = f"95% interval {low:+.2f} to {high:+.2f} over {evidence.eval_examples} examples"
    if low > 0:
        return f"{step} added {delta:+.2f} F1 ({a:.2f} → {b:.2f}; {ci}): more annotation still helps"
    if high < 0:
        return (f"{change} ({ci}): worse beyond chance; the added annotations may disagree with the rest "
                "(check agreement)")
    if -FLAT_CI <= low and high <= FLAT_CI:
        return (f"flat: {change} ({ci}); more of the same is unlikely to help — annotate different articles "
                "(--strategy uncertain/diverse) or review label consistency")
    return (f"too little to tell: {change}, but the {ci} spans 0; a larger evaluation split (or more seeds) "
            "would tell")


def _per_example(model_dir: Path, data: Path) -> list[tuple[int, int, int]]:
    """(true positives, false positives, false negatives) per evaluation example: exact span and label."""
    import spacy
    from spacy.tokens import Doc

    nlp = spacy.load(model_dir)
    gold_docs = list(read_docbin(data).get_docs(nlp.vocab))
    # Predict on the gold tokens, as `evaluate` does, so the spans compare token by token.
    fresh = (Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in gold_docs)
    out = []
    for gold, pred in zip(gold_docs, nlp.pipe(fresh), strict=True):
        g = {(e.start, e.end, e.label_) for e in gold.ents}
        p = {(e.start, e.end, e.label_) for e in pred.ents}
        tp = len(g & p)
        out.append((tp, len(p) - tp, len(g) - tp))
    return out


def _export_meta(data_dir: Path) -> dict[str, Any]:
    """The export's export.json (unit, split sizes), or {} when the folder was not written by `newsner export`."""
    try:
        meta = json.loads((data_dir / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _eval_split(data_dir: Path) -> Path:
    test = data_dir / "test.spacy"
    try:
        read_docbin(test)
    except InputError:
        return _docbin_path(data_dir, "validation")
    return test


def train_curve(
    data_dir: Path,
    out: Path,
    schema: LabelSchema,
    *,
    max_steps: int = 2000,
    seed: int = 0,
    fractions: Sequence[float] = FRACTIONS,
    log: IO[str] | None = None,
    on_point: Callable[[CurvePoint], None] | None = None,
    engine: str = "spacy",
    base: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    **hf_kwargs: Any,
) -> Curve:
    """Train at each fraction of the train split, score each, write `out`/curve.json; the 100 % model stays in
    `out`. `engine="transformers"` reads an `export hf` folder and fine-tunes `base` (`hf_kwargs`: max_steps,
    epochs, learning_rate, batch_size, patience); `progress` gets the trainings' evaluation lines."""
    from spacy.tokens import DocBin

    if not fractions or any(not 0 < f <= 1 for f in fractions) or list(fractions) != sorted(fractions):
        raise InputError(f"curve fractions must rise within (0, 1], got {list(fractions)}")
    if engine == "transformers":
        if base is None:
            raise InputError("the transformers learning curve needs --base")
        from newsner.model.hf_curve import train_curve_transformers

        return train_curve_transformers(data_dir, out, schema, fractions=fractions, seed=seed, on_point=on_point,
                                        base=base, progress=progress, **({"max_steps": max_steps} | hf_kwargs))
    train_db = read_docbin(_docbin_path(data_dir, "train"), split="train")
    _docbin_path(data_dir, "validation")
    test = _eval_split(data_dir)
    import spacy

    vocab = spacy.blank("en").vocab
    docs = list(train_db.get_docs(vocab))
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    meta = _export_meta(data_dir)
    unit = meta.get("unit") if isinstance(meta.get("unit"), str) else None
    train_meta = (meta.get("splits") or {}).get("train") if isinstance(meta.get("splits"), dict) else None
    total_docs = train_meta.get("documents") if isinstance(train_meta, dict) else None
    total_docs = total_docs if isinstance(total_docs, int) else None
    curve = Curve(data=str(data_dir), evaluated_on=str(test), split=test.stem, unit=unit, seed=seed)
    scratch = Path(tempfile.mkdtemp(prefix=".curve.", dir=out.parent if out.parent.exists() else None))
    try:
        for fraction in fractions:
            n = max(1, round(fraction * len(docs)))
            if fraction == fractions[-1] and fraction == 1.0:
                best = train(data_dir, out, schema, max_steps=max_steps, seed=seed, log=log, base=base,
                             progress=progress)
            else:
                subset = scratch / f"train-{fraction}.spacy"
                DocBin(docs=[docs[i] for i in sorted(order[:n])], store_user_data=True).to_disk(subset)
                best = train(data_dir, scratch / f"model-{fraction}", schema, max_steps=max_steps, seed=seed,
                             log=log, train_path=subset, base=base, progress=progress)
            documents = n if unit == "document" else total_docs if n == len(docs) else None
            point = CurvePoint(fraction, n, evaluate(best, test, schema), documents, _per_example(best, test))
            curve.points.append(point)
            if on_point:
                on_point(point)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return save_curve(curve, out)


def save_curve(curve: Curve, out: Path) -> Curve:
    """Write `out`/curve.json (atomically) for either engine's curve; returns the curve."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "curve.json", dumps(curve.to_dict()) + "\n")
    return curve
