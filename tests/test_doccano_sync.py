"""doccano push/pull: planning and conversion (no server), then the real thing against a real doccano."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.doccano import sync
from newsner.doccano.client import DoccanoClient
from newsner.doccano.sync import (
    ExampleIndex,
    PushState,
    build_import_jsonl,
    guideline_text,
    import_line,
    index_examples,
    load_suggestions,
    plan_duplicates,
    plan_span_types,
    records_from_export,
    suggestion_fingerprint,
)
from newsner.errors import AnnotationError, DoccanoAPIError, DoccanoConnectionError, DoccanoError, InputError
from newsner.schema import AnnotationRecord, Article, LabelSchema, Span, load_label_schema
from newsner.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]

SEED_LIKE = [
    "🇲🇱 Mali's army and Wagner fighters retreated from Tinzaouatene, a spokesman for the rebels said.",
    "At least 17 dead 😀😀 in Kidal, the army said in a statement.",
    "Кидаль: Russian mercenaries entered Abeibara on Monday.",
    "No entities here at all.",
]


@pytest.fixture
def schema() -> LabelSchema:
    return load_label_schema(REPO / "annotations" / "labels.json")


def make_articles(texts: list[str]) -> list[Article]:
    return [Article.from_text(t, title=f"Title {i}", source="test", url=f"https://news.test/{i}",
                              published="2024-07-29" if i % 2 == 0 else None) for i, t in enumerate(texts)]


def span_of(article: Article, phrase: str, label: str) -> Span:
    start = article.text.index(phrase)
    return Span(start, start + len(phrase), label, phrase)


def write_records(path: Path, records: list[AnnotationRecord]) -> Path:
    path.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------- schema side
def test_guideline_page_carries_the_general_rules_and_every_label(schema: LabelSchema) -> None:
    page = guideline_text(schema)
    assert schema.guidelines.strip() in page
    for label in schema.labels:
        assert f"## {label.name} (key `{label.shortcut}`)" in page
        assert label.description in page
        for example in label.examples:
            assert example in page


def test_span_types_are_created_when_missing_and_left_alone_when_equal(schema: LabelSchema) -> None:
    plan = plan_span_types(schema, [])
    assert [lb.name for lb in plan.create] == schema.names
    existing = [{"id": i, "text": lb.name, "background_color": lb.color.upper(), "text_color": lb.text_color,
                 "suffix_key": lb.shortcut, "prefix_key": None} for i, lb in enumerate(schema.labels)]
    plan = plan_span_types(schema, existing)
    assert not plan.create and not plan.update and not plan.release_keys and not plan.extra


def test_a_changed_colour_or_a_swapped_shortcut_is_an_update_never_a_new_type(schema: LabelSchema) -> None:
    actor, location = schema.labels[0], schema.labels[1]
    existing = [
        {"id": 1, "text": actor.name, "background_color": "#000000", "text_color": actor.text_color,
         "suffix_key": actor.shortcut},
        # LOCATION currently holds ACTOR's key, and an extra type holds LOCATION's key.
        {"id": 2, "text": location.name, "background_color": location.color, "text_color": location.text_color,
         "suffix_key": actor.shortcut},
        {"id": 3, "text": "MISC", "background_color": "#123456", "text_color": "#ffffff",
         "suffix_key": location.shortcut},
    ]
    plan = plan_span_types(schema, existing)
    assert {lb.name for lb in plan.create} == set(schema.names[2:])
    assert dict((i, f) for i, _, f in plan.update) == {
        1: {"background_color": actor.color},
        2: {"suffix_key": location.shortcut},
    }
    # The keys that move are freed first (doccano refuses two types with one shortcut).
    assert sorted(i for i, _ in plan.release_keys) == [2, 3]
    assert plan.extra == ["MISC"]


# ------------------------------------------------------------------------------------- import file
def test_import_lines_are_ascii_with_utf16_offsets_and_meta() -> None:
    article = make_articles(SEED_LIKE)[0]
    wagner = span_of(article, "Wagner", "ACTOR")
    line = import_line(article, [wagner])
    assert line.isascii()
    data = json.loads(line)
    assert data["text"] == article.text and data["external_id"] == article.id
    assert data["title"] == "Title 0" and data["published"] == "2024-07-29" and data["url"].endswith("/0")
    [[start, end, label]] = data["label"]
    # The flag is two astral characters: +2 UTF-16 units before "Wagner".
    assert (start, end, label) == (wagner.start + 2, wagner.end + 2, "ACTOR")
    units = article.text.encode("utf-16-le")
    assert units[2 * start: 2 * end].decode("utf-16-le") == "Wagner"


def test_import_lines_all_have_the_same_keys_even_without_annotations_or_a_date() -> None:
    articles = make_articles(SEED_LIKE)
    data = build_import_jsonl(articles, {})
    lines = [json.loads(x) for x in data.decode("ascii").splitlines()]
    assert len(lines) == len(articles)
    assert all(x["label"] == [] for x in lines)
    # doccano loads a batch into one DataFrame: a key missing from one line would become NaN in its meta.
    assert len({tuple(x) for x in lines}) == 1 and lines[1]["published"] is None
    assert build_import_jsonl([], {}) == b""


# ----------------------------------------------------------------------------------- pre-annotations
@pytest.fixture
def corpus_articles() -> dict[str, Article]:
    return {a.id: a for a in make_articles(SEED_LIKE)}


def test_suggestions_are_checked_against_corpus_and_schema(tmp_path: Path, schema: LabelSchema,
                                                           corpus_articles: dict[str, Article]) -> None:
    article = next(iter(corpus_articles.values()))
    good = AnnotationRecord(article.id, article.text_sha256, "model", [span_of(article, "Wagner", "ACTOR")])
    loaded = load_suggestions([write_records(tmp_path / "ok.jsonl", [good])], corpus_articles, schema)
    assert loaded[article.id].spans == good.spans

    cases = {
        "unknown label": (AnnotationRecord(article.id, article.text_sha256, "m",
                                           [span_of(article, "Wagner", "WEAPON")]),
                          f"document {article.id}: label 'WEAPON' is not in the label schema"),
        "other text": (AnnotationRecord(article.id, "0" * 64, "m", []), "another version of the text"),
        "not in corpus": (AnnotationRecord("feedfacefeedface", "0" * 64, "m", []),
                          "document feedfacefeedface is not in the corpus"),
        "span text": (AnnotationRecord(article.id, article.text_sha256, "m",
                                       [Span(0, 4, "ACTOR", "nope")]), "reads"),
        "overlap": (AnnotationRecord(article.id, article.text_sha256, "m",
                                     [span_of(article, "Mali's army", "ACTOR"), span_of(article, "Mali", "LOCATION")]),
                    "overlap"),
    }
    for name, (record, message) in cases.items():
        path = write_records(tmp_path / f"{name}.jsonl", [record])
        with pytest.raises(AnnotationError, match=message) as err:
            load_suggestions([path], corpus_articles, schema)
        assert f"{path}:1" in str(err.value)
    twice = write_records(tmp_path / "twice.jsonl", [good, good])
    with pytest.raises(AnnotationError, match="already has a record"):
        load_suggestions([twice], corpus_articles, schema)


def test_fingerprint_ignores_the_annotator_but_not_spans_or_status(corpus_articles: dict[str, Article]) -> None:
    article = next(iter(corpus_articles.values()))
    base = AnnotationRecord(article.id, article.text_sha256, "a", [span_of(article, "Wagner", "ACTOR")])
    same = AnnotationRecord(article.id, article.text_sha256, "b", [span_of(article, "Wagner", "ACTOR")])
    confirmed = AnnotationRecord(article.id, article.text_sha256, "a", base.spans, status="confirmed")
    other = AnnotationRecord(article.id, article.text_sha256, "a", [span_of(article, "Wagner", "LOCATION")])
    assert suggestion_fingerprint(base) == suggestion_fingerprint(same)
    assert len({suggestion_fingerprint(r) for r in (base, confirmed, other)}) == 3


# -------------------------------------------------------------------------------------- duplicates
def test_duplicates_keep_the_oldest_copy_or_the_one_with_work() -> None:
    def ex(i: int, ext: str | None, **extra: object) -> dict[str, object]:
        return {"id": i, "text": "t", "meta": {"external_id": ext} if ext else {}, **extra}

    index = index_examples([ex(5, "a"), ex(3, "a"), ex(9, "a"), ex(4, "b"), ex(7, "b", is_confirmed=True),
                            ex(8, "c", comment_count=1), ex(10, "c", annotation_approver="x"), ex(11, None),
                            ex(12, "d")])
    assert index.total == 9 and index.foreign == [11]
    delete, problems = plan_duplicates(index)
    assert delete == [4, 5, 9]
    assert [p.doc_id for p in problems] == ["c"] and "merge them" in problems[0].message
    assert plan_duplicates(ExampleIndex()) == ([], [])


# -------------------------------------------------------------------------------------- push state
def test_push_state_survives_a_round_trip_and_refuses_garbage(tmp_path: Path) -> None:
    state = PushState.load(tmp_path, "http://127.0.0.1:1", 7)
    assert state.in_flight == [] and state.suggested == {}
    state.in_flight = ["a", "b"]
    state.suggested = {"a": "f1"}
    state.save()
    again = PushState.load(tmp_path, "http://127.0.0.1:1/", 7)
    assert again.in_flight == ["a", "b"] and again.suggested == {"a": "f1"}
    assert PushState.load(tmp_path, "http://127.0.0.1:1", 8).in_flight == []  # another project
    again.path.write_text("{broken")
    with pytest.raises(InputError, match="delete the file"):
        PushState.load(tmp_path, "http://127.0.0.1:1", 7)


# ----------------------------------------------------------------------------------- export -> records
def export_line(example_id: int, article: Article | None, labels: list[list[object]], *,
                text: str | None = None) -> dict[str, object]:
    if text is None:
        text = article.text if article else "x"
    line: dict[str, object] = {"id": example_id, "text": text, "label": labels, "Comments": []}
    if article is not None:
        line["external_id"] = article.id
        line["title"] = article.title
    return line


def test_export_lines_become_records_with_code_point_offsets(schema: LabelSchema,
                                                             corpus_articles: dict[str, Article]) -> None:
    first, second, _, fourth = corpus_articles.values()
    wagner, dead = span_of(first, "Wagner", "ACTOR"), span_of(second, "Kidal", "LOCATION")
    lines = [
        export_line(1, first, [[wagner.start + 2, wagner.end + 2, "ACTOR"]]),
        export_line(2, second, [[dead.start + 2, dead.end + 2, "LOCATION"]]),  # two emoji before Kidal
        export_line(3, fourth, []),  # untouched
        export_line(4, fourth, []) | {"external_id": "nope"},  # untouched, so not even reported
    ]
    origin = {"server": "http://s", "project": "p", "pulled_at": "2024-01-01T00:00:00+00:00"}
    records, problems, untouched = records_from_export(
        lines, annotator="ann", confirmed_ids={2}, articles=corpus_articles, schema=schema, origin=origin,
        previous={})
    assert problems == [] and untouched == 2
    by_doc = {r.doc_id: r for r in records}
    assert by_doc[first.id].spans == [wagner] and by_doc[first.id].status == "unconfirmed"
    assert by_doc[second.id].spans == [dead] and by_doc[second.id].status == "confirmed"
    assert by_doc[second.id].origin == {**origin, "example_id": 2}
    for record in records:
        record.check(corpus_articles[record.doc_id].text)


def test_an_unchanged_record_keeps_its_pulled_at_so_files_do_not_change(schema: LabelSchema,
                                                                         corpus_articles: dict[str, Article]) -> None:
    first = next(iter(corpus_articles.values()))
    wagner = span_of(first, "Wagner", "ACTOR")
    line = export_line(1, first, [[wagner.start + 2, wagner.end + 2, "ACTOR"]])
    kwargs = dict(annotator="ann", confirmed_ids=set(), articles=corpus_articles, schema=schema)
    old, _, _ = records_from_export([line], origin={"server": "s", "project": "p", "pulled_at": "T1"},
                                    previous={}, **kwargs)  # type: ignore[arg-type]
    new, _, _ = records_from_export([line], origin={"server": "s", "project": "p", "pulled_at": "T2"},
                                    previous={first.id: old[0]}, **kwargs)  # type: ignore[arg-type]
    assert new[0].origin["pulled_at"] == "T1"
    confirmed, _, _ = records_from_export([line], origin={"server": "s", "project": "p", "pulled_at": "T2"},
                                          previous={first.id: old[0]}, **{**kwargs, "confirmed_ids": {1}})  # type: ignore[arg-type]
    assert confirmed[0].origin["pulled_at"] == "T2" and confirmed[0].status == "confirmed"
    cleared, _, _ = records_from_export([export_line(1, first, [])],
                                        origin={"server": "s", "project": "p", "pulled_at": "T3"},
                                        previous={first.id: old[0]}, keep_empty={first.id}, **kwargs)  # type: ignore[arg-type]
    assert cleared[0].spans == [] and cleared[0].status == "unconfirmed"


def test_every_export_problem_is_reported_by_document_and_annotator(schema: LabelSchema,
                                                                    corpus_articles: dict[str, Article]) -> None:
    first, second, third, _ = corpus_articles.values()
    emoji = Article.from_text("😀 Wagner")
    articles = {**corpus_articles, emoji.id: emoji}
    lines = [
        export_line(1, first, [[0, 2, "ACTOR"]], text=first.text + " (edited)"),
        export_line(2, second, [[0, 5, "WEAPON"]]),
        export_line(3, third, [[0, 10_000, "ACTOR"]]),
        export_line(4, None, [[0, 1, "ACTOR"]]),
        export_line(5, emoji, [[1, 8, "ACTOR"]]),  # starts between the emoji's two UTF-16 units
        export_line(6, Article.from_text("not in the corpus"), [[0, 3, "ACTOR"]]),
    ]
    records, problems, _ = records_from_export(
        lines, annotator="ann", confirmed_ids=set(), articles=articles, schema=schema,
        origin={"server": "s", "project": "p", "pulled_at": "T"}, previous={})
    assert records == []
    found = {(p.kind, p.example_id) for p in problems}
    assert found == {("text-changed", 1), ("bad-span", 2), ("bad-span", 3), ("no-article", 4), ("bad-span", 5),
                     ("no-article", 6)}
    assert all(p.annotator == "ann" for p in problems)
    text = "\n".join(map(str, problems))
    assert f"document {second.id}, annotator ann, example 2: label 'WEAPON' is not in the label schema" in text
    assert "outside the text" in text and "splits a character" in text


def test_two_examples_of_one_article_with_work_are_reported_not_guessed(schema: LabelSchema,
                                                                        corpus_articles: dict[str, Article]) -> None:
    fourth = list(corpus_articles.values())[3]
    lines = [export_line(1, fourth, [[0, 2, "ACTOR"]]), export_line(2, fourth, [[3, 5, "ACTOR"]])]
    records, problems, _ = records_from_export(
        lines, annotator="ann", confirmed_ids=set(), articles=corpus_articles, schema=schema,
        origin={"server": "s", "project": "p", "pulled_at": "T"}, previous={})
    assert records == [] and [p.kind for p in problems] == ["duplicate"]


def _corpus(root: Path, articles: list[Article]) -> Corpus:
    corpus = Corpus(root / "corpus")
    with corpus.lock():
        corpus.append(articles)
    return corpus


# =============================================================================== against a real doccano
MORE_TEXTS = [f"Report {i}: 🔥 fighting near Kidal, the army said. 👍🏽 Wagner withdrew." for i in range(6)]


def setup_workspace(root: Path, texts: list[str]) -> tuple[Workspace, list[Article]]:
    articles = make_articles(texts)
    _corpus(root, articles)
    return Workspace.at(root), articles


def external_ids(client: DoccanoClient, project_id: int) -> Counter[str]:
    return Counter(str((ex.get("meta") or {}).get("external_id")) for ex in
                   client.iter_examples(project_id, limit=1000))


def utf16_slice(text: str, start: int, end: int) -> str:
    """What JavaScript's text.substring(start, end) shows."""
    return text.encode("utf-16-le")[2 * start: 2 * end].decode("utf-16-le")


def js_offset(text: str, cp_offset: int) -> int:
    return len(text[:cp_offset].encode("utf-16-le")) // 2


@pytest.fixture
def project_name(doccano_project: dict[str, Any]) -> str:
    return str(doccano_project["name"])


@pytest.fixture
def pid(doccano_project: dict[str, Any]) -> int:
    return int(doccano_project["id"])


def test_push_sets_up_the_project_and_uploads_each_article_once(workspace: Path, doccano_client: DoccanoClient,
                                                               project_name: str, pid: int,
                                                               schema: LabelSchema) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE)
    dry = sync.push(ws, project=project_name, client=doccano_client, dry_run=True)
    assert dry.to_upload == len(articles) and dry.span_types_created == schema.names
    assert dry.relation_types_created == schema.relation_names
    assert doccano_client.count_examples(pid) == 0 and doccano_client.list_span_types(pid) == []
    assert doccano_client.list_relation_types(pid) == [] and not doccano_client.get_project(pid)["use_relation"]

    report = sync.push(ws, project=project_name, client=doccano_client)
    assert report.uploaded == len(articles) and report.span_types_created == schema.names
    # The fixture's project was made without relations: push turns them on (labels.json defines relation types).
    assert report.project_updated == ["guideline", "use_relation"] and report.problems == []
    assert report.relation_types_created == schema.relation_names
    project = doccano_client.get_project(pid)
    assert "## CASUALTY (key `c`)" in project["guideline"]
    types = {t["text"]: t for t in doccano_client.list_span_types(pid)}
    for label in schema.labels:
        assert (types[label.name]["background_color"], types[label.name]["text_color"],
                types[label.name]["suffix_key"]) == (label.color, label.text_color, label.shortcut)
    examples = {ex["meta"]["external_id"]: ex for ex in doccano_client.iter_examples(pid)}
    assert set(examples) == {a.id for a in articles}
    for article in articles:
        ex = examples[article.id]
        assert ex["text"] == article.text
        assert ex["meta"]["title"] == article.title and ex["meta"]["url"] == article.url
        assert ex["meta"]["source"] == "test" and ex["meta"].get("published") == article.published

    again = sync.push(ws, project=project_name, client=doccano_client)
    assert (again.uploaded, again.present, again.span_types_created, again.span_types_updated,
            again.project_updated) == (0, len(articles), [], [], [])

    new = make_articles(SEED_LIKE + ["A new article about Gao."])[-1]
    Corpus(workspace / "corpus").append([new])
    dry = sync.push(ws, project=project_name, client=doccano_client, dry_run=True)
    assert dry.to_upload == 1 and doccano_client.count_examples(pid) == len(articles)
    sync.push(ws, project=project_name, client=doccano_client)
    assert external_ids(doccano_client, pid) == Counter({a.id: 1 for a in [*articles, new]})


def test_push_creates_a_missing_project_per_annotator_by_default(workspace: Path, doccano_client: DoccanoClient,
                                                                project_name: str) -> None:
    ws, _ = setup_workspace(workspace, SEED_LIKE[:1])
    name = project_name + "-new"
    report = sync.push(ws, project=name, client=doccano_client)
    try:
        project = doccano_client.find_project(name)
        assert project is not None and report.project_created and report.project_id == project["id"]
        assert project["project_type"] == "SequenceLabeling" and project["collaborative_annotation"] is False
        switched = sync.push(ws, project=name, client=doccano_client, collaborative=True)
        assert switched.project_updated == ["collaborative_annotation"]
        assert doccano_client.get_project(int(project["id"]))["collaborative_annotation"] is True
    finally:
        doccano_client.delete_project(int(report.project_id or 0))


def test_a_schema_change_updates_span_types_in_place(workspace: Path, doccano_client: DoccanoClient,
                                                     project_name: str, pid: int) -> None:
    ws, _ = setup_workspace(workspace, SEED_LIKE[:1])
    sync.push(ws, project=project_name, client=doccano_client)
    data = json.loads(ws.labels_path.read_text())
    # Swap ACTOR's and LOCATION's keys and recolour CASUALTY: doccano must not see a duplicate name or key.
    data["labels"][0]["shortcut"], data["labels"][1]["shortcut"] = data["labels"][1]["shortcut"], "a"
    data["labels"][2]["color"] = "#abcdef"
    ws.labels_path.write_text(json.dumps(data))
    report = sync.push(ws, project=project_name, client=doccano_client)
    assert report.span_types_updated == ["ACTOR", "CASUALTY", "LOCATION"] and report.span_types_created == []
    types = {t["text"]: t for t in doccano_client.list_span_types(pid)}
    assert len(types) == 4
    assert (types["ACTOR"]["suffix_key"], types["LOCATION"]["suffix_key"]) == ("l", "a")
    assert types["CASUALTY"]["background_color"] == "#abcdef"


def test_a_project_of_another_type_is_a_clear_error(workspace: Path, doccano_client: DoccanoClient,
                                                    project_name: str) -> None:
    ws, _ = setup_workspace(workspace, SEED_LIKE[:1])
    name = project_name + "-cls"
    other = doccano_client._request("POST", "/v1/projects", json={
        "name": name, "description": "classification", "project_type": "DocumentClassification",
        "resourcetype": "TextClassificationProject"})
    try:
        with pytest.raises(DoccanoError, match="is a DocumentClassification project, not sequence labelling"):
            sync.push(ws, project=name, client=doccano_client)
        assert doccano_client.count_examples(int(other["id"])) == 0
    finally:
        doccano_client.delete_project(int(other["id"]))


def test_an_unknown_label_is_refused_before_anything_changes(workspace: Path, doccano_client: DoccanoClient,
                                                             project_name: str, pid: int) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE)
    bad = AnnotationRecord(articles[0].id, articles[0].text_sha256, "model", [span_of(articles[0], "Wagner", "WEAPON")])
    path = write_records(workspace / "model.jsonl", [bad])
    with pytest.raises(AnnotationError, match=f"document {articles[0].id}: label 'WEAPON'"):
        sync.push(ws, project=project_name, client=doccano_client, annotation_files=[path])
    assert doccano_client.count_examples(pid) == 0 and doccano_client.list_span_types(pid) == []


def test_pre_annotations_travel_in_utf16_units_and_come_back_identical(
        workspace: Path, doccano_client: DoccanoClient, doccano_server: Any, project_name: str, pid: int) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE)
    me = doccano_server.username
    first, second, third, _ = articles
    records = [
        AnnotationRecord(first.id, first.text_sha256, me, [span_of(first, "Wagner", "ACTOR"),
                                                           span_of(first, "Tinzaouatene", "LOCATION")]),
        AnnotationRecord(second.id, second.text_sha256, me, [span_of(second, "At least 17 dead", "CASUALTY"),
                                                             span_of(second, "Kidal", "LOCATION")],
                         status="confirmed"),
    ]
    # The first record is pushed with the upload; the third article's arrives once it is already in doccano.
    path = write_records(workspace / "model.jsonl", records)
    report = sync.push(ws, project=project_name, client=doccano_client, annotation_files=[path])
    assert (report.suggestions_imported, report.confirmed) == (2, 1)
    late = AnnotationRecord(third.id, third.text_sha256, me, [span_of(third, "Russian mercenaries", "ACTOR")])
    path = write_records(workspace / "model.jsonl", [*records, late])
    report = sync.push(ws, project=project_name, client=doccano_client, annotation_files=[path])
    assert (report.suggestions_added, report.suggestions_unchanged, report.uploaded) == (1, 2, 0)

    examples = {ex["meta"]["external_id"]: ex for ex in doccano_client.iter_examples(pid)}
    spans = doccano_client.list_spans(pid, examples[first.id]["id"])
    assert sorted(utf16_slice(first.text, s["start_offset"], s["end_offset"]) for s in spans) == [
        "Tinzaouatene", "Wagner"]
    assert min(s["start_offset"] for s in spans) == first.text.index("Wagner") + 2  # the flag: two astral chars

    again = sync.push(ws, project=project_name, client=doccano_client, annotation_files=[path])
    assert again.suggestions_unchanged == 3 and again.suggestions_added == 0
    assert len(doccano_client.list_spans(pid, examples[first.id]["id"])) == 2

    pulled = sync.pull(ws, project=project_name, client=doccano_client)
    assert pulled.problems == []
    back = {r.doc_id: r for r in AnnotationStore(ws.annotations_dir).read(me)}
    for record in [*records, late]:
        got = back[record.doc_id]
        assert (got.text_sha256, got.annotator, got.spans, got.status) == (
            record.text_sha256, record.annotator, sorted(record.spans), record.status)
        assert got.origin["project"] == project_name and got.origin["example_id"] == examples[record.doc_id]["id"]


def test_pull_keeps_every_annotator_layer_and_reports_every_problem(
        workspace: Path, doccano_client: DoccanoClient, doccano_server: Any, project_name: str, pid: int) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE)
    sync.push(ws, project=project_name, client=doccano_client)
    name = f"ann{pid}"
    user = doccano_client.create_user(name, "Annotator-pass-2024!")
    doccano_client.add_member(pid, int(user["id"]), "annotator")
    examples = {ex["meta"]["external_id"]: ex for ex in doccano_client.iter_examples(pid)}
    types = {t["text"]: int(t["id"]) for t in doccano_client.list_span_types(pid)}
    first, second = articles[0], articles[1]
    # Things an annotator cannot do in the UI, but a server can hold: an edited text, foreign examples, a label
    # outside the schema.
    edited = doccano_client.create_example(pid, first.text + " (edited)", meta={"external_id": first.id})
    foreign = doccano_client.create_example(pid, "Someone else's document about Gao.")
    stray = doccano_client.create_example(pid, "An article newsner never had.",
                                          meta={"external_id": "0123456789abcdef"})
    other = doccano_client.create_span_type(pid, text="WEAPON", background_color="#000000")
    with DoccanoClient.login(doccano_server.url, name, "Annotator-pass-2024!") as annotator:
        def mark(article: Article, phrase: str, label: str) -> None:
            start = article.text.index(phrase)
            # What the browser sends: UTF-16 offsets.
            annotator.create_span(pid, int(examples[article.id]["id"]), start=js_offset(article.text, start),
                                  end=js_offset(article.text, start + len(phrase)),
                                  label_id=types.get(label, other["id"]))
        mark(first, "Wagner", "ACTOR")
        mark(second, "Kidal", "LOCATION")
        annotator.confirm_example(pid, int(examples[second.id]["id"]))
        annotator.confirm_example(pid, int(examples[articles[3].id]["id"]))  # confirmed, nothing to label
        mark(articles[2], "Abeibara", "WEAPON")
        annotator.create_span(pid, int(edited["id"]), start=0, end=4, label_id=types["ACTOR"])
        annotator.create_span(pid, int(foreign["id"]), start=0, end=7, label_id=types["ACTOR"])
        annotator.create_span(pid, int(stray["id"]), start=0, end=2, label_id=types["ACTOR"])
    with DoccanoClient.login(doccano_server.url, doccano_server.username, doccano_server.password) as admin:
        admin.create_span(pid, int(examples[first.id]["id"]), start=js_offset(first.text, first.text.index("Mali")),
                          end=js_offset(first.text, first.text.index("Mali") + 4), label_id=types["LOCATION"])

    report = sync.pull(ws, project=project_name, client=doccano_client)
    store = AnnotationStore(ws.annotations_dir)
    layer = {r.doc_id: r for r in store.read(name)}
    assert set(layer) == {first.id, second.id, articles[3].id}
    assert layer[first.id].spans == [span_of(first, "Wagner", "ACTOR")] and layer[first.id].status == "unconfirmed"
    assert layer[second.id].spans == [span_of(second, "Kidal", "LOCATION")] and layer[second.id].status == "confirmed"
    assert layer[articles[3].id].spans == [] and layer[articles[3].id].status == "confirmed"
    admin_layer = {r.doc_id: r for r in store.read(doccano_server.username)}
    assert list(admin_layer) == [first.id] and admin_layer[first.id].spans == [span_of(first, "Mali", "LOCATION")]
    problems = {(p.kind, p.doc_id, p.example_id) for p in report.problems if p.annotator == name}
    assert problems == {("bad-span", articles[2].id, examples[articles[2].id]["id"]),
                        ("text-changed", first.id, edited["id"]),
                        ("no-article", None, foreign["id"]),
                        ("no-article", "0123456789abcdef", stray["id"])}
    assert "label 'WEAPON' is not in the label schema" in "\n".join(map(str, report.problems))

    before = {p.name: p.read_bytes() for p in ws.annotations_dir.glob("*.jsonl")}
    sync.pull(ws, project=project_name, client=doccano_client)
    assert {p.name: p.read_bytes() for p in ws.annotations_dir.glob("*.jsonl")} == before


def test_a_push_that_dies_after_a_batch_resumes_without_duplicates(workspace: Path, doccano_client: DoccanoClient,
                                                                  project_name: str, pid: int) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE + MORE_TEXTS)

    def crash(batch: int) -> None:
        if batch == 2:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        sync.push(ws, project=project_name, client=doccano_client, batch_size=3, after_batch=crash)
    assert doccano_client.count_examples(pid) == 6
    report = sync.push(ws, project=project_name, client=doccano_client, batch_size=3)
    assert report.resumed and report.uploaded == len(articles) - 6 and report.duplicates_removed == 0
    assert external_ids(doccano_client, pid) == Counter({a.id: 1 for a in articles})


def test_a_push_killed_during_an_import_resumes_without_duplicates(workspace: Path, doccano_client: DoccanoClient,
                                                                   doccano_server: Any, project_name: str,
                                                                   pid: int) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE + MORE_TEXTS)
    # A separate process pushes and is SIGKILLed right after doccano accepted its second import file, while the
    # import still runs on the server: no cleanup handler, no finally block runs.
    script = f"""
import os, signal
from newsner.doccano import sync
from newsner.doccano.client import DoccanoClient
from newsner.workspace import Workspace
calls = 0
original = DoccanoClient.wait_task
def wait_task(self, task_id, *, timeout):
    global calls
    calls += 1
    if calls == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, task_id, timeout=timeout)
DoccanoClient.wait_task = wait_task
client = DoccanoClient.login({doccano_server.url!r}, {doccano_server.username!r}, os.environ["PW"])
sync.push(Workspace.at({str(workspace)!r}), project={project_name!r}, client=client, batch_size=4)
"""
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PW": doccano_server.password},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    report = sync.push(ws, project=project_name, client=doccano_client, batch_size=4)
    assert report.resumed
    assert external_ids(doccano_client, pid) == Counter({a.id: 1 for a in articles})
    # Nothing on disk is half-written: the state file parses and records no batch in flight.
    [state] = (workspace / ".newsner" / "doccano-sync").glob("push-*.json")
    assert json.loads(state.read_text())["in_flight"] == []
    assert not list((workspace / ".newsner" / "doccano-sync").glob(".*.tmp"))


def test_duplicates_left_by_a_reimport_are_removed_keeping_the_oldest(workspace: Path, doccano_client: DoccanoClient,
                                                                     project_name: str, pid: int) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE)
    sync.push(ws, project=project_name, client=doccano_client)
    oldest = {ex["meta"]["external_id"]: ex["id"] for ex in doccano_client.iter_examples(pid)}
    doccano_client.import_jsonl(pid, build_import_jsonl(articles[:2], {}))  # what a naive re-import does
    assert doccano_client.count_examples(pid) == len(articles) + 2
    dry = sync.push(ws, project=project_name, client=doccano_client, dry_run=True)
    assert dry.duplicates_removed == 2 and doccano_client.count_examples(pid) == len(articles) + 2
    report = sync.push(ws, project=project_name, client=doccano_client)
    assert report.duplicates_removed == 2 and report.uploaded == 0
    assert {ex["meta"]["external_id"]: ex["id"] for ex in doccano_client.iter_examples(pid)} == oldest


def test_copies_that_appear_during_a_push_are_removed_at_once(workspace: Path, doccano_client: DoccanoClient,
                                                                project_name: str, pid: int) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE + MORE_TEXTS)

    def doccano_retries_the_import(batch: int) -> None:
        # What celery's autoretry does after a failure half-way: the same lines imported a second time.
        if batch == 1:
            doccano_client.import_jsonl(pid, build_import_jsonl(articles[:2], {}))

    report = sync.push(ws, project=project_name, client=doccano_client, batch_size=4,
                       after_batch=doccano_retries_the_import)
    assert report.duplicates_removed == 2 and report.uploaded == len(articles)
    assert external_ids(doccano_client, pid) == Counter({a.id: 1 for a in articles})


def test_a_collaborative_project_is_pulled_as_one_shared_layer(workspace: Path, doccano_client: DoccanoClient,
                                                               doccano_server: Any, project_name: str,
                                                               pid: int) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE[:2])
    first = articles[0]
    records = [AnnotationRecord(first.id, first.text_sha256, "model", [span_of(first, "Wagner", "ACTOR")])]
    path = write_records(workspace / "model.jsonl", records)
    sync.push(ws, project=project_name, client=doccano_client, collaborative=True, annotation_files=[path])
    name = f"collab{pid}"
    user = doccano_client.create_user(name, "Annotator-pass-2024!")
    doccano_client.add_member(pid, int(user["id"]), "annotator")
    example = next(ex for ex in doccano_client.iter_examples(pid) if ex["meta"]["external_id"] == first.id)
    with DoccanoClient.login(doccano_server.url, name, "Annotator-pass-2024!") as annotator:
        # The annotator sees the pushed suggestion (shared layer) and adds a span next to it.
        assert len(annotator.list_spans(pid, int(example["id"]))) == 1
        start = first.text.index("Tinzaouatene")
        annotator.create_span(pid, int(example["id"]), start=js_offset(first.text, start),
                              end=js_offset(first.text, start + 12), label_id=next(
                                  t["id"] for t in doccano_client.list_span_types(pid) if t["text"] == "LOCATION"))
    report = sync.pull(ws, project=project_name, client=doccano_client)
    assert [layer.annotator for layer in report.layers] == [sync.SHARED_LAYER]
    [record] = AnnotationStore(ws.annotations_dir).read(sync.SHARED_LAYER)
    assert record.spans == sorted([span_of(first, "Wagner", "ACTOR"), span_of(first, "Tinzaouatene", "LOCATION")])


# ------------------------------------------------------------------------------------------- faults
class FaultyTransport(httpx.BaseTransport):
    """Forwards to the real server, except where `fault(request)` returns a response or raises."""

    def __init__(self, fault: Callable[[httpx.Request], httpx.Response | None]) -> None:
        self.inner = httpx.HTTPTransport()
        self.fault = fault
        self.calls: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[f"{request.method} {request.url.path}"] += 1
        injected = self.fault(request)
        return injected if injected is not None else self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@contextlib.contextmanager
def faulty_client(server: Any, fault: Callable[[httpx.Request], httpx.Response | None]) -> Iterator[
        tuple[DoccanoClient, FaultyTransport]]:
    transport = FaultyTransport(fault)
    client = DoccanoClient.login(server.url, server.username, server.password, transport=transport, retries=2,
                                 backoff=0.01)
    with client:
        yield client, transport


def test_server_errors_are_retried_then_reported_and_a_rerun_finishes(
        workspace: Path, doccano_client: DoccanoClient, doccano_server: Any, project_name: str, pid: int) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE)

    def unavailable(request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET" and request.url.path.endswith("/span-types"):
            return httpx.Response(503, text="Service Unavailable")
        return None

    with faulty_client(doccano_server, unavailable) as (client, transport):
        with pytest.raises(DoccanoAPIError, match="HTTP 503"):
            sync.push(ws, project=project_name, client=client)
    assert transport.calls[f"GET /v1/projects/{pid}/span-types"] == 3  # one try + two retries

    def import_times_out(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and request.url.path.endswith("/upload"):
            transport.inner.handle_request(request)  # doccano starts the import...
            raise httpx.ReadTimeout("timed out", request=request)  # ...but the answer never arrives
        return None

    with faulty_client(doccano_server, import_times_out) as (client, transport):
        with pytest.raises(DoccanoConnectionError, match="did not answer"):
            sync.push(ws, project=project_name, client=client)
    report = sync.push(ws, project=project_name, client=doccano_client)
    assert report.resumed
    assert external_ids(doccano_client, pid) == Counter({a.id: 1 for a in articles})


def test_a_failed_export_writes_nothing(workspace: Path, doccano_client: DoccanoClient, doccano_server: Any,
                                        project_name: str) -> None:
    ws, articles = setup_workspace(workspace, SEED_LIKE)
    first = articles[0]
    path = write_records(workspace / "model.jsonl", [
        AnnotationRecord(first.id, first.text_sha256, doccano_server.username, [span_of(first, "Wagner", "ACTOR")])])
    sync.push(ws, project=project_name, client=doccano_client, annotation_files=[path])
    sync.pull(ws, project=project_name, client=doccano_client)
    before = {p.name: p.read_bytes() for p in ws.annotations_dir.iterdir() if p.is_file()}

    def export_breaks(request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET" and request.url.path.endswith("/download"):
            return httpx.Response(502, text="Bad Gateway")
        return None

    with faulty_client(doccano_server, export_breaks) as (client, transport):
        with pytest.raises(DoccanoAPIError, match="HTTP 502"):
            sync.pull(ws, project=project_name, client=client)
    assert {p.name: p.read_bytes() for p in ws.annotations_dir.iterdir() if p.is_file()} == before
    assert not list(ws.annotations_dir.glob(".*.tmp"))


# ---------------------------------------------------------------------------------------------- CLI
@pytest.fixture
def doccano_env(monkeypatch: pytest.MonkeyPatch, doccano_server: Any) -> Any:
    monkeypatch.setenv("NEWSNER_DOCCANO_URL", doccano_server.url)
    monkeypatch.setenv("NEWSNER_DOCCANO_USERNAME", doccano_server.username)
    monkeypatch.setenv("NEWSNER_DOCCANO_PASSWORD", doccano_server.password)
    return doccano_server


def test_cli_push_pull_and_users(cli: Any, workspace: Path, doccano_env: Any, doccano_client: DoccanoClient,
                                 project_name: str, pid: int, monkeypatch: pytest.MonkeyPatch) -> None:
    _, articles = setup_workspace(workspace, SEED_LIKE)
    dry = cli("doccano", "push", "--project", project_name, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "[dry run]" in dry.stdout and f"to upload: {len(articles)}" in dry.stdout
    pushed = cli("doccano", "push", "--project", project_name)
    assert pushed.exit_code == 0, pushed.output
    assert f"uploaded: {len(articles)}" in pushed.stdout and "span types created: ACTOR" in pushed.stdout

    secret = "Very-secret-pass-42"
    monkeypatch.setenv("NEWSNER_NEW_USER_PASSWORD", secret)
    added = cli("doccano", "users", "add", f"cli{pid}", "--role", "annotator", "--project", project_name)
    assert added.exit_code == 0, added.output
    assert "created" in added.stdout and "as annotator" in added.stdout and secret not in added.output
    assert any(m["username"] == f"cli{pid}" and m["rolename"] == "annotator"
               for m in doccano_client.list_members(pid))
    DoccanoClient.login(doccano_env.url, f"cli{pid}", secret).close()
    twice = cli("doccano", "users", "add", f"cli{pid}", "--project", project_name)
    assert twice.exit_code == 0 and "exists (password unchanged)" in twice.stdout and "already a member" in twice.stdout
    monkeypatch.delenv("NEWSNER_NEW_USER_PASSWORD")
    prompted = cli("doccano", "users", "add", f"cli2{pid}", "--project", project_name,
                   input="Typed-secret-pass-7\nTyped-secret-pass-7\n")
    assert prompted.exit_code == 0, prompted.output
    assert "Typed-secret-pass-7" not in prompted.output and "created" in prompted.stdout
    DoccanoClient.login(doccano_env.url, f"cli2{pid}", "Typed-secret-pass-7").close()
    no_password = cli("doccano", "users", "add", f"cli3{pid}", "--project", project_name, input="")
    assert no_password.exit_code == 1 and "set NEWSNER_NEW_USER_PASSWORD" in no_password.stderr
    assert "Warning" not in no_password.output
    bad_role = cli("doccano", "users", "add", f"cli{pid}", "--role", "boss", "--project", project_name)
    assert bad_role.exit_code == 1 and "unknown role 'boss'" in bad_role.stderr

    pulled = cli("doccano", "pull", "--project", project_name)
    assert pulled.exit_code == 0, pulled.output
    assert f"{len(articles)} example(s)" in pulled.stdout and "problem" not in pulled.output

    foreign = doccano_client.create_example(pid, "Typed straight into doccano.")
    actor = next(t["id"] for t in doccano_client.list_span_types(pid) if t["text"] == "ACTOR")
    doccano_client.create_span(pid, int(foreign["id"]), start=0, end=5, label_id=actor)
    reported = cli("doccano", "pull", "--project", project_name)
    assert reported.exit_code == 0
    assert (f"problem: annotator {doccano_env.username}, example {foreign['id']}: example has 1 span(s) but no "
            "external_id") in reported.stderr
    strict = cli("doccano", "pull", "--project", project_name, "--strict")
    assert strict.exit_code == 1 and "1 problem(s)" in strict.stderr

    missing = cli("doccano", "pull", "--project", project_name + "-nope")
    assert missing.exit_code == 1 and "no project" in missing.stderr and "newsner doccano push" in missing.stderr


def test_cli_wrong_credentials_and_wrong_url_are_one_clear_line(cli: Any, workspace: Path, doccano_env: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    setup_workspace(workspace, SEED_LIKE[:1])
    monkeypatch.setenv("NEWSNER_DOCCANO_PASSWORD", "wrong-password")
    wrong = cli("doccano", "push")
    assert wrong.exit_code == 1 and "wrong username or password" in wrong.stderr and "Traceback" not in wrong.output
    assert "wrong-password" not in wrong.output
    monkeypatch.setenv("NEWSNER_DOCCANO_URL", "http://127.0.0.1:9")
    nobody = cli("doccano", "pull")
    assert nobody.exit_code == 1 and "no doccano at http://127.0.0.1:9" in nobody.stderr


# ------------------------------------------------------------------------------- round trip (property)

WORDS = st.sampled_from(["Mali", "Wagner", "army", " ", " ", "\r\n", "\n", "e\u0301", "ñ", "Тинзауатен", "تينزاواتن",
                         "廷扎瓦滕", "😀", "🇲🇱", "👩‍👩‍👧", "👍🏽", "𠜎", "𝔘", "\t", ",", "क्षि"])
TEXT = st.lists(st.one_of(WORDS, st.text(min_size=1, max_size=3)), min_size=1, max_size=25).map("".join).filter(
    lambda t: bool(t.strip()))


@st.composite
def documents(draw: st.DrawFn) -> list[tuple[str, list[tuple[int, int, str]], str]]:
    texts = draw(st.lists(TEXT, min_size=1, max_size=3, unique=True))
    docs = []
    for text in texts:
        cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=8)))
        pairs = [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b]
        labels = draw(st.lists(st.sampled_from(["ACTOR", "LOCATION", "CASUALTY", "CLAIM_SOURCE"]),
                               min_size=len(pairs), max_size=len(pairs)))
        docs.append((text, [(a, b, lb) for (a, b), lb in zip(pairs, labels, strict=True)],
                     draw(st.sampled_from(["confirmed", "unconfirmed"]))))
    return docs


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(docs=documents())
def test_round_trip_push_then_pull_gives_the_same_records(doccano_server: Any, tmp_path_factory: pytest.TempPathFactory,
                                                          docs: list[tuple[str, list[tuple[int, int, str]], str]]
                                                          ) -> None:
    root = tmp_path_factory.mktemp("roundtrip")
    (root / "annotations").mkdir()
    (root / "annotations" / "labels.json").write_bytes((REPO / "annotations" / "labels.json").read_bytes())
    articles = [Article.from_text(text, title="t") for text, _, _ in docs]
    _corpus(root, articles)
    me = doccano_server.username
    records = [AnnotationRecord(a.id, a.text_sha256, me, [Span(s, e, lb, a.text[s:e]) for s, e, lb in spans],
                                status=status) for a, (_, spans, status) in zip(articles, docs, strict=True)]
    path = write_records(root / "records.jsonl", records)
    ws = Workspace.at(root)
    with doccano_server.login() as client:
        name = f"roundtrip-{root.name}"
        report = sync.push(ws, project=name, client=client, annotation_files=[path])
        try:
            assert report.problems == []
            pulled = sync.pull(ws, project=name, client=client)
            assert pulled.problems == []
            expected = {r.doc_id: r for r in records if r.spans or r.status == "confirmed"}
            store = AnnotationStore(ws.annotations_dir)
            back = {r.doc_id: r for r in store.read(me)} if expected else {}
            assert {d: (r.text_sha256, r.annotator, sorted(r.spans), r.status) for d, r in back.items()} == {
                d: (r.text_sha256, r.annotator, sorted(r.spans), r.status) for d, r in expected.items()}
        finally:
            client.delete_project(int(report.project_id or 0))


def test_a_pull_after_a_restart_on_another_local_port_reports_records_unchanged(
        schema: LabelSchema, corpus_articles: dict[str, Article]) -> None:
    first = next(iter(corpus_articles.values()))
    wagner = span_of(first, "Wagner", "ACTOR")
    line = export_line(1, first, [[wagner.start + 2, wagner.end + 2, "ACTOR"]])
    kwargs = dict(annotator="ann", confirmed_ids=set(), articles=corpus_articles, schema=schema)
    old, _, _ = records_from_export([line], origin={"server": "http://127.0.0.1:8001", "project": "p",
                                                    "pulled_at": "T1"}, previous={}, **kwargs)  # type: ignore[arg-type]
    new, _, _ = records_from_export([line], origin={"server": "http://127.0.0.1:8002", "project": "p",
                                                    "pulled_at": "T2"},
                                    previous={first.id: old[0]}, **kwargs)  # type: ignore[arg-type]
    assert new[0] is old[0], "the same record on disk: reported unchanged, file bytes untouched"
    moved, _, _ = records_from_export([line], origin={"server": "https://doccano.example.org", "project": "p",
                                                      "pulled_at": "T2"},
                                      previous={first.id: old[0]}, **kwargs)  # type: ignore[arg-type]
    assert moved[0] is not old[0], "another server is a real change"
