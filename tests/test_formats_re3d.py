"""re3d documents.json + entities.json: nested spans, confidence, values that do not match the text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsner.errors import FormatError
from newsner.formats import ParsedDoc, Rejected
from newsner.formats.re3d import read_re3d


def _read(path: Path, **kw) -> tuple[list[ParsedDoc], list[Rejected]]:  # type: ignore[no-untyped-def]
    items = list(read_re3d(path, **kw))
    return [i for i in items if isinstance(i, ParsedDoc)], [i for i in items if isinstance(i, Rejected)]


def test_every_entity_is_imported_or_skipped_with_a_reason(shared_data: Path) -> None:
    docs, rejected = _read(shared_data / "re3d/CENTCOM")
    assert not rejected and len(docs) == 23
    entities = sum(1 for line in (shared_data / "re3d/CENTCOM/entities.json").read_text().splitlines()
                   if line.strip())
    kept = sum(len(d.spans) for d in docs)
    skipped = sum(len(d.skipped) for d in docs)
    duplicates = entities - kept - skipped
    assert duplicates >= 0 and kept > 0 and skipped > 0
    for d in docs:
        for s in d.spans:
            assert 0 <= s.start < s.end <= len(d.text)


def test_value_mismatch_is_skipped_and_named(shared_data: Path) -> None:
    docs, _ = _read(shared_data / "re3d/CENTCOM")
    mismatched = [s for d in docs for s in d.skipped if "does not match" in s.reason]
    assert len(mismatched) == 3
    dorrian = next(s for s in mismatched if "Dorrian" in s.text)
    assert dorrian.text == "Col. John 'J.D.' Dorrian" and "“J.D.”" in dorrian.reason
    assert dorrian.where.endswith("entities.json:433")


def test_confidence_threshold(shared_data: Path) -> None:
    docs, _ = _read(shared_data / "re3d/US_State_Department")
    low = [s for d in docs for s in d.skipped if "confidence" in s.reason]
    kept_below_one = [s for d in docs for s in d.spans if s.extra.get("confidence", 1) < 1]
    assert low and kept_below_one
    assert all(s.extra["confidence"] >= 0.5 for s in kept_below_one)
    everything, _ = _read(shared_data / "re3d/US_State_Department", min_confidence=0.0)
    assert sum(len(d.spans) for d in everything) > sum(len(d.spans) for d in docs)


def test_nested_entities_are_kept_and_counted(shared_data: Path) -> None:
    docs, _ = _read(shared_data / "re3d/CENTCOM", min_confidence=0.0)
    doc = next(d for d in docs if d.origin["re3d_id"] == "001C9C3F3DFE16B4921B1E906F66E161")
    texts = {(doc.text[s.start:s.end], s.label) for s in doc.spans}
    assert {("the Kurdish YPG", "Organisation"), ("Kurdish", "Nationality")} <= texts
    assert any("nested/overlapping" in n for n in doc.notes)
    assert doc.fields["source"] == "CENTCOM" and doc.fields["url"].startswith("http")


def test_folder_of_sources_and_broken_entity(tmp_path: Path) -> None:
    src = tmp_path / "re3d" / "Mine"
    src.mkdir(parents=True)
    (src / "documents.json").write_text(json.dumps({"_id": "D1", "text": "Rebels took Gao.", "title": "t"}) + "\n"
                                        + json.dumps({"_id": "D2", "text": "Army left Kidal."}) + "\n")
    (src / "entities.json").write_text("\n".join([
        json.dumps({"begin": 12, "end": 15, "type": "Location", "value": "Gao", "documentId": "D1",
                    "confidence": 1}),
        json.dumps({"begin": "x", "end": 16, "type": "Location", "value": "Kidal", "documentId": "D2"}),
        json.dumps({"begin": 0, "end": 4, "type": "Location", "value": "Army", "documentId": "D9"}),
    ]) + "\n")
    docs, rejected = _read(tmp_path / "re3d")
    assert [d.origin["re3d_id"] for d in docs] == ["D1"]
    assert sorted(r.where.rsplit(":", 1)[1] for r in rejected) == ["2", "3"]
    assert any("document D2 is not imported" in r.message for r in rejected)
    assert any("'D9' is not in documents.json" in r.message for r in rejected)


def test_missing_entities_file(tmp_path: Path) -> None:
    (tmp_path / "documents.json").write_text("{}\n")
    with pytest.raises(FormatError, match="entities.json: missing"):
        list(read_re3d(tmp_path))
