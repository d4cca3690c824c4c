"""Check annotation layers against the corpus and the label schema."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from newsner._io import read_jsonl
from newsner.annotations.relations import fit_relations
from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.errors import NewsnerError, SchemaError
from newsner.schema import AnnotationRecord, Span
from newsner.workspace import Workspace


@dataclass
class LayerCheck:
    layer: str
    records: int = 0
    confirmed: int = 0
    spans: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def validate_annotations(workspace: Workspace, layers: Sequence[str] | None = None) -> list[LayerCheck]:
    """Check every record of every layer (or `layers`) against the corpus and the label schema.

    Problems (a record fails): unreadable line, two records for one document, an article missing from the
    corpus, a record made on another version of the text, a span outside the text or whose text differs, a
    label not in the schema, a relation drawn backwards (its head and tail labels fit its type only the other
    way round), a relation from a span to itself or whose labels fit its type in neither direction. Warnings:
    overlapping spans within one record (the guidelines say spans never overlap; export keeps the longer one).
    """
    store = AnnotationStore(workspace.annotations_dir)
    names = list(layers) if layers else store.layers()
    schema = workspace.label_schema()
    checks: list[LayerCheck] = []
    wanted: dict[str, list[tuple[LayerCheck, str, AnnotationRecord]]] = {}
    for layer in names:
        check = LayerCheck(layer)
        checks.append(check)
        path = store.path(layer)
        if not path.exists():
            check.problems.append(f"{path}: no such layer")
            continue
        seen: dict[str, int] = {}
        try:
            lines = list(read_jsonl(path))
        except NewsnerError as exc:
            check.problems.append(str(exc))
            continue
        for lineno, obj in lines:
            where = f"{path}:{lineno}"
            try:
                rec = AnnotationRecord.from_dict(obj, where=where)
            except SchemaError as exc:
                check.problems.append(str(exc))
                continue
            check.records += 1
            check.confirmed += rec.status == "confirmed"
            check.spans += len(rec.spans)
            if rec.doc_id in seen:
                check.problems.append(f"{where}: second record for document {rec.doc_id} (first at line "
                                      f"{seen[rec.doc_id]})")
                continue
            seen[rec.doc_id] = lineno
            for span in rec.spans:
                if span.label not in schema.names:
                    check.problems.append(f"{where}: document {rec.doc_id}: label {span.label!r} is not in the "
                                          f"label schema ({', '.join(schema.names)})")
            if rec.relations and all(span.label in schema.names for span in rec.spans):
                fit = fit_relations(rec.sorted_spans(), rec.relations, schema,
                                    where=f"{where}: document {rec.doc_id}")
                check.problems += [f"{note}; swap its head and tail (pull and import turn such relations round)"
                                   for note in fit.turned]
                check.problems += fit.problems
            for a, b in _overlapping_pairs(rec.spans):
                check.warnings.append(f"{where}: document {rec.doc_id}: spans {a.text!r} {a.label} and "
                                      f"{b.text!r} {b.label} overlap")
            wanted.setdefault(rec.doc_id, []).append((check, where, rec))
    corpus = Corpus(workspace.corpus_dir)
    found: set[str] = set()
    if corpus.exists():
        for article in corpus:
            entries = wanted.get(article.id)
            if not entries:
                continue
            found.add(article.id)
            for check, where, rec in entries:
                try:
                    rec.check(article.text, where=f"{where}: document {rec.doc_id}")
                except SchemaError as exc:
                    check.problems.append(str(exc))
    for doc_id, entries in wanted.items():
        if doc_id not in found:
            for check, where, _ in entries:
                check.problems.append(f"{where}: document {doc_id} is not in the corpus ({corpus.root})")
    return checks


def _overlapping_pairs(spans: Sequence[Span]) -> Iterator[tuple[Span, Span]]:
    ordered = sorted(spans)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.start >= a.end:
                break
            yield a, b

