"""Entity-level scores of a trained model on a test split (seqeval, strict IOB2), per label in schema order.

Both engines are scored the same way, on the gold words: a spaCy model on a DocBin (`export spacy`), a
transformers model on the test split of `export hf` or on the same DocBin (its words and entities), so the two
engines' figures compare on the same documents when both exports come from the same annotations and seed.
"""

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


def _iob(doc: Any, mapping: dict[str, str] | None = None) -> list[str]:
    """IOB2 tags of a Doc's entities; with `mapping`, labels mapped (a base's leftover labels) or dropped."""
    out: list[str] = []
    for t in doc:
        label = t.ent_type_ if mapping is None else mapping.get(t.ent_type_)
        out.append(f"{t.ent_iob_}-{label}" if t.ent_iob_ in ("B", "I") and label else "O")
    return out


def evaluate(model_dir: Path, data: Path, schema: LabelSchema) -> Scores:
    """Score a trained model on `data`: a DocBin (`test.spacy`), or for a transformers model also an `export hf`
    folder (its test split); per-label entity-level P/R/F1 in schema order."""
    import spacy
    from spacy.tokens import Doc

    from newsner.model.base import label_map
    from newsner.model.meta import check_schema, is_transformer_dir, read_meta

    if is_transformer_dir(Path(model_dir)):
        return evaluate_transformer(Path(model_dir), Path(data), schema)
    db = read_docbin(data)  # before loading the model: a wrong --data is the commoner mistake
    try:
        nlp = spacy.load(model_dir)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{model_dir}: not a trained model ({one_line(exc, 160)}); run `newsner train` first, "
                         "then pass its model-best folder") from None
    check_schema(Path(model_dir), read_meta(Path(model_dir)), schema)
    mapping = {**label_map(schema), **{n: n for n in schema.names}}  # a model trained from a base
    gold_docs = list(db.get_docs(nlp.vocab))
    gold = [_iob(d) for d in gold_docs]
    # Predict on the gold tokens (not a re-tokenized text) so both tag sequences line up token by token.
    fresh = (Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in gold_docs)
    predicted = [_iob(doc, mapping) for doc in nlp.pipe(fresh)]
    return score_tags(gold, predicted, schema)


def gold_words(data: Path, schema: LabelSchema, split: str = "test") -> tuple[list[list[str]], list[list[str]]]:
    """Words and gold IOB2 tags of the test split: an `export hf` folder (its `split`), or a DocBin file."""
    data = Path(data)
    if data.is_dir():
        from newsner.model.hf_data import load_export

        ds = load_export(data, schema, splits=(split,))
        names = schema.bio_tags()
        return [list(r) for r in ds[split]["tokens"]], [[names[t] for t in r] for r in ds[split]["ner_tags"]]
    import spacy

    docs = list(read_docbin(data).get_docs(spacy.blank("xx").vocab))
    return [[t.text for t in d] for d in docs], [_iob(d) for d in docs]


def evaluate_transformer(model_dir: Path, data: Path, schema: LabelSchema, *, split: str = "test") -> Scores:
    return score_tags(*transformer_tags(model_dir, data, schema, split=split), schema)


def transformer_tags(model_dir: Path, data: Path, schema: LabelSchema, *,
                     split: str = "test") -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted IOB2 tags of a transformers model on the gold words of `data`."""
    from newsner.model.hf_predict import TransformerTagger

    words, gold = gold_words(data, schema, split)  # before loading the model: a wrong --data is the commoner mistake
    tagger = TransformerTagger(model_dir, schema)
    predicted = []
    for start in range(0, len(words), 64):  # bounded memory on a large test split
        for probs in tagger.predict_words(words[start:start + 64]):
            predicted.append([tagger.tags[int(i)] for i in probs.argmax(-1)] if len(probs) else [])
    return gold, predicted


def entities(tags: list[str]) -> set[tuple[int, int, str]]:
    """(start, end, label) of the entities of a strict IOB2 sequence (an I- that continues nothing is no entity)."""
    out: set[tuple[int, int, str]] = set()
    start, label = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        if start >= 0 and not (tag.startswith("I-") and tag[2:] == label):
            out.add((start, i, label))
            start = -1
        if tag.startswith("B-"):
            start, label = i, tag[2:]
    return out


def score_tags(gold: list[list[str]], predicted: list[list[str]], schema: LabelSchema) -> Scores:
    """seqeval entity scores (strict IOB2) of predicted tag sequences against gold ones."""
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

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
                  f1=float(f1_score(gold, predicted, **kwargs)), per_label=per_label, documents=len(gold))
