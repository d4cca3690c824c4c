from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.corpus.store import Corpus
from newsner.model.predict import Suggester, merge
from newsner.schema import AnnotationRecord, Article, Span, default_label_schema_path, load_label_schema
from tests.model_fixtures import train_tiny_model

SCHEMA = load_label_schema(default_label_schema_path())
TEXT = "🇲🇱 Wagner fighters attacked Sikasso, a spokesman for the rebels told AFP, citing at least 17 dead."


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_model(tmp_path_factory.mktemp("tiny"))


def test_model_spans_carry_source_and_beam_probability(model: Path) -> None:
    s = Suggester.load(SCHEMA, model_dir=model)
    assert s.name == "model:baseline"
    (spans,) = s.suggest([TEXT])
    found = {(sp.label, sp.text) for sp in spans}
    assert ("ACTOR", "Wagner fighters") in found and ("LOCATION", "Sikasso") in found
    for sp in spans:
        assert TEXT[sp.start:sp.end] == sp.text  # code points, after the flag emoji
        assert sp.source == "model:baseline"
        assert sp.score is not None and 0.0 < sp.score <= 1.0
    # the beam also reports the alternatives it weighed, as probabilities
    (scored,) = s.score(["Rebels attacked Bamako on Monday ."])
    assert scored.candidates and all(0.0 <= p <= 1.0 for p in scored.candidates.values())


def test_model_and_patterns_combine_model_wins_overlaps(model: Path) -> None:
    s = Suggester.load(SCHEMA, model_dir=model, patterns=default_patterns())
    assert s.name == "model:baseline+patterns"
    (spans,) = s.suggest([TEXT])
    by_text = {sp.text: sp for sp in spans}
    assert by_text["Wagner fighters"].source == "model:baseline+patterns"  # both agree exactly
    assert by_text["Sikasso"].source == "model:baseline+patterns"  # the rules' gazetteer knows this town too
    assert by_text["at least 17 dead"].source == "patterns" and by_text["at least 17 dead"].score is None
    ordered = sorted(spans)
    assert all(a.end <= b.start for a, b in zip(ordered, ordered[1:], strict=False))  # never overlapping


def test_merge_rule() -> None:
    m = [Span(0, 10, "ACTOR", "x" * 10, source="model:m", score=0.6)]
    p = [Span(5, 12, "LOCATION", "y" * 7, source="patterns"), Span(20, 25, "CASUALTY", "z" * 5, source="patterns"),
         Span(0, 10, "LOCATION", "x" * 10, source="patterns")]
    out = merge(m, p, both="model:m+patterns")
    # the rule span wins the overlap (a young model's spans are less precise than the rules', bench_suggest)
    assert [(s.start, s.label, s.source) for s in out] == [(0, "LOCATION", "patterns"), (20, "CASUALTY", "patterns")]
    agreed = merge(m, [Span(0, 10, "ACTOR", "x" * 10, source="patterns")], both="model:m+patterns")
    assert [(s.source, s.score) for s in agreed] == [("model:m+patterns", 0.6)]
    gap = merge([Span(30, 34, "ACTOR", "w" * 4, source="model:m", score=0.7)], p, both="model:m+patterns")
    assert (30, "ACTOR", "model:m") in [(s.start, s.label, s.source) for s in gap]  # the model fills in


def test_patterns_only_by_default() -> None:
    s = Suggester.load(SCHEMA)
    assert s.name == "patterns"
    (spans,) = s.suggest([TEXT])
    assert {sp.source for sp in spans} == {"patterns"} and all(sp.score is None for sp in spans)


def test_pre_annotate_with_model_writes_scored_suggestions(cli, workspace: Path, model: Path) -> None:  # type: ignore[no-untyped-def]
    article = Article.from_text(TEXT, source="test")
    corpus = Corpus(workspace / "corpus")
    with corpus.lock():
        corpus.append([article])
    result = cli("pre-annotate", "--model", str(model), "--patterns", str(default_patterns()))
    assert result.exit_code == 0, result.output
    out = workspace / "annotations" / "suggestions" / "model-baseline+patterns.jsonl"
    (line,) = out.read_text().splitlines()
    rec = AnnotationRecord.from_dict(json.loads(line))
    rec.check(article.text)
    assert rec.status == "unconfirmed" and rec.origin == {"suggester": "model:baseline+patterns"}
    assert any(sp.source.startswith("model:baseline") and sp.score for sp in rec.spans)


def test_pre_annotate_with_a_folder_that_is_no_model(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    Corpus(workspace / "corpus").root.mkdir()
    (workspace / "empty").mkdir()
    result = cli("pre-annotate", "--model", str(workspace / "empty"))
    assert result.exit_code == 1
    assert "not a trained model" in result.stderr and "newsner train" in result.stderr
    assert not (workspace / "annotations" / "suggestions").exists()


def default_patterns() -> Path:
    from newsner.model import default_patterns_path

    return default_patterns_path()
