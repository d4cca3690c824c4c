"""Relations across annotation layers: `relation_keys(record)` keys relations by their spans' offsets and labels,
so agreement and adjudication compare them as they compare spans.

The relation rule is newsner.model.relations; doccano's shapes are newsner.formats.doccano_relations; the
dataset column is newsner.export.relations.
"""

from __future__ import annotations

from newsner.schema import AnnotationRecord


def relation_keys(record: AnnotationRecord) -> set[tuple[tuple[int, int, str], str, tuple[int, int, str]]]:
    """Relations as ((start, end, label) of head, type, (start, end, label) of tail): comparable across layers.

    Two annotators' indices differ as soon as their spans differ; these keys do not, so agreement can count
    relations as it counts spans (a relation agrees when both its spans and its type agree).
    """
    spans = record.sorted_spans()
    return {((spans[r.head].start, spans[r.head].end, spans[r.head].label), r.type,
             (spans[r.tail].start, spans[r.tail].end, spans[r.tail].label))
            for r in record.relations if r.head < len(spans) and r.tail < len(spans)}
