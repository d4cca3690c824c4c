"""doccano push/pull: planning and conversion (no server), then the real thing against a real doccano."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.corpus import Corpus
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
from newsner.errors import AnnotationError, InputError
from newsner.schema import AnnotationRecord, Article, LabelSchema, Span, load_label_schema

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


def test_import_file_has_a_label_column_even_without_annotations_and_skips_null_meta() -> None:
    articles = make_articles(SEED_LIKE)
    data = build_import_jsonl(articles, {})
    lines = [json.loads(x) for x in data.decode("ascii").splitlines()]
    assert len(lines) == len(articles)
    assert all(x["label"] == [] for x in lines)
    assert "published" not in lines[1]
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
