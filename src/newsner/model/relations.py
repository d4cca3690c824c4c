"""The relation rule: CLAIMED_BY, VICTIM, PERPETRATOR and LOCATED_IN proposed over suggested or annotated spans.

- `suggest_relations(text, spans)` — for each CASUALTY: CLAIMED_BY the CLAIM_SOURCE of the same sentence,
  preferring the speaker ("X said", "X told AFP", "according to X", "X claimed", "selon X", …) over a relay
  ("told AFP", "citing") over a bare mention, nearest among equals; VICTIM the ACTOR named in the words right
  after the count ("At least 15 Wagner fighters"); PERPETRATOR an ACTOR after "by" right after it ("killed by
  X"); LOCATED_IN the nearest LOCATION of the sentence that is not part of a source's description ("a worker
  in Kidal").
- `with_suggested_relations(record, text)` — a record with the rule's relations added where it has none.
Pure functions (no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from newsner.schema import AnnotationRecord, LabelSchema, Relation, Span
from newsner.text.sentences import sentences

CASUALTY, CLAIM_SOURCE, ACTOR, LOCATION = "CASUALTY", "CLAIM_SOURCE", "ACTOR", "LOCATION"


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
