"""The relation rule over rule spans, sentence bounds, and `pre-annotate` writing spans with relations."""

from __future__ import annotations

import json
from pathlib import Path

from newsner.corpus.store import Corpus
from newsner.model.relations import suggest_relations
from newsner.model.rules import RuleSuggester
from newsner.schema import AnnotationRecord, Article, Span, default_label_schema_path, load_label_schema
from newsner.text.sentences import sentences

SCHEMA = load_label_schema(default_label_schema_path())


def linked(text: str, language: str = "en", spans: list[Span] | None = None) -> set[tuple[str, str, str]]:
    got = sorted(spans if spans is not None else RuleSuggester.get(language).spans(text))
    return {(got[r.head].text, r.type, got[r.tail].text) for r in suggest_relations(text, got, schema=SCHEMA)}


def marks(text: str, pairs: list[tuple[str, str]]) -> list[Span]:
    out, cursor = [], 0
    for needle, label in pairs:
        start = text.index(needle, cursor)
        out.append(Span(start, start + len(needle), label, needle))
        cursor = start + 1
    return out


def test_a_relay_never_beats_the_speaker() -> None:
    text = "A regional official told Reuters at least 10 people died in the raid."
    assert ("at least 10 people", "CLAIMED_BY", "A regional official") in linked(text)
    fr = "Au moins 10 personnes ont été tuées, a déclaré un responsable local à l'AFP."
    got = linked(fr, "fr")
    assert ("Au moins 10 personnes", "CLAIMED_BY", "un responsable local") in got
    assert not any(t == "AFP" for _, r, t in got if r == "CLAIMED_BY")


def test_a_pronoun_speaker_is_the_named_speaker_before_never_the_relay() -> None:
    text = ('The district governor confirmed the attack on Tuesday. "We have buried 23 people," he told AFP.')
    assert ("23 people", "CLAIMED_BY", "district governor") in linked(text)


def test_the_speech_verbs_side_decides_between_two_speakers() -> None:
    text = "The ministry said four soldiers died in the raid, while the insurgents claimed more than 40."
    spans = marks(text, [("ministry", "CLAIM_SOURCE"), ("four soldiers", "CASUALTY"),
                         ("insurgents", "CLAIM_SOURCE"), ("more than 40", "CASUALTY")])
    got = linked(text, spans=spans)
    assert ("four soldiers", "CLAIMED_BY", "ministry") in got
    assert ("more than 40", "CLAIMED_BY", "insurgents") in got
    # and a source after its claim: "[claim], X said"
    text2 = "Eleven civilians were killed in the shelling, the mayor said, while the army claimed only two died."
    got2 = linked(text2)
    assert ("Eleven civilians", "CLAIMED_BY", "mayor") in got2


def test_place_perpetrator_and_victim_from_rule_spans() -> None:
    text = "Gunmen stormed a market near Gao in Mali, killing at least 12 traders, officials said."
    got = linked(text)
    assert ("at least 12 traders", "LOCATED_IN", "Gao") in got  # the town, not its country
    assert ("at least 12 traders", "PERPETRATOR", "Gunmen") in got
    assert ("at least 12 traders", "CLAIMED_BY", "officials") in got


def test_emoji_led_and_line_broken_sentences_split() -> None:
    text = ("Clashes continued, according to Reuters. 👍🏽 Separatists said 30 soldiers died.\n"
            "Residents fled\nthe town. witnesses said the army left, e.g. the base at Gao.")
    parts = [text[s:e] for s, e in sentences(text)]
    assert parts == ["Clashes continued, according to Reuters.", "👍🏽 Separatists said 30 soldiers died.",
                     "Residents fled", "the town.", "witnesses said the army left, e.g. the base at Gao."]
    # so the count is never linked to the source of the sentence before the emoji
    got = linked(text)
    assert ("30 soldiers", "CLAIMED_BY", "Separatists") in got
    assert not any(t == "Reuters" for _, r, t in got if r == "CLAIMED_BY")


def test_pre_annotate_writes_rule_spans_with_relations(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    en = Article.from_text("Gunmen killed 14 villagers near Djibo on Sunday, two security sources said.",
                           source="t", language="en")
    fr = Article.from_text("Au moins 12 soldats ont été tués près de Gao, selon une source sécuritaire.",
                           source="t", language="fr")
    corpus = Corpus(workspace / "corpus")
    with corpus.lock():
        corpus.append([en, fr])
    result = cli("pre-annotate")
    assert result.exit_code == 0, result.output
    assert "relation(s)" in result.stdout
    lines = (workspace / "annotations" / "suggestions" / "patterns.jsonl").read_text().splitlines()
    recs = {r.doc_id: r for r in (AnnotationRecord.from_dict(json.loads(line)) for line in lines)}
    for article, count, source in ((en, "14 villagers", "two security sources"),
                                   (fr, "Au moins 12 soldats", "une source sécuritaire")):
        rec = recs[article.id]
        rec.check(article.text)
        spans = rec.sorted_spans()
        claims = {(spans[r.head].text, spans[r.tail].text) for r in rec.relations if r.type == "CLAIMED_BY"}
        assert claims == {(count, source)}
        assert all(s.source == "patterns" for s in spans)


def test_pre_annotate_patterns_file_still_works(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    article = Article.from_text("Fighters of the Zorg Front attacked Qlatt, killing 9 people, a chief said.",
                                source="t", language="en")
    corpus = Corpus(workspace / "corpus")
    with corpus.lock():
        corpus.append([article])
    own = workspace / "own.jsonl"
    own.write_text('{"label": "ACTOR", "pattern": "Zorg Front"}\n{"label": "LOCATION", "pattern": "Qlatt"}\n',
                   encoding="utf-8")
    result = cli("pre-annotate", "--patterns", str(own))
    assert result.exit_code == 0, result.output
    (line,) = (workspace / "annotations" / "suggestions" / "patterns.jsonl").read_text().splitlines()
    got = {(s.label, s.text) for s in AnnotationRecord.from_dict(json.loads(line)).spans}
    assert {("ACTOR", "Zorg Front"), ("LOCATION", "Qlatt"), ("CASUALTY", "9 people")} <= got
    own.write_text('{"label": "WEAPON", "pattern": "rifle"}\n', encoding="utf-8")
    bad = cli("pre-annotate", "--patterns", str(own), "--out", str(workspace / "x.jsonl"))
    assert bad.exit_code == 1 and "own.jsonl:1: label 'WEAPON' is not in the label schema" in bad.stderr
    assert not (workspace / "x.jsonl").exists()
