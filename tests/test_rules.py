"""The rule suggester (newsner.model.rules): each family on phrasings it must and must not match, EN and FR."""

from __future__ import annotations

import pytest

from newsner.errors import InputError
from newsner.model.rules import RuleSuggester, read_rules


def found(text: str, language: str = "en") -> set[tuple[str, str]]:
    return {(s.label, s.text) for s in RuleSuggester.get(language).spans(text)}


def labels_over(text: str, needle: str, language: str = "en") -> set[str]:
    """Labels of the spans that overlap `needle`."""
    a = text.index(needle)
    b = a + len(needle)
    return {s.label for s in RuleSuggester.get(language).spans(text) if s.start < b and a < s.end}


@pytest.mark.parametrize(("text", "span"), [
    ("Militants killed 14 villagers in an overnight raid.", "14 villagers"),
    ("At least 32 people were killed when a bomb exploded at the market.", "At least 32 people"),
    ("The blast left nine dead, officials said.", "nine dead"),
    ("The explosion wounded 40 and damaged the mosque.", "40"),
    ("By Friday the death toll had climbed to 57.", "57"),
    ("Rescuers pulled 18 bodies from the rubble.", "18 bodies"),
    ("Dozens of civilians were abducted from the bus station.", "Dozens of civilians"),
    ("Between 20 and 25 soldiers died in the ambush.", "Between 20 and 25 soldiers"),
    ("Up to 1,500 people are missing after the floods of violence.", "Up to 1,500 people"),
    ("Approximately 60 fighters were wounded in the clashes.", "Approximately 60 fighters"),
    ("Twenty-three policemen were shot dead at the checkpoint.", "Twenty-three policemen"),
    ("Another 11 people are still missing.", "Another 11 people"),
    ("He said three of his colleagues had died.", "three of his colleagues"),
])
def test_casualty_english_phrasings(text: str, span: str) -> None:
    assert ("CASUALTY", span) in found(text)


@pytest.mark.parametrize(("text", "span"), [
    ("L'attaque a fait au moins 12 morts selon un bilan provisoire.", "au moins 12 morts"),
    ("Une quarantaine de civils ont été tués dimanche.", "Une quarantaine de civils"),
    ("Les ravisseurs ont enlevé près de 80 femmes.", "près de 80 femmes"),
    ("Le bilan s'élève désormais à 45.", "45"),
    ("Entre 10 et 15 soldats ont été blessés dans l'embuscade.", "Entre 10 et 15 soldats"),
    ("Dix-sept personnes ont été tuées dans la nuit.", "Dix-sept personnes"),
    ("L'explosion a fait des dizaines de blessés.", "des dizaines de blessés"),
    ("Les secouristes ont retrouvé plus de 1 200 corps.", "plus de 1 200 corps"),
    ("On compte plus d'une centaine de morts.", "plus d'une centaine de morts"),
])
def test_casualty_french_phrasings(text: str, span: str) -> None:
    assert ("CASUALTY", span) in found(text, "fr")


@pytest.mark.parametrize(("text", "language"), [
    ("A 17-year-old boy was killed by a stray bullet.", "en"),
    ("In 2019 the army deployed 300 troops to the region.", "en"),
    ("The 3rd Brigade killed the rebel commander.", "en"),
    ("The attack began at 5 am and killed the imam.", "en"),
    ("More than 2,000 people fled the fighting.", "en"),
    ("Donors pledged $5 million after militants killed a teacher.", "en"),
    ("Un adolescent de 17 ans a été tué par balle.", "fr"),
    ("Plus de 3 000 personnes ont fui les combats en 2022.", "fr"),
    ("Les prix ont augmenté de 30 % après les attaques.", "fr"),
])
def test_figures_that_are_not_casualty_counts(text: str, language: str) -> None:
    assert not {t for label, t in found(text, language) if label == "CASUALTY"}


@pytest.mark.parametrize(("text", "span", "language"), [
    ("Fourteen people were killed, the health ministry said.", "health ministry", "en"),
    ("According to Amnesty International, 30 protesters died.", "Amnesty International", "en"),
    ("A hospital director told AP that 19 bodies had arrived.", "A hospital director", "en"),
    ("A hospital director told AP that 19 bodies had arrived.", "AP", "en"),
    ("Local residents said the militants torched homes.", "Local residents", "en"),
    ("Regional police chief Musa Idris confirmed the death of six officers.", "Regional police chief Musa Idris",
     "en"),
    ("Omar Sall, a spokesman for the coalition, told Reuters that 11 fighters died.", "Omar Sall", "en"),
    ("Selon une source sécuritaire, 20 soldats ont été tués.", "une source sécuritaire", "fr"),
    ("« Nous avons perdu huit hommes », a déclaré le maire de la commune.", "maire de la commune", "fr"),
    ("Le ministère de la Défense a annoncé la mort de 15 soldats.", "ministère de la Défense", "fr"),
    ("D'après l'ONU, des milliers de personnes ont fui.", "ONU", "fr"),
    ("Douze soldats ont été tués, a-t-on appris de sources hospitalières.", "sources hospitalières", "fr"),
    ("A nurse in Goma told reporters 9 patients died.", "A nurse", "en"),  # the place is not the source
    ("A doctor at the main hospital said 9 patients died.", "A doctor at the main hospital", "en"),
    ("Nine people died, the Houthi-run health ministry said.", "Houthi-run health ministry", "en"),
    ("Le bilan est lourd, a-t-on appris jeudi auprès d'un élu de la région.", "un élu de la région", "fr"),
])
def test_claim_source_frames(text: str, span: str, language: str) -> None:
    assert ("CLAIM_SOURCE", span) in found(text, language)


@pytest.mark.parametrize(("text", "language"), [
    ("The army killed 12 fighters near the border.", "en"),
    ("He said 12 people died.", "en"),
    ("No group claimed the attack.", "en"),
    ("She said the army artillery had killed civilians.", "en"),
    ("L'armée a tué 12 jihadistes.", "fr"),
    ("The junta silenced most independent sources of information in the north.", "en"),
])
def test_no_claim_source_without_a_named_speaker(text: str, language: str) -> None:
    assert not {t for label, t in found(text, language) if label == "CLAIM_SOURCE"}


def test_actor_never_inside_a_claim_source() -> None:
    text = "The Nigerian army said 12 insurgents were killed, a spokesman for the rebels denied it."
    got = found(text)
    assert ("CLAIM_SOURCE", "Nigerian army") in got and ("CLAIM_SOURCE", "a spokesman for the rebels") in got
    assert labels_over(text, "Nigerian army") == {"CLAIM_SOURCE"}
    assert labels_over(text, "rebels") == {"CLAIM_SOURCE"}


def test_a_force_word_that_modifies_a_noun_is_no_actor() -> None:
    text = "Gunmen attacked an army post and a military convoy, then the army retook the town."
    got = found(text)
    assert ("ACTOR", "Gunmen") in got and ("ACTOR", "army") in got  # the last "army" acts
    assert "ACTOR" not in labels_over(text, "army post") and "ACTOR" not in labels_over(text, "military convoy")


@pytest.mark.parametrize(("text", "span", "language"), [
    ("The Nigerian army launched an offensive on Monday.", "Nigerian army", "en"),
    ("Suspected jihadists attacked a checkpoint.", "jihadists", "en"),
    ("Sudan's army shelled the district.", "Sudan's army", "en"),
    ("The Rapid Support Forces (RSF) shelled the camp.", "RSF", "en"),
    ("Heavy fighting pitted M23 rebels against the army.", "M23 rebels", "en"),
    ("L'armée malienne et ses alliés ont repris la ville.", "armée malienne", "fr"),
    ("Des hommes armés ont attaqué le village.", "hommes armés", "fr"),
    ("Les forces armées burkinabè ont riposté.", "forces armées burkinabè", "fr"),
])
def test_actor_phrasings(text: str, span: str, language: str) -> None:
    assert ("ACTOR", span) in found(text, language)


@pytest.mark.parametrize(("text", "span", "language"), [
    ("Explosions were heard in Khartoum on Monday.", "Khartoum", "en"),
    ("Troops moved towards the village of Tamkoutat at dawn.", "Tamkoutat", "en"),
    ("The raid took place in the Mopti region.", "Mopti", "en"),
    ("Des combats ont eu lieu près de Tombouctou.", "Tombouctou", "fr"),
    ("L'armée a été déployée au Burkina Faso.", "Burkina Faso", "fr"),
    ("They had travelled to Split before the war.", "Split", "en"),
    ("Des combats ont eu lieu sur les rives du lac Tchad.", "lac Tchad", "fr"),
])
def test_location_phrasings(text: str, span: str, language: str) -> None:
    assert ("LOCATION", span) in found(text, language)


@pytest.mark.parametrize(("text", "word"), [
    ("Most residents fled before dawn.", "Most"),
    ("Police arrested two suspects.", "Police"),
    ("Minister Ali Hassan visited the wounded.", "Hassan"),
    ("The split in the movement widened.", "split"),
])
def test_common_words_are_not_places(text: str, word: str) -> None:
    assert "LOCATION" not in labels_over(text, word)


def test_unknown_language_gets_both_rule_sets() -> None:
    rs = RuleSuggester.get(None)
    assert rs.language == "mul"
    got = {(s.label, s.text) for s in rs.spans("Au moins 12 morts selon une source locale. Gunmen killed 9 people.")}
    assert ("CASUALTY", "Au moins 12 morts") in got and ("CASUALTY", "9 people") in got


def test_project_patterns_extend_the_rules(tmp_path) -> None:  # type: ignore[no-untyped-def]
    own = tmp_path / "own.jsonl"
    own.write_text('{"label": "LOCATION", "pattern": "Zorgland"}\n'
                   '{"label": "ACTOR", "pattern": [{"LOWER": "blue"}, {"LOWER": "brigade"}]}\n'
                   '{"label": "CASUALTY", "pattern": ["QTY", {"LOWER": "souls"}]}\n', encoding="utf-8")
    rs = RuleSuggester.get("en", [own])
    got = {(s.label, s.text) for s in rs.spans("The Blue Brigade said 40 souls were lost in zorgland.")}
    assert {("LOCATION", "zorgland"), ("ACTOR", "Blue Brigade"), ("CASUALTY", "40 souls")} <= got


def test_a_bad_rule_line_is_one_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"label": "ACTOR", "pattern": ["@no_such_list"]}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:1: no lexicon list 'no_such_list'"):
        RuleSuggester.get("en", [bad])


@pytest.mark.parametrize("line", [
    '{"label": "CASUALTY", "pattern": ["QTY", {"LOWER": "souls"}], "keep": [0, 5]}',
    '{"label": "CASUALTY", "pattern": ["QTY", {"LOWER": "souls"}], "keep": [1, 1]}',
    '{"label": "ACTOR", "pattern": "Blue Brigade", "keep": [0, 1]}',
])
def test_a_keep_outside_its_pattern_is_one_clear_error(tmp_path, line: str) -> None:  # type: ignore[no-untyped-def]
    # such a rule would match and never suggest a span: the user is told which line, not left guessing
    bad = tmp_path / "keep.jsonl"
    bad.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"keep.jsonl:1: 'keep' must be \[first, last\+1\] indices"):
        read_rules(bad)


@pytest.mark.parametrize("rules", [True, False])
def test_a_label_outside_the_schema_is_named_the_same_with_or_without_rules(  # type: ignore[no-untyped-def]
        tmp_path, rules: bool) -> None:
    from newsner.model.patterns import load_ruler
    from newsner.schema import default_label_schema_path, load_label_schema

    schema = load_label_schema(default_label_schema_path())
    own = tmp_path / "own.jsonl"
    own.write_text('{"label": "ACTOR", "pattern": "Blue Brigade"}\n{"label": "GPE", "pattern": "Zorgland"}\n',
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"own.jsonl:2: label 'GPE' is not in the label schema \(" +
                       ", ".join(schema.names) + r"\)"):
        load_ruler(own, schema, rules=rules)


@pytest.mark.parametrize(("text", "language"), [
    ("Militants killed 14 villagers and wounded dozens more in the raid.", "en"),
    ("Between 20 and 25 soldiers died and up to 1,500 people are missing.", "en"),
    ("L'attaque a fait au moins 12 morts et une quarantaine de blessés.", "fr"),
    ("Entre 10 et 15 soldats ont été tués et 30 civils blessés, selon une source locale.", "fr"),
])
def test_every_casualty_span_reads_as_a_count_in_the_claims_table(text: str, language: str) -> None:
    from newsner.claims.normalize import normalize_count

    spans = [s for s in RuleSuggester.get(language).spans(text) if s.label == "CASUALTY"]
    assert len(spans) == 2
    for s in spans:
        count = normalize_count(s.text, language=language, after=text[s.end:])
        assert count.parsed and (count.min is not None or count.max is not None), count


def test_a_dateline_names_no_place() -> None:
    text = "PESHAWAR, Pakistan (wire) - Gunmen killed 12 people in Bannu, police said."
    got = found(text)
    assert ("LOCATION", "Bannu") in got and ("LOCATION", "Pakistan") not in got


def test_coordinated_groups_relative_clauses_and_acronyms() -> None:
    got = found("Shelling killed 12 women and children, activists said. A resident who helped bury the victims "
                "said he counted 27 bodies.")
    assert {("CASUALTY", "12 women and children"), ("CLAIM_SOURCE", "A resident"), ("CASUALTY", "27 bodies")} <= got
    fr = found("Le gouvernement attribue le massacre à l'État islamique au Sahel (EIS).", "fr")
    assert {("ACTOR", "État islamique au Sahel"), ("ACTOR", "EIS")} <= fr
