"""CLAIM_SOURCE spans from attribution frames, English and French (used by `newsner.model.rules`).

A frame is a cue and a noun phrase on the side the cue says:
- speaker before the cue: "X said / told / claimed / reported / announced / confirmed ...", "X a déclaré /
  affirmé / indiqué ...", "X, a community leader, told ..." (the apposition is skipped), "X and Y said";
- speaker after the cue: "according to X", "selon X", "d'après X", inverted "..., said X", "..., a déclaré X";
- relay after the cue: "told AFP", "citing Reuters", "a déclaré à l'AFP" (a source too; the relation rule never
  prefers it to the speaker);
- and "sources" with a qualifier anywhere ("security sources", "sources sécuritaires").
The noun phrase is read from token classes (no parser): R role/institution noun (spokesman, ministry, army,
porte-parole ...), N name (capitalised word, acronym, known agency or NGO), M modifier (local, senior, security,
sécuritaire ...), D kept determiner (a, an, un, une), Q a number, C connector (of, for, de, du ...), I inner
article (the, la, l'), P possessive ('s), U another lower-case word (at most two). Leading "the"/"le"/"la"/"les"
and French "des" are left out of the span, "a"/"une" are kept (the label guideline's examples).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsner.model.rules import RuleSuggester

# L: a locative connector (in, at, from): its object is never a named place ("a worker in Kidal" is the worker
# in Kidal, the place being LOCATION) but may be a common noun ("an official in the commune").
_NP = re.compile(r"(?:QCI?)?[DQ]?(?:[MUQN]{0,3}[NRU]P)*[MUQN]{0,4}[NR]+M{0,2}"
                 r"(?:CI?(?:[NRMU]P)?[NRMU]{1,3}M{0,2}|LI?(?:[RMU]P)?[RMU]{1,3}){0,3}")
_WINDOW = 14  # tokens a noun phrase may span
_SKIP_BEFORE_VERB = {"also", "later", "has", "have", "had", "earlier", "previously", "reportedly", "further",
                     "then", "again", "himself", "herself", "itself", "themselves", "a", "ont", "avait",
                     "avaient", "aussi", "également", "lui-même", "elle-même", "ensuite", "pour", "part", "sa",
                     "de", "son", "côté", "leur"}
_AUX_FR = {"a", "ont", "avait", "avaient", "aurait", "auraient"}
# French adjectives that follow their noun ("Bureau intégré", "sources hospitalières"), by their endings
_FR_ADJ = re.compile(r"(?:é|ée|és|ées|ale|aux|ales|aire|aires|ienne|iennes|iens|ique|iques|el|els|elle|elles|if|ifs|"
                     r"ive|ives|eux|euse|euses)$")
_LOCATIVE = {"in", "at", "from"}
_TIME_WORDS = {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "hier", "soir", "matin",
               "aujourd'hui", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
               "yesterday", "today", "on", "également", "aussi", "also", "encore", "notamment"}
_PREPOSITIONS = {"in", "at", "from", "to", "near", "en", "à", "au", "aux", "dans", "près", "vers", "of", "de", "du",
                 "des", "d'", "for", "pour", "by", "par", "with", "avec"}
_NEGATIONS = {"no", "none", "nobody", "aucun", "aucune", "nul", "neither", "not"}
_STANDALONE = {"source", "sources", "témoin", "témoins", "witness", "witnesses"}


class _Classes:
    """Token classes of one document (see the module doc), computed once."""

    def __init__(self, rs: RuleSuggester, doc: Any) -> None:
        low = rs.low
        stop, never_names = _stop_words(rs)
        french = rs.language in ("fr", "mul")
        chars: list[str] = []
        qty, kinds = doc.user_data["newsner_qty"], doc.user_data["newsner_kind"]
        for t in doc:
            lower = t.lower_
            if qty[t.i]:
                c = "Q" if len(t.text.split()) <= 2 and lower not in ("a", "an", "un", "une") else "_"
            elif kinds[t.i] in ("source", "relay", "actor"):
                c = "N"
            elif lower in ("'s", "’s", "'", "’"):
                c = "P"
            elif lower in ("-", "‑") and not t.whitespace_ and t.i > 0 and not doc[t.i - 1].whitespace_:
                c = "M"  # a hyphenated modifier: "the Houthi-run health ministry"
            elif t.i > 1 and doc[t.i - 1].text == "-" and not doc[t.i - 2].whitespace_ and t.is_lower:
                c = "M"
            elif lower in low["keep_dets"]:
                c = "D"
            elif lower in low["roles"]:
                c = "R"
            elif lower in low["role_modifiers"] or lower in low["demonyms"] or (french and _FR_ADJ.search(lower)):
                c = "M"
            elif lower in _LOCATIVE and rs.language in ("en", "mul"):
                c = "L"
            elif lower in low["connectors"]:
                c = "C"
            elif lower in low["inner_dets"]:
                c = "I"
            elif lower in low["drop_dets"]:
                c = "X"
            elif t.text in never_names or lower in low["pronouns"]:
                c = "_"
            elif (t.is_title or (t.is_upper and len(t.text) >= 2)) and lower not in stop and not t.like_num:
                c = "N"
            elif t.is_alpha and t.is_lower and lower not in stop and lower not in low["speech_verbs"]:
                c = "U"
            else:
                c = "_"
            chars.append(c)
        self.s = "".join(chars)
        self.words = [t.lower_ for t in doc]


_STOP_CACHE: dict[int, tuple[set[str], set[str]]] = {}


def _stop_words(rs: RuleSuggester) -> tuple[set[str], set[str]]:
    """Words that end a noun phrase, and capitalised words that are never names; once per rule set."""
    key = id(rs)
    if key not in _STOP_CACHE:
        from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP
        from spacy.lang.fr.stop_words import STOP_WORDS as FR_STOP

        low = rs.low
        stop = set(EN_STOP | FR_STOP) - low["roles"] - low["role_modifiers"] - low["keep_dets"]
        never = set(rs.lex.get("not_places", [])) - set(rs.lex.get("known_sources", []))
        _STOP_CACHE[key] = (stop, never)
    return _STOP_CACHE[key]


def _ok(classes: str) -> bool:
    return classes.count("U") <= 2 and bool(_NP.fullmatch(classes))


def _left(cls: _Classes, end: int, floor: int = 0) -> tuple[int, int] | None:
    """The longest noun phrase ending at token `end` (exclusive)."""
    for start in range(max(floor, end - _WINDOW), end):
        if _ok(cls.s[start:end]):
            return start, end
    return None


def _right(cls: _Classes, start: int) -> tuple[int, int] | None:
    """The longest noun phrase starting at token `start` (after leading dropped articles)."""
    while start < len(cls.s) and (cls.s[start] in "XIC" or cls.words[start] in _TIME_WORDS):
        start += 1  # "a rapporté mardi la police locale"
    for end in range(min(len(cls.s), start + _WINDOW), start, -1):
        if _ok(cls.s[start:end]):
            return start, end
    return None


def _speaker_end(rs: RuleSuggester, doc: Any, i: int, cls_s: str) -> int:
    """Where the speaker's noun phrase ends, for the cue at token i (skipping adverbs, appositions, "(ACR)")."""
    end = i
    while end > 0 and doc[end - 1].lower_ in _SKIP_BEFORE_VERB and end - i > -4:
        end -= 1
    if end >= 3 and doc[end - 1].text == ")" and doc[end - 3].text == "(":
        end -= 3
    # "A former UN mission worker in Kidal said": the place is where the speaker is, not part of the source
    j = end
    while j > 0 and cls_s[j - 1] == "N" and end - j < 4:
        j -= 1
    if j < end and j > 0 and cls_s[j - 1] == "L":
        end = j - 1
    # "A resident who helped bury the victims said": the speaker stands before the relative clause
    for j in range(end - 1, max(-1, end - 10), -1):
        if doc[j].is_punct:
            break
        if doc[j].lower_ in ("who", "qui") and j > 0 and cls_s[j - 1] in "NR":
            return j
    if end > 0 and doc[end - 1].text == ",":
        for j in range(end - 2, max(-1, end - _WINDOW), -1):
            if doc[j].text == ",":
                first = doc[j + 1].lower_
                if first in ("who", "qui", "which", "speaking", "s'exprimant", "joint", "jointe", "contacted"):
                    return j  # "X, who asked not to be named, said"
                if all(c == "N" for c in cls_s[j + 1:end - 1]) and end - 1 > j + 1:
                    return end - 1  # "the governor of Borno, Babagana Zulum, said": the name speaks
                if first in rs.low["keep_dets"] or first in rs.low["drop_dets"] or first in rs.low["roles"] \
                        or first in rs.low["role_modifiers"] or first in rs.low["inner_dets"]:
                    return j
                break
        return -1
    return end


def claim_sources(rs: RuleSuggester, doc: Any) -> list[tuple[int, int]]:
    """Token ranges [start, end) of CLAIM_SOURCE noun phrases in attribution frames."""
    low = rs.low
    cls = _Classes(rs, doc)
    participles = rs.participles
    out: list[tuple[int, int]] = []

    def add(np: tuple[int, int] | None) -> tuple[int, int] | None:
        if np is not None and np[1] > np[0]:
            out.append(np)
        return np

    for i, tok in enumerate(doc):
        lower = tok.lower_
        cue = lower in low["speech_verbs"]
        if not cue and lower in participles:
            # "X a de son côté affirmé": the auxiliary a few words back starts the cue
            for j in range(i - 1, max(-1, i - 5), -1):
                if doc[j].lower_ in _AUX_FR:
                    cue, i_cue = True, j
                    break
        else:
            i_cue = i
        if cue:
            end = _speaker_end(rs, doc, i_cue, cls.s)
            np = _left(cls, end) if end > 0 else None
            if np is not None and np[0] > 0 and doc[np[0] - 1].lower_ in _NEGATIONS | _PREPOSITIONS:
                np = None  # "No group claimed ...", "Aucun groupe n'a ...", "... en Haïti a recensé" (an object)
            if np is not None:
                add(np)
                # "local officials and a rights group said": the coordinated phrase speaks too
                if np is not None and np[0] >= 2 and doc[np[0] - 1].lower_ in ("and", "et"):
                    other = _left(cls, np[0] - 1)
                    if other is not None and (other[0] == 0 or cls.s[other[0] - 1] in "_X"):
                        add(other)
            # the relay after the verb: "told AFP", "a déclaré à l'AFP"
            k = i + 1
            if k < len(doc) and doc[k].lower_ in low["relay_cues"] and doc[k].lower_ not in ("told",):
                k += 1
            if lower in ("told", "tells") or (k > i + 1):
                relay = add(_right(cls, k))
                # ', a indiqué à l'AFP un responsable local': the speaker comes after the relay
                if relay is not None and k > i + 1 and relay[1] < len(doc) and cls.s[relay[1]] in "DNRMQ" \
                        and i > 0 and doc[i - 1].is_punct:
                    add(_right(cls, relay[1]))
        if " " in lower and lower in low["relay_cues"]:
            add(_right(cls, i + 1))  # "joint par l'AFP", "contacted by Reuters"
        if lower in low["speaker_before_cues"] or lower in ("citing", "cited by", "quoted by", "citant"):
            # An inverted speech verb ('..." said X', ', a déclaré X') needs the quote or comma before it;
            # otherwise what follows "said" is what was said ("said army artillery had killed ...").
            inverted = lower in low["speech_verbs"]
            if not inverted or (i > 0 and doc[i - 1].is_punct):
                add(_right(cls, i + 1))
        if lower in _STANDALONE:
            # "security sources", "sources sécuritaires": a qualifier of the lexicon's source_qualifiers right
            # before or after (not "independent sources of information", which names no one)
            qualifiers = low.get("source_qualifiers", set())
            start, end = i, i + 1
            while start > 0 and doc[start - 1].lower_ in qualifiers:
                start -= 1
            while end < len(doc) and doc[end].lower_ in qualifiers:
                end += 1
            if end - start > 1:
                if start > 0 and cls.s[start - 1] in "DQ":
                    start -= 1  # "two security sources", "une source sécuritaire"
                add((start, end))
    # A parenthesised acronym or an ", ACRONYM," apposition after a source is the same source
    extra: list[tuple[int, int]] = []
    for _s, e in out:
        if e + 2 < len(doc) and doc[e].text == "," and cls.s[e + 1] == "N" and doc[e + 2].text in (",", "."):
            extra.append((e + 1, e + 2))
    return out + extra
