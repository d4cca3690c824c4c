"""`annotations import` of doccano relation exports: relations kept over the imported spans, problems named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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


# ----------------------------------------------------------------- malformed ids, direction, self-links
PLAIN = "At least 17 dead, a rebel spokesman said in Kidal, where the army fought the FLA."


def _ent(ent_id: object, words: str, label: str) -> dict[str, object]:
    start = PLAIN.index(words)
    return {"id": ent_id, "label": label, "start_offset": start, "end_offset": start + len(words)}


def _rel_file(tmp_path: Path, entities: list[dict[str, object]], relations: list[dict[str, object]]) -> Path:
    path = tmp_path / "rels.jsonl"
    path.write_text(json.dumps({"text": "Heading line, no relation.", "label": []}) + "\n"
                    + json.dumps({"id": 8, "text": PLAIN, "entities": entities, "relations": relations}) + "\n",
                    encoding="utf-8")
    return path


ENTITIES = [_ent(1, "At least 17 dead", "CASUALTY"), _ent(2, "a rebel spokesman", "CLAIM_SOURCE"),
            _ent(3, "Kidal", "LOCATION"), _ent(4, "the army", "ACTOR"), _ent(5, "the FLA", "ACTOR")]
GOOD = {"id": 50, "from_id": 1, "to_id": 3, "type": "LOCATED_IN"}


@pytest.mark.parametrize("bad", [[1], {"id": 1}, None, "missing"], ids=["list", "dict", "null", "missing"])
@pytest.mark.parametrize("end", ["from_id", "to_id"])
def test_a_relation_whose_end_is_not_an_id_is_named_by_line_and_skipped(
        bad: object, end: str, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rel: dict[str, object] = {"id": 51, "from_id": 1, "to_id": 2, "type": "CLAIMED_BY"}
    if bad == "missing":
        del rel[end]
    else:
        rel[end] = bad
    path = _rel_file(tmp_path, ENTITIES, [rel, GOOD])
    out = cli("annotations", "import", str(path), "--annotator", "ann")
    assert "Traceback" not in out.output and out.exception is None, out.output
    assert out.exit_code == 0, out.output
    assert f"relation skipped: {path}:2: relation 51 CLAIMED_BY has {end}" in out.stdout
    assert "not an entity id" in out.stdout and "relations imported: LOCATED_IN" in out.stdout
    assert "CLAIMED_BY" not in out.stdout.split("relation skipped")[0]  # not counted as imported


@pytest.mark.parametrize("bad", [[1], {"n": 1}, None], ids=["list", "dict", "null"])
def test_an_entity_whose_id_is_not_an_id_keeps_its_span_and_names_the_line(
        bad: object, tmp_path: Path, workspace: Path, cli) -> None:  # type: ignore[no-untyped-def]
    entities = [_ent(bad, "At least 17 dead", "CASUALTY"), *ENTITIES[1:]]
    path = _rel_file(tmp_path, entities, [{"id": 51, "from_id": 1, "to_id": 2, "type": "CLAIMED_BY"},
                                          {"id": 52, "from_id": 4, "to_id": 5, "type": "VICTIM"}])
    out = cli("annotations", "import", str(path), "--annotator", "ann")
    assert "Traceback" not in out.output and out.exception is None, out.output
    assert f"{path}:2: entity 0 (CASUALTY) has id {bad!r}, not a number or a name" in out.stdout
    record = next(r for r in AnnotationStore(workspace / "annotations").read("ann") if r.spans)
    assert "At least 17 dead" in [s.text for s in record.spans]  # the span itself is imported
    assert record.relations == []


def test_a_relation_drawn_backwards_is_turned_round_with_a_note(workspace: Path, tmp_path: Path) -> None:
    path = _rel_file(tmp_path, ENTITIES, [
        {"id": 60, "from_id": 2, "to_id": 1, "type": "CLAIMED_BY"},  # source → count: the easy click order
        {"id": 61, "from_id": 1, "to_id": 3, "type": "LOCATED_IN"}])
    report = import_annotations(Workspace.at(workspace), [path], fmt="doccano", annotator="ann")
    assert report.relation_problems == []
    [note] = report.relation_notes
    assert note.startswith(f"{path}:2: relation CLAIMED_BY 'a rebel spokesman' (CLAIM_SOURCE) → "
                           "'At least 17 dead' (CASUALTY) was drawn backwards") and note.endswith("turned round")
    assert dict(report.relations_imported) == {"CLAIMED_BY": 1, "LOCATED_IN": 1}
    record = next(r for r in AnnotationStore(workspace / "annotations").read("ann") if r.relations)
    spans = record.sorted_spans()
    assert sorted((spans[r.head].text, r.type, spans[r.tail].text) for r in record.relations) == [
        ("At least 17 dead", "CLAIMED_BY", "a rebel spokesman"), ("At least 17 dead", "LOCATED_IN", "Kidal")]


def test_self_links_and_labels_that_fit_neither_way_are_reported_and_not_kept(
        workspace: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = _rel_file(tmp_path, ENTITIES, [
        {"id": 70, "from_id": 1, "to_id": 1, "type": "VICTIM"},       # a count linked to itself
        {"id": 71, "from_id": 3, "to_id": 4, "type": "CLAIMED_BY"},   # LOCATION → ACTOR: neither direction
        {"id": 72, "from_id": 4, "to_id": 5, "type": "PERPETRATOR"},  # ACTOR → ACTOR: neither direction
        GOOD])
    out = cli("annotations", "import", str(path), "--annotator", "ann")
    assert out.exit_code == 0, out.output
    assert (f"relation skipped: {path}:2: relation VICTIM 'At least 17 dead' (CASUALTY) → 'At least 17 dead' "
            "(CASUALTY) links a span to itself") in out.stdout
    assert (f"{path}:2: relation CLAIMED_BY 'Kidal' (LOCATION) → 'the army' (ACTOR) does not fit its type "
            "(CLAIMED_BY goes from CASUALTY to CLAIM_SOURCE)") in out.stdout
    assert "PERPETRATOR 'the army' (ACTOR) → 'the FLA' (ACTOR) does not fit its type" in out.stdout
    record = next(r for r in AnnotationStore(workspace / "annotations").read("ann") if r.relations)
    assert [r.type for r in record.relations] == ["LOCATED_IN"]


def test_validate_reports_a_backwards_relation_and_a_self_link_on_disk(workspace: Path, tmp_path: Path,
                                                                       cli) -> None:  # type: ignore[no-untyped-def]
    import_annotations(Workspace.at(workspace), [_rel_file(tmp_path, ENTITIES, [GOOD])], fmt="doccano",
                       annotator="ann")
    layer = workspace / "annotations" / "ann.jsonl"
    lines = [json.loads(x) for x in layer.read_text().splitlines()]
    rec = next(x for x in lines if x.get("relations"))
    labels = [s["label"] for s in rec["spans"]]
    count, source = labels.index("CASUALTY"), labels.index("CLAIM_SOURCE")
    rec["relations"] = [{"head": source, "tail": count, "type": "CLAIMED_BY"},  # edited by hand, backwards
                        {"head": count, "tail": count, "type": "VICTIM"}]
    layer.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = cli("annotations", "validate")
    assert out.exit_code == 1
    assert ("relation CLAIMED_BY 'a rebel spokesman' (CLAIM_SOURCE) → 'At least 17 dead' (CASUALTY) was drawn "
            "backwards") in out.stderr and "swap its head and tail" in out.stderr
    assert "links a span to itself" in out.stderr and f"{layer}:" in out.stderr


def test_relation_of_a_type_labels_json_lacks_is_reported_by_its_words(workspace: Path, tmp_path: Path) -> None:
    ws = Workspace.at(workspace)
    line = {"id": 8, "text": TEXT,
            "entities": [_entity(10, "At least 17 dead", "CASUALTY"), _entity(11, "a rebel spokesman", "CLAIM_SOURCE")],
            "relations": [{"id": 1, "from_id": 10, "to_id": 11, "type": "CLAIMED_BY"},
                          {"id": 2, "from_id": 10, "to_id": 11, "type": "QUOTED_BY"}]}
    path = tmp_path / "unknown-type.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    report = import_annotations(ws, [path], fmt="doccano", annotator="dora")
    assert dict(report.relations_imported) == {"CLAIMED_BY": 1}
    (problem,) = report.relation_problems
    assert "QUOTED_BY 'At least 17 dead' (CASUALTY) → 'a rebel spokesman' (CLAIM_SOURCE)" in problem
    assert "not in the label schema" in problem and problem.endswith("not kept")
