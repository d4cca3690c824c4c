"""`newsner doccano review` against a real doccano: disagreements go to a curator, the curator's result is gold."""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path

from newsner.annotations import import_annotations
from newsner.annotations.store import AnnotationStore
from newsner.doccano.client import DoccanoClient
from newsner.doccano.review import pull_review, push_review
from newsner.workspace import Workspace

AGREED = "Troops reached Gao on Monday."
DISPUTED = "🇲🇱 Fighters of the FLA entered Kidal, said Ahmed Ag."
UNREVIEWED = "The MSA left Menaka on Sunday."


def _spans(text: str, *pairs: tuple[str, str]) -> list:
    return [[text.index(w), text.index(w) + len(w), lb] for w, lb in pairs]


def _layer(ws: Workspace, tmp_path: Path, name: str, docs: list[tuple[str, list]]) -> None:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": s}, ensure_ascii=False) + "\n" for t, s in docs))
    import_annotations(ws, [path], fmt="doccano", annotator=name, offsets="codepoints")


def test_review_round_in_doccano_yields_gold(workspace: Path, tmp_path: Path, doccano_server,  # type: ignore[no-untyped-def]
                                             doccano_client: DoccanoClient) -> None:
    ws = Workspace.at(workspace)
    _layer(ws, tmp_path, "alice", [
        (AGREED, _spans(AGREED, ("Gao", "LOCATION"))),
        (DISPUTED, _spans(DISPUTED, ("FLA", "ACTOR"), ("Kidal", "LOCATION"), ("Ahmed Ag", "CLAIM_SOURCE"))),
        (UNREVIEWED, _spans(UNREVIEWED, ("MSA", "ACTOR")))])
    _layer(ws, tmp_path, "bob", [
        (AGREED, _spans(AGREED, ("Gao", "LOCATION"))),
        (DISPUTED, _spans(DISPUTED, ("FLA", "ACTOR"), ("Kidal", "LOCATION"), ("Ahmed Ag", "ACTOR"))),
        (UNREVIEWED, _spans(UNREVIEWED, ("Menaka", "LOCATION")))])
    curator, password = f"curator{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(16)
    doccano_client.create_user(curator, password)
    name = f"review-{uuid.uuid4().hex[:8]}"

    pushed = push_review(ws, review_project=name, curator=curator, client=doccano_client)
    try:
        assert (pushed.compared, pushed.disputed, pushed.added) == (3, 2, 2)
        assert pushed.candidate_spans == 4 and pushed.agreed_spans == 2  # FLA, Kidal agreed; 2 + 2 candidates
        assert pushed.before is not None and pushed.before.pairs[0].documents == 3
        members = doccano_client.list_members(pushed.project_id)
        assert any(m.get("username") == curator and m.get("rolename") == "annotation_approver" for m in members)
        again = push_review(ws, review_project=name, client=doccano_client)
        assert again.added == 0 and again.already_there == 2

        # The curator, logged in as themselves, sees every competing span and resolves one document.
        with DoccanoClient.login(doccano_server.url, curator, password) as cur:
            pid = pushed.project_id
            types = {t["id"]: t["text"] for t in cur.list_span_types(pid)}
            by_text = {ex["text"]: ex for ex in cur.iter_examples(pid)}
            assert set(by_text) == {DISPUTED, UNREVIEWED}
            example = by_text[DISPUTED]
            spans = cur.list_spans(pid, example["id"])
            assert sorted(types[s["label"]] for s in spans) == ["ACTOR", "ACTOR?", "CLAIM_SOURCE?", "LOCATION"]
            candidates = example["meta"]["candidates"]
            assert "CLAIM_SOURCE? 'Ahmed Ag'" in candidates and "alice" in candidates
            ids = {v: k for k, v in types.items()}
            for s in spans:
                if types[s["label"]] == "ACTOR?":
                    cur.delete_span(pid, example["id"], s["id"])
                elif types[s["label"]] == "CLAIM_SOURCE?":  # relabel: the right reading, without "?"
                    cur.delete_span(pid, example["id"], s["id"])
                    cur.create_span(pid, example["id"], start=s["start_offset"], end=s["end_offset"],
                                    label_id=ids["CLAIM_SOURCE"])
            cur.confirm_example(pid, example["id"])
            # Marked done with candidates left: reported, not written.
            cur.confirm_example(pid, by_text[UNREVIEWED]["id"])

        pulled = pull_review(ws, review_project=name, client=doccano_client)
        assert pulled.reviewed == 1 and pulled.awaiting == 0
        assert len(pulled.problems) == 1 and "still has 2 candidate span(s)" in pulled.problems[0]
        gold = AnnotationStore(workspace / "annotations").load("gold")
        (record,) = gold.values()
        assert sorted((s.text, s.label) for s in record.spans) == [
            ("Ahmed Ag", "CLAIM_SOURCE"), ("FLA", "ACTOR"), ("Kidal", "LOCATION")]
        assert pulled.after is not None
        vs_gold = {(p.a, p.b): p for p in pulled.after.pairs if "gold" in (p.a, p.b)}
        assert vs_gold[("alice", "gold")].overall.f1 == 1.0 and vs_gold[("bob", "gold")].overall.f1 < 1.0
    finally:
        doccano_client.delete_project(pushed.project_id)


def test_cli_review_and_pull(workspace: Path, tmp_path: Path, doccano_server, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEWSNER_DOCCANO_URL", doccano_server.url)
    monkeypatch.setenv("NEWSNER_DOCCANO_USERNAME", doccano_server.username)
    monkeypatch.setenv("NEWSNER_DOCCANO_PASSWORD", doccano_server.password)
    ws = Workspace.at(workspace)
    _layer(ws, tmp_path, "alice", [(DISPUTED, _spans(DISPUTED, ("Kidal", "LOCATION")))])
    _layer(ws, tmp_path, "bob", [(DISPUTED, _spans(DISPUTED, ("Kidal", "ACTOR")))])
    name = f"review-{uuid.uuid4().hex[:8]}"
    unknown = cli("doccano", "review", "--review-project", name, "--curator", "nobody-here")
    assert unknown.exit_code == 1 and "no doccano user 'nobody-here'" in unknown.stderr
    assert "Traceback" not in unknown.output
    with doccano_server.login() as client:
        assert client.find_project(name) is None  # nothing was created for a review that could not start
    sent = cli("doccano", "review", "--review-project", name)
    assert sent.exit_code == 0, sent.output
    assert "1 of 1 compared document(s) disputed; 1 added" in sent.stdout and "2 candidate span(s)" in sent.stdout
    assert "alice × bob" in sent.stdout and doccano_server.password not in sent.output
    pulled = cli("doccano", "review", "--pull", "--review-project", name)
    assert pulled.exit_code == 0, pulled.output
    assert "0 reviewed → layer gold" in pulled.stdout and "1 not marked done yet" in pulled.stdout
    with doccano_server.login() as client:
        found = client.find_project(name)
        assert found is not None
        client.delete_project(int(found["id"]))


REL = "At least 17 dead in Kidal, a rebel spokesman said on Monday."


def _relation_layer(ws: Workspace, tmp_path: Path, name: str, relations: list[tuple[str, str, str]], *,
                    status: str = "confirmed", spans: tuple[tuple[str, str], ...] = (
                        ("At least 17 dead", "CASUALTY"), ("Kidal", "LOCATION"),
                        ("a rebel spokesman", "CLAIM_SOURCE"))) -> None:
    ids = {w: i for i, (w, _) in enumerate(spans)}
    line = {"text": REL,
            "entities": [{"id": ids[w], "label": lb, "start_offset": REL.index(w),
                          "end_offset": REL.index(w) + len(w)} for w, lb in spans],
            "relations": [{"id": k, "from_id": ids[h], "to_id": ids[t], "type": kind}
                          for k, (h, kind, t) in enumerate(relations)]}
    path = tmp_path / f"{name}-rel.jsonl"
    path.write_text(json.dumps(line) + "\n")
    import_annotations(ws, [path], fmt="doccano", annotator=name, offsets="codepoints", status=status)


def test_a_disputed_relation_is_reviewed_in_doccano_and_ends_in_gold(  # type: ignore[no-untyped-def]
        workspace: Path, tmp_path: Path, doccano_server, doccano_client: DoccanoClient, cli, monkeypatch) -> None:
    ws = Workspace.at(workspace)
    # Same spans, one relation in dispute: LOCATED_IN only alice drew.
    _relation_layer(ws, tmp_path, "alice", [("At least 17 dead", "CLAIMED_BY", "a rebel spokesman"),
                                            ("At least 17 dead", "LOCATED_IN", "Kidal")])
    _relation_layer(ws, tmp_path, "bob", [("At least 17 dead", "CLAIMED_BY", "a rebel spokesman")])
    # The pushing account's suggestions: unconfirmed, never counted as an annotator in the agreement figures.
    _relation_layer(ws, tmp_path, "patterns", [], status="unconfirmed", spans=(("Kidal", "ACTOR"),))
    curator, password = f"curator{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(16)
    doccano_client.create_user(curator, password)
    name = f"review-{uuid.uuid4().hex[:8]}"
    pushed = push_review(ws, review_project=name, curator=curator, layers=["alice", "bob"], client=doccano_client)
    try:
        assert (pushed.disputed, pushed.added, pushed.candidate_spans) == (1, 1, 0)
        assert (pushed.agreed_relations, pushed.candidate_relations) == (1, 1) and pushed.problems == []
        pid = pushed.project_id
        assert doccano_client.get_project(pid)["use_relation"] is True

        # Nothing reviewed yet: no gold file, and the CLI says so.
        for key, value in (("URL", doccano_server.url), ("USERNAME", doccano_server.username),
                           ("PASSWORD", doccano_server.password)):
            monkeypatch.setenv(f"NEWSNER_DOCCANO_{key}", value)
        early = cli("doccano", "review", "--pull", "--review-project", name)
        assert early.exit_code == 0, early.output
        assert "nothing reviewed yet" in early.stdout and "layer gold not written" in early.stdout
        assert not (workspace / "annotations" / "gold.jsonl").exists()

        with DoccanoClient.login(doccano_server.url, curator, password) as cur:
            [example] = list(cur.iter_examples(pid))
            assert "LOCATED_IN? 'At least 17 dead' → 'Kidal' — alice (1 of 2)" in example["meta"]["candidates"]
            rel_types = {int(t["id"]): str(t["text"]) for t in cur.list_relation_types(pid)}
            spans = {int(s["id"]): REL[s["start_offset"]:s["end_offset"]] for s in cur.list_spans(pid, example["id"])}
            shown = {(spans[r["from_id"]], rel_types[r["type"]], spans[r["to_id"]]): r
                     for r in cur.list_relations(pid, example["id"])}
            assert set(shown) == {("At least 17 dead", "CLAIMED_BY", "a rebel spokesman"),
                                  ("At least 17 dead", "LOCATED_IN?", "Kidal")}
            # The curator accepts LOCATED_IN, redrawing it with the plain type, clicking the place first.
            cur.delete_relation(pid, example["id"], int(shown[("At least 17 dead", "LOCATED_IN?", "Kidal")]["id"]))
            ids = {text: i for i, text in spans.items()}
            cur.create_relation(pid, example["id"], from_id=ids["Kidal"], to_id=ids["At least 17 dead"],
                                type_id={v: k for k, v in rel_types.items()}["LOCATED_IN"])
            cur.confirm_example(pid, example["id"])

        pulled = pull_review(ws, review_project=name, layers=["alice", "bob", "patterns"], client=doccano_client)
        assert pulled.reviewed == 1 and pulled.relations == 2 and pulled.problems == []
        [note] = pulled.notes
        assert "LOCATED_IN 'Kidal' (LOCATION) → 'At least 17 dead' (CASUALTY) was drawn backwards" in note
        [gold] = AnnotationStore(workspace / "annotations").load("gold").values()
        got = gold.sorted_spans()
        assert {(got[r.head].text, r.type, got[r.tail].text) for r in gold.relations} == {
            ("At least 17 dead", "CLAIMED_BY", "a rebel spokesman"), ("At least 17 dead", "LOCATED_IN", "Kidal")}
        # "before" compares the annotators' confirmed records, as the push did: the suggestions share nothing.
        assert pulled.before is not None
        before = {(p.a, p.b): p.documents for p in pulled.before.pairs}
        assert before[("alice", "bob")] == 1
        assert all(n == 0 for pair, n in before.items() if "patterns" in pair)
        assert pulled.after is not None
        after = {(p.a, p.b): p for p in pulled.after.pairs}
        assert after[("alice", "gold")].relations is not None and after[("alice", "gold")].relations.f1 == 1.0
    finally:
        doccano_client.delete_project(pushed.project_id)


def test_the_pushing_account_s_suggestion_layer_is_not_an_annotator_in_review(  # type: ignore[no-untyped-def]
        workspace: Path, tmp_path: Path, doccano_server, doccano_client: DoccanoClient, doccano_project) -> None:
    from newsner.doccano import sync
    from newsner.schema import AnnotationRecord, Span

    ws = Workspace.at(workspace)
    _layer(ws, tmp_path, "alice", [(DISPUTED, _spans(DISPUTED, ("FLA", "ACTOR"), ("Kidal", "LOCATION")))])
    _layer(ws, tmp_path, "bob", [(DISPUTED, _spans(DISPUTED, ("FLA", "ACTOR"), ("Kidal", "ACTOR")))])
    [(doc_id, rec)] = AnnotationStore(workspace / "annotations").load("alice").items()
    start = DISPUTED.index("Ahmed Ag")
    # Pattern suggestions pushed as finished work: the pushing account then holds confirmed records of its own.
    suggestion = AnnotationRecord(doc_id, rec.text_sha256, doccano_server.username,
                                  [Span(start, start + 8, "ACTOR", "Ahmed Ag")], status="confirmed")
    path = tmp_path / "patterns.jsonl"
    path.write_text(json.dumps(suggestion.to_dict()) + "\n")
    project = str(doccano_project["name"])
    sync.push(ws, project=project, client=doccano_client, annotation_files=[path])
    sync.pull(ws, project=project, client=doccano_client)
    pusher = AnnotationStore(workspace / "annotations").load(doccano_server.username)
    assert pusher[doc_id].status == "confirmed"  # a confirmed layer: only knowing who pushed tells it apart
    name = f"review-{uuid.uuid4().hex[:8]}"
    pushed = push_review(ws, project=project, review_project=name, client=doccano_client)
    try:
        assert pushed.layers == ["alice", "bob"]
        assert pushed.before is not None and [(p.a, p.b) for p in pushed.before.pairs] == [("alice", "bob")]
        with DoccanoClient.login(doccano_server.url, doccano_server.username, doccano_server.password) as admin:
            [example] = list(admin.iter_examples(pushed.project_id))
            assert doccano_server.username not in example["meta"]["annotators"]
    finally:
        doccano_client.delete_project(pushed.project_id)
