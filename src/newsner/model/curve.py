"""`newsner train --curve`: F1 per label at 25/50/75/100 % of the training split (as Prodigy's train-curve).

The subsets are nested (each larger one holds the smaller one) and drawn in a seeded order, so the curve shows what
adding annotations did, not what a different sample did. Every point is trained with the same steps and seed and
scored on the test split (the validation split when the export has no test documents). The 100 % point is the
ordinary training run: its model is written to the output folder as `newsner train` always does; the smaller ones
are trained in a temporary folder and discarded. The result goes to `<out>/curve.json`.
"""

from __future__ import annotations

import random
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
#: A change of overall F1 smaller than this over the last step counts as flat.
FLAT = 0.01


@dataclass
class CurvePoint:
    fraction: float
    train_docs: int
    scores: Scores

    def to_dict(self) -> dict[str, Any]:
        f1 = {s.label: round(float(s.f1), 4) for s in self.scores.per_label}  # seqeval gives numpy floats
        f1["overall"] = round(float(self.scores.f1), 4)
        return {"fraction": self.fraction, "train_docs": self.train_docs, "f1": f1}


@dataclass
class Curve:
    data: str
    evaluated_on: str
    points: list[CurvePoint] = field(default_factory=list)
    created_at: str = field(default_factory=utc_now)

    @property
    def verdict(self) -> str:
        return verdict([(p.fraction, p.scores.f1) for p in self.points])

    def to_dict(self) -> dict[str, Any]:
        return {"created_at": self.created_at, "data": self.data, "evaluated_on": self.evaluated_on,
                "points": [p.to_dict() for p in self.points], "verdict": self.verdict}


def verdict(points: Sequence[tuple[float, float]]) -> str:
    """One plain line from (fraction, overall F1) points: does the last step still add?"""
    if len(points) < 2:
        return "one point only: no trend to read"
    if max(f for _, f in points) < 0.05:
        # Nothing was learned at any size: "flat" would wrongly blame the data's variety.
        return ("no learning: F1 stays near 0 at every size; train longer (--max-steps) and check that the "
                "export has entities in train and test before reading the curve")
    (f0, a), (f1, b) = points[-2], points[-1]
    step = f"the last {round((f1 - f0) * 100)}% of the training data"
    delta = b - a
    if delta >= FLAT:
        return f"{step} added {delta:+.2f} F1 ({a:.2f} → {b:.2f}): more annotation still helps"
    if delta <= -FLAT:
        return (f"{step} changed F1 by {delta:+.2f} ({a:.2f} → {b:.2f}): noisy at this size; the added "
                "annotations may disagree with the rest (check agreement) or the test split is small")
    return (f"flat: {step} added {delta:+.2f} F1 ({a:.2f} → {b:.2f}); more of the same is unlikely to help — "
            "annotate different articles (--strategy uncertain/diverse) or review label consistency")


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
    curve = Curve(data=str(data_dir), evaluated_on=str(test))
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
            point = CurvePoint(fraction, n, evaluate(best, test, schema))
            curve.points.append(point)
            if on_point:
                on_point(point)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "curve.json", dumps(curve.to_dict()) + "\n")
    return curve
