"""Relations in doccano's shape: the relation types of a project, an import line's `entities` + `relations`
(UTF-16 offsets), and an export line read back into spans + relations with every problem named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from newsner.errors import AnnotationError
from newsner.schema import AnnotationRecord, LabelSchema, Relation, Span
from newsner.text.offsets import OffsetMap


def doccano_relation_types(schema: LabelSchema) -> list[dict[str, str]]:
    """Bodies for doccano's `POST /v1/projects/{p}/relation-types`, one per relation type, in schema order."""
    return [{"text": r.name, "background_color": r.color, "text_color": "#ffffff"} for r in schema.relations]


def to_doccano(record: AnnotationRecord, text: str) -> dict[str, list[dict[str, Any]]]:
    """The `entities` and `relations` fields of a doccano (relation project) import line for `record`.

    Entity ids are the span indices in sorted order, so `from_id`/`to_id` are the record's head/tail; offsets
    are UTF-16 code units, the unit of doccano's web UI.
    """
    omap = OffsetMap(text)
    entities = []
    for i, span in enumerate(record.sorted_spans()):
        start, end = omap.span_to_utf16(span.start, span.end)
        entities.append({"id": i, "label": span.label, "start_offset": start, "end_offset": end})
    relations = [{"id": k, "from_id": r.head, "to_id": r.tail, "type": r.type}
                 for k, r in enumerate(sorted(set(record.relations)))]
    return {"entities": entities, "relations": relations}


@dataclass
class DoccanoRelations:
    """What one doccano export line holds: spans (code points), relations by sorted span index, problems."""

    spans: list[Span] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def from_doccano(line: Mapping[str, Any], text: str, *, where: str = "doccano line") -> DoccanoRelations:
    """Read `entities` and `relations` of a doccano export line over `text` (the corpus text).

    Every entity is converted from UTF-16 and checked against `text`; every relation must point at two
    entities that were read. Anything that does not fit is listed in `problems` (naming `where`), never kept.
    """
    out = DoccanoRelations()
    omap = OffsetMap(text)
    by_id: dict[Any, Span] = {}
    for n, ent in enumerate(line.get("entities") or []):
        try:
            ent_id, label = ent["id"], ent["label"]
            start, end = omap.span_from_utf16(int(ent["start_offset"]), int(ent["end_offset"]))
        except (KeyError, TypeError, ValueError) as exc:
            out.problems.append(f"{where}: entity {n} is malformed ({exc!r}); it was not read")
            continue
        except AnnotationError as exc:
            out.problems.append(f"{where}: entity {ent.get('id')} ({ent.get('label')}): {exc}")
            continue
        if not is_entity_id(ent_id):
            out.problems.append(f"{where}: entity {n} ({label}) has id {_short(ent_id)}, not a number or a name, so "
                                "no relation can point at it")
            continue
        if not (0 <= start < end <= len(text)) or not isinstance(label, str):
            out.problems.append(f"{where}: entity {ent_id} ({label}) [{start}, {end}) does not fit the text")
            continue
        if ent_id in by_id:
            out.problems.append(f"{where}: entity id {ent_id} appears twice; the second was not read")
            continue
        by_id[ent_id] = Span(start, end, label, text[start:end])
    out.spans = sorted(set(by_id.values()))
    index = {span: i for i, span in enumerate(out.spans)}
    for n, rel in enumerate(line.get("relations") or []):
        if not isinstance(rel, Mapping) or not isinstance(rel.get("type"), str):
            out.problems.append(f"{where}: relation {n} is malformed; it was not read")
            continue
        unreadable = [f"{name} {_short(rel.get(name))}{'' if name in rel else ' (missing)'}"
                      for name in ("from_id", "to_id") if not is_entity_id(rel.get(name))]
        if unreadable:
            out.problems.append(f"{where}: relation {_short(rel.get('id', n))} {rel['type']} has "
                                f"{' and '.join(unreadable)}, not an entity id; the relation was not kept")
            continue
        missing = [name for name in ("from_id", "to_id") if rel.get(name) not in by_id]
        if missing:
            out.problems.append(
                f"{where}: relation {rel.get('id', n)} {rel['type']} points at entity "
                f"{', '.join(str(rel.get(m)) for m in missing)} which is not among the spans (deleted or "
                "unreadable); the relation was not kept")
            continue
        out.relations.append(Relation(index[by_id[rel["from_id"]]], index[by_id[rel["to_id"]]], rel["type"]))
    out.relations = sorted(set(out.relations))
    return out


def is_entity_id(value: Any) -> bool:
    """An entity id a relation can point at: a number or a name (never a list, an object, null or a boolean)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value != "")


def _short(value: Any) -> str:
    s = repr(value)
    return s if len(s) <= 40 else s[:37] + "..."
