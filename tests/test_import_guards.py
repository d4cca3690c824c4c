"""Import never writes confirmed empty records for dropped labels, names empty and spaCy v2 files, and checks the
layer can be written before touching the corpus."""

from __future__ import annotations

import json
from pathlib import Path

from newsner.annotations import import_annotations
from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.workspace import Workspace


def test_document_whose_spans_were_all_dropped_is_not_a_confirmed_empty_record(workspace: Path, tmp_path: Path,
                                                                               cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "re3d_like.jsonl"
    path.write_text(json.dumps({"text": "An AK-47 was found near Gao.", "label": [[3, 8, "Weapon"]]}) + "\n"
                    + json.dumps({"text": "Fighting near Kidal.", "label": [[14, 19, "LOCATION"]]}) + "\n")
    out = cli("annotations", "import", str(path), "--annotator", "ann")
    assert out.exit_code == 1
    assert f"{path}:1: not imported: all of its spans were left out — 1 with labels outside the label schema" \
        in out.stderr
    assert "--map" in out.stderr
    records = AnnotationStore(workspace / "annotations").load("ann")
    assert len(records) == 1 and all(r.spans for r in records.values())
    # Dropping on purpose with --map Weapon= is the user's decision: that document imports with no span.
    again = cli("annotations", "import", str(path), "--annotator", "ann", "--map", "Weapon=")
    assert again.exit_code == 0, again.output
    assert len(AnnotationStore(workspace / "annotations").load("ann")) == 2


def test_empty_file_gets_a_clear_word(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    out = cli("annotations", "import", str(empty))
    assert out.exit_code == 1 and f"{empty}: the file holds no document" in out.stderr


def test_spacy_v2_training_json_is_read_not_called_doccano_without_text(shared_data: Path, workspace: Path) -> None:
    files = sorted((shared_data / "spacy").glob("spacy_example_*.json"))
    assert files
    ws = Workspace.at(workspace)
    report = import_annotations(ws, files, fmt="auto", annotator="spacy", label_map={"PERSON": "ACTOR"})
    assert not report.rejected, [str(r) for r in report.rejected]
    assert not any("no 'text' field" in str(r) for r in report.rejected)
    assert report.notes["read as spaCy v2 training JSON"] >= len(files)
    records = AnnotationStore(workspace / "annotations").load("spacy")
    texts = {a.id: a.text for a in Corpus(workspace / "corpus")}
    actors = {texts[r.doc_id][s.start:s.end] for r in records.values() for s in r.spans if s.label == "ACTOR"}
    assert "Sebastian Thrun" in actors


def test_import_checks_the_layer_before_adding_articles(workspace: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"text": "Fighting near Kidal.", "label": [[14, 19, "LOCATION"]]}) + "\n")
    (workspace / "annotations" / "ann.jsonl").mkdir()  # the layer cannot be written
    out = cli("annotations", "import", str(path), "--annotator", "ann")
    assert out.exit_code == 1 and "ann.jsonl is a folder" in out.stderr and "Traceback" not in out.output
    corpus = Corpus(workspace / "corpus")
    assert not corpus.exists() or len(corpus) == 0


def test_annotations_being_a_file_is_one_line_and_no_article_is_added(workspace: Path, tmp_path: Path,
                                                                      cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"text": "Fighting near Kidal.", "label": [[14, 19, "LOCATION"]]}) + "\n")
    (workspace / "annotations" / "labels.json").unlink()
    (workspace / "annotations").rmdir()
    (workspace / "annotations").write_text("not a folder")
    out = cli("annotations", "import", str(path))
    assert out.exit_code == 1 and out.stderr.count("\n") == 1
    assert f"{workspace / 'annotations'}: is a file" in out.stderr
    assert "Traceback" not in out.output
    corpus = Corpus(workspace / "corpus")
    assert not corpus.exists() or len(corpus) == 0


def test_newsners_own_record_file_is_named_not_read_as_doccano(workspace: Path, tmp_path: Path,
                                                              cli) -> None:  # type: ignore[no-untyped-def]
    """A user imports annotations/suggestions/patterns.jsonl: say what it is and how to use it, once."""
    path = tmp_path / "suggestions.jsonl"
    record = {"doc_id": "a" * 16, "text_sha256": "0" * 64, "annotator": "patterns",
              "spans": [{"start": 0, "end": 6, "label": "ACTOR", "text": "Wagner"}], "status": "unconfirmed"}
    path.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    out = cli("annotations", "import", str(path), "--format", "doccano")
    assert out.exit_code == 1 and out.stderr.count("\n") == 1
    assert "newsner annotation-record file" in out.stderr and "annotations/NAME.jsonl" in out.stderr
    assert "Traceback" not in out.output


# doccano's Labels → Export: the project's label types, not documents (the shape of doccano's own example file).
LABEL_CONFIG = [{"id": 1, "text": "Dog", "prefix_key": None, "suffix_key": "d", "background_color": "#ff7f0e",
                 "text_color": "#ffffff"},
                {"id": 2, "text": "Cat", "prefix_key": None, "suffix_key": "c", "background_color": "#1f77b4",
                 "text_color": "#ffffff"}]


def test_a_doccano_label_configuration_is_refused_as_what_it_is(workspace: Path, tmp_path: Path,
                                                                cli) -> None:  # type: ignore[no-untyped-def]
    as_json = tmp_path / "label_config.json"
    as_json.write_text(json.dumps(LABEL_CONFIG))
    as_jsonl = tmp_path / "labels.jsonl"
    as_jsonl.write_text("".join(json.dumps(x) + "\n" for x in LABEL_CONFIG))
    for path in (as_json, as_jsonl):
        out = cli("annotations", "import", str(path))
        assert out.exit_code == 1 and "Traceback" not in out.output
        [line] = out.stderr.strip().splitlines()
        assert line.startswith(f"Error: {path}: this is a doccano label configuration") and "Dog, Cat" in line
        assert not Corpus(workspace / "corpus").exists() or Corpus(workspace / "corpus").ids() == set()
        assert AnnotationStore(workspace / "annotations").layers() == []


def test_import_into_a_workspace_that_does_not_exist_yet_creates_it(tmp_path: Path, runner) -> None:  # type: ignore[no-untyped-def]
    from newsner.cli import app

    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"text": "Fighting near Kidal.", "label": [[14, 19, "LOCATION"]]}) + "\n")
    fresh = tmp_path / "new" / "workspace"
    out = runner.invoke(app, ["--workspace", str(fresh), "annotations", "import", str(path), "--annotator", "ann"])
    assert out.exit_code == 0, out.output
    assert "permission denied" not in out.output
    [record] = AnnotationStore(fresh / "annotations").read("ann")
    assert [s.text for s in record.spans] == ["Kidal"]
