"""Pattern suggestions: spaCy EntityRuler rules (JSONL) shipped with newsner or written by the project."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from newsner._io import read_jsonl
from newsner.errors import InputError, ModelError
from newsner.schema import AnnotationRecord, Article, LabelSchema, Span

SUGGESTER = "newsner-patterns"


def default_patterns_path() -> Path:
    """Conflict-news patterns shipped with the package (annotations/patterns/conflict.jsonl points to them)."""
    return Path(__file__).parents[1] / "data" / "patterns.jsonl"


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
