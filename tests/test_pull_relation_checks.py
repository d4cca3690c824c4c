"""Relations on pull are checked against their types' head and tail labels (labels.json): drawn backwards →
turned round and said; a self-link or labels that fit neither way → reported, not kept; a malformed from_id /
to_id / entity id → named, never a traceback. On hand-made export lines and against a real doccano 1.8.4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsner.annotations.store import AnnotationStore
from newsner.doccano import sync
from newsner.doccano.client import DoccanoClient
from newsner.doccano.pull import records_from_export
from newsner.formats.doccano_relations import to_doccano
from newsner.schema import AnnotationRecord, Article, Relation, load_label_schema
from tests.test_doccano_relations_sync import _marks, _readable
from tests.test_doccano_sync import js_offset, setup_workspace

REPO = Path(__file__).resolve().parents[1]
SCHEMA = load_label_schema(REPO / "annotations" / "labels.json")
TEXT = "🇲🇱🔥 A spokesman for the rebels said dozens and dozens of Wagner fighters died in Tinzaouaten."
PASSWORD = "Annotator-pass-2024!"




def _line(article: Article, record: AnnotationRecord) -> dict[str, Any]:
    shape = to_doccano(record, article.text)
    return {"id": 5, "text": article.text, "external_id": article.id, "entities": shape["entities"],
            "relations": shape["relations"]}


def test_malformed_relation_ends_and_entity_ids_are_named_never_a_traceback() -> None:
    [article] = [Article.from_text(TEXT, title="t", source="s", url="https://news.test/0")]
    record = AnnotationRecord(article.id, article.text_sha256, "ann", _marks(article),
                              relations=[Relation(1, 2, "VICTIM")])
    good = _line(article, record)
    entities = [dict(e) for e in good["entities"]]
    entities[3]["id"] = [3]  # "Tinzaouaten" with an unusable id
    line = {**good, "entities": entities, "relations": [
        *good["relations"], {"id": 20, "from_id": [1], "to_id": 0, "type": "CLAIMED_BY"},
        {"id": 21, "from_id": 1, "to_id": {"id": 0}, "type": "CLAIMED_BY"},
        {"id": 22, "from_id": None, "to_id": 0, "type": "CLAIMED_BY"},
        {"id": 23, "to_id": 0, "type": "CLAIMED_BY"}]}
    records, problems, _ = records_from_export(
        [line], annotator="ann", confirmed_ids=set(), articles={article.id: article}, schema=SCHEMA, origin={},
        previous={})
    [got] = records
    assert _readable(got) == {("dozens and dozens", "VICTIM", "Wagner")} and len(got.spans) == 4
    text = "\n".join(map(str, problems))
    assert "relation 20 CLAIMED_BY has from_id [1], not a span id" in text
    assert "relation 21 CLAIMED_BY has to_id {'id': 0}" in text and "relation 22 CLAIMED_BY has from_id None" in text
    assert "relation 23 CLAIMED_BY has from_id None" in text and len(problems) == 4


def test_a_backwards_relation_is_turned_round_and_a_self_link_dropped_on_pull() -> None:
    [article] = [Article.from_text(TEXT, title="t", source="s", url="https://news.test/0")]
    # Sorted spans: 0 CLAIM_SOURCE, 1 CASUALTY, 2 ACTOR, 3 LOCATION.
    record = AnnotationRecord(article.id, article.text_sha256, "ann", _marks(article),
                              relations=[Relation(0, 1, "CLAIMED_BY"), Relation(1, 1, "VICTIM"),
                                         Relation(3, 0, "LOCATED_IN")])
    records, problems, _ = records_from_export(
        [_line(article, record)], annotator="ann", confirmed_ids=set(), articles={article.id: article},
        schema=SCHEMA, origin={}, previous={})
    [got] = records
    assert _readable(got) == {("dozens and dozens", "CLAIMED_BY", "A spokesman for the rebels")}
    kinds = sorted(p.kind for p in problems)
    assert kinds == ["bad-relation", "bad-relation", "relation-turned"]
    text = "\n".join(map(str, problems))
    assert (f"document {article.id}, annotator ann, example 5: relation CLAIMED_BY 'A spokesman for the rebels' "
            "(CLAIM_SOURCE) → 'dozens and dozens' (CASUALTY) was drawn backwards") in text
    assert "VICTIM 'dozens and dozens' (CASUALTY) → 'dozens and dozens' (CASUALTY) links a span to itself" in text
    assert "LOCATED_IN 'Tinzaouaten' (LOCATION) → 'A spokesman for the rebels' (CLAIM_SOURCE) does not fit" in text




def test_a_relation_drawn_backwards_in_doccano_is_reported_and_turned_round_on_pull(
        workspace: Path, doccano_client: DoccanoClient, doccano_server: Any, doccano_project: dict[str, Any],
        cli: Any, monkeypatch: Any) -> None:
    project, pid = str(doccano_project["name"]), int(doccano_project["id"])
    ws, (article,) = setup_workspace(workspace, [TEXT])
    sync.push(ws, project=project, client=doccano_client)  # relation types, use_relation
    [eid] = [int(ex["id"]) for ex in doccano_client.iter_examples(pid)]
    name = f"back{pid}"
    user = doccano_client.create_user(name, PASSWORD)
    doccano_client.add_member(pid, int(user["id"]), "annotator")
    span_types = {t["text"]: int(t["id"]) for t in doccano_client.list_span_types(pid)}
    rel_types = {t["text"]: int(t["id"]) for t in doccano_client.list_relation_types(pid)}
    with DoccanoClient.login(doccano_server.url, name, PASSWORD) as annotator:
        ids = {s.text: int(annotator.create_span(pid, eid, start=js_offset(TEXT, s.start),
                                                 end=js_offset(TEXT, s.end), label_id=span_types[s.label])["id"])
               for s in _marks(article)}
        # What the browser sends when the annotator clicks the source first, then the count: from/to swapped.
        annotator.create_relation(pid, eid, from_id=ids["A spokesman for the rebels"], to_id=ids["dozens and dozens"],
                                  type_id=rel_types["CLAIMED_BY"])
        annotator.create_relation(pid, eid, from_id=ids["Wagner"], to_id=ids["Wagner"], type_id=rel_types["VICTIM"])
    for key, value in (("URL", doccano_server.url), ("USERNAME", doccano_server.username),
                       ("PASSWORD", doccano_server.password)):
        monkeypatch.setenv(f"NEWSNER_DOCCANO_{key}", value)
    out = cli("doccano", "pull", "--project", project)
    assert out.exit_code == 0, out.output
    assert (f"document {article.id}, annotator {name}, example {eid}: relation CLAIMED_BY 'A spokesman for the "
            "rebels' (CLAIM_SOURCE) → 'dozens and dozens' (CASUALTY) was drawn backwards") in out.stderr
    assert "links a span to itself" in out.stderr
    assert "were not pulled" not in out.stderr
    assert "1 relation(s) not kept (their documents were pulled without them)" in out.stderr
    assert "1 relation(s) drawn backwards were turned round" in out.stderr
    mine = {r.doc_id: r for r in AnnotationStore(ws.annotations_dir).read(name)}[article.id]
    assert _readable(mine) == {("dozens and dozens", "CLAIMED_BY", "A spokesman for the rebels")}
