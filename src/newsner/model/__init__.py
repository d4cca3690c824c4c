"""Models: suggestions for annotators (patterns, pretrained bases, trained models) and the NER training engines.

- `patterns`: spaCy EntityRuler rules and `pre_annotate` (pattern-only suggestions, as before).
- `predict`: `Suggester`, model and/or pattern suggestions with `source` and `score` on every span; one tagger
  interface for a trained spaCy pipeline, a transformers model (`hf_predict`) and a pretrained spaCy base (`base`).
- `train`: `train` (spaCy, from scratch or from a base); `hf_train`: `train_transformer` (`--engine transformers`);
  `curve` / `hf_curve`: F1 at growing fractions of the training split.
- `evaluate`: `evaluate`, `Scores`, `LabelScore` (both engines, the same seqeval metrics).
- `meta`: newsner.json beside every trained model (label schema version, export); `hf_data`: the extra, the
  `export hf` dataset and sub-word windows.

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
