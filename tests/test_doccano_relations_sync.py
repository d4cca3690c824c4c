"""Relations through `doccano push/pull`: relation types, pre-annotated relations, every annotator's relations
read back and checked, against a real doccano 1.8.4 (REST as the web UI uses it) and on hand-made export lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsner.annotations.store import AnnotationStore
from newsner.doccano import sync
from newsner.doccano.client import DoccanoClient
from newsner.doccano.pull import records_from_export
from newsner.doccano.relation_sync import plan_relation_types
from newsner.formats.doccano_relations import to_doccano
from newsner.schema import AnnotationRecord, Article, Relation, Span, load_label_schema
from tests.test_doccano_sync import js_offset, setup_workspace, span_of, write_records

REPO = Path(__file__).resolve().parents[1]
SCHEMA = load_label_schema(REPO / "annotations" / "labels.json")
TEXT = "🇲🇱🔥 A spokesman for the rebels said dozens and dozens of Wagner fighters died in Tinzaouaten."
PLAIN = "Fighting near Kidal, the army said."
PASSWORD = "Annotator-pass-2024!"


def _marks(article: Article) -> list[Span]:
    return [span_of(article, "A spokesman for the rebels", "CLAIM_SOURCE"),
            span_of(article, "dozens and dozens", "CASUALTY"), span_of(article, "Wagner", "ACTOR"),
            span_of(article, "Tinzaouaten", "LOCATION")]


def _readable(record: AnnotationRecord) -> set[tuple[str, str, str]]:
    spans = record.sorted_spans()
    return {(spans[r.head].text, r.type, spans[r.tail].text) for r in record.relations}


# ------------------------------------------------------------------------------------------- no server
def test_relation_types_are_created_once_and_updated_in_place() -> None:
    create, update = plan_relation_types(SCHEMA, [])
    assert [b["text"] for b in create] == SCHEMA.relation_names and update == []
    existing = [{"id": 7 + i, **b} for i, b in enumerate(create)]
    assert plan_relation_types(SCHEMA, existing) == ([], [])
    existing[0]["background_color"] = "#000000"
    create, update = plan_relation_types(SCHEMA, existing)
    assert create == [] and update == [(7, SCHEMA.relation_names[0],
                                        {"background_color": SCHEMA.relations[0].color})]


def _line(article: Article, record: AnnotationRecord, relations: list[dict[str, Any]] | None = None,
          ) -> dict[str, Any]:
    shape = to_doccano(record, article.text)
    return {"id": 5, "text": article.text, "external_id": article.id, "entities": shape["entities"],
            "relations": shape["relations"] if relations is None else relations}


def test_a_dangling_or_unknown_relation_in_an_export_is_reported_and_never_kept() -> None:
    [article] = [Article.from_text(TEXT, title="t", source="s", url="https://news.test/0")]
    record = AnnotationRecord(article.id, article.text_sha256, "ann", _marks(article),
                              relations=[Relation(1, 0, "CLAIMED_BY"), Relation(1, 3, "LOCATED_IN")])
    good = _line(article, record)
    line = {**good, "entities": [e for e in good["entities"] if e["id"] != 3],  # "Tinzaouaten" deleted
            "relations": [*good["relations"], {"id": 9, "from_id": 1, "to_id": 2, "type": "SUPPLIED_BY"}]}
    records, problems, _ = records_from_export(
        [line], annotator="ann", confirmed_ids=set(), articles={article.id: article}, schema=SCHEMA, origin={},
        previous={})
    [got] = records
    assert _readable(got) == {("dozens and dozens", "CLAIMED_BY", "A spokesman for the rebels")}
    assert all(r.head < len(got.spans) and r.tail < len(got.spans) for r in got.relations)
    assert {(p.kind, p.doc_id, p.annotator, p.example_id) for p in problems} == {("bad-relation", article.id,
                                                                                  "ann", 5)}
    text = "\n".join(map(str, problems))
    assert "LOCATED_IN points at span 3, which is not among the document's spans" in text
    assert "type 'SUPPLIED_BY', not in the label schema's relations" in text


def test_a_relation_project_line_without_relations_gives_the_same_bytes_as_a_label_line() -> None:
    [article] = [Article.from_text(TEXT, title="t", source="s", url="https://news.test/0")]
    record = AnnotationRecord(article.id, article.text_sha256, "ann", _marks(article))
    plain = {"id": 5, "text": TEXT, "external_id": article.id,
             "label": [[e["start_offset"], e["end_offset"], e["label"]] for e in _line(article, record)["entities"]]}
    kwargs: dict[str, Any] = dict(annotator="ann", confirmed_ids=set(), articles={article.id: article},
                                  schema=SCHEMA, origin={"project": "p"}, previous={})
    [a], pa, _ = records_from_export([plain], **kwargs)
    [b], pb, _ = records_from_export([_line(article, record)], **kwargs)
    assert pa == pb == [] and a.to_dict() == b.to_dict() and "relations" not in b.to_dict()


# ------------------------------------------------------------------------------------ real doccano
def test_relations_round_trip_push_annotate_pull(workspace: Path, doccano_client: DoccanoClient,
                                                doccano_server: Any, doccano_project: dict[str, Any]) -> None:
    project, pid = str(doccano_project["name"]), int(doccano_project["id"])
    doccano_client.update_project(pid, use_relation=False)  # as an older push left it
    ws, (article, plain) = setup_workspace(workspace, [TEXT, PLAIN])
    me = doccano_server.username
    # Pre-annotations without relations: push suggests them with the rule.
    suggestion = AnnotationRecord(article.id, article.text_sha256, me, _marks(article))
    other = AnnotationRecord(plain.id, plain.text_sha256, me, [span_of(plain, "Kidal", "LOCATION")])
    path = write_records(workspace / "model.jsonl", [suggestion, other])
    report = sync.push(ws, project=project, client=doccano_client, annotation_files=[path])
    assert doccano_client.get_project(pid)["use_relation"] is True and "use_relation" in report.project_updated
    assert report.relation_types_created == SCHEMA.relation_names and report.problems == []
    assert report.relations_added == 3
    examples = {ex["meta"]["external_id"]: int(ex["id"]) for ex in doccano_client.iter_examples(pid)}
    assert len(doccano_client.list_relations(pid, examples[article.id])) == 3
    assert doccano_client.list_relations(pid, examples[plain.id]) == []

    again = sync.push(ws, project=project, client=doccano_client, annotation_files=[path])
    assert (again.relation_types_created, again.relation_types_updated, again.relations_added) == ([], [], 0)
    assert again.suggestions_unchanged == 2 and len(doccano_client.list_relation_types(pid)) == 4

    # A second user, role annotator, does in the UI what the browser sends: spans (UTF-16), then relations.
    name = f"rel{pid}"
    user = doccano_client.create_user(name, PASSWORD)
    doccano_client.add_member(pid, int(user["id"]), "annotator")
    span_types = {t["text"]: int(t["id"]) for t in doccano_client.list_span_types(pid)}
    rel_types = {t["text"]: int(t["id"]) for t in doccano_client.list_relation_types(pid)}
    eid = examples[article.id]
    with DoccanoClient.login(doccano_server.url, name, PASSWORD) as annotator:
        ids = {s.text: int(annotator.create_span(pid, eid, start=js_offset(TEXT, s.start),
                                                 end=js_offset(TEXT, s.end), label_id=span_types[s.label])["id"])
               for s in _marks(article)}
        for head, kind, tail in [("dozens and dozens", "CLAIMED_BY", "A spokesman for the rebels"),
                                 ("dozens and dozens", "VICTIM", "Wagner"),
                                 ("dozens and dozens", "LOCATED_IN", "Tinzaouaten")]:
            annotator.create_relation(pid, eid, from_id=ids[head], to_id=ids[tail], type_id=rel_types[kind])

        pulled = sync.pull(ws, project=project, client=doccano_client)
        assert pulled.problems == []
        store = AnnotationStore(ws.annotations_dir)
        mine = {r.doc_id: r for r in store.read(name)}[article.id]
        assert mine.spans == sorted(_marks(article))
        assert _readable(mine) == {("dozens and dozens", "CLAIMED_BY", "A spokesman for the rebels"),
                                   ("dozens and dozens", "VICTIM", "Wagner"),
                                   ("dozens and dozens", "LOCATED_IN", "Tinzaouaten")}
        admin = {r.doc_id: r for r in store.read(me)}
        assert _readable(admin[article.id]) == _readable(mine)  # the rule's suggestions, in the pusher's layer
        assert admin[plain.id].relations == [] and "relations" not in admin[plain.id].to_dict()
        before = {p.name: p.read_bytes() for p in ws.annotations_dir.glob("*.jsonl")}
        sync.pull(ws, project=project, client=doccano_client)
        assert {p.name: p.read_bytes() for p in ws.annotations_dir.glob("*.jsonl")} == before

        # The annotator deletes "Tinzaouaten": doccano 1.8.4 deletes the span's relations with it (cascade), so
        # the export holds no dangling relation and the pulled record loses LOCATED_IN, nothing else.
        annotator.delete_span(pid, eid, ids["Tinzaouaten"])
        assert len(annotator.list_relations(pid, eid)) == 2
    pulled = sync.pull(ws, project=project, client=doccano_client)
    assert pulled.problems == []
    mine = {r.doc_id: r for r in AnnotationStore(ws.annotations_dir).read(name)}[article.id]
    assert _readable(mine) == {("dozens and dozens", "CLAIMED_BY", "A spokesman for the rebels"),
                               ("dozens and dozens", "VICTIM", "Wagner")}


def test_no_suggest_relations_pushes_spans_only_and_a_later_push_adds_the_rule_s(
        workspace: Path, doccano_client: DoccanoClient, doccano_server: Any, doccano_project: dict[str, Any]) -> None:
    project, pid = str(doccano_project["name"]), int(doccano_project["id"])
    ws, (article,) = setup_workspace(workspace, [TEXT])
    suggestion = AnnotationRecord(article.id, article.text_sha256, doccano_server.username, _marks(article))
    path = write_records(workspace / "model.jsonl", [suggestion])
    first = sync.push(ws, project=project, client=doccano_client, annotation_files=[path], suggest_relations=False)
    [eid] = [int(ex["id"]) for ex in doccano_client.iter_examples(pid)]
    assert first.relations_added == 0 and doccano_client.list_relations(pid, eid) == []
    assert len(doccano_client.list_spans(pid, eid)) == 4
    later = sync.push(ws, project=project, client=doccano_client, annotation_files=[path])
    assert later.relations_added == 3 and later.uploaded == 0 and later.problems == []
    assert len(doccano_client.list_relations(pid, eid)) == 3 and len(doccano_client.list_spans(pid, eid)) == 4
