from __future__ import annotations

from pathlib import Path

import pytest

from newsner.annotations.store import AnnotationStore, layer_filename
from newsner.errors import FormatError, InputError
from newsner.schema import AnnotationRecord, Span, text_sha256


def _rec(doc: str, annotator: str = "alice", label: str = "ACTOR") -> AnnotationRecord:
    return AnnotationRecord(doc_id=doc, text_sha256=text_sha256(doc), annotator=annotator,
                            spans=[Span(0, 1, label, doc[0])])


def test_upsert_keeps_other_documents_and_is_byte_stable(tmp_path: Path) -> None:
    store = AnnotationStore(tmp_path)
    assert store.upsert("alice", [_rec("b"), _rec("a")]).added == 2
    first = store.path("alice").read_bytes()
    again = store.upsert("alice", [_rec("a")])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    assert store.path("alice").read_bytes() == first
    changed = store.upsert("alice", [_rec("a", label="LOCATION")])
    assert changed.updated == 1
    assert [r.doc_id for r in store.read("alice")] == ["a", "b"]
    assert store.layers() == ["alice"]


def test_layer_names_are_file_safe() -> None:
    assert layer_filename("ann@example.org") == "ann_example.org.jsonl"
    with pytest.raises(InputError):
        layer_filename("labels")
    with pytest.raises(InputError):
        layer_filename("  ")


def test_corrupt_layer_names_file_and_line(tmp_path: Path) -> None:
    store = AnnotationStore(tmp_path)
    store.write_layer("bob", [_rec("a", "bob")])
    store.path("bob").write_text(store.path("bob").read_text() + '{"doc_id": "x"}\n')
    with pytest.raises(FormatError, match=r"bob.jsonl:2"):
        store.load("bob")
    with pytest.raises(InputError, match="no annotation layer 'carol'"):
        list(store.read("carol"))


def test_a_writer_that_read_before_another_wrote_refuses_instead_of_losing_records(tmp_path: Path) -> None:
    """What `doccano pull` does (load early, write late) must not drop an import that landed in between."""
    from newsner.annotations.store import AnnotationStore
    from newsner.errors import AnnotationError
    from newsner.schema import AnnotationRecord

    def rec(doc_id: str) -> AnnotationRecord:
        return AnnotationRecord(doc_id=doc_id, text_sha256="0" * 64, annotator="alice", spans=[])

    slow, fast = AnnotationStore(tmp_path), AnnotationStore(tmp_path)
    slow.upsert("alice", [rec("a")])
    previous = slow.load("alice")
    fast.upsert("alice", [rec("b")])  # lands while the slow writer works
    with pytest.raises(AnnotationError, match="changed by another newsner command"):
        slow.write_layer("alice", [*previous.values(), rec("c")])
    assert set(fast.load("alice")) == {"a", "b"}
    merged = slow.load("alice")  # reading again makes the write go through
    slow.write_layer("alice", [*merged.values(), rec("c")])
    assert set(fast.load("alice")) == {"a", "b", "c"}


def test_the_rounds_file_is_not_an_annotation_layer(tmp_path: Path) -> None:
    """annotations/rounds.jsonl (selection rounds) sits beside the layers; agreement/adjudicate must not read it."""
    from newsner.annotations.store import AnnotationStore
    from newsner.errors import InputError
    from newsner.schema import AnnotationRecord

    store = AnnotationStore(tmp_path)
    store.upsert("alice", [AnnotationRecord(doc_id="a", text_sha256="0" * 64, annotator="alice")])
    (tmp_path / "rounds.jsonl").write_text('{"round": 1, "strategy": "random", "doc_ids": ["a"]}\n')
    assert store.layers() == ["alice"]
    with pytest.raises(InputError, match="rounds"):
        store.path("rounds")
