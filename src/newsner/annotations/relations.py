"""Relations across annotation layers: `relation_keys(record)` keys relations by their spans' offsets and labels,
so agreement and adjudication compare them as they compare spans; `fit_relations` checks each relation's direction
against its type's head and tail labels (labels.json) for import, validate, pull and review.

The relation rule is newsner.model.relations; doccano's shapes are newsner.formats.doccano_relations; the
dataset column is newsner.export.relations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from newsner.schema import AnnotationRecord, LabelSchema, Relation, Span


def relation_keys(record: AnnotationRecord) -> set[tuple[tuple[int, int, str], str, tuple[int, int, str]]]:
    """Relations as ((start, end, label) of head, type, (start, end, label) of tail): comparable across layers.

    Two annotators' indices differ as soon as their spans differ; these keys do not, so agreement can count
    relations as it counts spans (a relation agrees when both its spans and its type agree).
    """
    spans = record.sorted_spans()
    return {((spans[r.head].start, spans[r.head].end, spans[r.head].label), r.type,
             (spans[r.tail].start, spans[r.tail].end, spans[r.tail].label))
            for r in record.relations if r.head < len(spans) and r.tail < len(spans)}


@dataclass
class RelationFit:
    """What `fit_relations` made of a record's relations: the ones kept (some turned round), and why others
    were not. Every note and problem names `where` and the relation by its spans' words and labels."""

    relations: list[Relation] = field(default_factory=list)
    #: Relations drawn backwards (tail → head), kept turned round; one note each ("... was drawn backwards (...)",
    #: the caller says what it did).
    turned: list[str] = field(default_factory=list)
    #: Relations not kept: a span linked to itself, labels that fit neither direction, an unknown type.
    problems: list[str] = field(default_factory=list)


def describe_relation(spans: Sequence[Span], rel: Relation) -> str:
    """``CLAIMED_BY 'AFP' (CLAIM_SOURCE) → 'at least 17' (CASUALTY)``: a relation as its spans read."""
    head, tail = spans[rel.head], spans[rel.tail]
    return f"{rel.type} {head.text!r} ({head.label}) → {tail.text!r} ({tail.label})"


def fit_relations(spans: Sequence[Span], relations: Iterable[Relation], schema: LabelSchema, *,
                  where: str) -> RelationFit:
    """Check each relation's direction against its type's head and tail labels (labels.json).

    `spans` are the spans the relations index (a record's sorted spans). A relation whose labels fit its type
    is kept; one whose labels fit only the other way round (CLAIMED_BY drawn from the source to the count, the
    easy click order in doccano's relation mode) is turned round and noted; a span linked to itself, labels
    that fit neither direction, an index past the spans or an unknown type is reported and not kept.
    """
    types = {r.name: r for r in schema.relations}
    out = RelationFit()
    kept: set[Relation] = set()
    for rel in relations:
        if not (0 <= rel.head < len(spans) and 0 <= rel.tail < len(spans)):
            out.problems.append(f"{where}: relation {rel.type} {rel.head}->{rel.tail} points past the "
                                f"{len(spans)} span(s); not kept")
            continue
        what = describe_relation(spans, rel)
        if rel.head == rel.tail:
            out.problems.append(f"{where}: relation {what} links a span to itself; not kept")
            continue
        rtype = types.get(rel.type)
        if rtype is None:
            out.problems.append(f"{where}: relation {what}: type not in the label schema "
                                f"({', '.join(schema.relation_names) or 'no relation types defined'}); not kept")
            continue
        head, tail = spans[rel.head].label, spans[rel.tail].label
        if head in rtype.head and tail in rtype.tail:
            kept.add(rel)
        elif head in rtype.tail and tail in rtype.head:
            kept.add(Relation(rel.tail, rel.head, rel.type))
            out.turned.append(f"{where}: relation {what} was drawn backwards ({rel.type} goes from "
                              f"{' or '.join(rtype.head)} to {' or '.join(rtype.tail)})")
        else:
            out.problems.append(f"{where}: relation {what} does not fit its type ({rel.type} goes from "
                                f"{' or '.join(rtype.head)} to {' or '.join(rtype.tail)}); not kept")
    out.relations = sorted(kept)
    return out
