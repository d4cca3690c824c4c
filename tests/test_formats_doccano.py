"""doccano JSONL of every generation (../shared/data/doccano, doccano_transformer) → ParsedDoc / Rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsner.formats import ParsedDoc, Rejected, to_nfc
from newsner.formats.doccano import read_doccano

DATA = Path(__file__).parent / "data"


def _read(path: Path, **kw) -> tuple[list[ParsedDoc], list[Rejected]]:  # type: ignore[no-untyped-def]
    items = list(read_doccano(path, **kw))
    return [i for i in items if isinstance(i, ParsedDoc)], [i for i in items if isinstance(i, Rejected)]


def _spans(doc: ParsedDoc) -> list[tuple[str, str]]:
    return [(doc.text[s.start:s.end], s.label) for s in doc.spans]


@pytest.mark.parametrize("name", [
    "current/export_sequence_labeling_example.jsonl",         # "label": [[s, e, L]]
    "current/import_sequence_labeling_example_columns.jsonl",  # column_data / column_label
])
def test_label_and_column_generations(shared_data: Path, name: str) -> None:
    docs, rejected = _read(shared_data / "doccano" / name)
    assert not rejected
    assert _spans(docs[0])[0] == ("EU", "ORG")
    assert _spans(docs[1]) == [("Peter Blackburn", "PERSON")]
    assert _spans(docs[2]) == [("Obama", "PERSON")]


def test_2019_entities_and_labels_with_meta(shared_data: Path) -> None:
    docs, rejected = _read(shared_data / "doccano/legacy/2019_labeling_labels_meta.jsonl")
    assert not rejected
    assert _spans(docs[0]) == [("e", "LOC"), ("ex", "ORG")]  # overlapping spans are kept for export to resolve
    assert docs[0].fields["meta"]["doccano"]["meta"] == {"wikiPageID": 1}
    entities, _ = _read(shared_data / "doccano/legacy/2019_example.labeling_entities.jsonl")
    assert [_spans(d) for d in entities] == [[("e", "LOC"), ("ex", "ORG")], [("e", "LOC")], [("e", "PER")]]


def test_integer_label_ids_and_users_become_layers(shared_data: Path) -> None:
    docs, rejected = _read(shared_data / "doccano_transformer/labeling.jsonl")
    assert not rejected
    by = {(d.origin["example_id"], d.annotator): d for d in docs}
    assert set(by) == {(2578, "user1"), (2578, "user2"), (2580, "user2")}
    assert _spans(by[(2578, "user1")])[:2] == [("JAPAN", "12"), ("CHINA", "13")]
    assert _spans(by[(2580, "user2")])[0] == ("RUGBY UNION", "14")


def test_relation_export_imports_entities_and_relations(shared_data: Path) -> None:
    docs, rejected = _read(shared_data / "doccano/current/export_relation_extraction_example.json")
    assert not rejected
    assert _spans(docs[0]) == [("Google", "ORG"), ("September 4, 1998", "DATE"), ("Larry Page", "PERSON"),
                               ("Sergey Brin", "PERSON")]
    rels = {(docs[0].spans[h].label, kind, docs[0].spans[t].label) for h, t, kind in docs[0].relations}
    assert ("ORG", "foundedAt", "DATE") in rels and not docs[0].relation_problems


def test_exact_duplicate_spans_are_merged_and_noted(shared_data: Path) -> None:
    docs, _ = _read(shared_data / "doccano/current/tests_sequence_labeling_overlapping.jsonl")
    assert _spans(docs[0]) == [("e", "LOC")]
    assert docs[0].notes == ["1 exact duplicate span(s) merged"]


def test_broken_lines_are_rejected_one_by_one_and_the_rest_reads(shared_data: Path) -> None:
    docs, rejected = _read(shared_data / "doccano/current/tests_sequence_labeling_example.jsonl")
    assert [d.text for d in docs] == ["exampleA", "exampleB"]
    assert len(rejected) == 1 and rejected[0].where.endswith("tests_sequence_labeling_example.jsonl:3")
    assert "no 'text' field" in rejected[0].message

    docs, rejected = _read(shared_data / "doccano/legacy/2022_upload_sequence_labeling_labels_ellipsis.jsonl")
    assert len(docs) == 2 and rejected[0].where.endswith(":1") and "not valid JSON" in rejected[0].message

    # "EU rejects ..." was shortened after annotation: its spans run past the text.
    docs, rejected = _read(shared_data / "doccano/legacy/2021_download_sequence_labeling_labels_with_id.jsonl")
    assert len(docs) == 2
    assert rejected[0].where.endswith(":1") and "outside the text (length 14)" in rejected[0].message


def test_annotations_with_integer_labels_2022(shared_data: Path) -> None:
    docs, rejected = _read(shared_data / "doccano/legacy/2022_download_sequence_labeling_annotations.jsonl")
    assert not rejected
    assert [(_spans(d), d.annotator) for d in docs] == [
        ([("EU", "2")], "user1"), ([("Peter Blackburn", "1")], "user1"), ([("Obama", "1")], "user1")]


def test_utf16_offsets_from_the_web_ui_become_code_points() -> None:
    docs, rejected = _read(DATA / "doccano_astral.jsonl")
    assert _spans(docs[0]) == [("Kidal", "LOC"), ("5", "CASUALTY")]
    # the third line ends inside the helicopter emoji's surrogate pair: no browser selection can do that
    assert len(rejected) == 1 and rejected[0].where.endswith(":3") and "splits a character" in rejected[0].message
    as_codepoints, _ = _read(DATA / "doccano_astral.jsonl", offsets="codepoints")
    assert _spans(as_codepoints[0])[0] == ("idal ", "LOC")  # the wrong unit shifts the span by one


def test_nfc_normalization_moves_offsets() -> None:
    docs, _ = _read(DATA / "doccano_astral.jsonl")
    decomposed = docs[1]
    assert decomposed.text == "Cafe\u0301 attack in Gao"
    nfc = to_nfc(decomposed)
    assert isinstance(nfc, ParsedDoc)
    assert nfc.text == "Café attack in Gao"
    assert _spans(nfc) == [("Café", "LOC"), ("Gao", "LOC")]


def test_text_classification_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cats.jsonl"
    path.write_text('{"text": "Fighting in Gao", "label": ["conflict"]}\n')
    _, rejected = _read(path)
    assert "category names" in rejected[0].message
