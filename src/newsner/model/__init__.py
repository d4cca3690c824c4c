"""Models: suggestions for annotators (patterns, a trained spaCy pipeline), and a spaCy NER baseline.

- `patterns`: spaCy EntityRuler rules and `pre_annotate` (pattern-only suggestions, as before).
- `predict`: `Suggester`, model and/or pattern suggestions with `source` and `score` on every span.
- `train`: `train` (and `train_curve`, F1 at growing fractions of the training split).
- `evaluate`: `evaluate`, `Scores`, `LabelScore`.

Pre-annotations are AnnotationRecords written under annotations/suggestions/ (not a layer: they never vote in
a majority or count as an annotator); `newsner doccano push --with-annotations FILE` sends them to doccano where
annotators accept or correct them. spaCy is imported inside functions only, so importing this package is cheap.
"""

from __future__ import annotations

from newsner.model.evaluate import LabelScore, Scores, evaluate
from newsner.model.patterns import SUGGESTER, default_patterns_path, load_patterns, pre_annotate
from newsner.model.train import CONFIG_PATH, train

__all__ = [
    "CONFIG_PATH", "SUGGESTER", "LabelScore", "Scores", "default_patterns_path", "evaluate", "load_patterns",
    "pre_annotate", "train",
]
