"""The relation rule: CLAIMED_BY, VICTIM, PERPETRATOR and LOCATED_IN proposed over suggested or annotated spans.

- `suggest_relations(text, spans)` — for each CASUALTY: CLAIMED_BY the CLAIM_SOURCE of the same sentence,
  preferring the speaker ("X said", "X told AFP", "according to X", "X claimed", "selon X", …) over a relay
  ("told AFP", "citing") over a bare mention. Between two speakers, the speech verb's side decides: "X said
  [claim]" and "According to X, [claim]" claim what follows, "[claim], X said" and "[claim], according to X"
  what precedes ("The army claimed its soldiers had killed several dozen fighters, while the rebels'
  spokesman said only three": dozens → army, three → spokesman); then the nearest. A sentence whose speaker is
  a pronoun ("he told Reuters", "a-t-il déclaré à l'AFP") takes the speaker of the last sentences before it,
  never the relay. VICTIM the ACTOR named in the words right after the count ("At least 15 Wagner fighters");
  PERPETRATOR an ACTOR after "by" right after it ("killed by X"), or the ACTOR whose killing verb leads to the
  count ("Gunmen killed 12 people", "des hommes armés ont tué 20 civils"); LOCATED_IN the most specific LOCATION
  of the sentence (a town before its country), nearest first, that is not part of a source's description ("a
  worker in Kidal").
- `with_suggested_relations(record, text)` — a record with the rule's relations added where it has none.
Pure functions (no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from newsner.schema import AnnotationRecord, LabelSchema, Relation, Span
from newsner.text.sentences import sentences

CASUALTY, CLAIM_SOURCE, ACTOR, LOCATION = "CASUALTY", "CLAIM_SOURCE", "ACTOR", "LOCATION"


# Attribution cues, English and French. A source *followed* by a speech verb is the speaker ("X said",
# "X told AFP", "X, a member of ..., claimed"); one *preceded* by "according to" / "said" (inverted: 'said X')
# is the speaker too; one preceded by "told" / "citing" is who the claim was told to or relayed by ("told AFP").
_SPEAKER_AFTER_WORDS = (
    r"said|says|say|told|tells|added|claimed|claims|stated|states|asserted|announced|reported|reports|"
    r"confirmed|wrote|tweeted|posted|insisted|estimated|a déclaré|déclare|a dit|a affirmé|affirme|a indiqué|"
    r"indique|a annoncé|a précisé|a assuré")


@lru_cache(maxsize=1)
def _speaker_after() -> re.Pattern[str]:
    """Speech verbs after a source: the list above plus the rules' lexicons (data/rules/LANG/lexicon.json)."""
    from newsner.model.rules import LANGUAGES, load_lexicon

    verbs = set(_SPEAKER_AFTER_WORDS.split("|"))
    for lang in LANGUAGES:
        verbs |= {v.lower() for v in load_lexicon(lang).get("speech_verbs", [])}
    alternation = "|".join(re.escape(v).replace("\\ ", r"\s+") for v in sorted(verbs, key=len, reverse=True))
    return re.compile(rf"\b({alternation})\b", re.IGNORECASE)
_ACCORDING_BEFORE = re.compile(r"\b(according to|selon|d'après|d’après)\s*[,:]?\s*(the\s+|l[ae]\s+|l'|les\s+)?$",
                               re.IGNORECASE)
_SAID_BEFORE = re.compile(
    r"\b(said|says|added|claimed|a déclaré|a affirmé|a indiqué|a ajouté|a précisé|a expliqué|a raconté|raconte|"
    r"ajoute|explique|précise|ont déclaré|ont indiqué|ont affirmé|ont rapporté)\s*[,:]?\s*"
    # a relay may stand between the verb and the speaker: "a indiqué à l'AFP une source médicale"
    r"(?:(?:à|au|aux|to)\s+(?:l'|la\s+|le\s+|les\s+)?[\w-]+\s+)?"
    r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|hier|aussi|également)\s+)?"
    r"(the\s+|l[ae]\s+|l'|les\s+)?$",
    re.IGNORECASE)
# A speaker that is a pronoun: the claim belongs to the named speaker of the sentences before.
_PRONOUN_SPEAKER = re.compile(
    r"\b(he|she|they|we)\s+(also\s+|later\s+)?(said|says|told|tells|added|claimed|stated|insisted|wrote)\b|"
    r"\b(said|says|told|added)\s+(he|she|they)\b|-t-(il|elle|ils|elles|on)\b|"
    r"\b(dit|ajoute|précise|explique|raconte|affirme|indique|poursuit|assure|témoigne)-(il|elle|ils|elles)\b|"
    r"\b(il|elle|ils|elles)\s+(a|ont)\s+(déclaré|affirmé|indiqué|ajouté|précisé|dit|assuré|raconté)\b",
    re.IGNORECASE)
# A figure after a speech verb is its claim ("said only three"), however short the rest of the sentence.
_FIGURE = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                     r"fifty|hundred|dozens?|scores|hundreds|thousands|several|un|une|deux|trois|quatre|cinq|six|"
                     r"sept|huit|neuf|dix|onze|douze|vingt|trente|cent|dizaines?|centaines?|plusieurs)\b",
                     re.IGNORECASE)
_KILL_VERBS = re.compile(
    r"\b(killed|killing|kills|kill|shot|shooting|wounded|wounding|injured|injuring|abducted|abducting|kidnapped|"
    r"kidnapping|executed|massacred|slaughtered|murdered|ambushed|attacked|tué|tuant|tue|tuent|blessé|blessant|"
    r"enlevé|enlevant|kidnappé|abattu|exécuté|massacré)\b", re.IGNORECASE)
_RELAY_BEFORE = re.compile(
    r"\b(told|tells|citing|cited by|quoted by|to|à|au|aux|auprès de|citant)\s*(l'|la\s+|le\s+)?$", re.IGNORECASE)
_CUE_WINDOW = 60  # characters between a source and its verb ("Mossa Ag Inzoma, a member of ..., claimed")


def _sentence_of(bounds: list[tuple[int, int]], span: Span) -> int:
    for i, (s, e) in enumerate(bounds):
        if s <= span.start < e:
            return i
    return len(bounds) - 1


def _gap(a: Span, b: Span) -> int:
    return max(a.start - b.end, b.start - a.end, 0)


def _short(rest: str) -> bool:
    """True when only a few words (no figure) are left before the sentence ends: the claim is not after them."""
    return len(re.findall(r"\w+", rest)) <= 4 and not _FIGURE.search(rest)


def _attribution(text: str, source: Span, lo: int, hi: int) -> tuple[int, str, int]:
    """(0 speaker / 1 relay / 2 no cue, side of the sentence the source claims: "after", "before" or "").

    "X said [claim]" / "According to X, [claim]" claim what follows; "[claim], X said" / "[claim], according
    to X" / '"[claim]," said X' what precedes. The third value is where "what follows" starts (after the verb).
    """
    before = text[max(lo, source.start - _CUE_WINDOW):source.start]
    after = text[source.end:min(hi, source.end + _CUE_WINDOW)]
    if _RELAY_BEFORE.search(before):
        return 1, "", source.end
    if _SAID_BEFORE.search(before):
        return 0, "before", source.end
    if _ACCORDING_BEFORE.search(before):
        rest = text[source.end:hi]
        return 0, "after" if rest.lstrip().startswith(",") and not _short(rest) else "before", source.end
    m = _speaker_after().search(after)
    if m:
        verb_end = source.end + m.end()
        rest = text[verb_end:hi]
        # "[claim], the mayor said, while ...": a comma right after the verb closes the attribution
        closed = rest.lstrip().startswith((",", ";"))
        return 0, "before" if closed or _short(rest) else "after", verb_end
    return 2, "", source.end


def _covers(side: str, source: Span, cas: Span) -> bool:
    return (side == "after" and source.end <= cas.start) or (side == "before" and source.start >= cas.end)


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
        if "CLAIMED_BY" in wanted:
            best = _claimed_by(text, ordered, cas, sources, bounds, k, by_sentence)
            if best is not None:
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
            doer = None
            for j in actors:
                between = text[cas.end:ordered[j].start]
                if len(between) <= 40 and re.search(r"\b(by|par)\s+(the\s+|les?\s+|la\s+)?$", between,
                                                     re.IGNORECASE):
                    doer = j
                    break
            if doer is None:
                doer = _subject_of_killing(text, ordered, cas, [j for j in same if ordered[j].end <= cas.start])
            if doer is not None:
                out.append(Relation(i, doer, "PERPETRATOR"))
        if "LOCATED_IN" in wanted:
            places = [j for j in same if ordered[j].label == LOCATION
                      and not any(_describes(text, ordered[s], ordered[j]) for s in sources)]
            if places:
                countries = _countries() if len(places) > 1 else frozenset()
                # the most specific place: a town or region before the country it is in
                best = min(places, key=lambda j: (ordered[j].text in countries, _gap(cas, ordered[j]),
                                                  ordered[j].start))
                out.append(Relation(i, best, "LOCATED_IN"))
    return out


def _claimed_by(text: str, ordered: Sequence[Span], cas: Span, sources: list[int],
                bounds: list[tuple[int, int]], k: int, by_sentence: dict[int, list[int]]) -> int | None:
    """The CLAIM_SOURCE a count is attributed to (index into `ordered`), or None."""
    lo, hi = bounds[k] if bounds else (0, len(text))
    ranked = []
    for j in sources:
        tier, side, anchor = _attribution(text, ordered[j], lo, hi)
        if side == "before" and any(s.label == CASUALTY and anchor <= s.start < hi for s in ordered):
            side = "after"  # "..., while the spokesman said only three": the count after the verb is its claim
        ranked.append(((tier, not _covers(side, ordered[j], cas), _gap(cas, ordered[j]), ordered[j].start), j))
    ranked.sort()
    if ranked and ranked[0][0][0] == 0:
        return ranked[0][1]
    if _PRONOUN_SPEAKER.search(text, lo, hi):
        # "he told Reuters": the named speaker of the last few sentences, never the relay
        for back in range(k - 1, max(-1, k - 4), -1):
            plo, phi = bounds[back]
            speakers = [j for j in by_sentence.get(back, []) if ordered[j].label == CLAIM_SOURCE
                        and _attribution(text, ordered[j], plo, phi)[0] == 0]
            if speakers:
                return speakers[-1]
    return ranked[0][1] if ranked else None


def _subject_of_killing(text: str, ordered: Sequence[Span], cas: Span, before: list[int]) -> int | None:
    """The ACTOR a killing verb leads from to the count: "Gunmen ambushed a convoy, killing 23"."""
    for j in reversed(before):
        actor = ordered[j]
        if actor.label != ACTOR:
            continue
        between = text[actor.end:cas.start]
        if len(between) > 120 or not _KILL_VERBS.search(between):
            return None
        if re.search(r"\b(by|par)\s*$", text[max(0, actor.start - 6):actor.start], re.IGNORECASE):
            return None  # "killed by X" before an earlier count is that count's doer, not this one's
        if any(ordered[m].label in (ACTOR, CASUALTY) and actor.end <= ordered[m].start < cas.start
               for m in range(len(ordered)) if ordered[m] is not actor and ordered[m] is not cas):
            return None
        return j
    return None


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    from newsner.model.gazetteer import country_names

    return country_names()


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
