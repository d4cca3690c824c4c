from __future__ import annotations

import json
from pathlib import Path

from newsner.corpus.store import Corpus
from newsner.schema import AnnotationRecord, Article

REPO = Path(__file__).resolve().parents[1]
TEXT = ("Mali's army and Wagner fighters retreated from Tinzaouaten, a spokesman for the rebels told AFP, "
        "citing at least 17 dead. 🇲🇱 Fighting moved toward Kidal.")


def _workspace_with(workspace: Path, *texts: str) -> list[Article]:
    arts = [Article.from_text(t, source="test") for t in texts]
    corpus = Corpus(workspace / "corpus")
    with corpus.lock():
        corpus.append(arts)
    return arts


def test_pre_annotate_writes_suggestions_that_fit_the_text(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    (article,) = _workspace_with(workspace, TEXT)
    result = cli("pre-annotate")
    assert result.exit_code == 0, result.output
    assert "on 1 of 1 article(s)" in result.stdout
    out = workspace / "annotations" / "suggestions" / "patterns.jsonl"
    (line,) = out.read_text().splitlines()
    rec = AnnotationRecord.from_dict(json.loads(line))
    rec.check(article.text)  # offsets are code points even after the flag emoji
    found = {(s.label, s.text) for s in rec.spans}
    assert {("ACTOR", "Mali's army"), ("ACTOR", "Wagner fighters"), ("LOCATION", "Tinzaouaten"),
            ("CLAIM_SOURCE", "a spokesman for the rebels"), ("CLAIM_SOURCE", "AFP"),
            ("CASUALTY", "at least 17 dead"), ("LOCATION", "Kidal")} <= found
    assert rec.status == "unconfirmed"
    assert "patterns" not in [p.name for p in (workspace / "annotations").iterdir()]  # the shipped patterns were used
    # suggestions are not an annotator layer
    assert not list((workspace / "annotations").glob("*.jsonl"))


def test_pattern_with_unknown_label_is_rejected_with_its_line(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    _workspace_with(workspace, TEXT)
    bad = workspace / "bad.jsonl"
    bad.write_text('{"label": "ACTOR", "pattern": "x"}\n{"label": "GPE", "pattern": "Mali"}\n')
    result = cli("pre-annotate", "--patterns", str(bad))
    assert result.exit_code == 1
    assert "bad.jsonl:2: label 'GPE' is not in the label schema" in result.stderr


def _docbin(path: Path, n: int, offset: int = 0) -> None:
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    towns = ["Kidal", "Gao", "Menaka", "Timbuktu", "Bamako", "Mopti"]
    db = DocBin()
    for i in range(n):
        town = towns[(i + offset) % len(towns)]
        doc = nlp(f"Wagner fighters attacked {town} on Friday , the army said .")
        doc.ents = [doc.char_span(0, 15, "ACTOR"), doc.char_span(25, 25 + len(town), "LOCATION")]
        db.add(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(path)


def test_train_then_evaluate_learns_a_trivial_pattern(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    data = workspace / "exports" / "spacy"
    _docbin(data / "train.spacy", 30)
    _docbin(data / "validation.spacy", 6, offset=1)
    _docbin(data / "test.spacy", 6, offset=2)
    result = cli("train", "--data", str(data), "--max-steps", "120")
    assert result.exit_code == 0, result.output
    assert (workspace / "models" / "baseline" / "model-best" / "meta.json").exists()
    assert (workspace / "models" / "baseline").stat().st_mode & 0o005  # an ordinary folder, not 0700
    # per-label rows in schema order, and the two trained labels are learned
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    labels = [r.split("│")[1].strip() for r in rows]
    assert labels == ["ACTOR", "LOCATION", "CASUALTY", "CLAIM_SOURCE", "all"]
    # a label with nothing to find in the test split is not scored 0.000 (issue 11): a dash and a note saying why
    casualty = [c.strip() for c in rows[2].split("│")[1:-1]]
    assert casualty[2:] == ["–", "–", "0"]
    assert "note: no CASUALTY, CLAIM_SOURCE in these documents" in result.stdout
    # evaluate defaults to what train and export spacy just wrote in the workspace
    scored = cli("evaluate")
    assert scored.exit_code == 0, scored.output
    assert f"scores on {data / 'test.spacy'}" in scored.stdout
    from newsner.model import evaluate
    from newsner.schema import default_label_schema_path, load_label_schema

    scores = evaluate(workspace / "models" / "baseline" / "model-best", data / "test.spacy",
                      load_label_schema(default_label_schema_path()))
    by_label = {s.label: s for s in scores.per_label}
    assert by_label["ACTOR"].support == 6 and by_label["ACTOR"].f1 > 0.8
    assert by_label["CASUALTY"].support == 0


def test_train_without_export_says_what_to_run(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("train", "--data", str(workspace / "nothing"))
    assert result.exit_code == 1
    assert "newsner export spacy" in result.stderr


def test_train_with_no_training_example_gives_one_line_and_writes_nothing(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    from spacy.tokens import DocBin

    data = workspace / "exports" / "spacy"
    data.mkdir(parents=True)
    DocBin().to_disk(data / "train.spacy")  # spaCy would fail late with E923
    _docbin(data / "validation.spacy", 3)
    result = cli("train", "--data", str(data), "--max-steps", "10")
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "train.spacy: the train split holds no documents" in line and "newsner export spacy" in line
    assert "Traceback" not in result.output
    assert not (workspace / "models").exists()


def test_evaluate_on_a_file_that_is_not_a_docbin(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    bad = workspace / "test.spacy"
    bad.write_text('{"text": "not a DocBin"}\n')  # spaCy would raise E1014
    result = cli("evaluate", "--model", str(workspace / "models" / "none"), "--data", str(bad))
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "test.spacy: not a spaCy DocBin (.spacy) file (E1014)" in line


def test_evaluate_with_a_folder_that_is_no_model(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    _docbin(workspace / "test.spacy", 2)
    result = cli("evaluate", "--model", str(workspace), "--data", str(workspace / "test.spacy"))
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "not a trained model" in line and "newsner train" in line


def test_train_curve_writes_points_per_label_and_a_verdict(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    data = workspace / "exports" / "spacy"
    _docbin(data / "train.spacy", 16)
    _docbin(data / "validation.spacy", 4, offset=1)
    _docbin(data / "test.spacy", 4, offset=2)
    result = cli("train", "--data", str(data), "--max-steps", "30", "--curve")
    assert result.exit_code == 0, result.output
    curve = json.loads((workspace / "models" / "baseline" / "curve.json").read_text())
    assert [p["fraction"] for p in curve["points"]] == [0.25, 0.5, 0.75, 1.0]
    assert [p["train_docs"] for p in curve["points"]] == [4, 8, 12, 16]
    for p in curve["points"]:
        assert list(p["f1"]) == ["ACTOR", "LOCATION", "CASUALTY", "CLAIM_SOURCE", "overall"]
        assert all(0.0 <= v <= 1.0 for v in p["f1"].values())
    assert curve["data"] == str(data) and curve["created_at"].endswith("Z")
    assert curve["verdict"] and f"verdict: {curve['verdict']}" in result.stdout
    assert (workspace / "models" / "baseline" / "model-best" / "meta.json").exists()  # the 100 % model is kept
    assert not list((workspace / "models").glob(".curve.*"))  # the smaller models are gone


def test_curve_verdict_lines() -> None:
    from newsner.model.curve import Evidence, verdict

    def ev(low: float, high: float) -> Evidence:  # a verdict needs evidence (tests/test_curve_verdict.py)
        return Evidence(200, 400, 0.0, (low, high))

    assert verdict([(0.75, 0.61), (1.0, 0.65)], ev(0.01, 0.07)).startswith(
        "the last 25% of the training data added +0.04 F1")
    assert "more annotation still helps" in verdict([(0.75, 0.61), (1.0, 0.65)], ev(0.01, 0.07))
    assert verdict([(0.75, 0.61), (1.0, 0.612)], ev(-0.01, 0.02)).startswith("flat:")
    assert "worse beyond chance" in verdict([(0.75, 0.61), (1.0, 0.55)], ev(-0.1, -0.02))
    # a model that learned nothing is not a "flat" curve (it would send the user to annotate other articles)
    assert verdict([(0.25, 0.0), (0.5, 0.0), (0.75, 0.0), (1.0, 0.0)]).startswith("no learning:")


def test_curve_scores_on_validation_when_the_export_has_no_test_documents(tmp_path: Path) -> None:
    from spacy.tokens import DocBin

    from newsner.model.curve import _eval_split

    _docbin(tmp_path / "validation.spacy", 2)
    DocBin().to_disk(tmp_path / "test.spacy")
    assert _eval_split(tmp_path) == tmp_path / "validation.spacy"
    _docbin(tmp_path / "test.spacy", 2)
    assert _eval_split(tmp_path) == tmp_path / "test.spacy"
