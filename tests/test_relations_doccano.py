"""The doccano shapes of relations against a real doccano 1.8.4 (REST as the web UI uses it).

Push/pull wiring belongs to `newsner doccano`; this checks the pure functions it will call: spans and relations
made through doccano's REST API (UTF-16 offsets, emoji before the spans) come back through doccano's own JSONL
export and `from_doccano` as the record they started from.
"""

from __future__ import annotations

from typing import Any

from newsner.formats.doccano_relations import doccano_relation_types, from_doccano, to_doccano
from newsner.schema import AnnotationRecord, Relation, Span, default_label_schema_path, load_label_schema, text_sha256

SCHEMA = load_label_schema(default_label_schema_path())
TEXT = "🇲🇱🔥 A spokesman for the rebels said dozens and dozens of Wagner fighters died in Tinzaouaten."


def _record() -> AnnotationRecord:
    marks = [("A spokesman for the rebels", "CLAIM_SOURCE"), ("dozens and dozens", "CASUALTY"),
             ("Wagner", "ACTOR"), ("Tinzaouaten", "LOCATION")]
    spans = [Span(TEXT.index(t), TEXT.index(t) + len(t), label, t) for t, label in marks]
    # sorted: 0 source, 1 casualty, 2 Wagner, 3 Tinzaouaten
    rels = [Relation(1, 0, "CLAIMED_BY"), Relation(1, 2, "VICTIM"), Relation(1, 3, "LOCATED_IN")]
    return AnnotationRecord("d1", text_sha256(TEXT), "admin", spans=spans, relations=rels)


def _annotate(client: Any, pid: int, record: AnnotationRecord) -> tuple[int, dict[int, int]]:
    """What an annotator does in the UI: spans, then relations between them. Returns (example id, entity→span id)."""
    client.update_project(pid, use_relation=True)
    label_ids = {lb.name: client.create_span_type(pid, text=lb.name, background_color=lb.color)["id"]
                 for lb in SCHEMA.labels}
    rel_ids = {}
    for body in doccano_relation_types(SCHEMA):
        made = client._request("POST", f"/v1/projects/{pid}/relation-types", json=body)
        rel_ids[body["text"]] = made["id"]
    example = client.create_example(pid, TEXT)
    line = to_doccano(record, TEXT)
    span_ids = {}
    for ent in line["entities"]:
        made = client.create_span(pid, example["id"], start=ent["start_offset"], end=ent["end_offset"],
                                  label_id=label_ids[ent["label"]])
        span_ids[ent["id"]] = made["id"]
    for rel in line["relations"]:
        client._request("POST", f"/v1/projects/{pid}/examples/{example['id']}/relations",
                        json={"from_id": span_ids[rel["from_id"]], "to_id": span_ids[rel["to_id"]],
                              "type": rel_ids[rel["type"]]})
    return int(example["id"]), span_ids


def _exported_line(client: Any, pid: int) -> dict[str, Any]:
    files = client.export_jsonl(pid)
    [lines] = list(files.values())
    [line] = [ln for ln in lines if ln.get("text") == TEXT]
    return line


def test_relations_round_trip_through_real_doccano(doccano_client, doccano_project) -> None:  # type: ignore[no-untyped-def]
    pid = int(doccano_project["id"])
    record = _record()
    _annotate(doccano_client, pid, record)
    line = _exported_line(doccano_client, pid)
    assert {"entities", "relations"} <= set(line), line
    back = from_doccano(line, TEXT, where="doccano admin.jsonl")
    assert back.problems == [], back.problems
    assert back.spans == record.sorted_spans()
    assert back.relations == sorted(record.relations)


def test_a_deleted_span_never_leaves_a_relation_behind(doccano_client, doccano_project) -> None:  # type: ignore[no-untyped-def]
    pid = int(doccano_project["id"])
    record = _record()
    example_id, span_ids = _annotate(doccano_client, pid, record)
    doccano_client.delete_span(pid, example_id, span_ids[3])  # the annotator removes "Tinzaouaten"
    line = _exported_line(doccano_client, pid)
    back = from_doccano(line, TEXT, where="doccano admin.jsonl")
    kept = {(back.spans[r.head].text, r.type, back.spans[r.tail].text) for r in back.relations}
    assert ("dozens and dozens", "LOCATED_IN", "Tinzaouaten") not in kept
    assert kept == {("dozens and dozens", "CLAIMED_BY", "A spokesman for the rebels"),
                    ("dozens and dozens", "VICTIM", "Wagner")}
    # Whether doccano deletes the relation with its span or exports it dangling, it is not kept; if it was
    # exported, it is reported by name.
    dangling = [r for r in line["relations"] if r["to_id"] not in {e["id"] for e in line["entities"]}]
    assert len(back.problems) == len(dangling)
