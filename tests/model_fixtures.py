"""Small spaCy DocBins and a tiny trained model for the model/select/curve tests (trained in seconds)."""

from __future__ import annotations

from pathlib import Path

TOWNS = ["Kidal", "Gao", "Menaka", "Timbuktu", "Bamako", "Mopti"]


def write_docbin(path: Path, n: int, offset: int = 0) -> None:
    """`n` one-sentence docs: "Wagner fighters" is an ACTOR, the town a LOCATION."""
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    db = DocBin()
    for i in range(n):
        town = TOWNS[(i + offset) % len(TOWNS)]
        doc = nlp(f"Wagner fighters attacked {town} on Friday , the army said .")
        doc.ents = [doc.char_span(0, 15, "ACTOR"), doc.char_span(25, 25 + len(town), "LOCATION")]
        db.add(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(path)


def train_tiny_model(root: Path, *, steps: int = 80) -> Path:
    """Train on 30 docs for `steps` steps; returns root/models/baseline/model-best."""
    from newsner.model import train
    from newsner.schema import default_label_schema_path, load_label_schema

    data = root / "exports" / "spacy"
    write_docbin(data / "train.spacy", 30)
    write_docbin(data / "validation.spacy", 6, offset=1)
    write_docbin(data / "test.spacy", 6, offset=2)
    return train(data, root / "models" / "baseline", load_label_schema(default_label_schema_path()),
                 max_steps=steps)
