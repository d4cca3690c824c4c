"""`newsner train --engine transformers --curve`: the learning curve of a fine-tuned transformer.

As `newsner.model.curve` does for spaCy: nested, seeded subsets (25/50/75/100 %) of the `export hf` train split,
each fine-tuned with the same settings and seed and scored on the test split (validation when the export has no
test examples); the 100 % model is the one written to the output folder, the smaller ones are discarded.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from newsner.model.curve import Curve, CurvePoint, save_curve
from newsner.schema import LabelSchema


def _eval_split_hf(data_dir: Path, schema: LabelSchema) -> str:
    from newsner.model.hf_data import load_export

    ds = load_export(data_dir, schema)
    return "test" if "test" in ds and len(ds["test"]) else "validation"


def train_curve_transformers(data_dir: Path, out: Path, schema: LabelSchema, *, fractions: Sequence[float],
                             seed: int, on_point: Callable[[CurvePoint], None] | None,
                             **train_kwargs: Any) -> Curve:
    """The curve for `--engine transformers`: subsets of the `export hf` train split, scored on its test split."""
    from newsner.model.evaluate import entities, score_tags, transformer_tags
    from newsner.model.hf_data import load_export
    from newsner.model.hf_train import train_transformer

    n_train = len(load_export(data_dir, schema)["train"])
    split = _eval_split_hf(data_dir, schema)
    order = list(range(n_train))
    random.Random(seed).shuffle(order)
    curve = Curve(data=str(data_dir), evaluated_on=f"{data_dir} ({split} split)", split=split, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".curve.", dir=out.parent))
    try:
        for fraction in fractions:
            n = max(1, round(fraction * n_train))
            full = fraction == fractions[-1] and fraction == 1.0
            target = out if full else scratch / f"model-{fraction}"
            result = train_transformer(data_dir, target, schema, seed=seed,
                                       train_indices=None if full else sorted(order[:n]), **train_kwargs)
            gold, predicted = transformer_tags(result.path, data_dir, schema, split=split)
            counts = []  # per evaluation example (tp, fp, fn): the verdict's bootstrap
            for g_tags, p_tags in zip(gold, predicted, strict=True):
                g, pr = entities(g_tags), entities(p_tags)
                counts.append((len(g & pr), len(pr - g), len(g - pr)))
            point = CurvePoint(fraction, n, score_tags(gold, predicted, schema), counts=counts)
            curve.points.append(point)
            if on_point:
                on_point(point)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return save_curve(curve, out)
