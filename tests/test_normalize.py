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
