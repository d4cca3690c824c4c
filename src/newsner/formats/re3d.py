"""Dstl re3d: ``documents.json`` + ``entities.json`` (one JSON object a line in each, despite the suffix).

A document is ``{"_id", "text", "title", "sourceName", "sourceUrl", ...}``; an entity is ``{"_id", "begin",
"end", "type", "value", "documentId", "confidence"}`` with code-point offsets into the document text.

Policy (what happens to re3d's known irregularities; every case is reported, none is silent):

- **value ≠ text at the offsets** (e.g. ``'J.D.'`` stored for ``“J.D.”`` in the text, or a value that joins two
  lines): the entity is *skipped and listed* (document, offsets, stored value, text found). The text is the
  authority for offsets; guessing which of the two the annotator meant would invent data.
- **confidence** is re3d's IBCC posterior that the annotation is right. Entities below ``min_confidence``
  (default 0.5) are skipped and counted; those at or above it but below 1 are imported and counted.
- **nested and overlapping entities** are imported as they are (the record keeps what the annotators said) and
  counted here; export resolves them with its overlap policy (longer span wins) and names every dropped one.
- an entity naming an unknown document, or one that cannot be read, rejects with ``entities.json:line``.

Labels are re3d's types (Organisation, Location, Person, ...); map them with ``--map``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from newsner.errors import FormatError
from newsner.formats import ParsedDoc, Rejected, SkippedSpan, SourceSpan

DEFAULT_MIN_CONFIDENCE = 0.5


def re3d_sources(path: Path) -> list[tuple[Path, Path]]:
    """(documents.json, entities.json) pairs for a folder (searched recursively) or either file."""
    if path.is_file():
        folder = path.parent
        pairs = [(folder / "documents.json", folder / "entities.json")]
    elif path.is_dir():
        pairs = [(d, d.parent / "entities.json") for d in sorted(path.rglob("documents.json"))]
        if not pairs:
            raise FormatError(f"{path}: no re3d documents.json in this folder")
    else:
        raise FormatError(f"{path}: no such file or folder")
    for docs, ents in pairs:
        for p in (docs, ents):
            if not p.is_file():
                raise FormatError(f"{p}: missing; re3d needs documents.json and entities.json side by side")
    return pairs


def _objects(path: Path) -> Iterator[tuple[int, Any] | Rejected]:
    data = path.read_bytes()
    stripped = data.lstrip()
    if stripped.startswith(b"["):
        try:
            items = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            yield Rejected(str(path), f"not valid JSON ({exc})")
            return
        yield from enumerate(items, start=1)
        return
    for lineno, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield lineno, orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield Rejected(f"{path}:{lineno}", f"not valid JSON ({exc})")


def read_re3d(path: Path, *, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> Iterator[ParsedDoc | Rejected]:
    """Yield a ParsedDoc per re3d document (with skipped entities attached) and Rejected items."""
    if not 0.0 <= min_confidence <= 1.0:
        raise FormatError(f"--min-confidence must be between 0 and 1, got {min_confidence}")
    for docs_path, ents_path in re3d_sources(path):
        yield from _read_pair(docs_path, ents_path, min_confidence)


def _read_pair(docs_path: Path, ents_path: Path, min_confidence: float) -> Iterator[ParsedDoc | Rejected]:
    documents: dict[str, tuple[int, dict[str, Any]]] = {}
    for item in _objects(docs_path):
        if isinstance(item, Rejected):
            yield item
            continue
        lineno, obj = item
        if not (isinstance(obj, dict) and isinstance(obj.get("_id"), str) and isinstance(obj.get("text"), str)
                and obj["text"].strip()):
            yield Rejected(f"{docs_path}:{lineno}", "a re3d document needs '_id' and non-empty 'text'")
            continue
        documents[obj["_id"]] = (lineno, obj)

    entities: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    broken: dict[str, Rejected] = {}
    for item in _objects(ents_path):
        if isinstance(item, Rejected):
            yield item
            continue
        lineno, obj = item
        where = f"{ents_path}:{lineno}"
        problem = _entity_problem(obj)
        doc_id = obj.get("documentId") if isinstance(obj, dict) else None
        if problem is None and doc_id not in documents:
            problem = f"documentId {doc_id!r} is not in {docs_path.name}"
        if problem:
            if isinstance(doc_id, str) and doc_id in documents:
                # Importing the other entities would silently make this one "no entity": reject the document.
                broken.setdefault(doc_id, Rejected(where, f"{problem}; document {doc_id} is not imported"))
            else:
                yield Rejected(where, problem)
            continue
        entities.setdefault(str(doc_id), []).append((lineno, obj))

    for doc_id, (lineno, doc) in documents.items():
        if doc_id in broken:
            yield broken[doc_id]
            continue
        yield _document(doc_id, lineno, doc, entities.get(doc_id, []), docs_path, ents_path, min_confidence)


def _entity_problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {type(obj).__name__}"
    for key in ("begin", "end"):
        if not isinstance(obj.get(key), int) or isinstance(obj.get(key), bool):
            return f"entity field '{key}' must be an integer"
    if not isinstance(obj.get("type"), str) or not obj["type"]:
        return "entity field 'type' must be a label name"
    if not isinstance(obj.get("documentId"), str):
        return "entity field 'documentId' is missing"
    conf = obj.get("confidence", 1)
    if not isinstance(conf, int | float) or isinstance(conf, bool):
        return f"entity field 'confidence' must be a number, got {conf!r}"
    return None


def _document(doc_id: str, lineno: int, doc: dict[str, Any], ents: list[tuple[int, dict[str, Any]]],
              docs_path: Path, ents_path: Path, min_confidence: float) -> ParsedDoc:
    text: str = doc["text"]
    spans: list[SourceSpan] = []
    skipped: list[SkippedSpan] = []
    below_one = 0
    seen: set[tuple[int, int, str]] = set()
    for ent_line, ent in ents:
        where = f"{ents_path}:{ent_line}"
        start, end, label = ent["begin"], ent["end"], ent["type"]
        value = ent.get("value")
        conf = float(ent.get("confidence", 1))
        if not 0 <= start < end <= len(text):
            skipped.append(SkippedSpan(where, label, start, end, str(value),
                                       f"offsets outside the text of document {doc_id} (length {len(text)})"))
            continue
        found = text[start:end]
        if isinstance(value, str) and value != found:
            skipped.append(SkippedSpan(where, label, start, end, value,
                                       f"stored value does not match the text at its offsets ({found!r})"))
            continue
        if conf < min_confidence:
            skipped.append(SkippedSpan(where, label, start, end, found,
                                       f"confidence {conf:g} below --min-confidence {min_confidence:g}"))
            continue
        if (start, end, label) in seen:
            continue
        seen.add((start, end, label))
        if conf < 1:
            below_one += 1
        spans.append(SourceSpan(start, end, label, {"confidence": conf} if conf < 1 else {}))
    spans.sort(key=lambda s: (s.start, s.end, s.label))
    notes: list[str] = []
    if below_one:
        notes.append(f"{below_one} entity(ies) imported with confidence below 1")
    overlaps = _count_overlaps(spans)
    if overlaps:
        notes.append(f"{overlaps} nested/overlapping entity pair(s) kept (export keeps the longer of each)")
    fields: dict[str, Any] = {"language": "en",
                              "meta": {"re3d": {"id": doc_id, "source": str(docs_path.parent.name)}}}
    if isinstance(doc.get("title"), str) and doc["title"]:
        fields["title"] = doc["title"]
    if isinstance(doc.get("sourceUrl"), str) and doc["sourceUrl"]:
        fields["url"] = doc["sourceUrl"]
    if isinstance(doc.get("sourceName"), str) and doc["sourceName"]:
        fields["source"] = doc["sourceName"]
    origin = {"format": "re3d", "file": str(docs_path), "line": lineno, "re3d_id": doc_id}
    return ParsedDoc(where=f"{docs_path}:{lineno}", text=text, spans=spans, fields=fields, origin=origin,
                     skipped=skipped, notes=notes)


def _count_overlaps(spans: list[SourceSpan]) -> int:
    """Pairs of spans that share at least one character (spans sorted by start)."""
    count = 0
    for i, a in enumerate(spans):
        for b in spans[i + 1:]:
            if b.start >= a.end:
                break
            count += 1
    return count
