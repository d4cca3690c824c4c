"""The annotation store: one JSONL file per layer under annotations/.

A layer is one annotator's work (`annotations/alice.jsonl`) or the adjudicated `gold` layer
(`annotations/gold.jsonl`). Each file holds at most one AnnotationRecord per document, sorted by doc_id, so
writing the same records twice produces the same bytes (pull twice → identical files).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from newsner._io import dumps, read_jsonl, write_jsonl
from newsner.errors import FormatError, InputError, SchemaError
from newsner.schema import AnnotationRecord

GOLD = "gold"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def layer_filename(layer: str) -> str:
    """File name for a layer; characters unsafe in file names become '_' (the record keeps the real name)."""
    if not layer or not layer.strip():
        raise InputError("an annotation layer (annotator name) must not be empty")
    safe = _SAFE.sub("_", layer.strip()).strip(".")
    if not safe or safe == "labels":
        raise InputError(f"{layer!r} cannot be used as an annotator/layer name")
    return f"{safe}.jsonl"


@dataclass
class UpsertResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


class AnnotationStore:
    """annotations/<layer>.jsonl files; every write is atomic."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, layer: str) -> Path:
        return self.root / layer_filename(layer)

    def layers(self) -> list[str]:
        """Layer names present on disk (file stems), sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.jsonl") if not p.name.startswith("."))

    def read(self, layer: str) -> Iterator[AnnotationRecord]:
        path = self.path(layer)
        if not path.exists():
            raise InputError(f"{path}: no annotation layer {layer!r} (layers here: "
                             f"{', '.join(self.layers()) or 'none'})")
        try:
            for lineno, obj in read_jsonl(path):
                yield AnnotationRecord.from_dict(obj, where=f"{path}:{lineno}")
        except SchemaError as exc:
            raise FormatError(str(exc)) from None

    def load(self, layer: str) -> dict[str, AnnotationRecord]:
        """doc_id → record for one layer (empty when the layer does not exist yet)."""
        if not self.path(layer).exists():
            return {}
        out: dict[str, AnnotationRecord] = {}
        for rec in self.read(layer):
            out[rec.doc_id] = rec
        return out

    def write_layer(self, layer: str, records: Iterable[AnnotationRecord]) -> int:
        """Replace a layer with `records` (one per document), atomically, sorted by doc_id."""
        by_doc: dict[str, AnnotationRecord] = {}
        for rec in records:
            if rec.doc_id in by_doc:
                raise InputError(f"layer {layer!r}: two records for document {rec.doc_id}")
            by_doc[rec.doc_id] = rec
        return write_jsonl(self.path(layer), (by_doc[d].to_dict() for d in sorted(by_doc)))

    def upsert(self, layer: str, records: Iterable[AnnotationRecord]) -> UpsertResult:
        """Add or replace records by doc_id in a layer; other documents' records are kept."""
        current = self.load(layer)
        result = UpsertResult()
        for rec in records:
            old = current.get(rec.doc_id)
            if old is None:
                result.added += 1
            elif dumps(old.to_dict()) == dumps(rec.to_dict()):
                result.unchanged += 1
            else:
                result.updated += 1
            current[rec.doc_id] = rec
        if result.added or result.updated or not self.path(layer).exists():
            self.write_layer(layer, current.values())
        return result
