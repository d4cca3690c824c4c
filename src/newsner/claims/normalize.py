"""Casualty counts as numbers: every CASUALTY span → ``{min, max, approximate, unit}``.

A CASUALTY span is what a source claims ("at least 17 dead", "dozens and dozens", "une dizaine de soldats").
`normalize_count` turns it into a range a table can sort and compare, on the conservative rule conflict monitors
use (ACLED: "tens" → 10, "dozens" → 12, "hundreds" → 100, keep the lowest credible figure, mark it approximate).
It never guesses: a span it cannot read comes back with ``parsed=False`` and a ``reason``; a reading that leaves
something out says so in ``note``.

Rules (``N`` is a number: digits with thousands separators ``1,200`` / ``1 200`` / ``8.000`` / ``١٬٢٠٠``, any
script's decimal digits, decimals ``7.5``, or English/French number words read by text2num: ``seventeen``,
``dix-sept``; ``M`` is a multiplier, below):

=====================================================  ==========  ==========  ===========
phrasing                                               min         max         approximate
=====================================================  ==========  ==========  ===========
``N`` / ``N killed`` / ``once`` ``twice``              N           N           no
``only N``, ``a total of N``, ``un total de N``         N           N           no
``a further N``, ``another N``, ``an additional N``
``at most N``, ``no more than N``                      —           N           no
``at least N``, ``no fewer than N``, ``au moins N``     N           —           no
``N-plus``, ``N+``, ``N or more``                      N           —           no
``more than N``, ``over N``, ``plus de N``,            N+1 (int)   —           no
``un peu plus de N``, ``just over N``
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

Multipliers (``M``) after a number or a vague word (the table ``MULTIPLIERS`` in `newsner.claims.lexicon`):
dozen 12, score 20, hundred 100, thousand 1,000, million, billion; dizaine 10, douzaine 12, vingtaine 20,
centaine 100, mille / millier 1,000, million, milliard; "of" / "de" may stand between for the plural ones
(thousands, milliers, millions, centaines).

=====================================================  ==========  ==========  ===========
multiplied and summed phrasings                        min         max         approximate
=====================================================  ==========  ==========  ===========
``N M`` ("two dozen", "3 thousand")                    N×M         N×M         if M is a round group
                                                                               word (dozen, score,
                                                                               dizaine, centaine, millier)
``A to B M`` ("two or three dozen")                    A×M         B×M         as above
``une dizaine de milliers``, ``a dozen hundred``       10×1000     10×1000     yes
vague determiner + M ("several dozen", "a few          M           —           yes
hundred", "plusieurs centaines", "quelques dizaines")
(one group at least: the conservative reading)
plural group + ``of`` M ("des dizaines de milliers")   10×1000     —           yes
``N noun and N' noun'`` ("two soldiers and a           N+N'        N+N' (— if  either's
civilian", "three soldiers, two civilians and a        (sum of     any side is
child"): the groups are summed, with a note            mins)       open)
``X, perhaps Y`` / ``X, possibly Y`` / ``X voire Y``   X's min     — or the    yes
(a hedged second figure): the first figure                         larger max
=====================================================  ==========  ==========  ===========

A sum keeps ``unit`` when every group names the same noun, else ``unit`` is null (the note lists the groups).

``unit`` is the head noun of the words after the number: a known group noun (``UNIT_NOUNS``: soldiers,
militaires, casques bleus, …) wherever it stands, else the first word for French ("militaires maliens" →
``militaires``) and the last for English ("five terrorist targets" → ``targets``); the noun group ends at an
outcome word (dead, killed, wounded, morts, tués, …) or a function word (in, near, dans, …), which are never
units; ``%`` → ``percent``. When the span stops at the number ("At least 15"), the caller may pass the text right
after it (`after`) and a known group noun among its first words is taken ("… Wagner fighters were killed" →
``fighters``). Otherwise ``unit`` is null.

Left unparsed (``parsed=False`` with the reason): ordinals (``93rd``, ``first``, "the 3rd Brigade"), a bare
article (``a``), words before the number that are none of the qualifiers above ("un" before another figure is
not a count), spans without any number or quantity word, fractions other than "half a …" (``1/2``, ``½``),
scientific notation (``1e9``), lists of figures (``1,2,3``, "1, 2, 3"), ages ("17-year-old boys", "de 17 ans":
an age is removed, and what is left is read: "two 17-year-old boys" → 2), ranges whose ends are the wrong way
round ("between 10 and 5", "٣٠-٢٠": more often a score or a typo than a range; the reason says so), and any
figure below 0 or above ``MAX_COUNT`` (10,000,000,000, more than the world's population).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any

from newsner.claims.lexicon import (
    COMPOUND_UNITS,
    EXACT_WORDS,
    FRENCH_CUES,
    FUNCTION_WORDS,
    HEDGES,
    MAX_COUNT,
    MULTIPLIERS,
    OF_MULTIPLIERS,
    OUTCOMES,
    QUALIFIERS,
    UNIT_NOUNS,
    VAGUE,
    Number,
)


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
    #: What the reading did beyond the table: groups summed, a hedged figure or an age left out.
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# One alternation per table, longest phrase first, ending at a word boundary (or right after an apostrophe).
_VAGUE_VALUES = {phrase: (value, plural, factor) for phrase, value, plural, factor in VAGUE}
_VAGUE_RE = re.compile("(" + "|".join(re.escape(p) for p, _, _, _ in VAGUE) + r")(?:(?<=')|(?= |$))")
_QUALIFIER_RE = re.compile("(" + "|".join(re.escape(p) for p, _ in QUALIFIERS) + r")(?:(?<=')|(?= |$))")
_QUALIFIER_KIND = dict(QUALIFIERS)
_MULT_RE = re.compile(r"(?:(of|de|d') ?)?(" + "|".join(sorted(MULTIPLIERS, key=len, reverse=True)) + r")(?= |$)")
_HEDGE_RE = re.compile(r"(?:, )?(?:" + "|".join(re.escape(h) for h in HEDGES) + r")(?: ,)? ")
_SUM_RE = re.compile(r"(?:, and |, et |, plus |, |and |et |plus )")
_ORDINAL = re.compile(r"^\d+(st|nd|rd|th|e|er|ère|eme|ème)$|^(first|second|third|fourth|fifth|tenth|premier|"
                      r"première|deuxième|troisième)$")
# Digits: thousands groups (1,200 / 1 200 / 8.000) or a decimal (7.5 / 2,5).
_DIGITS = re.compile(r"^(\d{1,3}(?:([,.\u00a0\u202f ])\d{3})(?:\2\d{3})*|\d+(?:[.,]\d+)?)")
_RANGE_WORDS = ("and", "to", "or", "et", "à", "ou", "-", "–")
_FRACTION = re.compile(r"\d\s*[/⁄]\s*\d")
_SCIENTIFIC = re.compile(r"\d(?:[.,]\d+)?e[+-]?\d")
_DIGIT_GROUPS = re.compile(r"\d+(?:[.,]\d+){2,}")
_THOUSANDS = re.compile(r"\d{1,3}([.,])\d{3}(?:\1\d{3})*(?:(?!\1)[.,]\d+)?")
_AGE = re.compile(r"\b(\S+?)[- ]years?[- ]olds?\b|\baged (\d+)\b|\bâgée?s? de (\d+) ans\b|\b(?:de )?(\d+) ans\b")
_ARTICLES = ("a", "an", "un", "une", "one")


def _ascii_digits(text: str) -> str:
    """Any script's decimal digits as ASCII (Arabic-Indic ٣٠ → 30), Arabic separators as , and ."""
    if text.isascii():
        return text
    text = text.replace("\u066c", ",").replace("\u066b", ".")
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in text)


_CLEAN_STEPS: list[tuple[re.Pattern[str], str]] = [(re.compile(a), b) for a, b in (
    (r"[\"«»“”]", " "), (r"(\d)\s*%", r"\1 percent"), (r"\bper cent\b|\bpour cent\b", "percent"),
    (r"(\d)\s*\+", r"\1 plus"), (r"(\d)-plus\b", r"\1 plus"), (r"(\d)\s*[-–]\s*(\d)", r"\1 - \2"),
    (r"\b(d|l|jusqu)'\s*", r"\1' "),
    (r"\s*(?<!\d),(?!\d)\s*|\s*(?<=\d),(?=\s)\s*", " , "),  # a comma between words is a token
    (r"\s+", " "))]


def _clean(text: str) -> str:
    text = _ascii_digits(unicodedata.normalize("NFKC", text).lower())
    text = text.replace("’", "'").replace("‘", "'")
    for pattern, replacement in _CLEAN_STEPS:
        text = pattern.sub(replacement, text)
    return text.strip(" .,;:!?()[]")


def _int(value: float) -> Number:
    return int(value) if math.isfinite(value) and float(value).is_integer() else value


def _digits(s: str) -> tuple[Number, int] | None:
    """Leading digits of `s` → (value, characters consumed). Beyond 18 digits the value is inf (refused later)."""
    m = _DIGITS.match(s)
    if not m:
        return None
    raw = m.group(1)
    if m.group(2):  # thousands separators
        digits = re.sub(r"\D", "", raw)
        return (int(digits) if len(digits) <= 18 else math.inf), m.end()
    if len(raw) > 18:  # int() of thousands of digits raises; no count has that many
        return math.inf, m.end()
    return _int(float(raw.replace(",", "."))), m.end()


def _words_number(words: Sequence[str], languages: Sequence[str]) -> tuple[Number, int] | None:
    """The longest prefix of `words` that text2num reads as a number → (value, words used)."""
    from text_to_num import text2num  # small, but keep it off the CLI's import path

    for j in range(min(len(words), 8), 0, -1):
        phrase = " ".join(words[:j])
        if phrase in EXACT_WORDS:
            return EXACT_WORDS[phrase], j
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
    mult: int = 1  # the multiplier applied ("two dozen": 12)
    vague: bool = False
    word: str = ""  # the number word, when one word was read ("un")


def _multiply(q: _Quantity, factor: Number, *, digits: bool) -> _Quantity:
    """Apply the multipliers that follow `q` ("dozen", "de milliers"); `factor` is what q counts for."""
    base: Number = factor
    for _ in range(2):  # "several hundred thousand": two multipliers at most
        m = _MULT_RE.match(q.rest)
        if not m:
            break
        linker, word = m.group(1), m.group(2)
        if (linker and word not in OF_MULTIPLIERS) or (word in ("k", "m") and not digits):
            break
        times, rounded = MULTIPLIERS[word]
        base = _int(base * times)
        q = replace(q, low=base, high=None if q.high is None else base, approximate=q.approximate or rounded,
                    rest=q.rest[m.end():].strip(), mult=q.mult * times)
    return q


def _quantity(s: str, languages: Sequence[str], *, article_one: bool = False) -> _Quantity | None:
    """A number or vague quantity at the start of `s` (with its multipliers), and what follows it."""
    m = _VAGUE_RE.match(s)
    if m:
        value, plural, factor = _VAGUE_VALUES[m.group(1)]
        q = _Quantity(value, None if plural else value, True, s[m.end():].strip(), vague=True)
        return _multiply(q, factor, digits=False)
    d = _digits(s)
    if d is not None:
        value, used = d
        return _multiply(_Quantity(value, value, False, s[used:].strip()), value, digits=True)
    words = s.split(" ")
    if article_one and words[0] in _ARTICLES and len(words) > 1 and _VAGUE_RE.match(s) is None:
        return _Quantity(1, 1, False, " ".join(words[1:]), word=words[0])
    w = _words_number(words, languages)
    if w is not None:
        value, used = w
        q = _Quantity(value, value, False, " ".join(words[used:]), word=words[0] if used == 1 else "")
        return _multiply(q, value, digits=False)
    return None


@dataclass
class _Figure:
    min: Number | None
    max: Number | None
    approximate: bool
    rest: str


def _num(x: Number) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _figure(s: str, languages: Sequence[str], *, article_one: bool = False, leads: bool = True) -> _Figure | str:
    """One qualified figure at the start of `s` ("more than two dozen", "between 10 and 15"), or why not."""
    whole, kind = s, "none"
    m = _QUALIFIER_RE.match(s)
    qualified = _quantity(s[m.end():].strip(), languages) if m else None
    if m and qualified is not None:
        kind, s = _QUALIFIER_KIND[m.group(1)], s[m.end():].strip()
    # "between A and B", "entre A et B", "from A to B", "de A à B" ("de" alone is also "de nombreux")
    lead = next((x for x in ("between ", "entre ", "from ", "de ") if leads and s.startswith(x)
                 and _quantity(s[len(x):], languages) is not None), None)
    q = qualified if qualified is not None and lead is None else _quantity(
        s[len(lead):] if lead else s, languages, article_one=article_one)
    if q is None:
        if s in _ARTICLES[:4]:
            return "an article alone is not a count"
        if re.search(r"\d", s):
            return "words before the number are not a known qualifier"
        return "no number or quantity word found"
    if q.word in ("un", "une") and re.search(r"\d", q.rest):  # "un peu … 300": "un" is not the figure
        return "words before the number are not a known qualifier"
    low, high, approx, rest = q.low, q.high, q.approximate, q.rest
    # A second number after a range word: "15 to 20", "10 - 15", "two or three dozen", "between 10 and 15".
    ranged = False
    for word in _RANGE_WORDS:
        if _startswith(rest, word):
            second = _quantity(rest[len(word):].strip(), languages)
            if second is not None:
                if q.mult == 1 and second.mult > 1 and not q.vague:  # "two or three dozen": both ends are dozens
                    low = _int(low * second.mult)
                high, rest = second.high if second.high is not None else second.low, second.rest
                approx, ranged = approx or second.approximate, True
                break
    if lead and not ranged:
        if lead in ("between ", "entre "):
            return "'between' without a second number"
        return _figure(whole, languages, article_one=article_one, leads=False)  # "de nombreux civils"
    if ranged and high is not None and high < low:
        return (f"the range's ends are the wrong way round ({_num(low)} to {_num(high)}): more often a score, a "
                "date or a typo than a count, so it is not read; check the span")
    suffix = next((x for x in ("plus", "or more", "ou plus") if _startswith(rest, x)), None)
    if kind == "none" and suffix:  # "60-plus", "20 or more"
        high, rest = None, rest[len(suffix):].strip()
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
    elif kind == "max":
        mn, mx = None, (high if high is not None else low)
    elif kind == "about":
        approx = True
    for x in (mn, mx):
        if x is not None and x < 0:
            return f"no count is below 0 (the phrase leaves {_num(x)})"
        if x is not None and (not math.isfinite(x) or x > MAX_COUNT):
            return (f"a figure beyond {MAX_COUNT:,} (more than the world's population) is not a casualty count; "
                    "check the span")
    return _Figure(mn, mx, approx, rest)


_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*'?$")
_STOP = OUTCOMES | FUNCTION_WORDS


def _group(rest: str, french: bool) -> tuple[str | None, str]:
    """The head noun of the words after a figure, and what follows its noun group (outcome words skipped)."""
    tokens = rest.split(" ") if rest else []
    i = 0
    while i < len(tokens) and tokens[i] in ("of", "de", "d'", "des", "du"):
        i += 1
    words: list[str] = []
    while i < len(tokens) and _WORD.match(tokens[i]) and tokens[i] not in _STOP:
        words.append(tokens[i])
        i += 1
    while i < len(tokens) and tokens[i] in OUTCOMES:
        i += 1
    after = " ".join(tokens[i:])
    if not words:
        return None, after
    joined = " ".join(words)
    compound = next((c for c in COMPOUND_UNITS if c in joined), None)
    known = next((w for w in words if w in UNIT_NOUNS), None)
    return compound or known or (words[0] if french else words[-1]), after


def _unit_after(after: str) -> str | None:
    """The span stops at the number: a known group noun among the next few words is the unit."""
    following: list[str] = re.findall(r"[^\W\d_]+", _clean(after))[:4]
    for w in following:
        if w in UNIT_NOUNS:
            return w
        if w in OUTCOMES | {"and", "or", "et", "ou", "in", "dans"}:
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
        unit = _unit_after(after)
        if unit is not None:
            return replace(count, unit=unit)
    return count


def _refusal(s: str) -> str | None:
    """Why the whole span is not a count before any reading (fractions, 1e9, digit lists), or None."""
    if _FRACTION.search(s):
        return "a fraction is not a count"
    if _SCIENTIFIC.search(s):
        return "scientific notation (1e9) is not how a count is written; check the span"
    for m in _DIGIT_GROUPS.finditer(s):
        if not _THOUSANDS.fullmatch(m.group(0)):
            return f"{m.group(0)!r} is a list of figures, not one count"
    return None


def _strip_ages(s: str) -> tuple[str, list[str]]:
    if not any(cue in s for cue in ("year", " ans", "aged", "âgé")):
        return s, []
    ages = [m.group(0) for m in _AGE.finditer(s)]
    return (re.sub(r"\s+", " ", _AGE.sub(" ", s)).strip(), ages) if ages else (s, [])


@lru_cache(maxsize=8192)  # the same phrasings recur across a corpus ("at least", "dozens")
def _normalize(text: str, language: str | None) -> Count:
    languages = [language] if language else []
    languages += [lang for lang in ("en", "fr") if lang not in languages]
    s = _clean(text)
    if not s:
        return Count(text, False, reason="empty span")
    refused = _refusal(s)
    if refused:
        return Count(text, False, reason=refused)
    s, ages = _strip_ages(s)
    first = re.sub(r"^(?:the|les|la|le|l') ", "", s).split(" ", 1)[0]
    if _ORDINAL.match(first):
        return Count(text, False, reason=f"{first!r} is an ordinal, not a count")
    fig = _figure(s, languages)
    if isinstance(fig, str):
        if ages and fig in ("no number or quantity word found", "an article alone is not a count") or (
                ages and not s):
            return Count(text, False, reason=f"an age ({ages[0]}), not a count")
        return Count(text, False, reason=fig)
    # French heads come first ("militaires maliens"), English ones last: without a language, French function
    # words or French accents decide.
    french = language == "fr" or (language is None and (any(w in FRENCH_CUES for w in s.split(" "))
                                                        or re.search(r"[àâçéèêëîïôûùüÿœ]", s) is not None))
    unit, rest = _group(fig.rest, french)
    mn, mx, approx = fig.min, fig.max, fig.approximate
    notes = [f"age left out: {a}" for a in ages]
    groups: list[tuple[Number | None, Number | None, str | None]] = [(mn, mx, unit)]
    while rest:
        hedge = _HEDGE_RE.match(rest + " ")
        if hedge:
            second = _figure(rest[hedge.end():].strip(), languages)
            if isinstance(second, _Figure):
                # The conservative reading is the first figure; the hedged one can only widen the maximum.
                mx = None if mx is None or second.max is None else max(mx, second.max)
                approx = True
                notes.append(f"read as the first figure; the hedged one ({rest.strip(' ,')}) only widens the "
                             "maximum")
                unit2, rest = _group(second.rest, french)
                unit = unit or unit2
                groups[0] = (mn, mx, unit)
                continue
        conj = _SUM_RE.match(rest)
        if conj:
            second = _figure(rest[conj.end():], languages, article_one=True)
            if isinstance(second, _Figure):
                unit2, after = _group(second.rest, french)
                if len(groups) == 1 and fig.rest.startswith(",") and unit2 is None:  # "1, 2, 3": figure, comma
                    return Count(text, False, reason="a list of figures, not one count")
                if unit is not None and unit2 is not None:  # "two soldiers and a civilian": two groups, summed
                    groups.append((second.min, second.max, unit2))
                    approx = approx or second.approximate
                    rest = after
                    continue
        break
    if len(groups) > 1:
        mins = [g[0] for g in groups]
        maxes = [g[1] for g in groups]
        mn = None if all(x is None for x in mins) else _int(sum(x or 0 for x in mins))
        mx = None if any(x is None for x in maxes) else _int(sum(x or 0 for x in maxes))
        units = {g[2] for g in groups}
        unit = units.pop() if len(units) == 1 else None
        notes.append(f"sum of {len(groups)} groups ({' + '.join(_group_text(g) for g in groups)})")
        if mx is not None and mx > MAX_COUNT or mn is not None and mn > MAX_COUNT:
            return Count(text, False, reason=f"a figure beyond {MAX_COUNT:,} is not a casualty count")
    elif rest and re.search(r"\d", rest):
        notes.append(f"read as the first figure; left out: {rest.strip(' ,')}")
    return Count(text, True, min=mn, max=mx, approximate=approx, unit=unit, note="; ".join(notes) or None)


def _group_text(group: tuple[Number | None, Number | None, str | None]) -> str:
    lo, hi, unit = group
    figure = (_num(lo) if lo == hi and lo is not None else
              f"{'' if lo is None else _num(lo)}–{'' if hi is None else _num(hi)}")
    return f"{figure} {unit}" if unit else figure


__all__ = ["Count", "normalize_count"]
