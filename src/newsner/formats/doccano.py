"""doccano JSONL, every generation, and doccano-transformer's inputs.

One JSON object a line. Recognised shapes (the text is under `text`, or `data` / `column_data` for files made
with doccano's column options):

- ``"label": [[start, end, "LABEL"], ...]`` (doccano ≥ 1.x export, import format)
- ``"labels": [[start, end, "LABEL"], ...]`` (2019-2022 exports, doccano-transformer ``labeling_text_label``)
- ``"entities": [[start, end, "LABEL"], ...]`` (2019) or ``"entities": [{"start_offset", "end_offset",
  "label"}, ...]`` with ``"relations": [{"id", "from_id", "to_id", "type"}, ...]`` (doccano's relation
  exports): relations are read with `newsner.annotations.relations.from_doccano`; one that points at an entity
  that is not there (or is malformed) is reported by ``file:line`` and not kept
- ``"annotations": [{"label": 12, "start_offset", "end_offset", "user": 1}, ...]`` (1.x per-user exports,
  doccano-transformer ``labeling``): integer label ids become the labels ``"12"`` (map them with
  ``--map 12=LOCATION``) and each user becomes its own layer ``user1``, ``user2``.
- ``"column_label"`` next to ``"column_data"``.

Offsets: doccano's web UI stores UTF-16 code units, a Python script writes code points, and doccano projects in
``grapheme_mode`` count grapheme clusters (see `newsner.text.offsets`). The units differ only after an emoji, a flag or
a letter with a combining mark, so `detect_offset_unit` decides per file from the spans whose meaning depends on
the unit: under the right unit they start and end on token boundaries (and match their ``text`` when the file
gives it). The importer uses the detected unit (``offsets="auto"``, the default), says which, and fails when two
units fit equally well or none fits.

spaCy v2 training JSON (``paragraphs`` / ``sentences`` / ``tokens``) shares the ``.json`` suffix; it is recognised
and read by `newsner.formats.spacy_v2`.

Policy for bad lines: a line that is not JSON, has no text, has a span outside the text or with a bad shape is
rejected as a whole (one `Rejected` naming ``file:line`` and the problem) — importing the other spans of that
document would silently turn the missing ones into "no entity". The rest of the file still imports. Exact
duplicate spans (same offsets and label, e.g. doccano's overlapping-spans fixture) are merged and noted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from newsner.errors import AnnotationError, FormatError
from newsner.formats import ParsedDoc, Rejected, SourceSpan
from newsner.text.offsets import UNITS, UnitConverter

TEXT_KEYS = ("text", "data", "column_data")
SPAN_KEYS = ("label", "labels", "entities", "annotations", "column_label")
OFFSET_UNITS = UNITS


class _LineError(Exception):
    """One problem with one line; becomes a Rejected."""


def read_doccano(path: Path, *, offsets: str = "utf16") -> Iterator[ParsedDoc | Rejected]:
    """Yield one ParsedDoc per (line, annotator) and one Rejected per line that cannot be read.

    Args:
        path: a doccano JSONL file (or a .json list; spaCy v2 training JSON is recognised and read too).
        offsets: ``utf16`` (doccano's web UI), ``codepoints`` or ``graphemes``; `detect_offset_unit` picks one.

    Raises:
        FormatError: the file cannot be opened, or `offsets` is unknown.
    """
    if offsets not in OFFSET_UNITS:
        raise FormatError(f"--offsets must be one of {', '.join(OFFSET_UNITS)}, got {offsets!r}")
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror})") from None
    with fh:
        if path.suffix == ".json":
            # A .json file is one object or a list of objects (doccano's relation-extraction export).
            yield from _read_json_file(path, fh.read(), offsets)
            return
        first = True
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield Rejected(where, f"not valid JSON ({exc}); fix or remove the line")
                continue
            if first and _label_types([obj]):  # a label configuration shows on its first line: read all of it
                _refuse_label_config(path, _all_lines(path))
            first = False
            if isinstance(obj, dict) and "text" not in obj and {"doc_id", "text_sha256", "spans"} <= obj.keys():
                # newsner's own record format: no text to import, the corpus already has it
                raise FormatError(f"{where}: this is a newsner annotation-record file (doc_id, text_sha256, spans; "
                                  "e.g. annotations/suggestions/*.jsonl), not a doccano export: copy it to "
                                  "annotations/NAME.jsonl to use it as the layer NAME, or push it with "
                                  "`newsner doccano push --with-annotations FILE`")
            yield from _parse_object(obj, where, path=path, line=lineno, offsets=offsets)


def _read_json_file(path: Path, data: bytes, offsets: str) -> Iterator[ParsedDoc | Rejected]:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        yield Rejected(str(path), f"not valid JSON ({exc})")
        return
    from newsner.formats.spacy_v2 import looks_like_spacy_v2, read_spacy_v2

    if looks_like_spacy_v2(obj):
        yield from read_spacy_v2(path, obj)
        return
    items = obj if isinstance(obj, list) else [obj]
    _refuse_label_config(path, items)
    for i, item in enumerate(items, start=1):
        where = f"{path}[{i}]" if isinstance(obj, list) else str(path)
        yield from _parse_object(item, where, path=path, line=i, offsets=offsets)


#: The keys of a doccano label (span or relation type) in its label-configuration export (Labels → Export).
_LABEL_CONFIG_KEYS = {"id", "text", "prefix_key", "suffix_key", "background_color", "text_color"}


def _label_types(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "background_color" in i and isinstance(i.get("text"), str)
                               and set(i) <= _LABEL_CONFIG_KEYS for i in items)


def _all_lines(path: Path) -> list[Any]:
    out: list[Any] = []
    for raw in path.read_bytes().splitlines():
        if not raw.strip():
            continue
        try:
            out.append(orjson.loads(raw))
        except orjson.JSONDecodeError:
            out.append(None)  # not JSON: not a label configuration either
    return out


def _refuse_label_config(path: Path, items: list[Any]) -> None:
    """A doccano label-configuration file (`[{"text": "Dog", "background_color": ...}]`) is not documents:
    imported, each label name would become an article with no span. Refuse it, saying what it is."""
    if _label_types(items):
        names = ", ".join(str(i["text"]) for i in items[:6]) + (", ..." if len(items) > 6 else "")
        raise FormatError(f"{path}: this is a doccano label configuration ({len(items)} label type(s): {names}), "
                          "not annotated documents; nothing imported (the label set lives in "
                          "annotations/labels.json; import doccano's dataset export instead)")


def _parse_object(obj: Any, where: str, *, path: Path, line: int, offsets: str) -> Iterator[ParsedDoc | Rejected]:
    try:
        yield from _parse(obj, where, path=path, line=line, offsets=offsets)
    except _LineError as exc:
        yield Rejected(where, str(exc))


def _parse(obj: Any, where: str, *, path: Path, line: int, offsets: str) -> Iterator[ParsedDoc]:
    if not isinstance(obj, dict):
        raise _LineError(f"expected a JSON object, got {type(obj).__name__}")
    text_key = next((k for k in TEXT_KEYS if k in obj), None)
    if text_key is None:
        raise _LineError("no 'text' field: a document needs its text (was the line cut off?)")
    text = obj[text_key]
    if not isinstance(text, str) or not text.strip():
        raise _LineError(f"field '{text_key}' must be non-empty text")
    span_keys = [k for k in SPAN_KEYS if k in obj]
    if len(span_keys) > 1:
        raise _LineError(f"fields {', '.join(span_keys)} both hold spans; keep one")
    raw_spans = obj[span_keys[0]] if span_keys else []
    if not isinstance(raw_spans, list):
        raise _LineError(f"field '{span_keys[0]}' must be a list of spans")

    converter = UnitConverter(text, offsets) if offsets != "codepoints" else None
    by_user: dict[str | None, list[SourceSpan]] = {}
    for i, raw in enumerate(raw_spans):
        user, span = _span(raw, i, text, converter)
        by_user.setdefault(user, []).append(span)

    notes: list[str] = []
    raw_meta = obj.get("meta")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    example_id = obj.get("id")
    fields: dict[str, Any] = {"meta": {"doccano": {"meta": meta, **({"id": example_id} if example_id else {})}}}
    for key in ("title", "url", "source", "published", "language"):
        if isinstance(meta.get(key), str) and meta[key]:
            fields[key] = meta[key]
    # doccano 1.x sets `annotation_approver` when a reviewer approved the example; keep it as provenance.
    origin: dict[str, Any] = {"format": "doccano", "file": str(path), "line": line}
    if example_id is not None:
        origin["example_id"] = example_id
    if obj.get("annotation_approver"):
        origin["approved_by"] = obj["annotation_approver"]
    if not by_user:
        by_user[None] = []
    docs = []
    for user, spans in by_user.items():
        unique = sorted(set((s.start, s.end, s.label) for s in spans))
        doc_notes = list(notes)
        if len(unique) < len(spans):
            doc_notes.append(f"{len(spans) - len(unique)} exact duplicate span(s) merged")
        docs.append(ParsedDoc(where=where, text=text, spans=[SourceSpan(s, e, lb) for s, e, lb in unique],
                              annotator=user, fields=fields, origin=dict(origin), notes=doc_notes))
    if obj.get("relations"):
        _attach_relations(obj, text, raw_spans, converter, docs, where)
    yield from docs


def _attach_relations(obj: dict[str, Any], text: str, raw_spans: list[Any], converter: UnitConverter | None,
                      docs: list[ParsedDoc], where: str) -> None:
    """Read the line's relations with `relations.from_doccano` onto the document holding both their spans.

    Entity offsets were already read in the file's unit; they are handed to `from_doccano` in UTF-16 (its
    unit) so every offset unit imports the same relations.
    """
    from newsner.formats.doccano_relations import from_doccano
    from newsner.text.offsets import OffsetMap

    rels = obj["relations"]
    if not isinstance(rels, list):
        docs[0].relation_problems.append(f"{where}: field 'relations' must be a list; no relation was read")
        return
    omap = OffsetMap(text)
    entities = []
    for i, raw in enumerate(raw_spans):
        if not isinstance(raw, dict) or "id" not in raw:
            docs[0].relation_problems.append(
                f"{where}: {len(rels)} relation(s) not read: entity {i} has no 'id' for them to point at")
            return
        _, span = _span(raw, i, text, converter)
        start, end = omap.span_to_utf16(span.start, span.end)
        entities.append({"id": raw["id"], "label": span.label, "start_offset": start, "end_offset": end})
    found = from_doccano({"entities": entities, "relations": rels}, text, where=where)
    owner = {(s.start, s.end, s.label): (d, k) for d in docs for k, s in enumerate(d.spans)}
    docs[0].relation_problems.extend(found.problems)
    for rel in found.relations:
        head, tail = found.spans[rel.head], found.spans[rel.tail]
        (dh, kh), (dt, kt) = owner[(head.start, head.end, head.label)], owner[(tail.start, tail.end, tail.label)]
        if dh is not dt:
            docs[0].relation_problems.append(f"{where}: relation {rel.type} links spans of two annotators "
                                             f"({dh.annotator}, {dt.annotator}); it was not kept")
            continue
        dh.relations.append((kh, kt, rel.type))


def _span(raw: Any, i: int, text: str, converter: UnitConverter | None) -> tuple[str | None, SourceSpan]:
    user: str | None = None
    if isinstance(raw, list | tuple):
        if len(raw) != 3:
            raise _LineError(f"span {i}: expected [start, end, label], got {_short(raw)}")
        start, end, label = raw
    elif isinstance(raw, dict):
        start = raw.get("start_offset", raw.get("start"))
        end = raw.get("end_offset", raw.get("end"))
        label = raw.get("label")
        if raw.get("user") is not None:
            user = f"user{raw['user']}"
    elif isinstance(raw, str):
        raise _LineError("the labels are category names, not spans (text classification, not sequence labeling)")
    else:
        raise _LineError(f"span {i}: expected [start, end, label] or an object, got {_short(raw)}")
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
        raise _LineError(f"span {i}: offsets must be integers, got {_short(start)}, {_short(end)}")
    if isinstance(label, bool) or not isinstance(label, str | int) or label == "":
        raise _LineError(f"span {i}: label must be a name or a label id, got {_short(label)}")
    label = str(label)
    if converter is not None:
        try:
            start, end = converter.span(start, end)
        except AnnotationError as exc:
            raise _LineError(f"span {i} [{raw!r}]: {exc}") from None
    if not 0 <= start < end <= len(text):
        raise _LineError(f"span {i} [{start}, {end}) {label} is outside the text (length {len(text)}); the text "
                         "was probably shortened after annotation")
    return user, SourceSpan(start, end, label)


def _short(value: Any) -> str:
    s = repr(value)
    return s if len(s) <= 60 else s[:57] + "..."
