"""The rule suggester: CASUALTY, CLAIM_SOURCE, ACTOR and LOCATION spans from rules kept as data, per language.

Data (src/newsner/data/rules/LANG/): `lexicon.json` (word lists: qualifiers, vague amounts, group nouns, outcome
words, speech verbs, roles, demonyms, force nouns, armed groups, place cues ...) and `rules.jsonl` (spaCy Matcher
token patterns, one JSON object a line). A rules line is `{"label", "pattern", "keep"?}`:
- `pattern` is a spaCy Matcher pattern; an element may also be the string "QTY" (a quantity, see below), "@name"
  (a token whose lower-case text is in the lexicon list `name`), or a dict whose "IN"/"NOT_IN" value is "@name";
- `keep: [a, b]` makes the span the tokens matched by pattern elements a..b-1 (context left out of the span:
  "killed [12 people]", "[At least 15] Wagner fighters were killed"); without it the whole match is the span.
A plain spaCy EntityRuler line (`{"label", "pattern": "phrase" | [tokens]}`) is a rules line too, so a project's
own patterns file (`pre-annotate --patterns FILE`) is read by the same code.

Processing one text (spaCy's blank tokenizer of the language; nothing downloaded):
1. quantities: a qualifier ("at least", "près de"), a range lead ("between", "entre"), then digits ("1,200",
   "1 200"), number words ("twelve", "dix-sept", "vingt-cinq"), vague amounts ("dozens", "des dizaines",
   "une vingtaine") and a second number after a range word; ordinals, years alone, and figures followed by a
   unit that is not people ("17-year-old", "30%", "5 km", "$5 million") are not quantities. Each quantity
   becomes one token (QTY in patterns).
2. multi-word lexicon phrases ("armed forces", "a déclaré", "according to") and known names (armed groups, news
   agencies, NGOs; case-sensitive) become one token each.
3. the Matcher rules (CASUALTY, ACTOR, and the project's patterns), CLAIM_SOURCE attribution frames
   (`newsner.model.sources`) and places (`newsner.model.places`: the
   `newsner.model.gazetteer` plus location cues).
4. overlaps: an attribution-frame CLAIM_SOURCE wins, then CASUALTY, then the project's patterns, then the
   longest span; so "The Malian army said" is a source, never an ACTOR.
Built once per language and patterns file (`RuleSuggester.get` caches it); `spans(text)` is then cheap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from newsner._io import read_jsonl
from newsner.errors import InputError
from newsner.schema import Span

LANGUAGES = ("en", "fr")
# Priorities when spans overlap: higher wins, then the longer span.
# A project pattern wins a tie (same priority and length) over a shipped rule.
PRIORITY = {"frame": 4, "CASUALTY": 3, "project": 1, "ACTOR": 1, "LOCATION": 1, "CLAIM_SOURCE": 1}
_DIGITS = re.compile(r"^\d{1,3}(?:[,.\u00a0\u202f]\d{3})+$|^\d+(?:[.,]\d+)?$")
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th|e|er|ère|ème|eme)$", re.IGNORECASE)
_ACRONYM = re.compile(r"^[A-Z][A-Za-z0-9-]{1,7}$")
_CURRENCY = {"$", "€", "£", "us$", "usd", "eur", "cfa", "fcfa"}


def rules_dir(language: str) -> Path:
    """The shipped rule data of `language` (src/newsner/data/rules/LANG/)."""
    return Path(__file__).parents[1] / "data" / "rules" / language


def load_lexicon(language: str) -> dict[str, list[Any]]:
    data = json.loads((rules_dir(language) / "lexicon.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def merge_lexicons(lexicons: Sequence[dict[str, list[Any]]]) -> dict[str, list[Any]]:
    """The union of several languages' lists, for text whose language is unknown (order kept, no repeats)."""
    out: dict[str, list[Any]] = {}
    for lex in lexicons:
        for key, values in lex.items():
            seen = out.setdefault(key, [])
            for v in values:
                if v not in seen:
                    seen.append(v)
    return out


def read_rules(path: Path, labels: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Rule lines of a JSONL file: {"label", "pattern", "keep"?}; one clear line per bad line."""
    order = list(labels) if labels is not None else None  # named in the schema's order in a message
    names = set(order) if order is not None else None
    out: list[dict[str, Any]] = []
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        if not isinstance(obj, dict) or "label" not in obj or "pattern" not in obj:
            raise InputError(f"{where}: a pattern line needs 'label' and 'pattern' (spaCy EntityRuler format)")
        if names is not None and obj["label"] not in names:
            raise InputError(f"{where}: label {obj['label']!r} is not in the label schema ({', '.join(order or [])})")
        if not isinstance(obj["pattern"], (str, list)) or not obj["pattern"]:
            raise InputError(f"{where}: 'pattern' must be a phrase or a list of token patterns")
        keep = obj.get("keep")
        if keep is not None:
            # checked here: a `keep` outside the pattern would make the rule match and never suggest anything
            size = len(obj["pattern"]) if isinstance(obj["pattern"], list) else 0
            if not (isinstance(keep, list) and len(keep) == 2 and all(type(k) is int for k in keep)
                    and 0 <= keep[0] < keep[1] <= size):
                raise InputError(f"{where}: 'keep' must be [first, last+1] indices of the token pattern's elements "
                                 f"(0 <= first < last+1 <= {size}), got {keep!r}")
        out.append({**obj, "where": where})
    return out


def _phrase_doc(tokenizer: Any, phrase: str) -> Any:
    """`phrase` tokenized as it is inside a sentence: a trailing elision ("plus d'", "auprès d'") is split off
    differently at the end of a string, so the phrase is tokenized with a word after it, then cut."""
    if phrase.endswith(("'", "’")):
        return tokenizer(phrase + "un")[:-1].as_doc()
    return tokenizer(phrase)


def _phrase_tokens(tokenizer: Any, phrase: str) -> tuple[str, ...]:
    return tuple(t.lower_ for t in _phrase_doc(tokenizer, phrase))


class RuleSuggester:
    """Rule spans for one language (or "mul": English and French rules together, for unknown languages).

    Example:
        rs = RuleSuggester.get("en")
        rs.spans("Gunmen killed at least 12 people near Gao, officials said.")
        # [Span(0, 6, 'ACTOR', 'Gunmen'), Span(14, 32, 'CASUALTY', 'at least 12 people'),
        #  Span(38, 41, 'LOCATION', 'Gao'), Span(43, 52, 'CLAIM_SOURCE', 'officials')]
    """

    def __init__(self, language: str, project: Sequence[Path] = ()) -> None:
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Token

        from newsner.model.gazetteer import places_for

        for ext, default in (("newsner_qty", False), ("newsner_kind", "")):
            if not Token.has_extension(ext):
                Token.set_extension(ext, default=default)
        langs = LANGUAGES if language == "mul" else (language,)
        self.language = language
        self.nlp = spacy.blank("en" if language == "mul" else language)
        tok = self.nlp.tokenizer
        self.lex = merge_lexicons([load_lexicon(lang) for lang in langs])
        lex = self.lex
        low = {k: {str(v).lower() for v in vals if isinstance(v, str)} for k, vals in lex.items()}
        self.low = low
        self.numbers = low["number_words"]
        self.multipliers = low["multipliers"]
        self.qualifiers = _by_first({_phrase_tokens(tok, q) for q in lex["qualifiers"]})
        self.vague = _by_first({_phrase_tokens(tok, q) for q in lex["vague"]})
        self.range_words = low["range_words"]
        self.range_leads = [tuple(pair) for pair in lex["range_leads"]]
        self.units = low["not_people_units"]
        # Multi-word lexicon phrases become one token (matched lower-case) so patterns can test them with IN.
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        multi = {p for key in ("groups", "casualty_nouns", "outcome_adjacent", "outcome_after", "outcome_before",
                               "outcome_before_group", "speech_verbs", "relay_cues", "speaker_before_cues",
                               "roles", "role_modifiers", "forces", "actor_generic", "titles", "demonyms",
                               "location_cues", "location_cues_strong", "toll_words", "pronouns", "actor_prefixes")
                 for p in low.get(key, ()) if len(_phrase_tokens(tok, p)) > 1}
        self.phrases.add("PHRASE", [_phrase_doc(tok, p) for p in sorted(multi)])
        # Known names keep their case ("AFP", "Wagner", "MSF"), and are tagged with what they are.
        self.names = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        for kind, key in (("actor", "actor_names"), ("source", "known_sources"), ("relay", "relays")):
            docs = [self.nlp.make_doc(p) for p in lex.get(key, []) if p[:1].isupper() or p[:1].isdigit()]
            self.names.add(kind, docs)
        self.matcher = Matcher(self.nlp.vocab, validate=True)
        self.project_phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.keeps: dict[str, tuple[str, list[int], tuple[int, int] | None, str]] = {}
        rules = [r for lang in langs for r in read_rules(rules_dir(lang) / "rules.jsonl")]
        for i, rule in enumerate(rules):
            self._add(f"rule{i}", rule, origin=rule["label"])
        for j, path in enumerate(project):
            for i, rule in enumerate(read_rules(Path(path))):
                self._add(f"project{j}_{i}", rule, origin="project")
        self.places = places_for(
            language if language != "mul" else "en",
            tuple(lex.get("place_names", [])), tuple(lex.get("not_places", [])),
            tuple(lex.get("ambiguous_places", [])), tuple(self._common_words(langs)))
        # French participles of compound speech verbs ("a ... affirmé"), for sources.claim_sources
        self.participles = {p.split(" ", 1)[1] for p in low["speech_verbs"]
                            if " " in p and p.split(" ", 1)[0] in ("a", "ont", "avait", "avaient")}
        self.location_cues = low["location_cues"]
        self.location_suffixes = low.get("location_suffixes", set())
        self.not_places = set(lex.get("not_places", []))
        # lexicon place names that start lower-case ("lac Tchad", "bande de Gaza"): first words to look up from
        self.lower_place_starts = {n.split()[0] for n in lex.get("place_names", []) if n[:1].islower()}

    # ----------------------------------------------------------------------------------------- building
    def _common_words(self, langs: Sequence[str]) -> set[str]:
        import importlib

        words: set[str] = set()
        for lang in langs:
            module = importlib.import_module(f"spacy.lang.{lang}.stop_words")
            words |= set(module.STOP_WORDS)
        for key, values in self.low.items():
            if key not in ("place_names", "not_places", "ambiguous_places", "actor_names", "known_sources",
                           "relays"):
                words |= {v for v in values if " " not in v}
        return words

    def _expand(self, element: Any, where: str) -> dict[str, Any]:
        if element == "QTY":
            return {"_": {"newsner_qty": True}}
        if isinstance(element, str) and element.startswith("@"):
            return {"LOWER": {"IN": self._list(element, where)}}
        if not isinstance(element, dict):
            raise InputError(f"{where}: a pattern element must be an object, \"QTY\" or \"@list\", got {element!r}")
        out: dict[str, Any] = {}
        for key, value in element.items():
            if isinstance(value, str) and value.startswith("@"):
                value = {"IN": self._list(value, where)}
            elif isinstance(value, dict):
                value = {k: self._list(v, where) if isinstance(v, str) and v.startswith("@") else v
                         for k, v in value.items()}
            out[key] = value
        return out

    def _list(self, name: str, where: str) -> list[str]:
        key = name[1:]
        if key not in self.low:
            raise InputError(f"{where}: no lexicon list {key!r} (lists: {', '.join(sorted(self.low))})")
        return sorted(self.low[key])

    def _add(self, key: str, rule: dict[str, Any], *, origin: str) -> None:
        pattern, where = rule["pattern"], rule["where"]
        if isinstance(pattern, str):  # an EntityRuler phrase: matched case-insensitively
            self.project_phrases.add(key, [self.nlp.make_doc(pattern)])
            self.keeps[key] = (rule["label"], [], None, origin)
            return
        expanded = [self._expand(e, where) for e in pattern]
        try:
            self.matcher.add(key, [expanded])
        except (ValueError, KeyError) as exc:
            raise InputError(f"{where}: not a valid spaCy Matcher pattern ({str(exc).splitlines()[0]})") from None
        keep = rule.get("keep")
        self.keeps[key] = (rule["label"], [], (keep[0], keep[1]) if keep else None, origin)

    @classmethod
    def get(cls, language: str | None, project: Sequence[Path] = ()) -> RuleSuggester:
        """The cached suggester for `language` ("en", "fr"; anything else: both rule sets, "mul")."""
        lang = language if language in LANGUAGES else "mul"
        return _cached(lang, tuple(str(Path(p).resolve()) for p in project))

    # ----------------------------------------------------------------------------------------- running
    def _is_number(self, text: str) -> bool:
        lower = text.lower()
        if _DIGITS.match(text):
            return True
        if lower in self.numbers and lower not in ("et",):
            return True
        parts = re.split(r"-", lower)
        return len(parts) > 1 and all(p in self.numbers or p in ("un", "une", "et", "one") for p in parts)

    def _phrase_at(self, lowers: Sequence[str], i: int, table: dict[str, list[tuple[str, ...]]]) -> int:
        for phrase in table.get(lowers[i], ()):  # longest first
            if tuple(lowers[i:i + len(phrase)]) == phrase:
                return len(phrase)
        return 0

    def _core(self, doc: Any, lowers: Sequence[str], i: int) -> int:
        """Tokens used by a number or vague amount starting at token i (0 when none)."""
        n = self._phrase_at(lowers, i, self.vague)
        if n:
            return n
        j = i
        while j < len(doc) and self._is_number(doc[j].text):
            j += 1
            # "1 200" (French thousands), "twenty - five", "2 million"
            if j < len(doc) and re.fullmatch(r"\d{3}", doc[j].text) and doc[j - 1].text.isdigit() \
                    and doc[j - 1].whitespace_ and len(doc[j - 1].text) <= 3:
                continue
            if (j + 1 < len(doc) and doc[j].text == "-" and not doc[j - 1].whitespace_
                    and lowers[j - 1] in self.numbers and lowers[j + 1] in self.numbers):
                j += 1
                continue
            if j < len(doc) and lowers[j] in self.multipliers and j > i:
                j += 1
                break
        return j - i

    def quantities(self, doc: Any) -> list[tuple[int, int]]:
        """Token ranges of quantities (see the module doc), left to right, not overlapping."""
        lowers = [t.lower_ for t in doc]
        out: list[tuple[int, int]] = []
        i = 0
        while i < len(doc):
            start = i
            # the longest qualifier after which a number follows ("plus d'une centaine": "plus d'" + "une
            # centaine", not "plus d'une" + "centaine"), else none
            lengths = [len(ph) for ph in self.qualifiers.get(lowers[i], ())
                       if tuple(lowers[i:i + len(ph)]) == ph] + [0]
            n = k = 0
            lead = None
            for q in lengths:
                j = i + q
                lead = next((pair for pair in self.range_leads if j < len(doc) and lowers[j] == pair[0]), None)
                k = j + 1 if lead else j
                n = self._core(doc, lowers, k) if k < len(doc) else 0
                if lead and (n == 0 or k + n >= len(doc) or lowers[k + n] != lead[1]):
                    lead, k = None, j  # "de huit morts" is not "de 8 à 10"
                    n = self._core(doc, lowers, k) if k < len(doc) else 0
                if n:
                    break
            if n == 0:
                i += 1
                continue
            end = k + n
            # A second number after a range word: "10 to 15", "10-15", "two or three", "between 10 and 15"
            if end < len(doc) and (lowers[end] in self.range_words or (lead and lowers[end] == lead[1])):
                m = self._core(doc, lowers, end + 1)
                if m:
                    end = end + 1 + m
            if self._is_quantity(doc, lowers, k, start, end):
                out.append((start, end))
                i = end
            else:
                i = end if end > i else i + 1
        return out

    def _is_quantity(self, doc: Any, lowers: Sequence[str], core: int, start: int, end: int) -> bool:
        text = doc[core].text
        if _ORDINAL.match(text):
            return False
        if start == core and end == core + 1 and re.fullmatch(r"(19|20)\d\d", text):
            return False  # a year, not a count
        if start > 0 and lowers[start - 1] in _CURRENCY:
            return False
        nxt = lowers[end] if end < len(doc) else ""
        if nxt in self.units:
            return False
        if nxt in ("-", "–") and end + 1 < len(doc) and lowers[end + 1] in self.units:
            return False  # "17-year-old", "5-km"
        return not (nxt and doc[end - 1].whitespace_ == "" and nxt in ("%", "h", "km"))

    def make_doc(self, text: str) -> Any:
        """The tokenized text with quantities, lexicon phrases and known names merged into single tokens."""
        from spacy.util import filter_spans

        doc = self.nlp.make_doc(text)
        names = [(doc[s:e], self.nlp.vocab.strings[k]) for k, s, e in self.names(doc)]
        named = {i for s, _ in names for i in range(s.start, s.end)}
        # a known name is never a quantity ("the 3R rebels", "M23")
        qty = [doc[a:b] for a, b in self.quantities(doc) if not any(i in named for i in range(a, b))]
        phrases = [doc[s:e] for _, s, e in self.phrases(doc)]
        taken = {t for span in qty for t in range(span.start, span.end)}
        kinds = {(s.start, s.end): kind for s, kind in names}
        others = filter_spans([s for s, _ in names] + phrases)
        merged = qty + [s for s in others if not any(t in taken for t in range(s.start, s.end))]
        with doc.retokenize() as retok:
            for span in merged:
                if len(span) > 1:
                    retok.merge(span)
        qty_starts = {span.start_char for span in qty}
        kind_by_char = {doc_span.start_char: kinds[(doc_span.start, doc_span.end)]
                        for doc_span in (s for s, _ in names) if (doc_span.start, doc_span.end) in kinds}
        # Plain lists beside the extension attributes: reading `token._` is slow in loops
        qty_flags = [token.idx in qty_starts for token in doc]
        kinds_list = ["" if q else kind_by_char.get(token.idx, "") for token, q in zip(doc, qty_flags, strict=True)]
        for token, q, kind in zip(doc, qty_flags, kinds_list, strict=True):
            if q:
                token._.newsner_qty = True
            elif kind:
                token._.newsner_kind = kind
        doc.user_data["newsner_qty"] = qty_flags
        doc.user_data["newsner_kind"] = kinds_list
        return doc

    def spans(self, text: str) -> list[Span]:
        """Non-overlapping rule spans of `text`, code-point offsets, sorted; `source` = "patterns"."""
        from newsner.model.places import place_spans
        from newsner.model.sources import claim_sources

        doc = self.make_doc(text)
        cands: list[tuple[int, int, str, float]] = []  # start, end, label, priority
        for key_id, start, end, align in self.matcher(doc, with_alignments=True):  # type: ignore[misc]
            key = self.nlp.vocab.strings[key_id]
            label, _, keep, origin = self.keeps[key]
            if keep is not None:
                idx = [start + n for n, a in enumerate(align) if keep[0] <= a < keep[1]]
                if not idx:
                    continue
                start, end = min(idx), max(idx) + 1
            cands.append((doc[start].idx, doc[end - 1].idx + len(doc[end - 1]), label,
                          PRIORITY.get(label, 1) + (0.5 if origin == "project" and label != "CASUALTY" else 0)))
        for key_id, start, end in self.project_phrases(doc):
            label = self.keeps[self.nlp.vocab.strings[key_id]][0]
            cands.append((doc[start].idx, doc[end - 1].idx + len(doc[end - 1]), label, PRIORITY.get(label, 1) + 0.5))
        for token, kind in zip(doc, doc.user_data["newsner_kind"], strict=True):
            if kind == "actor":
                cands.append((token.idx, token.idx + len(token), "ACTOR", PRIORITY["ACTOR"]))
        for s, e in claim_sources(self, doc):
            cands.append((doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), "CLAIM_SOURCE", PRIORITY["frame"]))
        cands += place_spans(self, doc)
        cands = self._not_modifiers(doc, cands)
        dateline = _dateline_end(text)
        if dateline:  # where the story was filed ("BAMAKO, Mali (wire) -"), not where anything happened
            cands = [c for c in cands if not (c[2] == "LOCATION" and c[1] <= dateline)]
        kept = _resolve(cands)
        kept = _with_acronyms(text, kept)
        return [Span(s, e, label, text[s:e], source="patterns") for s, e, label in kept]

    def _not_modifiers(self, doc: Any, cands: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
        """Drop an ACTOR that only modifies the next noun ("an army post", "a military operation", "la base
        militaire" is not an actor): the lexicon's `actor_modifier_heads`."""
        heads = self.low.get("actor_modifier_heads", set())
        if not heads:
            return cands
        next_word = {t.idx + len(t): (doc[t.i + 1].lower_ if t.i + 1 < len(doc) else "") for t in doc}
        return [c for c in cands if c[2] != "ACTOR" or next_word.get(c[1], "") not in heads]


_DATELINE = re.compile(r"^[A-ZÀ-Ý][A-ZÀ-Ý'’ .-]{2,}(?:,[^\n]{0,40}?)?(?:\([^)\n]{0,30}\))?\s*[-–—]\s")


def _dateline_end(text: str) -> int:
    """End of a wire dateline at the start of the text ("KYIV (Reuters) - ", "BAMAKO, 12 juin (AFP) - "), or 0."""
    m = _DATELINE.match(text)
    return m.end() if m else 0


def _by_first(phrases: Iterable[tuple[str, ...]]) -> dict[str, list[tuple[str, ...]]]:
    """Phrases indexed by their first token, longest first."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted(phrases, key=len, reverse=True):
        if phrase:
            out.setdefault(phrase[0], []).append(phrase)
    return out


@lru_cache(maxsize=16)
def _cached(language: str, project: tuple[str, ...]) -> RuleSuggester:
    return RuleSuggester(language, [Path(p) for p in project])


def _resolve(cands: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str]]:
    """Non-overlapping spans: higher priority first, then longer, then earlier."""
    # priority class, then length, then a project pattern (+0.5) before a shipped rule
    order = sorted(set(cands), key=lambda c: (-int(c[3]), -(c[1] - c[0]), -c[3], c[0], c[2]))
    kept: list[tuple[int, int, str]] = []
    for s, e, label, _ in order:
        if e > s and all(e <= ks or s >= ke for ks, ke, _ in kept):
            kept.append((s, e, label))
    return sorted(kept)


def _with_acronyms(text: str, kept: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """An acronym in brackets right after an ACTOR or a source names the same thing: "Rapid Support Forces (RSF)".
    (Not after a place: "... au Sahel (EIS)" belongs to the group before the place.)"""
    out = list(kept)
    for _s, e, label in kept:
        if label not in ("ACTOR", "CLAIM_SOURCE"):
            continue
        m = re.match(r"\s*\(([^()\s]{2,10})\)", text[e:])
        if m and _ACRONYM.match(m.group(1)) and sum(c.isupper() for c in m.group(1)) >= 2:
            a, b = e + m.start(1), e + m.end(1)
            if all(b <= ks or a >= ke for ks, ke, _ in out):
                out.append((a, b, label))
    return sorted(out)


def rule_spans(texts: Sequence[str], languages: Sequence[str | None] | None = None,
               project: Sequence[Path] = ()) -> list[list[Span]]:
    """Rule spans per text; `languages` per text: "en", "fr"; None (unknown, e.g. a `serve` request) is read
    from the text (newsner.ingest.lang: English or French when the detector is confident); any other language,
    or an unsure detection, gets both rule sets ("mul")."""
    from newsner.ingest.lang import guess_language

    langs = list(languages) if languages is not None else [None] * len(texts)
    out = []
    for text, lang in zip(texts, langs, strict=True):
        if lang is None:
            lang = guess_language(text)
        out.append(RuleSuggester.get(lang, project).spans(text))
    return out


__all__ = ["LANGUAGES", "RuleSuggester", "load_lexicon", "read_rules", "rule_spans", "rules_dir"]
