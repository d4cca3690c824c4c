"""Relations between spans: a rule that pre-annotates them, and their doccano and dataset shapes.

Pure functions only (no I/O), so `doccano push/pull`, `annotations import` and `export hf` each wire them in
with a few lines:

- `suggest_relations(text, spans)` — the rule. For each CASUALTY: CLAIMED_BY the CLAIM_SOURCE of the same
  sentence, preferring the speaker ("X said", "X told AFP", "according to X", "X claimed", "selon X", …) over
  a relay ("told AFP", "citing") over a bare mention, nearest among equals; VICTIM the ACTOR named in the
  words right after the count ("At least 15 Wagner fighters"); PERPETRATOR an ACTOR after "by" right after it
  ("killed by X"); LOCATED_IN the nearest LOCATION of the sentence that is not part of a source's description
  ("a worker in Kidal").
  Sentences are cut by a regex (end punctuation or a line break), which keeps a quote and its "he said" together.
- `doccano_relation_types(schema)` — the relation types to create in a doccano project (`use_relation: true`).
- `to_doccano(record, text)` — the `entities` + `relations` fields of a doccano import line (UTF-16 offsets).
- `from_doccano(line, text)` — doccano's relation export line → spans + relations, every relation checked
  against its spans: a relation whose span is missing, or whose ids are broken, is a reported problem.
- `hf_relations(record)` — the value of a dataset's `relations` column: [{head, tail, type}] span indices.
- `relation_keys(record)` — relations keyed by their spans' offsets and labels, for agreement across layers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from newsner.errors import AnnotationError
from newsner.offsets import OffsetMap
from newsner.schema import AnnotationRecord, LabelSchema, Relation, Span

CASUALTY, CLAIM_SOURCE, ACTOR, LOCATION = "CASUALTY", "CLAIM_SOURCE", "ACTOR", "LOCATION"

# A sentence ends at . ! ? (optionally followed by a closing quote) before a space and a capital, a digit or an
# opening quote, or at a line break. A single capital ("U.S.", "A. Goita") and common titles do not end one.
_BREAK = re.compile(r"""[.!?]["”»']?\s+|\n+""")
_NOT_AN_END = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Gen|Col|St|Lt|Sgt|Capt|Maj|Mt|No)|(?<![^\W\d_])[A-Z])$")
_OPENING = "\"“«‘'("


# Attribution cues, English and French. A source *followed* by a speech verb is the speaker ("X said",
# "X told AFP", "X, a member of ..., claimed"); one *preceded* by "according to" / "said" (inverted: 'said X')
# is the speaker too; one preceded by "told" / "citing" is who the claim was told to or relayed by ("told AFP").
_SPEAKER_AFTER = re.compile(
    r"\b(said|says|say|told|tells|added|claimed|claims|stated|states|asserted|announced|reported|reports|"
    r"confirmed|wrote|tweeted|posted|insisted|estimated|a déclaré|déclare|a dit|a affirmé|affirme|a indiqué|"
    r"indique|a annoncé|a précisé|a assuré)\b", re.IGNORECASE)
_SPEAKER_BEFORE = re.compile(
    r"\b(according to|said|says|added|selon|d'après|a déclaré|a affirmé|a indiqué)\s*[,:]?\s*$", re.IGNORECASE)
_RELAY_BEFORE = re.compile(r"\b(told|tells|citing|cited by|quoted by|to)\s*$", re.IGNORECASE)
_CUE_WINDOW = 60  # characters between a source and its verb ("Mossa Ag Inzoma, a member of ..., claimed")


def sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) code-point bounds of the sentences of `text` (regex split, no parser)."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in _BREAK.finditer(text):
        if m.group(0)[0] != "\n":
            following = text[m.end():m.end() + 2]
            head = following[1:2] if following[:1] in _OPENING else following[:1]
            if not head or not (head.isupper() or head.isdigit()):
                continue
            if _NOT_AN_END.search(text, max(0, m.start() - 5), m.start()):
                continue
        end = m.start() + len(m.group(0).rstrip())
        if end > start:
            out.append((start, end))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def _sentence_of(bounds: list[tuple[int, int]], span: Span) -> int:
    for i, (s, e) in enumerate(bounds):
        if s <= span.start < e:
            return i
    return len(bounds) - 1


def _gap(a: Span, b: Span) -> int:
    return max(a.start - b.end, b.start - a.end, 0)


def _attribution(text: str, source: Span, lo: int, hi: int) -> int:
    """0 when `source` is the speaker of its sentence, 1 when it only relays ("told AFP"), 2 with no cue."""
    before = text[max(lo, source.start - _CUE_WINDOW):source.start]
    after = text[source.end:min(hi, source.end + _CUE_WINDOW)]
    if _RELAY_BEFORE.search(before):
        return 1
    if _SPEAKER_BEFORE.search(before) or _SPEAKER_AFTER.search(after):
        return 0
    return 2


def suggest_relations(text: str, spans: Sequence[Span], *, schema: LabelSchema | None = None,
                      types: Iterable[str] = ("CLAIMED_BY", "VICTIM", "PERPETRATOR", "LOCATED_IN"),
                      ) -> list[Relation]:
    """Relations the rule proposes for `spans` over `text`; indices refer to `sorted(spans)`.

    Only types in `schema` (when given) and in `types` are proposed. Deterministic; never raises.
    """
    wanted = set(types)
    if schema is not None:
        wanted &= set(schema.relation_names)
    ordered = sorted(spans)
    bounds = sentences(text)
    by_sentence: dict[int, list[int]] = {}
    for i, span in enumerate(ordered):
        by_sentence.setdefault(_sentence_of(bounds, span), []).append(i)
    out: list[Relation] = []
    for i, cas in enumerate(ordered):
        if cas.label != CASUALTY:
            continue
        k = _sentence_of(bounds, cas)
        lo, hi = bounds[k] if bounds else (0, len(text))
        same = [j for j in by_sentence.get(k, []) if j != i]
        sources = [j for j in same if ordered[j].label == CLAIM_SOURCE]
        if "CLAIMED_BY" in wanted and sources:
            # The speaker ("X said", "according to X") beats a relay ("told AFP"), which beats a bare mention;
            # distance decides among equals.
            best = min(sources, key=lambda j: (_attribution(text, ordered[j], lo, hi), _gap(cas, ordered[j]),
                                                ordered[j].start))
            out.append(Relation(i, best, "CLAIMED_BY"))
        actors = [j for j in same if ordered[j].label == ACTOR and ordered[j].start >= cas.end]
        if "VICTIM" in wanted:
            # The victims' group stands right after the count: "At least 15 Wagner fighters", '"dozens" of X'.
            for j in actors:
                between = text[cas.end:ordered[j].start]
                if re.fullmatch(r"""[\s"”'»]*(?:of\s+(?:the\s+)?|de\s+|d')?""", between, re.IGNORECASE):
                    out.append(Relation(i, j, "VICTIM"))
                    break
        if "PERPETRATOR" in wanted:
            for j in actors:
                between = text[cas.end:ordered[j].start]
                if len(between) <= 40 and re.search(r"\b(by|par)\s+(the\s+|les?\s+|la\s+)?$", between,
                                                     re.IGNORECASE):
                    out.append(Relation(i, j, "PERPETRATOR"))
                    break
        if "LOCATED_IN" in wanted:
            places = [j for j in same if ordered[j].label == LOCATION
                      and not any(_describes(text, ordered[s], ordered[j]) for s in sources)]
            if places:
                best = min(places, key=lambda j: (_gap(cas, ordered[j]), ordered[j].start))
                out.append(Relation(i, best, "LOCATED_IN"))
    return out


def _describes(text: str, source: Span, place: Span) -> bool:
    """True when `place` is part of how `source` is described ("a worker in Kidal"), not where it happened."""
    between = text[source.end:place.start]
    return place.start >= source.end and bool(re.fullmatch(r",?\s*(in|from|of|based in|à|de)\s+(the\s+)?",
                                                           between, re.IGNORECASE))


def with_suggested_relations(record: AnnotationRecord, text: str, *, schema: LabelSchema | None = None,
                             ) -> AnnotationRecord:
    """A copy of `record` whose CASUALTY spans gain the rule's relations of every type they lack.

    Relations already there (an annotator's) are kept and never duplicated.
    """
    have = {(r.head, r.type) for r in record.relations}
    extra = [r for r in suggest_relations(text, record.spans, schema=schema) if (r.head, r.type) not in have]
    return AnnotationRecord(doc_id=record.doc_id, text_sha256=record.text_sha256, annotator=record.annotator,
                            spans=list(record.spans), status=record.status, origin=dict(record.origin),
                            relations=sorted(set(record.relations) | set(extra)))


# -------------------------------------------------------------------------------------------- doccano
def doccano_relation_types(schema: LabelSchema) -> list[dict[str, str]]:
    """Bodies for doccano's `POST /v1/projects/{p}/relation-types`, one per relation type, in schema order."""
    return [{"text": r.name, "background_color": r.color, "text_color": "#ffffff"} for r in schema.relations]


def to_doccano(record: AnnotationRecord, text: str) -> dict[str, list[dict[str, Any]]]:
    """The `entities` and `relations` fields of a doccano (relation project) import line for `record`.

    Entity ids are the span indices in sorted order, so `from_id`/`to_id` are the record's head/tail; offsets
    are UTF-16 code units, the unit of doccano's web UI.
    """
    omap = OffsetMap(text)
    entities = []
    for i, span in enumerate(record.sorted_spans()):
        start, end = omap.span_to_utf16(span.start, span.end)
        entities.append({"id": i, "label": span.label, "start_offset": start, "end_offset": end})
    relations = [{"id": k, "from_id": r.head, "to_id": r.tail, "type": r.type}
                 for k, r in enumerate(sorted(set(record.relations)))]
    return {"entities": entities, "relations": relations}


@dataclass
class DoccanoRelations:
    """What one doccano export line holds: spans (code points), relations by sorted span index, problems."""

    spans: list[Span] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def from_doccano(line: Mapping[str, Any], text: str, *, where: str = "doccano line") -> DoccanoRelations:
    """Read `entities` and `relations` of a doccano export line over `text` (the corpus text).

    Every entity is converted from UTF-16 and checked against `text`; every relation must point at two
    entities that were read. Anything that does not fit is listed in `problems` (naming `where`), never kept.
    """
    out = DoccanoRelations()
    omap = OffsetMap(text)
    by_id: dict[Any, Span] = {}
    for n, ent in enumerate(line.get("entities") or []):
        try:
            ent_id, label = ent["id"], ent["label"]
            start, end = omap.span_from_utf16(int(ent["start_offset"]), int(ent["end_offset"]))
        except (KeyError, TypeError, ValueError) as exc:
            out.problems.append(f"{where}: entity {n} is malformed ({exc!r}); it was not read")
            continue
        except AnnotationError as exc:
            out.problems.append(f"{where}: entity {ent.get('id')} ({ent.get('label')}): {exc}")
            continue
        if not (0 <= start < end <= len(text)) or not isinstance(label, str):
            out.problems.append(f"{where}: entity {ent_id} ({label}) [{start}, {end}) does not fit the text")
            continue
        if ent_id in by_id:
            out.problems.append(f"{where}: entity id {ent_id} appears twice; the second was not read")
            continue
        by_id[ent_id] = Span(start, end, label, text[start:end])
    out.spans = sorted(set(by_id.values()))
    index = {span: i for i, span in enumerate(out.spans)}
    for n, rel in enumerate(line.get("relations") or []):
        if not isinstance(rel, Mapping) or not isinstance(rel.get("type"), str):
            out.problems.append(f"{where}: relation {n} is malformed; it was not read")
            continue
        missing = [name for name in ("from_id", "to_id") if rel.get(name) not in by_id]
        if missing:
            out.problems.append(
                f"{where}: relation {rel.get('id', n)} {rel['type']} points at entity "
                f"{', '.join(str(rel.get(m)) for m in missing)} which is not among the spans (deleted or "
                "unreadable); the relation was not kept")
            continue
        out.relations.append(Relation(index[by_id[rel["from_id"]]], index[by_id[rel["to_id"]]], rel["type"]))
    out.relations = sorted(set(out.relations))
    return out


def relation_keys(record: AnnotationRecord) -> set[tuple[tuple[int, int, str], str, tuple[int, int, str]]]:
    """Relations as ((start, end, label) of head, type, (start, end, label) of tail): comparable across layers.

    Two annotators' indices differ as soon as their spans differ; these keys do not, so agreement can count
    relations as it counts spans (a relation agrees when both its spans and its type agree).
    """
    spans = record.sorted_spans()
    return {((spans[r.head].start, spans[r.head].end, spans[r.head].label), r.type,
             (spans[r.tail].start, spans[r.tail].end, spans[r.tail].label))
            for r in record.relations if r.head < len(spans) and r.tail < len(spans)}


# -------------------------------------------------------------------------------------------- dataset
def hf_relations(record: AnnotationRecord, schema: LabelSchema | None = None) -> list[dict[str, Any]]:
    """The `relations` column value of a record: [{"head": i, "tail": j, "type": name}] over sorted spans.

    With `schema`, `type` is the relation type's index in `schema.relations` (the ClassLabel id); the entity
    indices are the same order the record's spans are written in.
    """
    ids = {name: k for k, name in enumerate(schema.relation_names)} if schema is not None else None
    return [{"head": r.head, "tail": r.tail, "type": ids[r.type] if ids is not None else r.type}
            for r in sorted(set(record.relations))]


def hf_relations_feature(schema: LabelSchema) -> Any:
    """The datasets Feature of that column: a list of {head, tail: int32, type: ClassLabel(relation names)}."""
    import datasets  # heavy: only when a dataset is being built

    return datasets.List({"head": datasets.Value("int32"), "tail": datasets.Value("int32"),
                          "type": datasets.ClassLabel(names=schema.relation_names)})


__all__ = ["DoccanoRelations", "doccano_relation_types", "from_doccano", "hf_relations", "hf_relations_feature",
           "relation_keys", "sentences", "suggest_relations", "to_doccano", "with_suggested_relations"]
