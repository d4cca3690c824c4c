"""The records to export: an index of a layer file, and the spans of an article from one layer or a vote."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from newsner.annotations import MAJORITY, annotator_layers, majority_vote
from newsner.annotations.store import NOT_LAYERS, AnnotationStore
from newsner.errors import ExportError, NewsnerError
from newsner.schema import AnnotationRecord, Article
from newsner.workspace import Workspace

_RECORD_HEAD = re.compile(rb'^\{"doc_id":"([0-9a-f]+)","text_sha256":"([0-9a-f]+)","annotator":"((?:[^"\\]|\\.)*)",')
#: JSONL files in annotations/ that are not annotation layers.
_RECORD_LABEL = re.compile(rb'"label":"((?:[^"\\]|\\.)*)"')
_RECORD_STATUS = re.compile(rb'"status":"(confirmed|unconfirmed)","origin":')


class LayerIndex:
    """doc_id → (offset, length) of its line in one layer file; records are read on demand."""

    def __init__(self, path: Path, *, include_unconfirmed: bool) -> None:
        self.path = path
        self.where: dict[str, tuple[int, int]] = {}
        self.unconfirmed = 0
        self.annotators: Counter[str] = Counter()
        offset = 0
        with open(path, "rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if raw.strip():
                    doc_id, status, annotator = self._head(raw, path, lineno)
                    if status == "confirmed" or include_unconfirmed:
                        self.where[doc_id] = (offset, len(raw))
                        self.annotators[annotator] += 1
                    else:
                        self.unconfirmed += 1
                offset += len(raw)
        self._fh: IO[bytes] = open(path, "rb")

    @staticmethod
    def _head(raw: bytes, path: Path, lineno: int) -> tuple[str, str, str]:
        """(doc_id, status, annotator) of one record line.

        `AnnotationStore` writes ``{"doc_id":..,"text_sha256":..,"annotator":..,"spans":[..],"status":..``
        in that order, so the fields are read from the start and the end of the line without parsing the
        spans; any other layout is parsed in full.
        """
        head = _RECORD_HEAD.match(raw)
        tail = _RECORD_STATUS.search(raw, max(0, len(raw) - 200))
        if head and tail:
            return head.group(1).decode(), tail.group(1).decode(), str(orjson.loads(b'"' + head.group(3) + b'"'))
        try:
            obj = orjson.loads(raw)
            return str(obj["doc_id"]), str(obj.get("status", "unconfirmed")), str(obj.get("annotator", path.stem))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise ExportError(f"{path}:{lineno}: not a valid annotation record; run "
                              "`newsner annotations validate`") from None

    def get_bytes(self, doc_id: str) -> bytes | None:
        """The record's line as stored."""
        loc = self.where.get(doc_id)
        if loc is None:
            return None
        self._fh.seek(loc[0])
        return self._fh.read(loc[1])

    def get_raw(self, doc_id: str) -> dict[str, Any] | None:
        """The record's JSON object, unvalidated (export checks each span against the text itself)."""
        raw = self.get_bytes(doc_id)
        if raw is None:
            return None
        obj: dict[str, Any] = orjson.loads(raw)
        return obj

    def get(self, doc_id: str) -> AnnotationRecord | None:
        obj = self.get_raw(doc_id)
        return None if obj is None else AnnotationRecord.from_dict(obj, where=f"{self.path}: document {doc_id}")

    def close(self) -> None:
        self._fh.close()


class RecordSource:
    """The spans to export for an article, from one layer or the majority of the annotator layers."""

    def __init__(self, workspace: Workspace, layer: str, *, include_unconfirmed: bool, labels: Sequence[str],
                 min_votes: int | None) -> None:
        store = AnnotationStore(workspace.annotations_dir)
        self.layer = layer
        self.labels = list(labels)
        self.min_votes = min_votes
        if layer == MAJORITY:
            # rounds.jsonl (`doccano push --select`) sits beside the layers but is not one.
            names = [n for n in annotator_layers(store) if n not in NOT_LAYERS]
            if not names:
                raise ExportError("--layer majority: no annotator layers in annotations/ (pull or import first)")
        else:
            if not store.path(layer).exists():
                raise ExportError(f"{store.path(layer)}: no annotation layer {layer!r} (layers here: "
                                  f"{', '.join(store.layers()) or 'none'}); pull, import or adjudicate first")
            names = [layer]
        self.layer_names = names
        self.indexes = [LayerIndex(store.path(n), include_unconfirmed=include_unconfirmed) for n in names]
        self.wanted: set[str] = set().union(*(ix.where.keys() for ix in self.indexes))
        self.unconfirmed = sum(ix.unconfirmed for ix in self.indexes)
        self.annotators: Counter[str] = Counter()
        for ix in self.indexes:
            self.annotators.update(ix.annotators)
        self.vote_notes: Counter[str] = Counter()
        #: The relations that won the vote, per article, until `relations_for` hands them to the export.
        self._vote_relations: dict[str, list[tuple[int, int, str]]] = {}

    def spans_for(self, article: Article) -> tuple[list[tuple[int, int, str, str]] | bytes | None, str | None]:
        """(spans, None) or (None, why the article's records cannot be used).

        Spans are (start, end, label, text) tuples, or — for one layer in AnnotationStore's layout — the
        record line itself, parsed by the worker that aligns it (less work here, less to send to workers).
        """
        stale = "the record was made on another version of the article text (text_sha256 differs)"
        if self.layer != MAJORITY:
            raw = self.indexes[0].get_bytes(article.id)
            head = _RECORD_HEAD.match(raw) if raw is not None else None
            if raw is not None and head is not None:
                return (raw, None) if head.group(2).decode() == article.text_sha256 else (None, stale)
            # Any other layout: plain tuples from the JSON; alignment checks every span against the text.
            obj = self.indexes[0].get_raw(article.id)
            if obj is None or obj.get("text_sha256") != article.text_sha256:
                return None, stale
            try:
                return [(s["start"], s["end"], s["label"], s.get("text", "")) for s in obj.get("spans", [])], None
            except (KeyError, TypeError):
                return None, f"unreadable record in {self.indexes[0].path}; run `newsner annotations validate`"
        records = [r for r in (ix.get(article.id) for ix in self.indexes) if r is not None]
        current = [r for r in records if r.text_sha256 == article.text_sha256]
        if not current:
            return None, stale
        vote = majority_vote(current, label_order=self.labels, min_votes=self.min_votes)
        self.vote_notes["documents"] += 1
        self.vote_notes["below_threshold"] += len(vote.below_threshold)
        self.vote_notes["overlap_dropped"] += len(vote.overlap_dropped)
        self._vote_relations[article.id] = [(r.head, r.tail, r.type) for r in vote.relations]
        return [(s.start, s.end, s.label, s.text) for s in vote.spans], None

    def relations_for(self, doc_id: str) -> list[tuple[int, int, str]]:
        """(head, tail, type) of a single layer's record in another layout than AnnotationStore's (the line
        itself carries them otherwise), or those that won the majority vote (`spans_for` ran the vote)."""
        if self.layer == MAJORITY:
            return self._vote_relations.pop(doc_id, [])
        obj = self.indexes[0].get_raw(doc_id) or {}
        try:
            return [(int(r["head"]), int(r["tail"]), str(r["type"])) for r in obj.get("relations") or []]
        except (KeyError, TypeError, ValueError):
            return []

    def labels_of(self, doc_id: str, text_sha256: str | None) -> frozenset[str]:
        """The labels an article's spans carry (what `plan_splits` needs), without aligning anything.

        Empty when the record is stale (it will be skipped) or unreadable (the export reports it).
        """
        if self.layer != MAJORITY:
            raw = self.indexes[0].get_bytes(doc_id)
            if raw is None:
                return frozenset()
            head = _RECORD_HEAD.match(raw)
            if head is not None:
                if text_sha256 is not None and head.group(2).decode() != text_sha256:
                    return frozenset()
                # a few distinct labels among many spans: decode each once
                return frozenset(m.decode() if b"\\" not in m else str(orjson.loads(b'"' + m + b'"'))
                                 for m in set(_RECORD_LABEL.findall(raw)))
            try:
                obj = orjson.loads(raw)
                if text_sha256 is not None and obj.get("text_sha256") != text_sha256:
                    return frozenset()
                return frozenset(str(s["label"]) for s in obj.get("spans", []))
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
                return frozenset()
        try:
            records = [r for r in (ix.get(doc_id) for ix in self.indexes) if r is not None]
        except NewsnerError:
            return frozenset()
        current = [r for r in records if text_sha256 is None or r.text_sha256 == text_sha256]
        if not current:
            return frozenset()
        vote = majority_vote(current, label_order=self.labels, min_votes=self.min_votes)
        return frozenset(s.label for s in vote.spans)

    def close(self) -> None:
        for ix in self.indexes:
            ix.close()
