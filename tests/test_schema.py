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


# ------------------------------------------------------------------------------------------ relations
from newsner.schema import Relation, check_relations, relation_problems  # noqa: E402


def _rel_record(relations: list[dict] | None = None) -> dict:  # type: ignore[type-arg]
    text = "At least 17 dead, a local politician said in Kidal."
    spans = [  # written out of order on purpose: indices refer to the sorted order
        {"start": 45, "end": 50, "label": "LOCATION", "text": "Kidal"},
        {"start": 0, "end": 16, "label": "CASUALTY", "text": "At least 17 dead"},
        {"start": 18, "end": 36, "label": "CLAIM_SOURCE", "text": "a local politician"},
    ]
    assert all(text[s["start"]:s["end"]] == s["text"] for s in spans)  # type: ignore[index,misc]
    out = {"doc_id": "d1", "text_sha256": text_sha256(text), "annotator": "alice", "spans": spans,
           "status": "confirmed", "origin": {}}
    if relations is not None:
        out["relations"] = relations
    return out


def test_shipped_schema_has_relation_types_with_guidelines() -> None:
    schema = load_label_schema(default_label_schema_path())
    assert schema.version == 2
    assert schema.relation_names[0] == "CLAIMED_BY"
    claimed = schema.relation("CLAIMED_BY")
    assert claimed.head == ("CASUALTY",) and claimed.tail == ("CLAIM_SOURCE",)
    assert set(schema.relation_names) == {"CLAIMED_BY", "VICTIM", "PERPETRATOR", "LOCATED_IN"}
    for rel in schema.relations:
        assert rel.description and rel.color.startswith("#")
    # to_dict → from_dict keeps the relation types
    assert LabelSchema.from_dict(schema.to_dict()) == schema
    with pytest.raises(SchemaError, match="not in the label schema"):
        schema.relation("NOPE")


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r[0].update(head=["NOPE"]), "'head' names NOPE"),
        (lambda r: r[0].update(tail=[]), "'tail' must be"),
        (lambda r: r[0].update(description=" "), "guideline line"),
        (lambda r: r[0].update(color="green"), "colour"),
        (lambda r: r[1].update(name="CLAIMED_BY"), "duplicate"),
        (lambda r: r[1].update(name="ACTOR"), "duplicate"),
        (lambda r: r[0].update(extra=1), "unknown key"),
    ],
)
def test_bad_relation_types_are_named(mutate, message) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(default_label_schema_path().read_text())
    mutate(data["relations"])
    with pytest.raises(SchemaError, match=message):
        LabelSchema.from_dict(data, where="labels.json")


def test_schema_without_relations_still_loads() -> None:
    data = json.loads(default_label_schema_path().read_text())
    del data["relations"]
    schema = LabelSchema.from_dict(data)
    assert schema.relations == () and "relations" not in schema.to_dict()


def test_record_without_relations_keeps_its_bytes() -> None:
    raw = _rel_record()
    rec = AnnotationRecord.from_dict(raw)
    assert rec.relations == [] and "relations" not in rec.to_dict()


def test_record_relations_round_trip_by_sorted_index() -> None:
    raw = _rel_record([{"head": 0, "tail": 1, "type": "CLAIMED_BY"}, {"head": 0, "tail": 2, "type": "LOCATED_IN"}])
    rec = AnnotationRecord.from_dict(raw)
    assert rec.relations == [Relation(0, 1, "CLAIMED_BY"), Relation(0, 2, "LOCATED_IN")]
    spans = rec.sorted_spans()
    assert (spans[0].label, spans[1].label, spans[2].label) == ("CASUALTY", "CLAIM_SOURCE", "LOCATION")
    out = rec.to_dict()
    assert out["relations"] == raw["relations"]
    assert AnnotationRecord.from_dict(out).to_dict() == out
    schema = load_label_schema(default_label_schema_path())
    assert relation_problems(rec, schema) == []
    check_relations(rec, schema)


def test_record_relation_out_of_range_or_malformed_names_the_record() -> None:
    with pytest.raises(SchemaError, match=r"gold.jsonl:4 relation 0: CLAIMED_BY links span 0 to span 3 .*3 span"):
        AnnotationRecord.from_dict(_rel_record([{"head": 0, "tail": 3, "type": "CLAIMED_BY"}]),
                                   where="gold.jsonl:4")
    with pytest.raises(SchemaError, match="'head' must be a span index"):
        AnnotationRecord.from_dict(_rel_record([{"head": "0", "tail": 1, "type": "CLAIMED_BY"}]))
    with pytest.raises(SchemaError, match="'type' must be"):
        AnnotationRecord.from_dict(_rel_record([{"head": 0, "tail": 1}]))
    with pytest.raises(SchemaError, match="'relations' must be a list"):
        AnnotationRecord.from_dict(_rel_record({"head": 0}))  # type: ignore[arg-type]


def test_relation_problems_check_types_and_labels_by_document() -> None:
    schema = load_label_schema(default_label_schema_path())
    rec = AnnotationRecord.from_dict(_rel_record([
        {"head": 1, "tail": 0, "type": "CLAIMED_BY"},   # reversed: head is CLAIM_SOURCE
        {"head": 0, "tail": 2, "type": "SAID_IN"},      # unknown type
        {"head": 0, "tail": 0, "type": "LOCATED_IN"},   # self-link, tail not LOCATION
    ]))
    problems = relation_problems(rec, schema)
    assert all(p.startswith("document d1 (alice): relation") for p in problems)
    text = "\n".join(problems)
    assert "head 'a local politician' is CLAIM_SOURCE, CLAIMED_BY needs CASUALTY" in text
    assert "tail 'At least 17 dead' is CASUALTY, CLAIMED_BY needs CLAIM_SOURCE" in text
    assert "SAID_IN 0->2: type not in the label schema" in text
    assert "links a span to itself" in text
    with pytest.raises(SchemaError, match=r"document d1 .* \(and \d+ more\)"):
        check_relations(rec, schema)
    # AnnotationRecord.check catches indices that went stale after spans were removed in memory
    rec.spans = rec.spans[:1]
    with pytest.raises(SchemaError, match="has 1 span"):
        rec.check("At least 17 dead, a local politician said in Kidal.")
