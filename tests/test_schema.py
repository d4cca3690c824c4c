from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.errors import SchemaError
from newsner.schema import (
    DEFAULT_LABELS,
    AnnotationRecord,
    Article,
    LabelSchema,
    Span,
    article_id,
    default_label_schema_path,
    load_label_schema,
    text_sha256,
)


def test_article_id_is_derived_from_text_and_stable() -> None:
    a = Article.from_text("Mali's army retreated.")
    b = Article.from_text("Mali's army retreated.")
    assert a.id == b.id == article_id("Mali's army retreated.")
    assert a.text_sha256 == text_sha256("Mali's army retreated.")
    assert Article.from_text("Mali's army advanced.").id != a.id


def test_article_round_trips_and_rejects_edited_text() -> None:
    a = Article.from_text("Fighting in Kidal.", title="T", published="2024-07-27")
    assert Article.from_dict(a.to_dict()) == a
    bad = a.to_dict() | {"text": "Fighting in Gao."}
    with pytest.raises(SchemaError, match="text_sha256"):
        Article.from_dict(bad, where="corpus/x.jsonl:3")
    with pytest.raises(SchemaError, match="unknown field"):
        Article.from_dict(a.to_dict() | {"author": "x"})
    with pytest.raises(SchemaError, match="ISO date"):
        Article.from_dict(a.to_dict() | {"published": "27 July"})


def test_span_check_names_the_document() -> None:
    text = "At least 17 dead in Kidal."
    Span(0, 16, "CASUALTY", "At least 17 dead").check(text)
    with pytest.raises(SchemaError, match="doc1.*reads"):
        Span(0, 5, "CASUALTY", "At le!").check(text, where="doc1")
    with pytest.raises(SchemaError, match="outside the text"):
        Span(20, 99, "LOCATION", "Kidal").check(text)


def test_record_detects_other_text_version() -> None:
    rec = AnnotationRecord(doc_id="d", text_sha256=text_sha256("abc"), annotator="ann",
                           spans=[Span(0, 1, "ACTOR", "a")])
    rec.check("abc")
    with pytest.raises(SchemaError, match="another version"):
        rec.check("abd")
    assert AnnotationRecord.from_dict(rec.to_dict()) == rec


def test_shipped_schema_keeps_the_label_order() -> None:
    # The order fixes ClassLabel ids in every exported dataset: changing it breaks trained models.
    schema = load_label_schema(default_label_schema_path())
    assert tuple(schema.names) == DEFAULT_LABELS == ("ACTOR", "LOCATION", "CASUALTY", "CLAIM_SOURCE")
    assert schema.bio_tags()[:3] == ["O", "B-ACTOR", "I-ACTOR"]
    assert len({lb.shortcut for lb in schema.labels}) == 4
    repo_copy = Path(__file__).resolve().parents[1] / "annotations" / "labels.json"
    assert load_label_schema(repo_copy) == schema


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["labels"].append(dict(d["labels"][0])), "duplicate"),
        (lambda d: d["labels"][1].update(color="blue"), "colour"),
        (lambda d: d["labels"][1].update(shortcut="AB"), "shortcut"),
        (lambda d: d["labels"][2].update(shortcut="a"), "already used"),
        (lambda d: d["labels"][0].update(colour="#ffffff"), "unknown key"),
        (lambda d: d.update(extra=1), "unknown key"),
        (lambda d: d["labels"][0].update(name="actor"), "UPPER_CASE"),
        (lambda d: d.update(version="1"), "version"),
    ],
)
def test_bad_label_schema_names_the_field(mutate, message, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(default_label_schema_path().read_text())
    mutate(data)
    with pytest.raises(SchemaError, match=message):
        LabelSchema.from_dict(data)


def test_malformed_labels_json_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "labels.json"
    p.write_text('{"version": 1,\n "labels": [}\n')
    with pytest.raises(SchemaError, match=r"labels.json:2: not valid JSON"):
        load_label_schema(p)
