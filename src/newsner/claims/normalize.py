"""Casualty counts as numbers: every CASUALTY span → ``{min, max, approximate, unit}``.

A CASUALTY span is what a source claims ("at least 17 dead", "dozens and dozens", "une dizaine de soldats").
`normalize_count` turns it into a range a table can sort and compare, on the conservative rule conflict monitors
use (ACLED: "tens" → 10, "dozens" → 12, "hundreds" → 100, keep the lowest credible figure, mark it approximate).
It never guesses: a span it cannot read comes back with ``parsed=False`` and a ``reason``.

Rules (``N`` is a number: digits with thousands separators ``1,200`` / ``1 200`` / ``8.000``, decimals ``7.5``,
a multiplier ``2 million``, or English/French number words read by text2num: ``seventeen``, ``dix-sept``):

=====================================================  ==========  ==========  ===========
phrasing                                               min         max         approximate
=====================================================  ==========  ==========  ===========
``N`` / ``N killed`` / ``once`` ``twice``              N           N           no
``at least N``, ``no fewer than N``, ``au moins N``     N           —           no
``N-plus``, ``N+``                                     N           —           no
``more than N``, ``over N``, ``plus de N``             N+1 (int)   —           no
``fewer than N``, ``under N``, ``moins de N``          —           N-1 (int)   no
``up to N``, ``as many as N``, ``jusqu'à N``           —           N           yes
``nearly N``, ``almost N``, ``près de N``, ``presque``  —           N           yes
``about N``, ``around``, ``some``, ``environ``         N           N           yes
``between A and B``, ``A to B``, ``A-B``, ``A or B``,  A           B           no
``entre A et B``
``tens``/``des dizaines``                              10          —           yes
``dozens``, ``dozens and dozens``                      12          —           yes
``scores``                                             20          —           yes
``hundreds``/``des centaines``                         100         —           yes
``thousands``/``des milliers``, ``tens of thousands``  1000/10000  —           yes
``hundreds of thousands``, ``millions``                100000/1e6  —           yes
``several``, ``many``, ``numerous``, ``multiple``,     10          —           yes
``plusieurs``, ``de nombreux`` (ACLED: 10)
``a few``, ``a handful``, ``quelques`` (project: 3)    3           —           yes
``a dozen``, ``une douzaine``, ``a score``             12 / 20     12 / 20     yes
``une dizaine``, ``une vingtaine``, ``une centaine``…  10 / 20 / 100 (same)     yes
``half a million``                                     500000      500000      no
=====================================================  ==========  ==========  ===========

Qualifiers combine with vague quantities ("more than a dozen" → min 13). ``unit`` is the noun the span
states after the number ("five terrorist targets" → ``targets``; "24 hours" → ``hours``; ``%`` → ``percent``);
outcome words (dead, killed, wounded, morts, tués, …) are not units. When the span stops at the number
("At least 15"), the caller may pass the text right after it (`after`) and a known group noun among its first
words is taken ("… Wagner fighters were killed" → ``fighters``). Otherwise ``unit`` is null.

Left unparsed (``parsed=False`` with the reason): ordinals (``93rd``, ``first``), a bare article (``a``),
words before the number that are none of the qualifiers above, spans without any number or quantity word, and
fractions other than "half a …".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any

Number = int | float


@dataclass(frozen=True)
class Count:
    """A normalized casualty figure. `min`/`max` are None when the phrasing leaves that side open."""

    text: str
    parsed: bool
    min: Number | None = None
    max: Number | None = None
    approximate: bool = False
    unit: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------------- words
# Qualifiers, longest first so "more than" wins over "more". Each maps to how N becomes (min, max, approx).
_QUALIFIERS: list[tuple[str, str]] = sorted([
    ("at least", "min"), ("no fewer than", "min"), ("no less than", "min"), ("a minimum of", "min"),
    ("au moins", "min"), ("au minimum", "min"), ("pas moins de", "min"), ("pas moins d'", "min"),
    ("more than", "gt"), ("over", "gt"), ("upwards of", "gt"), ("in excess of", "gt"), ("plus de", "gt"),
    ("plus d'", "gt"), ("well over", "gt"), ("fewer than", "lt"), ("less than", "lt"), ("under", "lt"),
    ("moins de", "lt"), ("moins d'", "lt"), ("up to", "upto"), ("as many as", "upto"), ("jusqu' à", "upto"),
    ("nearly", "upto"), ("almost", "upto"), ("close to", "upto"), ("just under", "upto"),
    ("près de", "upto"), ("presque", "upto"), ("pratiquement", "upto"),
    ("about", "about"), ("around", "about"), ("some", "about"), ("roughly", "about"),
    ("approximately", "about"), ("an estimated", "about"), ("estimated", "about"), ("environ", "about"),
    ("quelque", "about"), ("approximativement", "about"), ("the", "none"), ("les", "none"),
], key=lambda kv: -len(kv[0]))

# Vague quantities: phrase → (value, open-ended plural?). Plurals give a lower bound only.
_VAGUE: list[tuple[str, Number, bool]] = sorted([
    ("dozens and dozens", 12, True), ("dozens upon dozens", 12, True), ("dozens of dozens", 12, True),
    ("dozens", 12, True), ("tens", 10, True), ("scores", 20, True), ("hundreds", 100, True),
    ("thousands", 1000, True), ("tens of thousands", 10000, True), ("hundreds of thousands", 100000, True),
    ("millions", 1000000, True), ("several", 10, True), ("many", 10, True), ("numerous", 10, True),
    ("multiple", 10, True), ("countless", 10, True), ("a few", 3, True), ("a handful", 3, True),
    ("a handful of", 3, True), ("handful", 3, True), ("few", 3, True),
    ("a dozen", 12, False), ("a score", 20, False), ("half a dozen", 6, False),
    ("des dizaines", 10, True), ("dizaines", 10, True), ("des douzaines", 12, True),
    ("des centaines", 100, True), ("centaines", 100, True), ("des milliers", 1000, True),
    ("milliers", 1000, True), ("des dizaines de milliers", 10000, True), ("plusieurs", 10, True),
    ("de nombreux", 10, True), ("de nombreuses", 10, True), ("nombreux", 10, True),
    ("nombreuses", 10, True), ("quelques", 3, True), ("une poignée", 3, True),
    ("une douzaine", 12, False), ("une dizaine", 10, False), ("une quinzaine", 15, False),
    ("une vingtaine", 20, False), ("une trentaine", 30, False), ("une quarantaine", 40, False),
    ("une cinquantaine", 50, False), ("une soixantaine", 60, False), ("une centaine", 100, False),
    ("un millier", 1000, False),
], key=lambda v: -len(v[0]))

# One alternation per table, longest phrase first, ending at a word boundary (or right after an apostrophe).
_VAGUE_VALUES = {phrase: (value, plural) for phrase, value, plural in _VAGUE}
_VAGUE_RE = re.compile("(" + "|".join(re.escape(p) for p, _, _ in _VAGUE) + r")(?:(?<=')|(?= |$))")
_QUALIFIER_RE = re.compile("(" + "|".join(re.escape(p) for p, _ in _QUALIFIERS) + r")(?:(?<=')|(?= |$))")
_QUALIFIER_KIND = dict(_QUALIFIERS)

_EXACT_WORDS = {"once": 1, "twice": 2, "half a million": 500000, "half a billion": 500000000,
                "a hundred": 100, "a thousand": 1000, "a million": 1000000, "one hundred": 100}
_MULTIPLIERS = {"hundred": 100, "thousand": 1000, "million": 1000000, "millions": 1000000,
                "billion": 1000000000, "mille": 1000, "millier": 1000, "milliers": 1000, "milliard": 1000000000,
                "milliards": 1000000000, "k": 1000, "m": 1000000}
_OUTCOMES = {
    "dead", "killed", "wounded", "injured", "hurt", "missing", "captured", "arrested", "kidnapped", "abducted",
    "died", "dying", "deaths", "death", "fatalities", "casualties", "slain", "executed", "taken", "prisoner",
    "prisoners", "were", "was", "have", "had", "been", "and", "or", "in", "of", "the", "morts", "mort", "tués",
    "tuées", "tué", "blessés", "blessées", "blessé", "disparus", "capturés", "de", "d'", "ont", "été", "sont",
    "et", "ou",
}
#: Group nouns a count may refer to; used only to read a unit from the words after a span (`after`).
_UNIT_NOUNS = {
    "people", "persons", "person", "civilians", "civilian", "fighters", "soldiers", "troops", "militants",
    "rebels", "insurgents", "terrorists", "jihadists", "mercenaries", "targets", "children", "women", "men",
    "policemen", "officers", "police", "villagers", "hostages", "bodies", "corpses", "victims", "members",
    "personnes", "civils", "soldats", "combattants", "militaires", "enfants", "femmes", "hommes", "otages",
    "rebelles", "terroristes", "djihadistes", "jihadistes", "mercenaires", "cibles", "victimes", "corps",
}
_ORDINAL = re.compile(r"^\d+(st|nd|rd|th|e|er|ère|eme|ème)$|^(first|second|third|fourth|fifth|tenth|premier|"
                      r"première|deuxième|troisième)$")
# Digits: thousands groups (1,200 / 1 200 / 8.000) or a decimal (7.5 / 2,5).
_DIGITS = re.compile(r"^(\d{1,3}(?:([,.\u00a0\u202f ])\d{3})(?:\2\d{3})*|\d+(?:[.,]\d+)?)")
_RANGE_WORDS = ("and", "to", "or", "et", "à", "ou", "-", "–")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"[\"«»“”]", " ", text)
    text = re.sub(r"(\d)\s*%", r"\1 percent", text)
    text = re.sub(r"\bper cent\b|\bpour cent\b", "percent", text)
    text = re.sub(r"(\d)\s*\+", r"\1 plus", text)
    text = re.sub(r"(\d)-plus\b", r"\1 plus", text)
    text = re.sub(r"(\d)\s*[-–]\s*(\d)", r"\1 - \2", text)
    text = re.sub(r"\b(d|l|jusqu)'\s*", r"\1' ", text)
    return re.sub(r"\s+", " ", text).strip(" .,;:!?()[]")


def _int(value: float) -> Number:
    return int(value) if float(value).is_integer() else value


def _digits(s: str) -> tuple[Number, int] | None:
    """Leading digits of `s` → (value, characters consumed)."""
    m = _DIGITS.match(s)
    if not m:
        return None
    raw = m.group(1)
    if m.group(2):  # thousands separators
        return int(re.sub(r"\D", "", raw)), m.end()
    return _int(float(raw.replace(",", "."))), m.end()


def _words_number(words: Sequence[str], languages: Sequence[str]) -> tuple[Number, int] | None:
    """The longest prefix of `words` that text2num reads as a number → (value, words used)."""
    from text_to_num import text2num  # small, but keep it off the CLI's import path

    for j in range(min(len(words), 8), 0, -1):
        phrase = " ".join(words[:j])
        if phrase in _EXACT_WORDS:
            return _EXACT_WORDS[phrase], j
        for lang in languages:
            try:
                return text2num(phrase, lang), j
            except (ValueError, KeyError, IndexError):
                continue
    return None


def _startswith(s: str, phrase: str) -> bool:
    return s == phrase or (s.startswith(phrase) and (phrase.endswith("'") or s[len(phrase)] == " "))


@dataclass
class _Quantity:
    low: Number
    high: Number | None  # None: open-ended (plural vague quantity)
    approximate: bool
    rest: str


def _quantity(s: str, languages: Sequence[str]) -> _Quantity | None:
    """A number or vague quantity at the start of `s` (with its multiplier), and what follows it."""
    m = _VAGUE_RE.match(s)
    if m:
        value, plural = _VAGUE_VALUES[m.group(1)]
        return _Quantity(value, None if plural else value, True, s[m.end():].strip())
    d = _digits(s)
    if d is not None:
        value, used = d
        rest = s[used:].strip()
        word = rest.split(" ", 1)[0] if rest else ""
        if word in _MULTIPLIERS and not (word in ("k", "m") and len(rest) > 1 and rest[1] != " "):
            value = _int(value * _MULTIPLIERS[word])
            rest = rest[len(word):].strip()
        return _Quantity(value, value, False, rest)
    words = s.split(" ")
    w = _words_number(words, languages)
    if w is not None:
        value, used = w
        rest_words = words[used:]
        if rest_words and rest_words[0] in _MULTIPLIERS and rest_words[0] not in ("k", "m"):
            value = _int(value * _MULTIPLIERS[rest_words[0]])
            rest_words = rest_words[1:]
        return _Quantity(value, value, False, " ".join(rest_words))
    return None


def _unit(rest: str, after: str) -> str | None:
    words: list[str] = [w for w in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", rest) if w not in _OUTCOMES]
    if words:
        return words[-1]
    if rest.startswith("percent"):
        return "percent"
    # The span stops at the number: a known group noun among the next few words is the unit.
    following: list[str] = re.findall(r"[^\W\d_]+", _clean(after))[:4]
    for w in following:
        if w in _UNIT_NOUNS:
            return w
        if w in _OUTCOMES - {"of", "de", "d'", "the", "and"}:
            break
    return None


def normalize_count(text: str, *, language: str | None = None, after: str = "") -> Count:
    """Normalize one casualty phrase (see the module table). Never raises on odd input; it says why instead.

    Args:
        text: the span text ("at least 17 dead", "dozens and dozens", "au moins dix-sept morts").
        language: "en" or "fr" to try that language's number words first (both are tried).
        after: the text right after the span, read only for a unit when the span stops at the number.
    """
    count = _normalize(str(text), language if language in ("en", "fr") else None)
    if count.parsed and count.unit is None and after:
        unit = _unit("", after)
        if unit is not None:
            return replace(count, unit=unit)
    return count


@lru_cache(maxsize=8192)  # the same phrasings recur across a corpus ("at least", "dozens")
def _normalize(text: str, language: str | None) -> Count:
    languages = [language] if language else []
    languages += [lang for lang in ("en", "fr") if lang not in languages]
    s = _clean(text)
    if not s:
        return Count(str(text), False, reason="empty span")
    first = s.split(" ", 1)[0]
    if _ORDINAL.match(first):
        return Count(str(text), False, reason=f"{first!r} is an ordinal, not a count")

    kind = "none"
    m = _QUALIFIER_RE.match(s)
    if m and _quantity(s[m.end():].strip(), languages) is not None:
        kind, s = _QUALIFIER_KIND[m.group(1)], s[m.end():].strip()
    # "between A and B", "entre A et B", "from A to B"
    between = False
    for lead in ("between ", "entre ", "from ", "de "):
        if s.startswith(lead) and _quantity(s[len(lead):], languages) is not None:
            s, between = s[len(lead):], True
            break
    q = _quantity(s, languages)
    if q is None:
        if s in ("a", "an", "un", "une"):
            return Count(str(text), False, reason="an article alone is not a count")
        if re.search(r"\d", s):
            return Count(str(text), False, reason="words before the number are not a known qualifier")
        return Count(str(text), False, reason="no number or quantity word found")
    low, high, approx, rest = q.low, q.high, q.approximate, q.rest
    # A second number after a range word: "15 to 20", "10 - 15", "two or three", "between 10 and 15".
    for word in _RANGE_WORDS:
        if _startswith(rest, word):
            second = _quantity(rest[len(word):].strip(), languages)
            if second is not None:
                high, rest = second.high if second.high is not None else second.low, second.rest
                approx = approx or second.approximate
                break
    else:
        if between:
            return Count(str(text), False, reason="'between' without a second number")
    if rest.startswith("plus") and kind == "none":  # "60-plus"
        high, rest = None, rest[4:].strip()
    mn: Number | None = low
    mx: Number | None = high
    if kind == "min":
        mx = None
    elif kind == "gt":
        mn, mx = (low + 1 if isinstance(low, int) else low), None
    elif kind == "lt":
        mn, mx = None, (low - 1 if isinstance(low, int) else low)
    elif kind == "upto":
        mn, mx, approx = None, (high if high is not None else low), True
    elif kind == "about":
        approx = True
    return Count(str(text), True, min=mn, max=mx, approximate=approx, unit=_unit(rest, ""))


__all__ = ["Count", "normalize_count"]
