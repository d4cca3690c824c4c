"""`annotations import` of doccano relation exports: relations kept over the imported spans, problems named."""

from __future__ import annotations

import json
from pathlib import Path

from newsner.annotations import import_annotations
from newsner.annotations.store import AnnotationStore
from newsner.formats import ParsedDoc
from newsner.formats.doccano import read_doccano
from newsner.workspace import Workspace

TEXT = "🔥🇲🇱 At least 17 dead, a rebel spokesman said in Kidal. 😀 The army denied it."


def _u16(i: int) -> int:
    return len(TEXT[:i].encode("utf-16-le")) // 2


def _entity(ent_id: int, words: str, label: str) -> dict[str, object]:
    start = TEXT.index(words)
    return {"id": ent_id, "label": label, "start_offset": _u16(start), "end_offset": _u16(start + len(words))}


def _file(tmp_path: Path) -> Path:
    line = {"id": 7, "text": TEXT,
            "entities": [_entity(10, "At least 17 dead", "CASUALTY"), _entity(11, "a rebel spokesman", "CLAIM_SOURCE"),
                         _entity(12, "Kidal", "LOCATION"), _entity(13, "The army", "ACTOR")],
            "relations": [{"id": 1, "from_id": 10, "to_id": 11, "type": "CLAIMED_BY"},
                          {"id": 2, "from_id": 10, "to_id": 12, "type": "LOCATED_IN"},
                          {"id": 3, "from_id": 10, "to_id": 99, "type": "PERPETRATOR"}]}  # entity 99: missing
    path = tmp_path / "rel.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_reader_keeps_relations_and_names_the_broken_one(tmp_path: Path) -> None:
    path = _file(tmp_path)
    (doc,) = [d for d in read_doccano(path) if isinstance(d, ParsedDoc)]
    rels = sorted((TEXT[doc.spans[h].start:doc.spans[h].end], kind, TEXT[doc.spans[t].start:doc.spans[t].end])
                  for h, t, kind in doc.relations)
    assert rels == [("At least 17 dead", "CLAIMED_BY", "a rebel spokesman"),
                    ("At least 17 dead", "LOCATED_IN", "Kidal")]
    assert len(doc.relation_problems) == 1
    assert doc.relation_problems[0].startswith(f"{path}:1: relation 3 PERPETRATOR points at entity 99")


def test_import_writes_relations_over_sorted_spans(workspace: Path, tmp_path: Path) -> None:
    ws = Workspace.at(workspace)
    path = _file(tmp_path)
    report = import_annotations(ws, [path], fmt="doccano", annotator="alice")
    assert dict(report.relations_imported) == {"CLAIMED_BY": 1, "LOCATED_IN": 1}
    assert len(report.relation_problems) == 1 and "entity 99" in report.relation_problems[0]
    (record,) = AnnotationStore(ws.annotations_dir).read("alice")
    spans = record.sorted_spans()
    got = sorted((spans[r.head].text, r.type, spans[r.tail].text) for r in record.relations)
    assert got == [("At least 17 dead", "CLAIMED_BY", "a rebel spokesman"), ("At least 17 dead", "LOCATED_IN", "Kidal")]


def test_relation_on_a_span_left_out_by_map_is_reported(workspace: Path, tmp_path: Path) -> None:
    ws = Workspace.at(workspace)
    report = import_annotations(ws, [_file(tmp_path)], fmt="doccano", annotator="bob",
                                label_map={"LOCATION": None})
    assert dict(report.relations_imported) == {"CLAIMED_BY": 1}
    assert any("LOCATED_IN not kept" in p and "LOCATION" in p for p in report.relation_problems)


def test_cli_prints_relation_problems(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("annotations", "import", str(_file(tmp_path)), "--format", "doccano", "--annotator", "carol")
    assert "relation skipped:" in result.output and "entity 99" in result.output
    assert "relations imported: CLAIMED_BY" in result.output
