"""Inter-annotator agreement: what a lead needs to decide whether the guidelines work.

`agreement_report` compares every pair of annotator layers on the documents both annotated (same text version):

- entity F1, **strict** (same offsets and label) and **overlap** (same label, ranges overlap; one-to-one, the
  largest overlaps pair first), overall and per label. F1 is symmetric: 2·matches / (spans of A + spans of B).
- a chance-corrected **token-level** figure: each token (a run of word characters, or one other non-space
  grapheme) gets the label of the span covering it or ``O``; Cohen's κ (scikit-learn) per pair and per label
  (label vs. not), and Krippendorff's α (nominal, ``krippendorff``) over all layers when there are more than two.
- a label **confusion** table: spans of A and B that overlap, counted by (label A, label B); a span the other
  annotator did not mark at all counts against ``—``.
- **relations** (when any compared record has some): F1 per relation type, a relation agreeing when both its
  spans (offsets and label) and its type agree (`newsner.annotations.relations.relation_keys`), so a relation between
  spans the annotators drew differently counts as a disagreement.
- the documents with the **most disagreement** (spans not marked identically by every annotator of the document).

No figure is ever computed on zero documents: a pair with no shared document has ``documents == 0`` and every
score ``None``, and `AgreementReport.notes` says why and what to pass (``--include-unconfirmed`` when the shared
documents are unconfirmed).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from newsner.annotations.layers import annotator_layers, load_layers
from newsner.annotations.relations import relation_keys
from newsner.annotations.store import AnnotationStore
from newsner.errors import InputError
from newsner.schema import AnnotationRecord, Span
from newsner.workspace import Workspace

NONE = "—"
OUTSIDE = "O"
# Tokens for the token-level figure: word runs, else one non-space grapheme cluster (a flag is one token).
_TOKEN_PATTERN = r"\w+(?:\p{M}+\w*)*|(?!\s)\X"


@dataclass
class LabelAgreement:
    """Counts for one label (or ``all``) of one pair; `f1` is None when neither side has a span of it."""

    label: str
    matched: int
    a: int
    b: int

    @property
    def f1(self) -> float | None:
        return 2 * self.matched / (self.a + self.b) if (self.a + self.b) else None


@dataclass
class PairAgreement:
    """Agreement of two layers on the documents both annotated (same text version).

    `overall`/`per_label` are strict (exact offsets and label); `overlap`/`overlap_per_label` count spans of the
    same label whose ranges overlap. `kappa` is Cohen's κ over tokens (None when undefined: no document, or both
    annotators gave every token one and the same tag); `kappa_per_label` is κ for "label X vs anything else".
    """

    a: str
    b: str
    documents: int
    overall: LabelAgreement
    per_label: list[LabelAgreement]
    overlap: LabelAgreement
    overlap_per_label: list[LabelAgreement]
    tokens: int = 0
    kappa: float | None = None
    kappa_per_label: dict[str, float | None] = field(default_factory=dict)
    #: (label in A, label in B) → spans; NONE when the other layer marked nothing there.
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Relation F1 per relation type (strict: both spans and the type), and over all types; empty / None when
    #: neither layer has relations on the shared documents.
    relations_per_type: list[LabelAgreement] = field(default_factory=list)
    relations: LabelAgreement | None = None


@dataclass
class DocumentDisagreement:
    doc_id: str
    annotators: list[str]
    #: Spans (offsets + label) that not every annotator of the document marked.
    disputed: int
    #: Spans marked identically by all of them.
    agreed: int
    #: A few of the disputed spans, "'Bamako' LOCATION by alice" style, for a quick look.
    examples: list[str] = field(default_factory=list)


@dataclass
class AgreementReport:
    """Everything `newsner annotations agreement` shows (and `newsner report` renders)."""

    layers: list[str]
    include_unconfirmed: bool
    labels: list[str]
    pairs: list[PairAgreement]
    #: Documents annotated by at least two of the layers (same text version) — the ones compared.
    documents: int
    #: "cohen_kappa" (two layers), "krippendorff_alpha" (more), or None when nothing was compared.
    chance_corrected_method: str | None = None
    #: The chance-corrected figure over all layers: κ of the one pair, or Krippendorff's α.
    chance_corrected: float | None = None
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    most_disagreement: list[DocumentDisagreement] = field(default_factory=list)
    #: Plain sentences for the user: why a figure is missing and what to pass.
    notes: list[str] = field(default_factory=list)
    #: Relation types of the schema (order of the relation table); `has_relations`: any compared record has one.
    relation_types: list[str] = field(default_factory=list)
    has_relations: bool = False


def _match_overlap(sa: Sequence[Span], sb: Sequence[Span]) -> list[tuple[Span, Span]]:
    """One-to-one pairs of overlapping spans, the largest overlaps first (then position) so the result is stable."""
    candidates = []
    for x in sa:
        for y in sb:
            ov = min(x.end, y.end) - max(x.start, y.start)
            if ov > 0:
                candidates.append((-ov, x.start, y.start, x, y))
    candidates.sort(key=lambda c: c[:3])
    used_a: set[Span] = set()
    used_b: set[Span] = set()
    out = []
    for _, _, _, x, y in candidates:
        if x not in used_a and y not in used_b:
            used_a.add(x)
            used_b.add(y)
            out.append((x, y))
    return out


def _token_tags(text: str, spans: Sequence[Span], tokens: list[tuple[int, int]]) -> list[str]:
    """Each token's tag: the label of a span overlapping it (the later span wins when two do), else O."""
    tags = [OUTSIDE] * len(tokens)
    ends = [e for _, e in tokens]
    for span in sorted(spans):
        i = bisect_right(ends, span.start)  # first token ending after the span starts
        while i < len(tokens) and tokens[i][0] < span.end:
            tags[i] = span.label
            i += 1
    return tags


def _tokens(text: str) -> list[tuple[int, int]]:
    import regex  # `regex` knows grapheme clusters (\X); imported here to keep CLI start-up light

    return [m.span() for m in regex.finditer(_TOKEN_PATTERN, text)]


def _kappa(x: list[str], y: list[str]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if not x or (len(set(x)) == 1 and set(x) == set(y)):
        return None  # κ is 0/0 when both gave every token one and the same tag; say "undefined", not 1 or 0
    value = float(cohen_kappa_score(x, y))
    return None if value != value else value  # NaN → undefined


def _alpha(matrix: list[list[float]]) -> float | None:
    import krippendorff
    import numpy as np

    data = np.array(matrix, dtype=float)
    values = data[~np.isnan(data)]
    if values.size == 0 or len(np.unique(values)) < 2:
        return None
    value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    return None if value != value else value


def shared_documents(loaded: dict[str, dict[str, AnnotationRecord]]) -> dict[str, dict[str, AnnotationRecord]]:
    """doc_id → {layer: record} for documents two or more layers annotated on one text version (the version most
    of them used when they differ)."""
    by_doc: dict[str, dict[str, AnnotationRecord]] = {}
    for layer in loaded:
        for doc_id, rec in loaded[layer].items():
            by_doc.setdefault(doc_id, {})[layer] = rec
    shared: dict[str, dict[str, AnnotationRecord]] = {}
    for doc_id, recs in by_doc.items():
        sha, n = Counter(r.text_sha256 for r in recs.values()).most_common(1)[0]
        if n >= 2:
            shared[doc_id] = {layer: r for layer, r in recs.items() if r.text_sha256 == sha}
    return shared


def disputed_spans(recs: dict[str, AnnotationRecord]) -> tuple[list[Span], dict[Span, list[str]]]:
    """Spans of one document that not every layer marked (sorted), and who marked each span."""
    who: dict[Span, list[str]] = {}
    for layer, rec in sorted(recs.items()):
        for s in set(rec.spans):
            who.setdefault(s, []).append(layer)
    return sorted(s for s, by in who.items() if len(by) < len(recs)), who


#: A relation by its spans: ((start, end, label) of head, type, (start, end, label) of tail).
RelationKey = tuple[tuple[int, int, str], str, tuple[int, int, str]]


def disputed_relations(recs: dict[str, AnnotationRecord]) -> tuple[list[RelationKey], dict[RelationKey, list[str]]]:
    """Relations of one document that not every layer drew (same spans, same type, same direction; sorted), and
    who drew each relation: relations are disputed and resolved like spans."""
    who: dict[RelationKey, list[str]] = {}
    for layer, rec in sorted(recs.items()):
        for key in relation_keys(rec):
            who.setdefault(key, []).append(layer)
    return sorted(k for k, by in who.items() if len(by) < len(recs)), who


def _shared(loaded: dict[str, dict[str, AnnotationRecord]], a: str, b: str) -> list[str]:
    return sorted(d for d in loaded[a] if d in loaded[b] and loaded[a][d].text_sha256 == loaded[b][d].text_sha256)


def agreement_report(workspace: Workspace, layers: Sequence[str] | None = None, *,
                     include_unconfirmed: bool = False, top: int = 10) -> AgreementReport:
    """Compare the annotator layers (default: all but gold/majority); see the module docstring for the figures.

    Texts come from the records' spans only, except the token-level figure, which reads the documents' texts
    from the corpus (documents missing there are left out of κ/α and noted).

    Raises:
        InputError: fewer than two layers to compare, or a named layer that does not exist.
    """
    from newsner.corpus.store import Corpus

    store = AnnotationStore(workspace.annotations_dir)
    names = annotator_layers(store, layers)
    if len(names) < 2:
        raise InputError(f"agreement needs at least two annotator layers; found {', '.join(names) or 'none'} "
                         "(pull or import more annotators' work, or name layers with --layers)")
    schema = workspace.label_schema()
    loaded = load_layers(store, names, include_unconfirmed)
    shared = shared_documents(loaded)
    texts: dict[str, str] = {}
    corpus = Corpus(workspace.corpus_dir)
    if shared and corpus.exists():
        texts = {i: a.text for i, a in corpus.get_many(set(shared)).items()
                 if a.text_sha256 == next(iter(shared[i].values())).text_sha256}
    tokens = {d: _tokens(t) for d, t in texts.items()}
    used_labels = {s.label for recs in shared.values() for r in recs.values() for s in r.spans}
    labels = schema.names + sorted(used_labels - set(schema.names))
    report = AgreementReport(layers=names, include_unconfirmed=include_unconfirmed, labels=labels, pairs=[],
                             documents=len(shared), relation_types=schema.relation_names)

    for a, b in combinations(names, 2):
        common = _shared(loaded, a, b)
        strict: dict[str, list[int]] = {}
        loose: dict[str, list[int]] = {}
        confusion: Counter[tuple[str, str]] = Counter()
        xs: list[str] = []
        ys: list[str] = []
        rel_counts: dict[str, list[int]] = {}
        for doc_id in common:
            sa, sb = loaded[a][doc_id].spans, loaded[b][doc_id].spans
            _count_relations(relation_keys(loaded[a][doc_id]), relation_keys(loaded[b][doc_id]), rel_counts)
            for group, idx in ((sa, 1), (sb, 2)):
                for s in group:
                    strict.setdefault(s.label, [0, 0, 0])[idx] += 1
                    loose.setdefault(s.label, [0, 0, 0])[idx] += 1
            for s in set(sa) & set(sb):
                strict[s.label][0] += 1
            pairs = _match_overlap(sa, sb)
            for x, y in pairs:
                confusion[(x.label, y.label)] += 1
            paired_a = {x for x, _ in pairs}
            paired_b = {y for _, y in pairs}
            confusion.update((x.label, NONE) for x in sa if x not in paired_a)
            confusion.update((NONE, y.label) for y in sb if y not in paired_b)
            # Overlap matching within a label: spans of other labels must not steal a partner.
            for label in {s.label for s in sa} & {s.label for s in sb}:
                loose[label][0] += len(_match_overlap([s for s in sa if s.label == label],
                                                      [s for s in sb if s.label == label]))
            if doc_id in tokens:
                xs += _token_tags(texts[doc_id], sa, tokens[doc_id])
                ys += _token_tags(texts[doc_id], sb, tokens[doc_id])
        order = [lb for lb in labels if lb in strict]
        per = [LabelAgreement(lb, *strict[lb]) for lb in order]
        per_loose = [LabelAgreement(lb, *loose[lb]) for lb in order]
        pair = PairAgreement(
            a, b, len(common),
            LabelAgreement("all", sum(x.matched for x in per), sum(x.a for x in per), sum(x.b for x in per)),
            per,
            LabelAgreement("all", sum(x.matched for x in per_loose), sum(x.a for x in per_loose),
                           sum(x.b for x in per_loose)),
            per_loose, tokens=len(xs), confusion=confusion)
        if rel_counts:
            rel_order = [t for t in schema.relation_names if t in rel_counts] + sorted(
                set(rel_counts) - set(schema.relation_names))
            pair.relations_per_type = [LabelAgreement(t, *rel_counts[t]) for t in rel_order]
            pair.relations = LabelAgreement("all", *(sum(x[i] for x in rel_counts.values()) for i in range(3)))
            report.has_relations = True
        if xs:
            pair.kappa = _kappa(xs, ys)
            for lb in order:
                pair.kappa_per_label[lb] = _kappa([t == lb and lb or OUTSIDE for t in xs],
                                                  [t == lb and lb or OUTSIDE for t in ys])
        report.pairs.append(pair)
        report.confusion.update(confusion)

    if not shared:
        report.notes.append(_why_nothing_shared(store, names, include_unconfirmed))
        return report
    missing_text = len(shared) - len(texts)
    if missing_text:
        report.notes.append(f"{missing_text} compared document(s) are not in the corpus with the annotated text; "
                            "they count for F1 but not for the token-level figure")
    if len(names) == 2:
        report.chance_corrected_method = "cohen_kappa"
        report.chance_corrected = report.pairs[0].kappa
    else:
        report.chance_corrected_method = "krippendorff_alpha"
        codes = {lb: float(i) for i, lb in enumerate([OUTSIDE, *labels])}
        matrix: list[list[float]] = [[] for _ in names]
        for doc_id in sorted(shared):
            if doc_id not in tokens:
                continue
            for row, layer in enumerate(names):
                rec = shared[doc_id].get(layer)
                if rec is None:
                    matrix[row] += [float("nan")] * len(tokens[doc_id])
                else:
                    matrix[row] += [codes[t] for t in _token_tags(texts[doc_id], rec.spans, tokens[doc_id])]
        if matrix[0]:
            report.chance_corrected = _alpha(matrix)
    report.most_disagreement = _most_disagreement(shared, top)
    if report.chance_corrected is None and any(p.tokens for p in report.pairs):
        report.notes.append("the token-level figure is undefined: every compared token got the same tag from "
                            "everyone (no variation to correct for chance)")
    return report


def _count_relations(ka: set[Any], kb: set[Any], counts: dict[str, list[int]]) -> None:
    """Add one document's relation keys of two layers to [matched, a, b] per relation type."""
    for key in ka:
        counts.setdefault(key[1], [0, 0, 0])[1] += 1
    for key in kb:
        counts.setdefault(key[1], [0, 0, 0])[2] += 1
    for key in ka & kb:
        counts[key[1]][0] += 1


def _why_nothing_shared(store: AnnotationStore, names: list[str], include_unconfirmed: bool) -> str:
    if not include_unconfirmed:
        everything = load_layers(store, names, True)
        docs: Counter[str] = Counter(d for layer in names for d in everything[layer])
        n = sum(1 for c in docs.values() if c >= 2)
        if n:
            return (f"no confirmed document was annotated by two of these layers, so there is no score; {n} "
                    "document(s) are when unconfirmed records count: pass --include-unconfirmed to compare them")
    return ("no document was annotated by two of these layers on the same text, so there is no score; assign the "
            "same documents to two annotators (doccano: add both as members) and pull again")


def _most_disagreement(shared: dict[str, dict[str, AnnotationRecord]], top: int | None) -> list[DocumentDisagreement]:
    out: list[DocumentDisagreement] = []
    for doc_id, recs in shared.items():
        disputed, who = disputed_spans(recs)
        if not disputed:
            continue
        examples = [f"{s.text!r} {s.label} [{s.start}, {s.end}) by {', '.join(who[s])}" for s in disputed[:3]]
        out.append(DocumentDisagreement(doc_id, sorted(recs), len(disputed), len(who) - len(disputed), examples))
    out.sort(key=lambda d: (-d.disputed, d.agreed, d.doc_id))
    return out if top is None else out[:top]


def agreement(workspace: Workspace, layers: Sequence[str] | None = None, *,
              include_unconfirmed: bool = False) -> list[PairAgreement]:
    """The pairs of `agreement_report` (kept for callers that only want pairwise F1)."""
    return agreement_report(workspace, layers, include_unconfirmed=include_unconfirmed).pairs
