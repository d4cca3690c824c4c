"""Casualty counts: real phrasings (the seed, re3d Quantity spans) and our own list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.claims.normalize import Count, normalize_count


def _n(text: str, **kw: str) -> tuple[object, ...]:
    c = normalize_count(text, **kw)
    assert c.parsed, (text, c.reason)
    return (c.min, c.max, c.approximate, c.unit)


def test_the_seed_articles_four_figures(shared_data: Path) -> None:
    seed = next((shared_data / "seed").glob("*.txt")).read_text(encoding="utf-8")
    for phrase in ("dozens and dozens", "at least 17 dead", "At least 15", "five terrorist targets"):
        assert phrase in seed
    after_dozens = seed.split("dozens and dozens", 1)[1][:40]
    after_15 = seed.split("At least 15", 1)[1][:40]
    assert _n("dozens and dozens", after=after_dozens) == (12, None, True, "fighters")
    assert _n("at least 17 dead") == (17, None, False, None)
    assert _n("At least 15", after=after_15) == (15, None, False, "fighters")
    assert _n("five terrorist targets") == (5, 5, False, "targets")


def _re3d_quantities(shared_data: Path) -> list[str]:
    values = []
    for path in sorted((shared_data / "re3d").glob("*/entities.json")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entity = json.loads(line)
                if entity["type"] == "Quantity":
                    values.append(str(entity["value"]))
    return values


def test_re3d_quantity_spans(shared_data: Path) -> None:
    values = _re3d_quantities(shared_data)
    assert len(values) > 100
    results = {v: normalize_count(v) for v in values}
    rate = sum(results[v].parsed for v in values) / len(values)
    assert rate >= 0.95, rate
    # What stays unparsed is what should: bare articles and ordinals, each with a reason.
    for text, c in results.items():
        if not c.parsed:
            assert text.lower() in {"a", "an", "1st", "93rd"} and c.reason
    sample = {
        "two": (2, 2, False, None), "8,000": (8000, 8000, False, None), "6,602": (6602, 6602, False, None),
        "more than 20": (21, None, False, None), "Over half a million": (500001, None, False, None),
        "tens of thousands": (10000, None, True, None), "hundreds of thousands": (100000, None, True, None),
        "five million": (5000000, 5000000, False, None), "60-plus": (60, None, False, None),
        "15 to 20 percent": (15, 20, False, "percent"), "25%": (25, 25, False, "percent"),
        "24 hours": (24, 24, False, "hours"), "dozens": (12, None, True, None),
        "at least three occasions": (3, None, False, "occasions"), "at least once": (1, None, False, None),
        "7.5 kilometers": (7.5, 7.5, False, "kilometers"), "2 million": (2000000, 2000000, False, None),
        "10 per cent": (10, 10, False, "percent"), "multiple": (10, None, True, None),
    }
    for text, expected in sample.items():
        assert text in results, text
        assert _n(text) == expected, text


@pytest.mark.parametrize("text, expected", [
    # digits, thousands separators, multipliers
    ("17", (17, 17, False, None)), ("1,200 people", (1200, 1200, False, "people")),
    ("1 200 civils", (1200, 1200, False, "civils")), ("8.000 morts", (8000, 8000, False, None)),
    ("plus de 8 000 morts", (8001, None, False, None)), ("2.5 million", (2500000, 2500000, False, None)),
    # English words and qualifiers
    ("seventeen killed", (17, 17, False, None)), ("twenty-five soldiers", (25, 25, False, "soldiers")),
    ("one hundred and fifty", (150, 150, False, None)), ("no fewer than 30", (30, None, False, None)),
    ("over 100 civilians", (101, None, False, "civilians")), ("fewer than 10", (None, 9, False, None)),
    ("up to 50", (None, 50, True, None)), ("as many as 200", (None, 200, True, None)),
    ("nearly 40 soldiers", (None, 40, True, "soldiers")), ("almost a hundred", (None, 100, True, None)),
    ("about 30", (30, 30, True, None)), ("some 300 fighters", (300, 300, True, "fighters")),
    ("between 10 and 15 civilians", (10, 15, False, "civilians")), ("10-15 dead", (10, 15, False, None)),
    ("two or three", (2, 3, False, None)), ("from five to eight", (5, 8, False, None)),
    # vague quantities on the conservative rule
    ("tens", (10, None, True, None)), ("dozens of civilians", (12, None, True, "civilians")),
    ("scores of villagers", (20, None, True, "villagers")), ("hundreds", (100, None, True, None)),
    ("a dozen", (12, 12, True, None)), ("about a dozen", (12, 12, True, None)),
    ("more than a dozen", (13, None, True, None)), ("several", (10, None, True, None)),
    ("numerous corpses", (10, None, True, "corpses")), ("a handful of soldiers", (3, None, True, "soldiers")),
    ("a few", (3, None, True, None)), ("“dozens and dozens”", (12, None, True, None)),
    # French
    ("au moins dix-sept morts", (17, None, False, None)), ("au moins 17 morts", (17, None, False, None)),
    ("plus de vingt soldats", (21, None, False, "soldats")), ("près de 40", (None, 40, True, None)),
    ("environ 200 personnes", (200, 200, True, "personnes")), ("une dizaine de soldats", (10, 10, True, "soldats")),
    ("des dizaines de civils", (10, None, True, "civils")), ("des centaines", (100, None, True, None)),
    ("une centaine de combattants", (100, 100, True, "combattants")), ("entre dix et quinze", (10, 15, False, None)),
    ("jusqu'à 50 morts", (None, 50, True, None)), ("plusieurs", (10, None, True, None)),
    ("quatre-vingt-dix", (90, 90, False, None)),
])
def test_own_phrasings(text: str, expected: tuple[object, ...]) -> None:
    assert _n(text) == expected


@pytest.mark.parametrize("text, reason", [
    ("the wounded", "no number"), ("", "empty"), ("a", "article"), ("first", "ordinal"),
    ("93rd", "ordinal"), ("killed 17", "not a known qualifier"), ("between 10", "second number"),
])
def test_unparseable_spans_say_why(text: str, reason: str) -> None:
    c = normalize_count(text)
    assert isinstance(c, Count) and not c.parsed and c.min is None and c.max is None
    assert reason in (c.reason or "")
    assert c.to_dict()["parsed"] is False and c.to_dict()["text"] == text


def test_unit_from_the_following_words_only_for_group_nouns() -> None:
    assert _n("At least 15", after=" Wagner fighters were killed") == (15, None, False, "fighters")
    assert _n("at least 17", after=" dead in a provisional toll") == (17, None, False, None)
    assert _n("17", after=" in a provisional toll, said the soldiers") == (17, 17, False, None)
    # the span's own noun wins over the following words
    assert _n("five terrorist targets", after=" soldiers") == (5, 5, False, "targets")


def test_language_hint_only_orders_the_attempts() -> None:
    assert _n("dix", language="fr") == (10, 10, False, None)
    assert _n("ten", language="fr") == (10, 10, False, None)


# ------------------------------------------------------------------------------ issue 18 / 21: counts read right
def _full(text: str, **kw: str) -> tuple[object, ...]:
    c = normalize_count(text, **kw)
    assert c.parsed, (text, c.reason)
    return (c.min, c.max, c.approximate)


@pytest.mark.parametrize("text, expected", [
    # a multiplier after a number: N × M (a round group word such as "dozen" makes it approximate)
    ("two dozen soldiers", (24, 24, True)), ("three dozen", (36, 36, True)), ("some two dozen", (24, 24, True)),
    ("more than two dozen", (25, None, True)), ("two or three dozen fighters", (24, 36, True)),
    # a vague word before a multiplier counts one group at least (the conservative reading)
    ("several dozen", (12, None, True)), ("a few hundred protesters", (100, None, True)),
    ("several hundred", (100, None, True)), ("several thousand", (1000, None, True)),
    ("plusieurs centaines de personnes", (100, None, True)), ("quelques dizaines de combattants", (10, None, True)),
    ("une dizaine de milliers de personnes", (10000, 10000, True)), ("des centaines de milliers", (100000, None, True)),
    ("several hundred thousand refugees", (100000, None, True)),
    # French qualifier before digits: "un" is not the figure
    ("un peu plus de 300 personnes", (301, None, False)), ("un peu moins de 50 morts", (None, 49, False)),
    ("only 19 people", (19, 19, False)), ("only three", (3, 3, False)), ("un total de 300 morts", (300, 300, False)),
    ("20 or more", (20, None, False)),
])
def test_multipliers_and_qualifiers(text: str, expected: tuple[object, ...]) -> None:
    assert _full(text) == expected


@pytest.mark.parametrize("text, expected, unit, note", [
    ("two soldiers and a civilian", (3, 3, False), None, "sum of 2 groups (2 soldiers + 1 civilian)"),
    ("three soldiers, two civilians and a child", (6, 6, False), None, "sum of 3 groups"),
    ("deux soldats tués et un civil blessé", (3, 3, False), None, "sum of 2 groups"),
    ("five soldiers and at least three policemen", (8, None, False), None, "sum of 2 groups"),
    ("two soldiers and three soldiers", (5, 5, False), "soldiers", "sum of 2 groups"),
    # a hedged second figure: the first figure, the second only widens the maximum
    ("dozens, perhaps hundreds", (12, None, True), None, "hedged"),
    ("hundreds, possibly thousands", (100, None, True), None, "hedged"),
    ("dozens of people, perhaps hundreds", (12, None, True), "people", "hedged"),
    ("17, possibly 20 dead", (17, 20, True), None, "hedged"),
    ("des dizaines, voire des centaines de morts", (10, None, True), None, "hedged"),
    # an age is not a count; what is left is read
    ("two 17-year-old boys", (2, 2, False), "boys", "age left out"),
    ("deux garçons de 15 ans", (2, 2, False), "garçons", "age left out: de 15 ans"),
    ("17 dead and 30 wounded", (17, 17, False), None, "left out: and 30 wounded"),
    ("17 morts, 30 blessés", (17, 17, False), None, "left out: 30 blessés"),
])
def test_groups_are_summed_and_second_figures_are_said(text: str, expected: tuple[object, ...], unit: str | None,
                                                       note: str) -> None:
    c = normalize_count(text)
    assert _full(text) == expected and c.unit == unit
    assert c.note is not None and note in c.note


@pytest.mark.parametrize("text, unit", [
    ("15 militaires maliens", "militaires"), ("trois casques bleus", "casques bleus"),
    ("deux soldats français tués", "soldats"), ("12 véhicules blindés", "véhicules"),
    ("17 soldiers killed in Gao", "soldiers"),
    ("de nombreux civils", "civils"), ("at least 40 Tuareg fighters near Kidal", "fighters"),
])
def test_unit_is_the_head_noun(text: str, unit: str) -> None:
    assert normalize_count(text).unit == unit


def test_de_nombreux_is_vague_not_a_range() -> None:
    c = normalize_count("de nombreux civils")
    assert (c.parsed, c.min, c.max, c.approximate, c.reason) == (True, 10, None, True, None)


@pytest.mark.parametrize("text, reason", [
    ("the 3rd Brigade", "ordinal"), ("les 2e et 3e compagnies", "ordinal"),
    ("between 10 and 5", "wrong way round"), ("10 to 5", "wrong way round"), ("10-5", "wrong way round"),
    ("٣٠-٢٠", "wrong way round (30 to 20)"),
    ("fewer than 0", "below 0"), ("1" * 400, "beyond 10,000,000,000"), ("1" * 5000 + " dead", "beyond"),
    ("over 10 billion", "beyond"), ("1e9", "scientific notation"), ("2.5e6 people", "scientific notation"),
    ("1/2", "fraction"), ("½", "fraction"), ("3 ¾", "fraction"),
    ("1,2,3", "list of figures"), ("1, 2, 3", "list of figures"),
    ("17-year-old boys", "an age (17-year-old)"), ("a 17-year-old boy", "an age"), ("aged 17", "an age"),
    ("un bilan de 300 morts", "not a known qualifier"),
    # the same families in French
    ("entre 30 et 20 morts", "wrong way round (30 to 20)"), ("moins de 0", "below 0"),
    ("des garçons âgés de 17 ans", "an age (âgés de 17 ans)"), ("1/3 des victimes", "fraction"),
    ("1,5,7 morts", "list of figures"),
])
def test_figures_that_are_not_counts_are_refused_with_the_reason(text: str, reason: str) -> None:
    c = normalize_count(text)
    assert not c.parsed and c.min is None and c.max is None, (text, c)
    assert reason in (c.reason or ""), (text, c.reason)


@pytest.mark.parametrize("text, expected", [
    # the Arabic thousands and decimal separators (U+066C, U+066B) were read as the end of the number
    ("١٬٢٠٠ قتيل", (1200, 1200, False)), ("٧٫٥", (7.5, 7.5, False)), ("۱۲٬۵۰۰", (12500, 12500, False)),
])
def test_arabic_indic_digits(text: str, expected: tuple[object, ...]) -> None:
    assert _full(text) == expected


def test_no_parsed_figure_is_negative_or_beyond_the_bound() -> None:
    from newsner.claims.lexicon import MAX_COUNT

    phrases = ["fewer than 0", "fewer than 1", "under 0", "10 billion", "over 10 billion", "9" * 30, "12 million",
               "less than 0.5", "moins de 0", "up to 20 billion", "1e400", "millions of millions"]
    for text in phrases:
        c = normalize_count(text)
        for x in (c.min, c.max):
            assert x is None or 0 <= x <= MAX_COUNT, (text, c)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_qualifier_the_rules_mark_is_read(language: str) -> None:
    """The rules find CASUALTY spans with their own qualifier list (data/rules/LANG/lexicon.json); a span they
    mark ("at most 12 killed", "a further 12 killed") must not come back unparsed from the claims table."""
    from newsner.model.rules import rules_dir

    lexicon = json.loads((rules_dir(language) / "lexicon.json").read_text(encoding="utf-8"))
    for qualifier in lexicon["qualifiers"]:
        # "plus d'une", "près d'un" lead a group word, not a figure: "plus d'une dizaine de morts"
        text = f"{qualifier} dizaine de morts" if qualifier.endswith(("un", "une")) else f"{qualifier} 12 killed"
        c = normalize_count(text, language=language)
        assert c.parsed, (text, c.reason)


@pytest.mark.parametrize("text, expected", [
    ("at most 12 killed", (None, 12, False)), ("no more than 5 dead", (None, 5, False)),
    ("a further 12 killed", (12, 12, False)), ("another 3 dead", (3, 3, False)),
    ("an additional 40 wounded", (40, 40, False)),
])
def test_upper_bound_and_additional_counts(text: str, expected: tuple[object, ...]) -> None:
    assert _full(text) == expected
