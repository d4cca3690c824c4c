"""Automatic gold: span-level majority vote over the annotator layers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from newsner.annotations.layers import annotator_layers, load_layers, records_by_document
from newsner.annotations.relations import relation_keys
from newsner.annotations.store import GOLD, AnnotationStore, UpsertResult
from newsner.corpus.store import Corpus
from newsner.errors import InputError
from newsner.schema import AnnotationRecord, Relation, Span
from newsner.workspace import Workspace

#: A relation by its spans: ((start, end, label) of head, type, (start, end, label) of tail).
RelationKey = tuple[tuple[int, int, str], str, tuple[int, int, str]]


@dataclass
class VoteResult:
    spans: list[Span]
    annotators: int
    #: Spans some annotator marked that did not reach the vote threshold.
    below_threshold: list[tuple[Span, int]] = field(default_factory=list)
    #: Spans that won the vote but overlapped a stronger winner (more votes, then longer, then earlier).
    overlap_dropped: list[tuple[Span, Span]] = field(default_factory=list)
    #: Relations that won the vote, over `spans` (sorted order, as records index them).
    relations: list[Relation] = field(default_factory=list)
    #: Relations some annotator made that did not reach the threshold, with their votes.
    relations_below_threshold: list[tuple[RelationKey, int]] = field(default_factory=list)
    #: Relations that won the vote but one of whose spans did not make it into the result.
    relations_span_lost: list[RelationKey] = field(default_factory=list)


def majority_vote(records: Sequence[AnnotationRecord], *, label_order: Sequence[str],
                  min_votes: int | None = None) -> VoteResult:
    """Span-level majority over records of one document (one text version).

    A span (exact offsets and label) is kept when at least `min_votes` records have it (default: a strict
    majority of the records, so 2 of 2, 2 of 3, 3 of 4). Winners that overlap are resolved by votes, then
    length, then position, then schema order; the losers are returned, never dropped silently.
    """
    n = len(records)
    threshold = min_votes if min_votes is not None else n // 2 + 1
    votes: Counter[Span] = Counter()
    for rec in records:
        votes.update(set(rec.spans))
    rank = {label: i for i, label in enumerate(label_order)}
    winners = [s for s, v in votes.items() if v >= threshold]
    below = sorted(((s, v) for s, v in votes.items() if v < threshold), key=lambda sv: sv[0])
    winners.sort(key=lambda s: (-votes[s], -(s.end - s.start), s.start, rank.get(s.label, len(rank))))
    kept: list[Span] = []
    dropped: list[tuple[Span, Span]] = []
    for span in winners:
        clash = next((k for k in kept if k.start < span.end and span.start < k.end), None)
        if clash is None:
            kept.append(span)
        else:
            dropped.append((span, clash))
    result = VoteResult(sorted(kept), n, below, dropped)
    _vote_relations(records, threshold, result)
    return result


def _vote_relations(records: Sequence[AnnotationRecord], threshold: int, result: VoteResult) -> None:
    """Relations by the same rule as spans: a relation (its two spans and its type) needs `threshold` votes,
    and is kept only when both its spans survived into `result.spans`."""
    votes: Counter[RelationKey] = Counter()
    for rec in records:
        votes.update(relation_keys(rec))
    if not votes:
        return
    index = {(s.start, s.end, s.label): i for i, s in enumerate(result.spans)}
    for key, v in sorted(votes.items()):
        if v < threshold:
            result.relations_below_threshold.append((key, v))
        elif key[0] in index and key[2] in index:
            result.relations.append(Relation(index[key[0]], index[key[2]], key[1]))
        else:
            result.relations_span_lost.append(key)
    result.relations.sort()


@dataclass
class AdjudicationReport:
    out_layer: str
    layers: list[str]
    documents: int = 0
    single_annotator: int = 0
    kept_existing: int = 0
    spans: int = 0
    below_threshold: int = 0
    overlap_dropped: int = 0
    relations: int = 0
    relations_below_threshold: int = 0
    relations_span_lost: int = 0
    stale: list[str] = field(default_factory=list)
    written: UpsertResult | None = None
    disagreements: list[str] = field(default_factory=list)


def adjudicate(workspace: Workspace, layers: Sequence[str] | None = None, *, out_layer: str = GOLD,
               min_votes: int | None = None, overwrite: bool = False,
               include_unconfirmed: bool = False) -> AdjudicationReport:
    """Write the span-level majority of the annotator layers into `out_layer` (default gold).

    Documents that already have a record in `out_layer` are kept (a human adjudicated them) unless
    `overwrite`. Records on a text version other than the corpus's are left out and listed. Documents
    annotated by one person take that person's spans (counted as `single_annotator`).
    """
    store = AnnotationStore(workspace.annotations_dir)
    names = [layer for layer in annotator_layers(store, layers) if layer != out_layer]
    if not names:
        raise InputError("nothing to adjudicate: no annotator layers in annotations/ (pull or import first)")
    schema = workspace.label_schema()
    by_doc = records_by_document(load_layers(store, names, include_unconfirmed))
    # Read and write the output layer under its lock: a pull or import into it meanwhile must not be lost.
    with store.lock(out_layer):
        return _adjudicate(workspace, store, names, by_doc, out_layer, min_votes, overwrite, schema.names)


def _adjudicate(workspace: Workspace, store: AnnotationStore, names: list[str],
                by_doc: dict[str, list[AnnotationRecord]], out_layer: str, min_votes: int | None, overwrite: bool,
                label_order: list[str]) -> AdjudicationReport:
    existing = store.load(out_layer)
    report = AdjudicationReport(out_layer, list(names))
    corpus_sha: dict[str, str] = {}
    corpus = Corpus(workspace.corpus_dir)
    if corpus.exists():
        for _, _, obj in corpus.iter_raw():
            if isinstance(obj, dict) and obj.get("id") in by_doc:
                corpus_sha[obj["id"]] = obj.get("text_sha256", "")
    new: list[AnnotationRecord] = []
    for doc_id in sorted(by_doc):
        if doc_id in existing and not overwrite:
            report.kept_existing += 1
            continue
        sha = corpus_sha.get(doc_id)
        recs = [r for r in by_doc[doc_id] if r.text_sha256 == sha]
        for r in by_doc[doc_id]:
            if r.text_sha256 != sha:
                report.stale.append(f"{r.annotator}: document {doc_id} "
                                    + ("is not in the corpus" if sha is None else "was annotated on another "
                                       "version of the text"))
        if not recs:
            continue
        vote = majority_vote(recs, label_order=label_order, min_votes=min_votes)
        report.documents += 1
        report.single_annotator += len(recs) == 1
        report.spans += len(vote.spans)
        report.below_threshold += len(vote.below_threshold)
        report.overlap_dropped += len(vote.overlap_dropped)
        for span, v in vote.below_threshold:
            report.disagreements.append(f"document {doc_id}: {span.text!r} {span.label} [{span.start}, {span.end}) "
                                        f"has {v} of {len(recs)} votes")
        for span, winner in vote.overlap_dropped:
            report.disagreements.append(f"document {doc_id}: {span.text!r} {span.label} overlaps "
                                        f"{winner.text!r} {winner.label}, which won")
        report.relations += len(vote.relations)
        report.relations_below_threshold += len(vote.relations_below_threshold)
        report.relations_span_lost += len(vote.relations_span_lost)
        for key, v in vote.relations_below_threshold:
            report.disagreements.append(f"document {doc_id}: relation {_describe(key)} has {v} of {len(recs)} votes")
        for key in vote.relations_span_lost:
            report.disagreements.append(f"document {doc_id}: relation {_describe(key)} won the vote but one of its "
                                        "spans did not; left out")
        new.append(AnnotationRecord(doc_id=doc_id, text_sha256=recs[0].text_sha256, annotator=out_layer,
                                    spans=vote.spans, status="confirmed", relations=vote.relations,
                                    origin={"adjudicated": "majority", "layers": [r.annotator for r in recs],
                                            "min_votes": min_votes or len(recs) // 2 + 1}))
    report.written = store.upsert(out_layer, new)
    return report


def _describe(key: RelationKey) -> str:
    (hs, he, hl), kind, (ts, te, tl) = key
    return f"{kind} {hl} [{hs}, {he}) → {tl} [{ts}, {te})"
