"""Relations through `doccano push/pull`: relation types, pre-annotated relations, every annotator's relations
read back and checked, against a real doccano 1.8.4 (REST as the web UI uses it) and on hand-made export lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newsner.annotations.store import AnnotationStore
from newsner.doccano import push_upload, sync
from newsner.doccano.client import DoccanoClient
from newsner.doccano.pull import records_from_export
from newsner.doccano.push_parts import build_import_jsonl, import_line
from newsner.doccano.relation_sync import plan_relation_types
from newsner.formats.doccano_relations import to_doccano
from newsner.schema import AnnotationRecord, Article, Relation, Span, load_label_schema
from tests.test_doccano_sync import faulty_client, js_offset, setup_workspace, span_of, write_records

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


def test_an_import_line_with_relations_carries_entities_and_relations_between_their_ids() -> None:
    [article, plain] = [Article.from_text(t, title="t", source="s", url=f"https://news.test/{i}")
                        for i, t in enumerate([TEXT, PLAIN])]
    marks = _marks(article)
    relations = [Relation(1, 0, "CLAIMED_BY"), Relation(1, 3, "LOCATED_IN")]
    line = json.loads(import_line(article, marks, relations=relations))
    assert "label" not in line and line["external_id"] == article.id
    units = TEXT.encode("utf-16-le")
    shown = {e["id"]: (units[2 * e["start_offset"]:2 * e["end_offset"]].decode("utf-16-le"), e["label"])
             for e in line["entities"]}
    assert sorted(shown.values()) == sorted((s.text, s.label) for s in marks)  # UTF-16 offsets, one per span
    assert {(shown[r["from_id"]][0], r["type"], shown[r["to_id"]][0]) for r in line["relations"]} == {
        ("dozens and dozens", "CLAIMED_BY", "A spokesman for the rebels"),
        ("dozens and dozens", "LOCATED_IN", "Tinzaouaten")}
    # Every line of a relation file has the same keys (doccano reads a file slice into one DataFrame).
    record = AnnotationRecord(article.id, article.text_sha256, "ann", marks, relations=[Relation(1, 2, "VICTIM")])
    data = build_import_jsonl([article, plain], {article.id: record}, relations={article.id: record.relations})
    lines = [json.loads(x) for x in data.decode("ascii").splitlines()]
    assert len({tuple(x) for x in lines}) == 1 and lines[1]["entities"] == lines[1]["relations"] == []
    assert len(lines[0]["relations"]) == 1


# ------------------------------------------------------------------------------------ real doccano
def _relations_of(client: DoccanoClient, pid: int, eid: int) -> set[tuple[str, str, str]]:
    """(head text, type, tail text) of the user's relations on one example, read back from doccano."""
    text = client.get_example(pid, eid)["text"].encode("utf-16-le")
    spans = {int(s["id"]): text[2 * s["start_offset"]:2 * s["end_offset"]].decode("utf-16-le")
             for s in client.list_spans(pid, eid)}
    types = {int(t["id"]): t["text"] for t in client.list_relation_types(pid)}
    got = [(spans[r["from_id"]], types[r["type"]], spans[r["to_id"]]) for r in client.list_relations(pid, eid)]
    assert len(got) == len(set(got)), f"duplicate relations on example {eid}: {got}"
    return set(got)


RULE = {("dozens and dozens", "CLAIMED_BY", "A spokesman for the rebels"), ("dozens and dozens", "VICTIM", "Wagner"),
        ("dozens and dozens", "LOCATED_IN", "Tinzaouaten")}


def _reports(n: int) -> list[str]:
    return [f"{TEXT} Report {i}." for i in range(n)]


def test_relations_travel_in_the_import_file_and_a_rerun_adds_none(
        workspace: Path, doccano_server: Any, doccano_client: DoccanoClient, doccano_project: dict[str, Any]) -> None:
    project, pid = str(doccano_project["name"]), int(doccano_project["id"])
    ws, articles = setup_workspace(workspace, _reports(7))
    path = write_records(workspace / "model.jsonl", [AnnotationRecord(a.id, a.text_sha256, "m", _marks(a))
                                                     for a in articles])
    with faulty_client(doccano_server, lambda request: None) as (client, transport):
        report = sync.push(ws, project=project, client=client, annotation_files=[path], batch_size=3)
        assert report.uploaded == 7 and report.batches == 3 and report.problems == []
        assert report.relations_added == 21 and report.suggestions_imported == 7
        # Not one request per example: no relation (or span) went through the REST API.
        assert not [call for call in transport.calls if "/relations" in call or "/spans" in call], transport.calls
        again = sync.push(ws, project=project, client=client, annotation_files=[path], batch_size=3)
    assert (again.uploaded, again.relations_added, again.suggestions_unchanged) == (0, 0, 7)
    examples = [int(ex["id"]) for ex in doccano_client.iter_examples(pid)]
    assert len(examples) == 7 and all(_relations_of(doccano_client, pid, eid) == RULE for eid in examples)
    assert len(doccano_client.list_relation_types(pid)) == len(SCHEMA.relations)


def test_a_push_with_relations_killed_after_an_import_resumes_without_duplicate_relations(
        workspace: Path, doccano_client: DoccanoClient, doccano_project: dict[str, Any]) -> None:
    project, pid = str(doccano_project["name"]), int(doccano_project["id"])
    ws, articles = setup_workspace(workspace, _reports(7))
    path = write_records(workspace / "model.jsonl", [AnnotationRecord(a.id, a.text_sha256, "m", _marks(a))
                                                     for a in articles])

    def crash(batch: int) -> None:
        if batch == 2:  # doccano imported the second file (relations included); the push never recorded it
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        sync.push(ws, project=project, client=doccano_client, annotation_files=[path], batch_size=3,
                  after_batch=crash)
    report = sync.push(ws, project=project, client=doccano_client, annotation_files=[path], batch_size=3)
    # The last article travels with its 3 relations; those of the interrupted file are there already.
    assert report.resumed and report.uploaded == 1 and report.relations_added == 3 and report.problems == []
    examples = [int(ex["id"]) for ex in doccano_client.iter_examples(pid)]
    assert len(examples) == 7
    assert all(_relations_of(doccano_client, pid, eid) == RULE and len(doccano_client.list_spans(pid, eid)) == 4
               for eid in examples)


LONG = "Fighting near Kidal, Gao and Timbuktu, the army and Wagner said, AFP reported."


def test_an_unknown_relation_type_is_reported_and_an_article_too_big_for_a_file_goes_alone(
        workspace: Path, doccano_server: Any, doccano_client: DoccanoClient, doccano_project: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    project, pid = str(doccano_project["name"]), int(doccano_project["id"])
    monkeypatch.setattr(push_upload, "MAX_FILE_SPANS", 5)  # a file with relations holds at most 5 spans
    ws, (first, second, long) = setup_workspace(workspace, [*_reports(2), LONG])
    many = [span_of(long, w, lb) for w, lb in [("Kidal", "LOCATION"), ("Gao", "LOCATION"), ("Timbuktu", "LOCATION"),
                                                ("the army", "ACTOR"), ("Wagner", "ACTOR"), ("AFP", "CLAIM_SOURCE")]]
    records = [AnnotationRecord(first.id, first.text_sha256, "m", _marks(first),
                                relations=[Relation(1, 0, "CLAIMED_BY"), Relation(2, 3, "FUNDED_BY")]),
               AnnotationRecord(second.id, second.text_sha256, "m", _marks(second)),
               AnnotationRecord(long.id, long.text_sha256, "m", many,
                                relations=[Relation(3, 0, "LOCATED_IN"), Relation(4, 5, "FUNDED_BY")])]
    path = write_records(workspace / "model.jsonl", records)
    with faulty_client(doccano_server, lambda request: None) as (client, transport):
        report = sync.push(ws, project=project, client=client, annotation_files=[path])
    # 4 + 4 spans do not fit one file of 5; the 6-span article goes alone without relations in its file.
    assert report.uploaded == 3 and report.batches == 3
    assert report.relations_added == 1 + 3 + 1
    assert sorted((p.kind, p.doc_id) for p in report.problems) == sorted(
        [("relation-refused", first.id), ("relation-refused", long.id)])
    assert all("relation type 'FUNDED_BY' is not in the project" in p.message for p in report.problems)
    assert sum(n for call, n in transport.calls.items() if call.startswith("POST") and "/relations" in call) == 1
    eids = {ex["meta"]["external_id"]: int(ex["id"]) for ex in doccano_client.iter_examples(pid)}
    assert _relations_of(doccano_client, pid, eids[first.id]) == {
        ("dozens and dozens", "CLAIMED_BY", "A spokesman for the rebels")}
    assert _relations_of(doccano_client, pid, eids[second.id]) == RULE
    assert _relations_of(doccano_client, pid, eids[long.id]) == {("the army", "LOCATED_IN", "Kidal")}
    assert sorted(t["text"] for t in doccano_client.list_relation_types(pid)) == sorted(SCHEMA.relation_names)


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
