"""The annotation store: one JSONL file per layer under annotations/.

A layer is one annotator's work (`annotations/alice.jsonl`) or the adjudicated `gold` layer
(`annotations/gold.jsonl`). Each file holds at most one AnnotationRecord per document, sorted by doc_id, so
writing the same records twice produces the same bytes (pull twice → identical files).

Every read-modify-write of a layer holds that layer's lock (`AnnotationStore.lock`: an fcntl lock on
``annotations/.<layer>.jsonl.lock``, like the corpus's ``.lock``), so two imports, a pull and an adjudication
into one layer at once never lose each other's records: the second waits, then reads what the first wrote.
The lock is re-entrant within a process (`upsert` inside a caller's `lock` does not wait for itself).

A caller that loads a layer without the lock and writes it later (a pull that reads while doccano exports) is
still safe: `load` remembers which version of the file it read, and `write_layer` refuses (AnnotationError,
nothing written) when another writer replaced the file in between, instead of silently dropping that writer's
records.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from newsner._io import dumps, flock_wait, read_jsonl, write_jsonl
from newsner.errors import AnnotationError, FormatError, InputError, SchemaError, WorkspaceError
from newsner.schema import AnnotationRecord
from newsner.workspace import ensure_writable_dir

GOLD = "gold"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: Files in annotations/ that are not annotation layers: the recorded selection rounds (annotations/rounds.jsonl).
NOT_LAYERS = ("rounds",)
# Locks this process holds: lock path → (fd, depth). flock is per open file, so a second open of the same lock
# file in one process would wait for itself; the table makes the lock re-entrant instead.
_HELD: dict[Path, list[int]] = {}
_HELD_GUARD = threading.RLock()


def layer_filename(layer: str) -> str:
    """File name for a layer; characters unsafe in file names become '_' (the record keeps the real name)."""
    if not layer or not layer.strip():
        raise InputError("an annotation layer (annotator name) must not be empty")
    safe = _SAFE.sub("_", layer.strip()).strip(".")
    if not safe or safe == "labels" or safe in NOT_LAYERS:
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
        #: layer → the file version `load` read ((inode, mtime, size), or None when the layer did not exist).
        self._seen: dict[str, tuple[int, int, int] | None] = {}

    def _version(self, layer: str) -> tuple[int, int, int] | None:
        try:
            st = self.path(layer).stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def path(self, layer: str) -> Path:
        return self.root / layer_filename(layer)

    def check_writable(self) -> None:
        """Raise AnnotationError (one clear line) unless layers can be written here; writes nothing."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise AnnotationError(f"{root} is a file, not a folder; move it away so annotation layers can be "
                                  "written there")
        # The first folder that exists on the way up decides: a workspace that does not exist yet is created.
        try:
            ensure_writable_dir(root, "annotation layers")
        except WorkspaceError as exc:
            raise AnnotationError(str(exc)) from None

    @contextlib.contextmanager
    def lock(self, layer: str, *, timeout: float = 120.0) -> Iterator[None]:
        """Hold `layer`'s write lock for a read-modify-write; waits up to `timeout` s for another writer."""
        self.check_writable()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AnnotationError(f"{self.root}: cannot create the annotations folder ({exc.strerror})") from None
        if self.path(layer).is_dir():
            raise AnnotationError(f"{self.path(layer)} is a folder, not a layer file; move it away")
        path = self.root / f".{layer_filename(layer)}.lock"
        with _HELD_GUARD:
            held = _HELD.get(path)
            if held is not None:
                held[1] += 1
        if held is not None:
            try:
                yield
            finally:
                with _HELD_GUARD:
                    held[1] -= 1
            return
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise AnnotationError(f"{path}: cannot create the layer lock ({exc.strerror})") from None
        try:
            flock_wait(fd, timeout, lambda: AnnotationError(
                f"{self.path(layer)}: another newsner process is writing this layer (waited {timeout:.0f} s); "
                "try again when it has finished"), poll=0.02)
            with _HELD_GUARD:
                _HELD[path] = [fd, 1]
            try:
                yield
            finally:
                with _HELD_GUARD:
                    del _HELD[path]
        finally:
            os.close(fd)  # closing releases the flock

    def layers(self) -> list[str]:
        """Layer names present on disk (file stems), sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.jsonl")
                      if not p.name.startswith(".") and p.stem not in NOT_LAYERS)

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
        self._seen[layer] = self._version(layer)  # before reading: a replacement meanwhile shows at write time
        if self._seen[layer] is None:
            return {}
        out: dict[str, AnnotationRecord] = {}
        for rec in self.read(layer):
            out[rec.doc_id] = rec
        return out

    def write_layer(self, layer: str, records: Iterable[AnnotationRecord]) -> int:
        """Replace a layer with `records` (one per document), atomically, sorted by doc_id.

        Holds the layer lock while writing; a caller that read the layer first must hold `lock` around both.
        """
        by_doc: dict[str, AnnotationRecord] = {}
        for rec in records:
            if rec.doc_id in by_doc:
                raise InputError(f"layer {layer!r}: two records for document {rec.doc_id}")
            by_doc[rec.doc_id] = rec
        with self.lock(layer):
            if layer in self._seen and self._version(layer) != self._seen[layer]:
                raise AnnotationError(f"{self.path(layer)} was changed by another newsner command (an import, pull "
                                      "or adjudication) while this one ran; nothing was written to it, so no record "
                                      "is lost: run this command again")
            try:
                n = write_jsonl(self.path(layer), (by_doc[d].to_dict() for d in sorted(by_doc)))
            except PermissionError as exc:
                raise AnnotationError(f"{self.path(layer)}: cannot write the layer ({exc.strerror})") from None
            self._seen[layer] = self._version(layer)
            return n

    def upsert(self, layer: str, records: Iterable[AnnotationRecord]) -> UpsertResult:
        """Add or replace records by doc_id in a layer (under its lock); other documents' records are kept."""
        with self.lock(layer):
            return self._upsert(layer, records)

    def _upsert(self, layer: str, records: Iterable[AnnotationRecord]) -> UpsertResult:
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
