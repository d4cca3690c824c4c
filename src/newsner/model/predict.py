"""Suggestions from a trained spaCy pipeline and/or pattern rules, each span with its `source` and `score`.

Scores: the pipeline `newsner train` writes uses spaCy's greedy `ner`. For a confidence we re-run its transition
model as a beam search (`beam_parse`, width 16) and read `scored_ents`: the probability mass of the beam parses
that contain exactly that entity (start, end, label). This is how Prodigy's ner.teach scores a greedy model, and it
is a real probability over the model's own alternatives (not a softmax of one action). Spans are the best beam
parse, so they match what `nlp(text)` finds except where the beam finds a better-scoring parse.

Combining (model + rules/patterns): where a model span and a rule span overlap, the rule span is kept; a model
span fills in where no rule fired (names no list holds, phrasings no rule covers). Measured, not assumed:
bench/bench_suggest.py --rounds had models trained on 20, 50 and 100 articles that won every overlap turn the
rules' 2.4 corrections per held-out document into 9.5-10.5, because the rules' spans are precise (P >= 0.89 per
label on articles they were not written on) and a young model's are not. A rule span that agrees exactly with a
model span (same start, end, label) is marked `source="model:NAME+patterns"` and keeps the model's score. Rule
spans carry no score (a rule has no confidence).

Three kinds of model, one interface (`score(texts) -> list[Scored]`), so serve, pre-annotate, select and the
curve take any of them: a spaCy pipeline `newsner train` wrote (`SpacyTagger`), a transformers model
`newsner train --engine transformers` wrote (`newsner.model.hf_predict.TransformerTagger`), or a pretrained spaCy
pipeline mapped to the schema (`--base`, `newsner.model.base.BaseTagger`; its overlaps with the rules are
decided per label, see that module). A model whose newsner.json names another label schema is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from newsner.errors import ModelError
from newsner.schema import AnnotationRecord, Article, LabelSchema, Relation, Span

BEAM_WIDTH = 16
BATCH = 64


def model_name(model_dir: Path) -> str:
    """"baseline" for models/baseline/model-best (the training output folder names the model)."""
    model_dir = Path(model_dir)
    if model_dir.name in ("model-best", "model-last") and model_dir.parent.name:
        return model_dir.parent.name
    return model_dir.name


def load_pipeline(model_dir: Path, schema: LabelSchema) -> Any:
    """spacy.load with one clear line when the folder is not a trained pipeline with an `ner` component."""
    import spacy

    model_dir = Path(model_dir)
    if not (model_dir / "meta.json").exists() and not (model_dir / "config.cfg").exists():
        raise ModelError(f"{model_dir}: not a trained model (no config.cfg); run `newsner train` first, "
                         "then pass its model-best folder")
    try:
        nlp = spacy.load(model_dir)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{model_dir}: cannot load the model ({str(exc).splitlines()[0]})") from None
    if "ner" not in nlp.pipe_names:
        raise ModelError(f"{model_dir}: the pipeline has no 'ner' component; train one with `newsner train`")
    from newsner.model.meta import check_schema, read_meta

    meta = read_meta(model_dir)
    check_schema(model_dir, meta, schema)
    unknown = sorted(set(nlp.get_pipe("ner").labels) - set(schema.names))  # type: ignore[attr-defined]
    if unknown and not (meta or {}).get("base"):  # a model trained from a base keeps the base's labels
        raise ModelError(f"{model_dir}: the model predicts label(s) {', '.join(unknown)} that are not in the "
                         f"label schema ({', '.join(schema.names)}); retrain it on this workspace's export")
    return nlp


@dataclass
class Scored:
    """One document's best-parse spans and every entity candidate the beam considered, with probabilities."""

    spans: list[Span]
    candidates: dict[tuple[int, int, str], float] = field(default_factory=dict)


def score_texts(nlp: Any, texts: Sequence[str], *, source: str, beam_width: int = BEAM_WIDTH) -> list[Scored]:
    """Run the pipeline up to `ner`, then a beam over the ner model; code-point spans with probabilities."""
    ner = nlp.get_pipe("ner")
    out: list[Scored] = []
    for start in range(0, len(texts), BATCH):
        chunk = list(texts[start:start + BATCH])
        # Every component but ner runs as usual (tok2vec fills doc.tensor, which ner's listener reads).
        docs = list(nlp.pipe(chunk, disable=["ner"]))
        beams = ner.beam_parse(docs, beam_width=beam_width)
        probs = ner.scored_ents(beams)
        ner.set_annotations(docs, beams)  # the best parse of each beam becomes doc.ents
        for doc, prob in zip(docs, probs, strict=True):
            cands: dict[tuple[int, int, str], float] = {}
            for (s, e, label), p in prob.items():
                span = doc[s:e]
                cands[(span.start_char, span.end_char, label)] = min(1.0, float(p))
            spans = [Span(e.start_char, e.end_char, e.label_, e.text, source=source,
                          score=round(cands.get((e.start_char, e.end_char, e.label_), 0.0), 4))
                     for e in doc.ents]
            out.append(Scored(spans, cands))
    return out


def merge(model_spans: Iterable[Span], rule_spans: Iterable[Span], *, both: str,
          rules_win: frozenset[str] | None = None) -> list[Span]:
    """Spans without overlaps: rule spans of `rules_win` labels (all labels when None) first, then the model's
    where nothing overlaps, then the other rule spans where nothing overlaps. A rule span that agrees exactly
    with a model span is one span with source `both` and the model's score."""
    model = sorted(model_spans)
    rules = sorted(rule_spans)
    model_score = {(m.start, m.end, m.label): m.score for m in model}
    kept: list[Span] = []

    def free(s: Span) -> bool:
        return not any(s.start < k.end and k.start < s.end for k in kept)

    def keep(s: Span) -> None:
        key = (s.start, s.end, s.label)
        kept.append(Span(s.start, s.end, s.label, s.text, source=both, score=model_score[key])
                    if key in model_score else s)

    first = [r for r in rules if rules_win is None or r.label in rules_win]
    for r in first:
        if free(r):
            keep(r)
    for m in model:
        if free(m):
            kept.append(m)
    for r in rules:
        if rules_win is not None and r.label not in rules_win and free(r):
            keep(r)
    return sorted(kept)


class Tagger(Protocol):
    """A loaded model: `source` names it on every span ("model:NAME", "base:NAME"); `kind` is model or base."""

    source: str
    kind: str

    def score(self, texts: Sequence[str]) -> list[Scored]: ...


class SpacyTagger:
    """A spaCy pipeline `newsner train` wrote; one trained from a base maps the base's leftover labels."""

    kind = "model"

    def __init__(self, model_dir: Path, schema: LabelSchema) -> None:
        from newsner.model.base import label_map

        self.nlp = load_pipeline(model_dir, schema)
        self.source = f"model:{model_name(model_dir)}"
        self.mapping = {**label_map(schema), **{n: n for n in schema.names}}

    def score(self, texts: Sequence[str]) -> list[Scored]:
        scored = score_texts(self.nlp, texts, source=self.source)
        if set(self.nlp.get_pipe("ner").labels) <= set(self.mapping.values()):
            return scored
        from newsner.model.base import map_scored

        return map_scored(scored, self.mapping, source=self.source)


def load_tagger(schema: LabelSchema, *, model_dir: Path | None = None, base: str | Path | None = None) -> Tagger:
    """The model to suggest from: a trained folder (spaCy or transformers, told apart by their files) or a base."""
    if model_dir is not None and base is not None:
        raise ModelError("pass either a trained model (--model) or a pretrained base (--base), not both: a model "
                         "trained with `newsner train --base` already starts from its base")
    if model_dir is not None:
        from newsner.model.meta import is_transformer_dir

        if not Path(model_dir).is_dir():
            raise ModelError(f"{model_dir}: not found; run `newsner train` first, then pass its output folder")
        if is_transformer_dir(Path(model_dir)):
            from newsner.model.hf_predict import TransformerTagger

            return TransformerTagger(Path(model_dir), schema)
        return SpacyTagger(Path(model_dir), schema)
    if base is None:
        raise ModelError("no model: pass a trained model folder or a pretrained base")
    from newsner.model.base import BaseTagger

    return BaseTagger(base, schema)


class Suggester:
    """Suggestions from a trained model, patterns, or both; load once, call `suggest` many times.

    Example:
        s = Suggester.load(schema, model_dir=Path("models/baseline/model-best"), patterns=default_patterns_path())
        s.name  # "model:baseline+patterns"
        s.suggest(["Wagner fighters attacked Kidal."])  # [[Span(0, 15, "ACTOR", ..., source=..., score=0.97), ...]]
    """

    def __init__(self, *, name: str, tagger: Tagger | None, ruler: Any | None,
                 schema: LabelSchema | None = None) -> None:
        self.name = name
        self._tagger = tagger
        self._ruler = ruler  # newsner.model.patterns.load_ruler: `.spans(texts, languages)`
        self.schema = schema
        self._model_source = tagger.source if tagger is not None else None

    @classmethod
    def load(cls, schema: LabelSchema, *, model_dir: Path | None = None, patterns: Path | None = None,
             base: str | Path | None = None, rules: bool = True) -> Suggester:
        """A model (`newsner train` output: models/baseline/model-best, or a transformers folder) or a pretrained
        spaCy base (an installed pipeline name or a folder), and/or patterns (EntityRuler JSONL).

        With none of them, the conflict-news patterns shipped with newsner are used. Patterns come with the rule
        suggester of each text's language (newsner.model.rules) unless `rules=False` (the patterns file alone).
        """
        from newsner.model.patterns import default_patterns_path, load_ruler

        if model_dir is None and patterns is None and base is None:
            patterns = default_patterns_path()
        tagger = load_tagger(schema, model_dir=model_dir, base=base) if model_dir or base else None
        ruler = None
        if patterns is not None:
            ruler = load_ruler(Path(patterns), schema, rules=rules)
        model_source = tagger.source if tagger is not None else None
        name = "+".join(p for p in (model_source, "patterns" if ruler is not None else None) if p)
        return cls(name=name, tagger=tagger, ruler=ruler, schema=schema)

    @property
    def has_model(self) -> bool:
        return self._tagger is not None

    def pattern_spans(self, texts: Sequence[str], languages: Sequence[str | None] | None = None,
                      ) -> list[list[Span]]:
        """Rule and pattern spans per text; `languages` picks each text's rules (None: English and French)."""
        if self._ruler is None:
            return [[] for _ in texts]
        spans: list[list[Span]] = self._ruler.spans(texts, languages)
        return spans

    def score(self, texts: Sequence[str]) -> list[Scored]:
        """The model's best-parse spans and beam candidates (ModelError when no model was loaded)."""
        if self._tagger is None:
            raise ModelError("no model loaded; pass model_dir (a `newsner train` output)")
        return self._tagger.score(texts)

    def suggest(self, texts: Sequence[str], languages: Sequence[str | None] | None = None) -> list[list[Span]]:
        """Non-overlapping spans per text (code-point offsets), `source` and (model spans) `score` set."""
        texts = list(texts)
        patterns = self.pattern_spans(texts, languages)
        if self._tagger is None:
            return patterns
        scored = self.score(texts)
        both = f"{self._model_source}+patterns"
        if self._tagger.kind == "base":  # the base's overlaps are decided per label (newsner.model.base)
            from newsner.model.base import merge_with_rules

            return [merge_with_rules(s.spans, p, both=both) for s, p in zip(scored, patterns, strict=True)]
        return [merge(s.spans, p, both=both) for s, p in zip(scored, patterns, strict=True)]

    def suggest_with_relations(self, texts: Sequence[str], languages: Sequence[str | None] | None = None,
                               ) -> list[tuple[list[Span], list[Relation]]]:
        """`suggest`, each text's spans sorted and with the relation rule's relations over them."""
        from newsner.model.relations import suggest_relations

        out = []
        for text, spans in zip(texts, self.suggest(texts, languages), strict=True):
            ordered = sorted(spans)
            out.append((ordered, suggest_relations(text, ordered, schema=self.schema)))
        return out


def suggestion_records(articles: Iterable[Article], suggester: Suggester, *, annotator: str | None = None,
                       progress: Callable[[int], None] | None = None) -> Iterator[AnnotationRecord]:
    """One unconfirmed record per article with the suggester's spans; streams in batches (memory stays flat)."""
    who = annotator or ("newsner-patterns" if suggester.name == "patterns" else "newsner-model")
    batch: list[Article] = []

    def flush() -> Iterator[AnnotationRecord]:
        suggested = suggester.suggest_with_relations([a.text for a in batch], [a.language for a in batch])
        for article, (spans, relations) in zip(batch, suggested, strict=True):
            yield AnnotationRecord(doc_id=article.id, text_sha256=article.text_sha256, annotator=who,
                                   spans=spans, status="unconfirmed", origin={"suggester": suggester.name},
                                   relations=relations)
        if progress:
            progress(len(batch))
        batch.clear()

    for article in articles:
        batch.append(article)
        if len(batch) >= BATCH:
            yield from flush()
    if batch:
        yield from flush()
