"""Entity-level scores of a trained spaCy model on a DocBin (seqeval, strict IOB2), per label in schema order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsner.errors import ModelError
from newsner.model.data import read_docbin
from newsner.model.train import one_line
from newsner.schema import LabelSchema


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


def _iob(doc: Any) -> list[str]:
    return [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ in ("B", "I") else "O" for t in doc]


def evaluate(model_dir: Path, data: Path, schema: LabelSchema) -> Scores:
    """Score a trained model on a DocBin (`test.spacy`); per-label entity-level P/R/F1 in schema order."""
    import spacy
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2
    from spacy.tokens import Doc

    db = read_docbin(data)  # before loading the model: a wrong --data is the commoner mistake
    try:
        nlp = spacy.load(model_dir)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{model_dir}: not a trained model ({one_line(exc, 160)}); run `newsner train` first, "
                         "then pass its model-best folder") from None
    gold_docs = list(db.get_docs(nlp.vocab))
    gold = [_iob(d) for d in gold_docs]
    # Predict on the gold tokens (not a re-tokenized text) so both tag sequences line up token by token.
    fresh = (Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in gold_docs)
    predicted = [_iob(doc) for doc in nlp.pipe(fresh)]
    kwargs: dict[str, Any] = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    report = classification_report(gold, predicted, output_dict=True, **kwargs)
    # seqeval returns numpy floats; plain floats keep the scores JSON-serializable
    per_label = [
        LabelScore(name, float(report.get(name, {}).get("precision", 0.0)),
                   float(report.get(name, {}).get("recall", 0.0)), float(report.get(name, {}).get("f1-score", 0.0)),
                   int(report.get(name, {}).get("support", 0)))
        for name in schema.names
    ]
    return Scores(precision=float(precision_score(gold, predicted, **kwargs)),
                  recall=float(recall_score(gold, predicted, **kwargs)),
                  f1=float(f1_score(gold, predicted, **kwargs)), per_label=per_label, documents=len(gold_docs))
