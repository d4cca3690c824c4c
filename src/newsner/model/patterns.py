"""Pattern suggestions: the rule suggester (`newsner.model.rules`, rules as data per language) plus a project's
own spaCy EntityRuler patterns (JSONL); or, with `rules=False`, the project's patterns alone (as before).

`load_ruler(path, schema)` gives what `Suggester.pattern_spans` runs: `.spans(texts, languages)`.
`pre_annotate` is the patterns-only path of the first release (kept for scripts that call it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from newsner.errors import InputError, ModelError
from newsner.schema import AnnotationRecord, Article, LabelSchema, Span

SOURCE = "patterns"  # the `source` of every rule or pattern span

SUGGESTER = "newsner-patterns"


def default_patterns_path() -> Path:
    """The project-level patterns shipped with the package (names of the seed article's places and groups; the
    general rules live in data/rules/LANG/). annotations/patterns/conflict.jsonl points to this file."""
    return Path(__file__).parents[1] / "data" / "patterns.jsonl"


def load_patterns(path: Path, schema: LabelSchema) -> list[dict[str, Any]]:
    """Read spaCy EntityRuler patterns (JSONL: {"label", "pattern"}); every label must be in the schema."""
    from newsner.model.rules import read_rules  # the one reader of pattern lines (same checks, same messages)

    patterns = [{"label": r["label"], "pattern": r["pattern"]} for r in read_rules(Path(path), schema.names)]
    if not patterns:
        raise InputError(f"{path}: no patterns in the file")
    return patterns


class EntityRulerPatterns:
    """A project's EntityRuler patterns alone, matched case-insensitively on an English tokenizer (release 1)."""

    def __init__(self, patterns: list[dict[str, Any]]) -> None:
        import spacy

        self.nlp = spacy.blank("en")
        # Phrases match case-insensitively: news text capitalises names at sentence starts and in headlines.
        pipe = self.nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
        pipe.add_patterns(patterns)  # type: ignore[attr-defined]

    def spans(self, texts: Sequence[str], languages: Sequence[str | None] | None = None) -> list[list[Span]]:
        return [[Span(e.start_char, e.end_char, e.label_, e.text, source=SOURCE) for e in doc.ents]
                for doc in self.nlp.pipe(texts, batch_size=256)]


class RulesAndPatterns:
    """The shipped rules of each text's language plus the project's patterns file(s) (see newsner.model.rules)."""

    def __init__(self, project: Sequence[Path]) -> None:
        self.project = tuple(Path(p) for p in project)

    def spans(self, texts: Sequence[str], languages: Sequence[str | None] | None = None) -> list[list[Span]]:
        from newsner.model.rules import rule_spans

        return rule_spans(texts, languages, self.project)


def load_ruler(path: Path | None, schema: LabelSchema, *, rules: bool = True,
               ) -> EntityRulerPatterns | RulesAndPatterns:
    """What suggests pattern spans: the rules plus `path` (checked now, one line per bad line), or `path` alone."""
    if not rules:
        if path is None:
            raise InputError("no patterns: pass a patterns file, or keep the rules on")
        return EntityRulerPatterns(load_patterns(Path(path), schema))
    from newsner.model.rules import LANGUAGES, RuleSuggester, read_rules

    project = []
    if path is not None:
        read_rules(Path(path), schema.names)  # every label must be in the schema, before anything runs
        project.append(Path(path))
    ruler = RulesAndPatterns(project)
    # Built (and checked) once before any article, so that a `serve` request never pays for the build within its
    # time budget; "mul" (texts in other languages) is built on first use.
    for language in LANGUAGES:
        RuleSuggester.get(language, ruler.project)
    return ruler


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
