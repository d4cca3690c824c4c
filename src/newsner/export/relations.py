"""Relations of an exported article, per example: entity indices of the unit they fall in, or a report line.

A record's relations index its spans in sorted order. After alignment each span is either kept on some tokens
or dropped (misaligned, overlap, unknown label: already reported by `align`). In an example (unit), entity k is
the k-th entity of its `ner_tags` (the k-th B- tag), which is the sorted span order restricted to the unit. A
relation is kept in the unit where both its spans start; otherwise it is reported in alignment.jsonl:

- ``relation_span_dropped``: one of its spans did not make it into the dataset;
- ``relation_split``: its spans fall in different examples (a sentence/window boundary between them);
- ``relation_unknown_type``: its type is not in the label schema's relations;
- ``relation_not_representable``: the format (CoNLL) has no place for relations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from newsner.schema import AnnotationRecord, LabelSchema
from newsner.text.align import Aligned, AlignmentIssue, Tokens, snap_edges

#: (head, tail, type) over the record's sorted spans.
RawRelation = tuple[int, int, str]
SpanTuple = tuple[int, int, str, str]


def parse_relations(obj: Any) -> list[RawRelation]:
    """The relations of a record object as (head, tail, type); raises KeyError/TypeError when malformed."""
    return [(int(r["head"]), int(r["tail"]), str(r["type"])) for r in obj.get("relations") or []]


def _token_range(tokens: Tokens, start: int, end: int, resolution: str) -> tuple[int, int]:
    """The tokens `align_spans` gives a character span under `resolution` (contract: inside; expand: touching)."""
    starts, ends = tokens.starts, tokens.ends
    start, end = snap_edges(tokens.text, starts, ends, start, end)  # as align_spans does
    if resolution == "expand":
        a = int(np.searchsorted(ends, start, side="right"))
        b = int(np.searchsorted(starts, end, side="left"))
    else:
        a = int(np.searchsorted(starts, start, side="left"))
        b = int(np.searchsorted(ends, end, side="right"))
    return a, b


def unit_relations(*, doc_id: str, text: str, spans: Sequence[SpanTuple], relations: Sequence[RawRelation],
                   tokens: Tokens, aligned: Aligned, tags: np.ndarray, ranges: Sequence[tuple[int, int]],
                   resolution: str, types: Sequence[str], representable: bool = True,
                   ) -> tuple[list[list[dict[str, Any]]], list[AlignmentIssue], Counter[str]]:
    """Per unit in `ranges`, its relations as [{"head": k, "tail": m, "type": name}], plus issues and counts.

    `tags` are the final tags (a unit start already restarts with B-), so entity indices match `ner_tags`.
    """
    out: list[list[dict[str, Any]]] = [[] for _ in ranges]
    issues: list[AlignmentIssue] = []
    counts: Counter[str] = Counter()
    if not relations:
        return out, issues, counts
    counts["relations"] += len(relations)
    ordered = sorted(spans, key=lambda s: (s[0], s[1], s[2], s[3]))
    kept = {(s.start, s.end, s.label) for s in aligned.spans}
    begins = np.flatnonzero(tags % 2 == 1)  # token index of every entity start, in order
    unit_starts = np.array([a for a, _ in ranges], dtype=np.int64)

    def issue(rel: RawRelation, kind: str, detail: str) -> None:
        counts[kind] += 1
        head = ordered[rel[0]] if rel[0] < len(ordered) else (0, 0, "", "")
        issues.append(AlignmentIssue(doc_id, rel[2], head[0], head[1], head[3], kind, "dropped",
                                     detail=detail))

    def describe(k: int) -> str:
        s = ordered[k]
        return f"{s[2]} {s[3]!r} [{s[0]}, {s[1]})"

    for rel in sorted(set(relations)):
        h, t, kind = rel
        if h >= len(ordered) or t >= len(ordered):
            issue(rel, "relation_span_dropped", f"relation {kind} {h}→{t} points past the record's "
                  f"{len(ordered)} spans")
            continue
        label = f"{kind}: {describe(h)} → {describe(t)}"
        if not representable:
            issue(rel, "relation_not_representable", f"{label}: CoNLL has no place for relations "
                  "(export hf or spacy to keep them)")
            continue
        if kind not in types:
            issue(rel, "relation_unknown_type", f"{label}: type not in labels.json relations "
                  f"({', '.join(types) or 'none'})")
            continue
        where: list[tuple[int, int]] = []  # (unit, entity index in the unit) of head and tail
        for k in (h, t):
            s = ordered[k]
            a, b = _token_range(tokens, s[0], s[1], resolution)
            if b <= a or (a, b, s[2]) not in kept:
                break
            u = int(np.searchsorted(unit_starts, a, side="right")) - 1
            first = int(np.searchsorted(begins, ranges[u][0], side="left"))
            where.append((u, int(np.searchsorted(begins, a, side="left")) - first))
        if len(where) < 2:
            missing = describe(h) if len(where) == 0 else describe(t)
            issue(rel, "relation_span_dropped", f"{label}: {missing} is not in the dataset (see its own line)")
            continue
        if where[0][0] != where[1][0]:
            issue(rel, "relation_split", f"{label}: its spans are in different examples ({where[0][0]} and "
                  f"{where[1][0]}); export with --unit document to keep it")
            continue
        out[where[0][0]].append({"head": where[0][1], "tail": where[1][1], "type": kind})
        counts["relations_kept"] += 1
    return out, issues, counts


__all__ = ["RawRelation", "parse_relations", "unit_relations"]


def hf_relations(record: AnnotationRecord, schema: LabelSchema | None = None) -> list[dict[str, Any]]:
    """The `relations` column value of a record: [{"head": i, "tail": j, "type": name}] over sorted spans.

    With `schema`, `type` is the relation type's index in `schema.relations` (the ClassLabel id); the entity
    indices are the same order the record's spans are written in.
    """
    ids = {name: k for k, name in enumerate(schema.relation_names)} if schema is not None else None
    return [{"head": r.head, "tail": r.tail, "type": ids[r.type] if ids is not None else r.type}
            for r in sorted(set(record.relations))]


def hf_relations_feature(schema: LabelSchema) -> Any:
    """The datasets Feature of that column: a list of {head, tail: int32, type: ClassLabel(relation names)}."""
    import datasets  # heavy: only when a dataset is being built

    return datasets.List({"head": datasets.Value("int32"), "tail": datasets.Value("int32"),
                          "type": datasets.ClassLabel(names=schema.relation_names)})
