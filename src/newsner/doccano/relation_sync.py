"""Relations on the doccano side of push: relation types from the schema, pre-annotated relations.

New articles carry their relations in the import file, in doccano's "JSONL(Relation)" shape (push_parts; the
"RelationExtraction" task of backend/data_import/datasets.py). Articles already in the project get theirs per
example through the REST API once the example's spans exist (the calls the web UI makes). Both ways the
relations are the pushing account's, between that account's spans; a relation whose type the project lacks is
reported, never created (doccano's import would invent the type with a random colour).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from newsner.doccano.offsets import OffsetMap
from newsner.formats.doccano_relations import doccano_relation_types
from newsner.schema import AnnotationRecord, LabelSchema, Relation

if TYPE_CHECKING:
    from newsner.doccano.client import DoccanoClient


def plan_relation_types(schema: LabelSchema, existing: Sequence[Mapping[str, Any]],
                        ) -> tuple[list[dict[str, str]], list[tuple[int, str, dict[str, str]]]]:
    """(bodies to create, (id, name, changed fields) to update in place) so doccano matches the schema."""
    by_name = {str(t["text"]): t for t in existing}
    create, update = [], []
    for body in doccano_relation_types(schema):
        have = by_name.get(body["text"])
        if have is None:
            create.append(body)
            continue
        changed = {k: v for k, v in body.items()
                   if k != "text" and str(have.get(k) or "").lower() != v.lower()}
        if changed:
            update.append((int(have["id"]), body["text"], changed))
    return create, update


def apply_relation_types(client: DoccanoClient, project_id: int, schema: LabelSchema, *, dry_run: bool,
                         ) -> tuple[list[str], list[str], dict[str, int]]:
    """Create/update the schema's relation types. Returns (created names, updated names, name -> id)."""
    existing = client.list_relation_types(project_id)
    create, update = plan_relation_types(schema, existing)
    if not dry_run:
        for type_id, _name, fields in update:
            client.update_relation_type(project_id, type_id, **fields)
        for body in create:
            client.create_relation_type(project_id, **body)
        existing = client.list_relation_types(project_id) if (create or update) else existing
    ids = {str(t["text"]): int(t["id"]) for t in existing}
    return [b["text"] for b in create], [name for _, name, _ in update], ids


def _unpushed(record: AnnotationRecord, rel: Relation, what: str) -> str:
    spans = record.sorted_spans()
    return f"relation {spans[rel.head].text!r} {rel.type} {spans[rel.tail].text!r} was not pushed: {what}"


def importable_relations(record: AnnotationRecord, type_ids: Mapping[str, int]) -> tuple[list[Relation], list[str]]:
    """(the record's relations an import file may carry, problems): a type the project lacks is reported."""
    kept, problems = [], []
    for rel in sorted(set(record.relations)):
        if rel.type in type_ids:
            kept.append(rel)
        else:
            problems.append(_unpushed(record, rel, f"relation type {rel.type!r} is not in the project"))
    return kept, problems


def push_relations(client: DoccanoClient, project_id: int, example_id: int, record: AnnotationRecord, text: str,
                   label_ids: Mapping[str, int], type_ids: Mapping[str, int]) -> tuple[int, list[str]]:
    """Create the record's relations the example lacks, between the pusher's spans that match the record's.

    Returns (relations created, problems): a relation whose span is not in doccano (refused as overlapping, or
    removed) or whose type is missing is reported, never created half-way.
    """
    if not record.relations:
        return 0, []
    omap = OffsetMap(text)
    span_ids = {(int(s["start_offset"]), int(s["end_offset"]), int(s["label"])): int(s["id"])
                for s in client.list_spans(project_id, example_id)}
    have = {(int(r["from_id"]), int(r["to_id"]), int(r["type"])) for r in client.list_relations(project_id, example_id)}
    spans = record.sorted_spans()
    added, problems = 0, []
    for rel in sorted(set(record.relations)):
        ends = []
        for k in (rel.head, rel.tail):
            span = spans[k]
            start, end = omap.span_to_utf16(span.start, span.end)
            ends.append(span_ids.get((start, end, label_ids.get(span.label, -1))))
        type_id = type_ids.get(rel.type)
        if None in ends or type_id is None:
            what = f"relation type {rel.type!r} is not in the project" if type_id is None else \
                "one of its spans is not in doccano"
            problems.append(_unpushed(record, rel, what))
            continue
        key = (int(ends[0]), int(ends[1]), type_id)  # type: ignore[arg-type]
        if key in have:
            continue
        client.create_relation(project_id, example_id, from_id=key[0], to_id=key[1], type_id=type_id)
        have.add(key)
        added += 1
    return added, problems
