"""Import into records + corpus, validation, agreement and adjudication (library and CLI)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from newsner.annotations import (
    adjudicate,
    agreement,
    import_annotations,
    majority_vote,
    parse_label_map,
    validate_annotations,
)
from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.errors import InputError
from newsner.schema import AnnotationRecord, Article, Span
from newsner.workspace import Workspace

DATA = Path(__file__).parent / "data"
CONLL_LABELS = DATA / "labels_conll2003.json"
TRANSFORMER_MAP = ["12=LOC,13=PER,14=ORG"]


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    shutil.copy(CONLL_LABELS, workspace / "annotations" / "labels.json")
    return Workspace.at(workspace)


def _import(ws: Workspace, paths: list[Path], fmt: str = "doccano", mapping: list[str] | None = None, **kw):  # type: ignore[no-untyped-def]
    return import_annotations(ws, paths, fmt=fmt, label_map=parse_label_map(mapping or [], ws.label_schema()), **kw)


def test_import_doccano_users_into_layers_and_articles_into_the_corpus(ws: Workspace, shared_data: Path) -> None:
    report = _import(ws, [shared_data / "doccano_transformer/labeling.jsonl"], mapping=TRANSFORMER_MAP)
    assert not report.rejected and report.articles_added == 2
    assert {k: (v.added, v.updated) for k, v in report.layers.items()} == {"user1": (1, 0), "user2": (2, 0)}
    store = AnnotationStore(ws.annotations_dir)
    user2 = store.load("user2")
    articles = {a.id: a for a in Corpus(ws.corpus_dir)}
    for rec in user2.values():
        rec.check(articles[rec.doc_id].text)  # every span fits the corpus text
        assert rec.status == "confirmed" and rec.origin["format"] == "doccano"
    assert sorted((s.text, s.label) for r in user2.values() for s in r.spans)[:3] == [
        ("AL-AIN", "LOC"), ("CHINA", "PER"), ("CUTTITTA", "PER")]
    # importing the same file again changes nothing: same articles, same records
    again = _import(ws, [shared_data / "doccano_transformer/labeling.jsonl"], mapping=TRANSFORMER_MAP)
    assert again.articles_added == 0 and again.articles_present == 2
    assert all(r.added == r.updated == 0 for r in again.layers.values())
    assert len(Corpus(ws.corpus_dir)) == 2


def test_unmapped_labels_are_not_imported_and_reported(ws: Workspace, shared_data: Path) -> None:
    report = _import(ws, [shared_data / "doccano_transformer/labeling.jsonl"], mapping=["12=LOC"])
    assert report.unmapped == {"13": 6, "14": 1}
    assert report.spans_imported == {"LOC": 9}
    assert all(s.label == "LOC" for r in AnnotationStore(ws.annotations_dir).load("user2").values() for s in r.spans)
    dropped = _import(ws, [shared_data / "doccano_transformer/labeling.jsonl"], mapping=["12=LOC,13=,14="])
    assert not dropped.unmapped and dropped.dropped_by_map == {"13": 6, "14": 1}


def test_label_map_errors(ws: Workspace) -> None:
    schema = ws.label_schema()
    assert parse_label_map(["Organisation=ORG, Location=LOC", "Weapon="], schema) == {
        "Organisation": "ORG", "Location": "LOC", "Weapon": None}
    with pytest.raises(InputError, match="'ACTR' is not in the label schema"):
        parse_label_map(["Organisation=ACTR"], schema)
    with pytest.raises(InputError, match="expected FOREIGN=LABEL"):
        parse_label_map(["Organisation"], schema)


def test_same_document_twice_with_other_spans_is_rejected(ws: Workspace, shared_data: Path) -> None:
    report = _import(ws, [shared_data / "doccano/legacy/2019_example.labeling_entities.jsonl"],
                     mapping=["ORG=ORG"])
    assert [r.where.rsplit(":", 1)[1] for r in report.rejected] == ["2", "3"]
    assert "with other spans" in report.rejected[0].message
    (rec,) = AnnotationStore(ws.annotations_dir).load("imported").values()
    assert [(s.text, s.label) for s in rec.spans] == [("e", "LOC"), ("ex", "ORG")]


def test_import_conll_and_re3d(ws: Workspace, shared_data: Path) -> None:
    report = _import(ws, [shared_data / "conll/wikigold_first300sent.conll"], fmt="conll", annotator="wikigold")
    # wikigold is IOB1 with -DOCSTART- lines: one article per document
    assert list(report.schemes.values()) == ["iob1"] and report.articles_added == report.documents == 15
    spans = [(s.text, s.label) for r in AnnotationStore(ws.annotations_dir).load("wikigold").values() for s in r.spans]
    assert ("The Mad Capsule Markets", "ORG") in spans

    re3d = _import(ws, [shared_data / "re3d/UK_Government"], fmt="re3d",
                   mapping=["Organisation=ORG,Location=LOC,Person=PER"], annotator="re3d")
    assert re3d.articles_added == 26 and not re3d.rejected
    mismatched = [s for s in re3d.skipped if "does not match" in s.reason]
    assert [s.text for s in mismatched] == ["Boris Johnson A Foreign Office spokesman", "Johnson A"]
    assert "Nationality" in re3d.unmapped and re3d.skipped_by_reason["low confidence"] > 0


def test_nfc_normalized_on_import(ws: Workspace) -> None:
    report = _import(ws, [DATA / "doccano_astral.jsonl"], offsets="utf16")
    assert len(report.rejected) == 1  # the line that splits a surrogate pair
    texts = {a.text for a in Corpus(ws.corpus_dir)}
    assert "Café attack in Gao" in texts and "Cafe\u0301 attack in Gao" not in texts
    rec = next(r for r in AnnotationStore(ws.annotations_dir).load("imported").values()
               if r.spans and r.spans[0].text == "Café")
    assert [s.text for s in rec.spans] == ["Café", "Gao"]


def _seed(ws: Workspace, text: str, layers: dict[str, list[tuple[str, str]]], status: str = "confirmed") -> str:
    article = Article.from_text(text)
    corpus = Corpus(ws.corpus_dir)
    with corpus.lock():
        if article.id not in corpus.ids():
            corpus.append([article])
    store = AnnotationStore(ws.annotations_dir)
    for layer, spans in layers.items():
        recs = []
        for words, label in spans:
            start = text.index(words)
            recs.append(Span(start, start + len(words), label, words))
        store.upsert(layer, [AnnotationRecord(article.id, article.text_sha256, layer, recs, status)])
    return article.id


def test_validate_finds_every_kind_of_problem(ws: Workspace) -> None:
    doc = _seed(ws, "Wagner fighters left Kidal.", {"alice": [("Wagner", "ORG"), ("Kidal", "LOC")]})
    store = AnnotationStore(ws.annotations_dir)
    assert [c.problems for c in validate_annotations(ws)] == [[]]
    bad = [
        AnnotationRecord(doc, "0" * 64, "bob", [Span(0, 6, "ORG", "Wagner")], "confirmed"),
        AnnotationRecord("feedfeedfeedfeed", "1" * 64, "bob", [], "confirmed"),
    ]
    store.write_layer("bob", bad)
    carol = AnnotationRecord(doc, Article.from_text("Wagner fighters left Kidal.").text_sha256, "carol",
                             [Span(0, 6, "ACTOR", "Wagner"), Span(0, 15, "ORG", "Wagner fighters")], "confirmed")
    store.write_layer("carol", [carol])
    checks = {c.layer: c for c in validate_annotations(ws)}
    assert len(checks["bob"].problems) == 2
    assert any("another version of the text" in p for p in checks["bob"].problems)
    assert any("is not in the corpus" in p for p in checks["bob"].problems)
    assert any("'ACTOR' is not in the label schema" in p for p in checks["carol"].problems)
    assert checks["carol"].warnings and "overlap" in checks["carol"].warnings[0]


def test_agreement_per_label(ws: Workspace, shared_data: Path) -> None:
    _import(ws, [shared_data / "doccano_transformer/labeling.jsonl"], mapping=TRANSFORMER_MAP)
    (pair,) = agreement(ws)
    assert (pair.a, pair.b, pair.documents) == ("user1", "user2", 1)  # only 2578 is annotated by both
    assert pair.overall.f1 == 1.0 and [la.label for la in pair.per_label] == ["PER", "LOC"]
    _seed(ws, "Mali's army and Wagner attacked Kidal.", {
        "user1": [("Mali's army", "ORG"), ("Wagner", "ORG"), ("Kidal", "LOC")],
        "user2": [("army", "ORG"), ("Wagner", "ORG"), ("Kidal", "LOC")]})
    (pair,) = agreement(ws)
    org = next(la for la in pair.per_label if la.label == "ORG")
    assert (org.matched, org.a, org.b) == (1, 2, 2) and org.f1 == 0.5
    with pytest.raises(InputError, match="at least two annotator layers"):
        agreement(ws, ["user1"])


def test_majority_vote_policy() -> None:
    def rec(name: str, spans: list[tuple[int, int, str]]) -> AnnotationRecord:
        return AnnotationRecord("d", "h", name, [Span(s, e, lb, "x" * (e - s)) for s, e, lb in spans], "confirmed")

    vote = majority_vote([rec("a", [(0, 5, "LOC"), (10, 12, "PER")]), rec("b", [(0, 5, "LOC"), (10, 15, "PER")]),
                          rec("c", [(0, 5, "LOC"), (10, 15, "PER"), (20, 22, "ORG")])], label_order=["PER", "LOC"])
    assert [(s.start, s.end, s.label) for s in vote.spans] == [(0, 5, "LOC"), (10, 15, "PER")]
    assert sorted((s.start, v) for s, v in vote.below_threshold) == [(10, 1), (20, 1)]
    tie = majority_vote([rec("a", [(0, 5, "LOC")]), rec("b", [(0, 3, "PER")])], label_order=["PER", "LOC"],
                        min_votes=1)
    assert [(s.start, s.end) for s in tie.spans] == [(0, 5)] and len(tie.overlap_dropped) == 1


def test_adjudicate_writes_gold_and_keeps_human_gold(ws: Workspace) -> None:
    text = "Mali's army and Wagner attacked Kidal."
    doc = _seed(ws, text, {"alice": [("Mali's army", "ORG"), ("Kidal", "LOC")],
                           "bob": [("Mali's army", "ORG"), ("Wagner", "ORG")],
                           "carol": [("Mali's army", "ORG"), ("Kidal", "LOC")]})
    report = adjudicate(ws)
    assert report.documents == 1 and report.spans == 2 and report.below_threshold == 1
    gold = AnnotationStore(ws.annotations_dir).load("gold")[doc]
    assert [(s.text, s.label) for s in gold.spans] == [("Mali's army", "ORG"), ("Kidal", "LOC")]
    assert gold.origin["layers"] == ["alice", "bob", "carol"]
    assert any("'Wagner' ORG" in d and "1 of 3" in d for d in report.disagreements)
    again = adjudicate(ws)
    assert again.kept_existing == 1 and again.documents == 0


# ------------------------------------------------------------------------------------------------- CLI
def test_cli_import_rejects_lines_exit_1_rest_imported(cli, workspace: Path, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(CONLL_LABELS, workspace / "annotations" / "labels.json")
    result = cli("annotations", "import", str(shared_data / "doccano/current/tests_sequence_labeling_example.jsonl"),
                 "--format", "doccano")
    assert result.exit_code == 1
    assert "tests_sequence_labeling_example.jsonl:3: no 'text' field" in result.stderr
    assert "Traceback" not in result.output
    assert "documents read" in result.stdout
    assert len(Corpus(workspace / "corpus")) == 2


def test_cli_import_reports_unmapped_labels_and_bad_map(cli, workspace: Path, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("annotations", "import", str(shared_data / "re3d/US_State_Department"), "--format", "re3d",
                 "--map", "Organisation=ACTOR,Location=LOCATION")
    assert result.exit_code == 0, result.output
    assert "labels not in the schema, not imported" in result.stdout and "Person (" in result.stdout
    bad = cli("annotations", "import", str(shared_data / "re3d/US_State_Department"), "--format", "re3d",
              "--map", "Organisation=ACTR")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: --map") and "ACTR" in bad.stderr
    missing = cli("annotations", "import", "nope.jsonl")
    assert missing.exit_code == 1 and "nope.jsonl: no such file" in missing.stderr


def test_cli_validate_agreement_adjudicate(cli, workspace: Path, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(CONLL_LABELS, workspace / "annotations" / "labels.json")
    assert cli("annotations", "import", str(shared_data / "doccano_transformer/labeling.jsonl"),
               "--map", TRANSFORMER_MAP[0]).exit_code == 0
    ok = cli("annotations", "validate")
    assert ok.exit_code == 0 and "user2" in ok.stdout
    agree = cli("annotations", "agreement")
    assert agree.exit_code == 0 and "user1 × user2" in agree.stdout and "1.000" in agree.stdout
    adj = cli("annotations", "adjudicate")
    assert adj.exit_code == 0 and "documents voted" in adj.stdout
    gold = [json.loads(line) for line in (workspace / "annotations/gold.jsonl").read_text().splitlines()]
    assert len(gold) == 2 and all(r["annotator"] == "gold" for r in gold)
    (workspace / "annotations/user1.jsonl").write_text('{"doc_id": "x"}\n')
    bad = cli("annotations", "validate")
    assert bad.exit_code == 1 and "user1.jsonl:1" in bad.stderr


def test_format_is_detected_from_names_and_content(shared_data: Path, tmp_path: Path) -> None:
    from newsner.annotations import detect_format
    from newsner.errors import InputError

    assert detect_format([shared_data / "doccano/legacy/2019_labeling.conll"]) == "conll"
    assert detect_format([shared_data / "doccano/legacy/2021_upload_sequence_labeling.txt"]) == "conll"
    assert detect_format([shared_data / "doccano/current/tests_sequence_labeling_example.jsonl"]) == "doccano"
    assert detect_format([shared_data / "re3d/CENTCOM"]) == "re3d"
    assert detect_format([shared_data / "conll/gum_wikinews"]) == "conll"
    jsonish = tmp_path / "export.txt"
    jsonish.write_text('{"text": "Kidal", "label": []}\n')
    assert detect_format([jsonish]) == "doccano"
    with pytest.raises(InputError, match="different formats"):
        detect_format([shared_data / "re3d/CENTCOM", shared_data / "doccano/legacy/2019_labeling.conll"])


def test_cli_import_auto_format_warns_about_unused_map_and_replaced_records(cli, workspace: Path, shared_data: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    conll_file = str(shared_data / "doccano/legacy/2019_labeling.conll")
    first = cli("annotations", "import", conll_file, "--map", "LOC=LOCATION,PER=ACTOR")
    assert first.exit_code == 0, first.output
    assert "conll file(s)" in first.stdout and "not valid JSON" not in first.output
    re3d = str(shared_data / "re3d/US_State_Department")
    mapped = cli("annotations", "import", re3d, "--map", "Organisation=ACTOR,Location=LOCATION")
    assert mapped.exit_code == 0, mapped.output
    typo = cli("annotations", "import", re3d, "--map", "Organisation=ACTOR,Locaton=LOCATION")
    assert typo.exit_code == 0
    assert "warning: --map Locaton matched no label in the input" in typo.stderr and "Location" in typo.stderr
    assert "record(s) already in a layer were replaced by this import" in typo.stderr
