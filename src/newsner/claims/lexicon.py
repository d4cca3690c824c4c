"""The words `newsner.claims.normalize` reads counts with (English and French), as data.

Kept apart from the parser so the tables can be read (and extended) at a glance; the rule each table feeds is in
`normalize`'s module docstring.
"""

from __future__ import annotations

Number = int | float

#: The largest figure read as a count: above the world's population, so no casualty or group count can exceed it.
#: A larger figure (a 400-digit number, "1e12") comes back unparsed with the reason, never as a number.
MAX_COUNT = 10_000_000_000

# Qualifiers, longest first so "more than" wins over "more". Each maps to how N becomes (min, max, approx).
# Every qualifier the rules mark spans with (data/rules/LANG/lexicon.json) must be here too, or the spans they
# find come back unparsed: tests/test_normalize.py checks it.
QUALIFIERS: list[tuple[str, str]] = sorted([
    ("at least", "min"), ("no fewer than", "min"), ("no less than", "min"), ("a minimum of", "min"),
    ("au moins", "min"), ("au minimum", "min"), ("pas moins de", "min"), ("pas moins d'", "min"),
    ("more than", "gt"), ("over", "gt"), ("upwards of", "gt"), ("in excess of", "gt"), ("plus de", "gt"),
    ("plus d'", "gt"), ("well over", "gt"), ("just over", "gt"), ("a little over", "gt"),
    ("a little more than", "gt"), ("slightly more than", "gt"), ("un peu plus de", "gt"),
    ("un peu plus d'", "gt"), ("bien plus de", "gt"), ("bien plus d'", "gt"), ("largement plus de", "gt"),
    ("fewer than", "lt"), ("less than", "lt"), ("under", "lt"), ("slightly fewer than", "lt"),
    ("slightly less than", "lt"), ("moins de", "lt"), ("moins d'", "lt"), ("un peu moins de", "lt"),
    ("un peu moins d'", "lt"), ("up to", "upto"), ("as many as", "upto"), ("jusqu' à", "upto"),
    ("nearly", "upto"), ("almost", "upto"), ("close to", "upto"), ("just under", "upto"),
    ("près de", "upto"), ("près d'", "upto"), ("presque", "upto"), ("pratiquement", "upto"), ("environ", "about"),
    ("about", "about"), ("around", "about"), ("some", "about"), ("roughly", "about"),
    ("approximately", "about"), ("an estimated", "about"), ("estimated", "about"),
    ("quelque", "about"), ("approximativement", "about"), ("the", "none"), ("les", "none"),
    ("only", "none"), ("just", "none"), ("a total of", "none"), ("seulement", "none"), ("un total de", "none"),
    ("un total d'", "none"), ("au total", "none"), ("in all", "none"), ("a further", "none"), ("another", "none"),
    ("an additional", "none"), ("at most", "max"), ("no more than", "max"),
], key=lambda kv: -len(kv[0]))

#: Vague quantities: phrase → (value, open-ended?, factor). Open-ended (plural) phrases give a lower bound only.
#: `factor` is what the phrase counts for before a multiplier ("several dozen", "des dizaines de milliers"):
#: a group word counts its own value ("tens" of thousands = 10 × 1,000), a vague determiner counts one group
#: (the conservative reading: "several dozen" ≥ 12, "a few hundred" ≥ 100, "plusieurs centaines" ≥ 100).
VAGUE: list[tuple[str, Number, bool, Number]] = sorted([
    ("dozens and dozens", 12, True, 12), ("dozens upon dozens", 12, True, 12), ("dozens of dozens", 12, True, 12),
    ("dozens", 12, True, 12), ("tens", 10, True, 10), ("scores", 20, True, 20), ("hundreds", 100, True, 100),
    ("thousands", 1000, True, 1000), ("tens of thousands", 10000, True, 10000),
    ("hundreds of thousands", 100000, True, 100000), ("millions", 1000000, True, 1000000),
    ("several", 10, True, 1), ("many", 10, True, 1), ("numerous", 10, True, 1), ("multiple", 10, True, 1),
    ("countless", 10, True, 1), ("a few", 3, True, 1), ("a handful", 3, True, 1), ("a handful of", 3, True, 1),
    ("handful", 3, True, 1), ("few", 3, True, 1),
    ("a dozen", 12, False, 12), ("a score", 20, False, 20), ("half a dozen", 6, False, 6),
    ("des dizaines", 10, True, 10), ("dizaines", 10, True, 10), ("des douzaines", 12, True, 12),
    ("des centaines", 100, True, 100), ("centaines", 100, True, 100), ("des milliers", 1000, True, 1000),
    ("milliers", 1000, True, 1000), ("des dizaines de milliers", 10000, True, 10000), ("plusieurs", 10, True, 1),
    ("de nombreux", 10, True, 1), ("de nombreuses", 10, True, 1), ("nombreux", 10, True, 1),
    ("nombreuses", 10, True, 1), ("quelques", 3, True, 1), ("une poignée", 3, True, 1),
    ("une douzaine", 12, False, 12), ("une dizaine", 10, False, 10), ("une quinzaine", 15, False, 15),
    ("une vingtaine", 20, False, 20), ("une trentaine", 30, False, 30), ("une quarantaine", 40, False, 40),
    ("une cinquantaine", 50, False, 50), ("une soixantaine", 60, False, 60), ("une centaine", 100, False, 100),
    ("un millier", 1000, False, 1000),
], key=lambda v: -len(v[0]))

EXACT_WORDS = {"once": 1, "twice": 2, "half a million": 500000, "half a billion": 500000000,
               "a hundred": 100, "a thousand": 1000, "a million": 1000000, "one hundred": 100}

#: Multipliers after a number or a vague word: word → (factor, round?). A round group word ("dozen",
#: "dizaine") makes the figure approximate ("two dozen" ≈ 24); "hundred", "thousand", "million" do not.
MULTIPLIERS: dict[str, tuple[int, bool]] = {
    "dozen": (12, True), "dozens": (12, True), "score": (20, True), "scores": (20, True),
    "hundred": (100, False), "hundreds": (100, False), "thousand": (1000, False), "thousands": (1000, False),
    "million": (1000000, False), "millions": (1000000, False), "billion": (1000000000, False),
    "billions": (1000000000, False), "douzaine": (12, True), "douzaines": (12, True), "dizaine": (10, True),
    "dizaines": (10, True), "vingtaine": (20, True), "vingtaines": (20, True), "centaine": (100, True),
    "centaines": (100, True), "mille": (1000, False), "millier": (1000, True), "milliers": (1000, True),
    "milliard": (1000000000, False), "milliards": (1000000000, False), "k": (1000, False), "m": (1000000, False),
}
#: Multipliers that may follow "of" / "de" ("tens of thousands", "une dizaine de milliers").
OF_MULTIPLIERS = {"thousands", "millions", "billions", "milliers", "milliards", "centaines"}

#: Outcome words (dead, killed, …): they end a noun group and are never its head.
OUTCOMES = {
    "dead", "killed", "wounded", "injured", "hurt", "missing", "captured", "arrested", "kidnapped", "abducted",
    "died", "dying", "deaths", "death", "fatalities", "casualties", "slain", "executed", "taken", "prisoner",
    "prisoners", "were", "was", "have", "had", "been", "are", "is", "morts", "mort", "tués", "tuées", "tué",
    "tuée", "blessés", "blessées", "blessé", "disparus", "capturés", "enlevés", "ont", "été", "sont", "est",
}
#: Function words: they end a noun group ("soldiers in Gao") and are never its head.
FUNCTION_WORDS = {
    "and", "or", "in", "at", "near", "on", "from", "by", "with", "during", "after", "before", "the", "a", "an",
    "of", "to", "for", "who", "which", "that", "when", "while", "including", "among", "et", "ou", "dans", "à",
    "au", "aux", "près", "sur", "par", "avec", "pendant", "après", "avant", "le", "la", "les", "l'", "du",
    "de", "d'", "des", "qui", "dont", "lors", "parmi", "selon",
}
#: Group nouns a count may refer to: the head of a noun group when present ("militaires maliens" → militaires,
#: "Malian soldiers" → soldiers); also read from the words after a span (`after`).
UNIT_NOUNS = {
    "people", "persons", "person", "civilians", "civilian", "fighters", "fighter", "soldiers", "soldier",
    "troops", "militants", "rebels", "insurgents", "terrorists", "jihadists", "mercenaries", "targets",
    "children", "child", "women", "woman", "men", "man", "boys", "girls", "policemen", "officers", "police",
    "villagers", "hostages", "bodies", "corpses", "victims", "members", "protesters", "demonstrators",
    "peacekeepers", "refugees", "migrants", "residents", "students", "workers", "journalists",
    "personnes", "civils", "civil", "soldats", "soldat", "combattants", "combattant", "militaires", "militaire",
    "enfants", "enfant", "femmes", "femme", "hommes", "homme", "otages", "rebelles", "terroristes",
    "djihadistes", "jihadistes", "mercenaires", "cibles", "victimes", "corps", "manifestants", "déplacés",
    "réfugiés", "habitants", "villageois", "policiers", "gendarmes", "élèves", "journalistes", "assaillants",
}
#: Nouns of two words whose first word alone would not say what was counted.
COMPOUND_UNITS = ("casques bleus", "blue helmets", "forces spéciales", "special forces")
#: Words that say a span is French when no language is given: French nouns take their head first
#: ("militaires maliens"), English ones last ("Malian soldiers").
FRENCH_CUES = {"de", "des", "d'", "du", "et", "ou", "morts", "tués", "blessés", "personnes", "environ", "plus",
               "moins", "au", "entre", "une", "un", "plusieurs", "quelques", "près", "jusqu'", "dont", "civils",
               "soldats", "militaires", "nombreux", "nombreuses"}
#: Words that hedge a second figure: "dozens, perhaps hundreds" is read as its first (the conservative) figure.
HEDGES = ("perhaps", "possibly", "maybe", "probably", "or even", "if not", "even", "peut-être",
          "voire", "sinon", "ou même", "voire même", "probablement", "possiblement")

__all__ = ["COMPOUND_UNITS", "EXACT_WORDS", "FRENCH_CUES", "FUNCTION_WORDS", "HEDGES", "MAX_COUNT", "MULTIPLIERS",
           "OF_MULTIPLIERS", "OUTCOMES", "QUALIFIERS", "UNIT_NOUNS", "VAGUE"]
