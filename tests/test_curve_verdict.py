"""The learning curve's verdict needs evidence (issue 18): a confidence interval over enough evaluation
examples, else "too little to tell"; curve.json says which split was scored and what was counted."""

from __future__ import annotations

import json
from pathlib import Path

from newsner.model.curve import MIN_EVAL_ENTITIES, MIN_EVAL_EXAMPLES, Evidence, bootstrap_delta, verdict

# The issue's case: the 25 % model beat the 100 % model, and the last step rose, on a 2-example test split.
ISSUE_POINTS = [(0.25, 0.8), (0.5, 0.5), (0.75, 0.4), (1.0, 0.6)]


def test_no_verdict_from_a_two_example_test_split() -> None:
    line = verdict(ISSUE_POINTS, Evidence(2, 3, 0.2, (0.0, 0.5)))
    assert line.startswith("too little to tell:") and "2 example(s) with 3 entities" in line
    assert "helps" not in line
    assert f"at least {MIN_EVAL_EXAMPLES} examples and {MIN_EVAL_ENTITIES} entities" in line


def test_no_verdict_without_a_confidence_interval() -> None:
    assert verdict(ISSUE_POINTS).startswith("too little to tell:")
    assert verdict(ISSUE_POINTS, Evidence(500, 900, 0.2, None)).startswith("too little to tell:")


def test_an_interval_that_spans_zero_is_not_a_trend() -> None:
    line = verdict([(0.75, 0.61), (1.0, 0.66)], Evidence(300, 700, 0.05, (-0.04, 0.13)))
    assert line.startswith("too little to tell:") and "spans 0" in line


def test_bootstrap_separates_a_real_gain_from_a_tie() -> None:
    n = 200
    before = [(1, 1, 1)] * n  # F1 0.5 on every example
    after = [(2, 0, 0)] * n  # all right
    low, high = bootstrap_delta(before, after) or (0.0, 0.0)
    assert 0.4 < low <= high < 0.6
    assert "more annotation still helps" in verdict([(0.75, 0.5), (1.0, 1.0)], Evidence(n, 2 * n, 0.5, (low, high)))
    # the same examples, half better and half worse: the interval straddles 0
    mixed_after = [(2, 0, 0)] * (n // 2) + [(0, 2, 2)] * (n // 2)
    lo2, hi2 = bootstrap_delta(before, mixed_after) or (0.0, 0.0)
    assert lo2 < 0 < hi2
    assert bootstrap_delta([], []) is None and bootstrap_delta(before, after[:5]) is None


def test_train_curve_records_split_unit_examples_documents_and_evidence(workspace: Path) -> None:
    from newsner.annotations.store import AnnotationStore
    from newsner.corpus.store import Corpus
    from newsner.export import ExportOptions, export
    from newsner.model.curve import train_curve
    from newsner.schema import AnnotationRecord, Article, Span
    from newsner.workspace import Workspace

    towns = ["Kidal", "Gao", "Menaka", "Timbuktu", "Bamako", "Mopti"]
    texts = [f"Wagner fighters attacked {towns[i % 6]} on day {i}. The army said {i} died there. "
             f"Residents fled {towns[(i + 1) % 6]}." for i in range(30)]
    ws = Workspace.at(workspace)
    arts = [Article.from_text(t, language="en") for t in texts]
    with Corpus(ws.corpus_dir).lock():
        Corpus(ws.corpus_dir).append(arts)

    def spans(text: str) -> list[Span]:
        out = [Span(0, 15, "ACTOR", "Wagner fighters")]
        for town in towns:
            for at in [i for i in range(len(text)) if text.startswith(town, i)]:
                out.append(Span(at, at + len(town), "LOCATION", town))
        return sorted(out)

    AnnotationStore(ws.annotations_dir).write_layer(
        "gold", [AnnotationRecord(a.id, a.text_sha256, "gold", spans(a.text), "confirmed") for a in arts])
    data = workspace / "exports" / "spacy"
    result = export(ws, data, ExportOptions("spacy"))  # unit: sentence
    out = workspace / "models" / "curve"
    curve = train_curve(data, out, ws.label_schema(), max_steps=10)
    saved = json.loads((out / "curve.json").read_text())
    meta = json.loads((data / "export.json").read_text())
    assert saved["split"] == Path(saved["evaluated_on"]).stem == curve.split
    assert saved["unit"] == "sentence"
    last = saved["points"][-1]
    assert last["train_examples"] == meta["splits"]["train"]["examples"] == result.splits["train"].examples
    assert last["train_documents"] == meta["splits"]["train"]["documents"] < last["train_examples"]
    assert saved["points"][0]["train_documents"] is None  # a subset's articles are not known: not guessed
    evidence = saved["evidence"]
    assert evidence["eval_examples"] == meta["splits"][saved["split"]]["examples"]
    assert evidence["eval_entities"] == sum(meta["splits"][saved["split"]]["entities"].values())
    assert saved["verdict"] == curve.verdict and saved["verdict"].startswith(("too little to tell", "no learning"))
