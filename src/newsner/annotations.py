"""Annotation records: import from other formats, validation against the corpus, agreement, adjudication.

Layers live in annotations/<layer>.jsonl (`AnnotationStore`). Annotator layers are every layer except the
adjudicated ``gold`` and the derived ``majority``.

Import policy (`import_annotations`):
- Each input document becomes an article (added to the corpus when its text is new; id from the text) and one
  record in the annotator's layer (``--annotator``, or ``user<N>`` when a doccano file names users).
- Labels are mapped with ``--map A=B`` (``A=`` drops A on purpose). A label that is neither mapped nor in the
  schema is **not imported**: its spans are skipped and counted by label, so the schema check downstream never
  sees it and the user sees exactly what was left out.
- A line that cannot be read rejects that line's document only; everything else imports and the result says
  which lines failed (the CLI exits 1).
- The same document twice for one annotator in one import is a conflict: the first wins, later ones are rejected.
- Records are written with ``status`` confirmed by default (imported files are finished work) and an ``origin``
  naming the file and line, without timestamps, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from newsner._io import read_jsonl
from newsner.annotations_store import GOLD, AnnotationStore, UpsertResult
from newsner.corpus import Corpus
from newsner.errors import InputError, NewsnerError, SchemaError
from newsner.formats import FORMATS, ParsedDoc, Rejected, SkippedSpan, to_nfc
from newsner.schema import AnnotationRecord, Article, LabelSchema, Span, validate_article_dict
from newsner.workspace import Workspace

MAJORITY = "majority"
DERIVED_LAYERS = (GOLD, MAJORITY)
_CONLL_SUFFIXES = {".conll", ".bio", ".iob", ".iob2", ".bioes", ".tsv", ".txt", ".conllu"}
_DOCCANO_SUFFIXES = {".jsonl", ".json"}

Progress = Callable[[int, int], None]


# ----------------------------------------------------------------------------------------- label map
def parse_label_map(specs: Iterable[str], schema: LabelSchema) -> dict[str, str | None]:
    """``["Organisation=ACTOR,Location=LOCATION", "Weapon="]`` → {foreign: schema label or None (= drop)}.

    Raises:
        InputError: a piece is not FOREIGN=LABEL, or LABEL is not in the schema.
    """
    mapping: dict[str, str | None] = {}
    for spec in specs:
        for piece in spec.split(","):
            piece = piece.strip()
            if not piece:
                continue
            if "=" not in piece:
                raise InputError(f"--map {piece!r}: expected FOREIGN=LABEL (or FOREIGN= to drop it)")
            foreign, target = (p.strip() for p in piece.split("=", 1))
            if not foreign:
                raise InputError(f"--map {piece!r}: the foreign label is empty")
            if target and target not in schema.names:
                raise InputError(f"--map {piece!r}: {target!r} is not in the label schema "
                                 f"({', '.join(schema.names)})")
            mapping[foreign] = target or None
    return mapping


# --------------------------------------------------------------------------------------------- import
@dataclass
class ImportReport:
    """What an import did; `rejected` non-empty means some input did not make it (CLI exit 1)."""

    files: list[str] = field(default_factory=list)
    documents: int = 0
    articles_added: int = 0
    articles_present: int = 0
    layers: dict[str, UpsertResult] = field(default_factory=dict)
    spans_imported: Counter[str] = field(default_factory=Counter)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: list[SkippedSpan] = field(default_factory=list)
    #: Foreign labels with no mapping and not in the schema → number of spans left out.
    unmapped: Counter[str] = field(default_factory=Counter)
    #: Foreign labels mapped to nothing with ``--map X=`` → number of spans left out on purpose.
    dropped_by_map: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    schemes: dict[str, str] = field(default_factory=dict)
    #: The format actually read (the detected one when --format auto).
    fmt: str = ""
    #: Every foreign label the input used → spans, and the --map keys no span used (a typo, most likely).
    labels_seen: Counter[str] = field(default_factory=Counter)
    unused_map: list[str] = field(default_factory=list)

    @property
    def skipped_by_reason(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for s in self.skipped:
            out[_reason_kind(s.reason)] += 1
        return out


def _reason_kind(reason: str) -> str:
    for key in ("does not match", "confidence", "outside the text", "not in the label schema"):
        if key in reason:
            return {"does not match": "value does not match the text", "confidence": "low confidence",
                    "outside the text": "offsets outside the text",
                    "not in the label schema": "label not in the schema"}[key]
    return reason


def detect_format(paths: Sequence[Path]) -> str:
    """doccano, conll or re3d from the inputs' names and first bytes; InputError when they disagree."""
    found: dict[str, Path] = {}
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            if (path / "documents.json").exists() or any(path.glob("*/documents.json")):
                kind = "re3d"
            elif any(p.suffix.lower() in _DOCCANO_SUFFIXES for p in path.rglob("*") if p.is_file()):
                kind = "doccano"
            else:
                kind = "conll"
        elif path.name in ("documents.json", "entities.json"):
            kind = "re3d"
        elif path.suffix.lower() in _DOCCANO_SUFFIXES:
            kind = "doccano"
        else:
            try:
                with open(path, "rb") as fh:
                    head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
            except OSError as exc:
                raise InputError(f"{path}: cannot read ({exc.strerror})") from None
            kind = "doccano" if head.startswith(b"{") else "conll"
        found.setdefault(kind, path)
    if len(found) > 1:
        listing = ", ".join(f"{p} looks like {k}" for k, p in found.items())
        raise InputError(f"the inputs are in different formats ({listing}); import them separately or pass --format")
    return next(iter(found), "doccano")


def expand_inputs(paths: Sequence[Path], fmt: str) -> list[Path]:
    """Files to read: folders expand to the files of the format inside them (re3d reads folders itself)."""
    out: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir() and fmt != "re3d":
            suffixes = _DOCCANO_SUFFIXES if fmt == "doccano" else _CONLL_SUFFIXES
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
            if not found:
                raise InputError(f"{path}: no {fmt} files in this folder ({', '.join(sorted(suffixes))})")
            out.extend(found)
        else:
            out.append(path)
    return out


def import_annotations(
    workspace: Workspace,
    paths: Sequence[Path],
    *,
    fmt: str,
    label_map: dict[str, str | None] | None = None,
    annotator: str = "imported",
    status: str = "confirmed",
    scheme: str = "auto",
    documents: str = "auto",
    offsets: str = "utf16",
    min_confidence: float = 0.5,
    progress: Progress | None = None,
) -> ImportReport:
    """Read annotation files into the corpus (missing articles) and annotation layers.

    Args:
        workspace: where corpus/ and annotations/ are.
        paths: files (or folders) in format `fmt`.
        fmt: ``doccano``, ``conll`` or ``re3d``.
        label_map: foreign label → schema label (None drops it); see `parse_label_map`.
        annotator: the layer for documents whose file does not name an annotator.
        status: ``confirmed`` or ``unconfirmed`` for every imported record.
        scheme: CoNLL dialect (``auto``, ``iob2``, ``iob1``, ``io``, ``bioes``).
        documents: CoNLL document splitting (``auto``, ``docstart``, ``sentence``, ``file``).
        offsets: doccano offset unit (``utf16`` or ``codepoints``).
        min_confidence: re3d entities below this confidence are skipped (and counted).
        progress: called with (files done, files total).

    Raises:
        InputError: unknown format/status, a path that does not exist, a bad option.
        FormatError: a file that cannot be opened at all.
    """
    from newsner.formats import conll, doccano, re3d

    if fmt == "auto":
        fmt = detect_format(paths)
    if fmt not in FORMATS:
        raise InputError(f"--format must be auto or one of {', '.join(FORMATS)}, got {fmt!r}")
    if status not in ("confirmed", "unconfirmed"):
        raise InputError(f"status must be confirmed or unconfirmed, got {status!r}")
    schema = workspace.label_schema()
    label_map = label_map or {}
    files = expand_inputs(paths, fmt)
    report = ImportReport(files=[str(p) for p in files], fmt=fmt)
    corpus = Corpus(workspace.corpus_dir)

    parsed: list[ParsedDoc] = []
    conll_docs: list[tuple[conll.ConllDoc, str]] = []
    for n, path in enumerate(files, start=1):
        if fmt == "doccano":
            items: Iterable[ParsedDoc | Rejected] = doccano.read_doccano(path, offsets=offsets)
        elif fmt == "re3d":
            items = re3d.read_re3d(path, min_confidence=min_confidence)
        else:
            file_docs: list[conll.ConllDoc] = []
            items = []
            for entry in conll.read_conll(path, documents=documents):
                if isinstance(entry, Rejected):
                    report.rejected.append(entry)
                else:
                    file_docs.append(entry)
            used = conll.file_scheme(file_docs, scheme)
            report.schemes[str(path)] = used
            conll_docs.extend((d, used) for d in file_docs)
        for item in items:
            if isinstance(item, Rejected):
                report.rejected.append(item)
            else:
                parsed.append(item)
        if progress:
            progress(n, len(files))

    if conll_docs:
        # newsner's own CoNLL export names the article on -DOCSTART-; use its text when the corpus has it.
        hinted = {d.article_id for d, _ in conll_docs if d.article_id}
        texts = {i: a.text for i, a in corpus.get_many(hinted).items()} if hinted and corpus.exists() else {}
        for cdoc, used in conll_docs:
            result, rejected = conll.to_parsed(cdoc, used, text=texts.get(cdoc.article_id or ""))
            report.rejected.extend(rejected)
            if result is not None:
                parsed.append(result)

    records: dict[str, dict[str, AnnotationRecord]] = {}
    first_seen: dict[tuple[str, str], tuple[str, set[Span]]] = {}
    articles: dict[str, Article] = {}
    provenance_time = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    for doc in parsed:
        normalized = to_nfc(doc)
        if isinstance(normalized, Rejected):
            report.rejected.append(normalized)
            continue
        doc = normalized
        report.documents += 1
        report.skipped.extend(doc.skipped)
        for note in doc.notes:
            count, _, rest = note.partition(" ")
            # "3 exact duplicate span(s) merged" adds 3 to that kind of note; other notes count documents.
            if count.isdigit():
                report.notes[rest] += int(count)
            else:
                report.notes[note] += 1
        article = _article(doc, fmt, provenance_time)
        layer = doc.annotator or annotator
        key = (layer, article.id)
        spans: set[Span] = set()
        for s in doc.spans:
            text = doc.text[s.start:s.end]
            report.labels_seen[s.label] += 1
            if s.label in label_map:
                target = label_map[s.label]
                if target is None:
                    report.dropped_by_map[s.label] += 1
                    continue
            elif s.label in schema.names:
                target = s.label
            else:
                report.unmapped[s.label] += 1
                report.skipped.append(SkippedSpan(doc.where, s.label, s.start, s.end, text,
                                                  f"label {s.label!r} is not in the label schema; "
                                                  f"map it with --map {s.label}=LABEL"))
                continue
            spans.add(Span(s.start, s.end, target, text))
        if key in first_seen:
            earlier_where, earlier = first_seen[key]
            if earlier == spans:
                report.notes["document repeated with the same spans (imported once)"] += 1
            else:
                report.rejected.append(Rejected(doc.where, f"the same text was already imported for annotator "
                                                           f"{layer!r} from {earlier_where} with other spans; one "
                                                           "record per document and annotator, so this one is "
                                                           "skipped (use --annotator to import it as another layer)"))
            continue
        first_seen[key] = (doc.where, spans)
        for span in spans:
            report.spans_imported[span.label] += 1
        articles.setdefault(article.id, article)
        records.setdefault(layer, {})[article.id] = AnnotationRecord(
            doc_id=article.id, text_sha256=article.text_sha256, annotator=layer, spans=sorted(spans),
            status=status, origin=doc.origin)

    if articles:
        with corpus.lock():
            present = corpus.ids()
            new = [a for a in articles.values() if a.id not in present]
            corpus.append(new)
        report.articles_added = len(new)
        report.articles_present = len(articles) - len(new)
    store = AnnotationStore(workspace.annotations_dir)
    for layer, by_doc in sorted(records.items()):
        report.layers[layer] = store.upsert(layer, by_doc.values())
    report.unused_map = sorted(k for k in label_map if k not in report.labels_seen)
    return report


def _article(doc: ParsedDoc, fmt: str, when: str) -> Article:
    from newsner import __version__

    fields = dict(doc.fields)
    meta = dict(fields.pop("meta", {}) or {})
    if "published" in fields:
        probe = Article.from_text(doc.text, published=fields["published"]).to_dict()
        if any("published" in problem for problem in validate_article_dict(probe)):
            meta["published_raw"] = fields.pop("published")  # keep what the file said; the contract wants ISO
    provenance: dict[str, Any] = {"path": doc.origin.get("file", doc.where)}
    if "line" in doc.origin:
        provenance["line"] = doc.origin["line"]
    provenance.update(extractor=f"newsner annotations import --format {fmt}", extractor_version=__version__,
                      ingested_at=when)
    allowed = {k: v for k, v in fields.items() if k in ("title", "url", "source", "published", "language")}
    return Article.from_text(doc.text, provenance=provenance, meta=meta, **allowed)


# ----------------------------------------------------------------------------------------- layers
def annotator_layers(store: AnnotationStore, layers: Sequence[str] | None = None) -> list[str]:
    """The layers to compare/vote over: `layers` if given, else every layer except gold and majority."""
    if layers:
        present = set(store.layers())
        missing = [layer for layer in layers if store.path(layer).stem not in present]
        if missing:
            raise InputError(f"no annotation layer {', '.join(map(repr, missing))} (layers here: "
                             f"{', '.join(sorted(present)) or 'none'})")
        return list(layers)
    return [layer for layer in store.layers() if layer not in DERIVED_LAYERS]


# --------------------------------------------------------------------------------------- validation
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
    label not in the schema. Warnings: overlapping spans within one record (the guidelines say spans never
    overlap; export keeps the longer one).
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


# ---------------------------------------------------------------------------------------- agreement
@dataclass
class LabelAgreement:
    label: str
    matched: int
    a: int
    b: int

    @property
    def f1(self) -> float:
        return 2 * self.matched / (self.a + self.b) if (self.a + self.b) else 1.0


@dataclass
class PairAgreement:
    """Entity-level agreement of two layers on the documents both annotated (exact offsets and label)."""

    a: str
    b: str
    documents: int
    overall: LabelAgreement
    per_label: list[LabelAgreement]


def _load_layers(store: AnnotationStore, layers: Sequence[str], include_unconfirmed: bool
                 ) -> dict[str, dict[str, AnnotationRecord]]:
    out: dict[str, dict[str, AnnotationRecord]] = {}
    for layer in layers:
        out[layer] = {d: r for d, r in store.load(layer).items()
                      if include_unconfirmed or r.status == "confirmed"}
    return out


def agreement(workspace: Workspace, layers: Sequence[str] | None = None, *,
              include_unconfirmed: bool = False) -> list[PairAgreement]:
    """Pairwise entity-level F1 between layers (every pair), overall and per label in schema order.

    F1 here is symmetric: 2·matches / (spans of A + spans of B) over the documents both layers have on the same
    text version. Only confirmed records count unless `include_unconfirmed`.

    Raises:
        InputError: fewer than two layers to compare.
    """
    store = AnnotationStore(workspace.annotations_dir)
    names = annotator_layers(store, layers)
    if len(names) < 2:
        raise InputError(f"agreement needs at least two annotator layers; found {', '.join(names) or 'none'} "
                         "(pull or import more annotators' work, or name layers with --layers)")
    schema = workspace.label_schema()
    loaded = _load_layers(store, names, include_unconfirmed)
    results: list[PairAgreement] = []
    for a, b in combinations(names, 2):
        common = [d for d in loaded[a] if d in loaded[b] and loaded[a][d].text_sha256 == loaded[b][d].text_sha256]
        per: dict[str, list[int]] = {}
        for doc_id in common:
            sa = {(s.start, s.end, s.label) for s in loaded[a][doc_id].spans}
            sb = {(s.start, s.end, s.label) for s in loaded[b][doc_id].spans}
            for key, group in (("a", sa), ("b", sb)):
                for _, _, label in group:
                    per.setdefault(label, [0, 0, 0])[1 if key == "a" else 2] += 1
            for _, _, label in sa & sb:
                per[label][0] += 1
        order = schema.names + sorted(set(per) - set(schema.names))
        labels = [LabelAgreement(lb, *per[lb]) for lb in order if lb in per]
        overall = LabelAgreement("all", sum(x.matched for x in labels), sum(x.a for x in labels),
                                 sum(x.b for x in labels))
        results.append(PairAgreement(a, b, len(common), overall, labels))
    return results


# ------------------------------------------------------------------------------------- adjudication
@dataclass
class VoteResult:
    spans: list[Span]
    annotators: int
    #: Spans some annotator marked that did not reach the vote threshold.
    below_threshold: list[tuple[Span, int]] = field(default_factory=list)
    #: Spans that won the vote but overlapped a stronger winner (more votes, then longer, then earlier).
    overlap_dropped: list[tuple[Span, Span]] = field(default_factory=list)


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
    return VoteResult(sorted(kept), n, below, dropped)


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
    stale: list[str] = field(default_factory=list)
    written: UpsertResult | None = None
    disagreements: list[str] = field(default_factory=list)


def records_by_document(loaded: dict[str, dict[str, AnnotationRecord]]) -> dict[str, list[AnnotationRecord]]:
    out: dict[str, list[AnnotationRecord]] = {}
    for layer in sorted(loaded):
        for doc_id, rec in loaded[layer].items():
            out.setdefault(doc_id, []).append(rec)
    return out


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
    by_doc = records_by_document(_load_layers(store, names, include_unconfirmed))
    existing = store.load(out_layer)
    report = AdjudicationReport(out_layer, names)
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
        vote = majority_vote(recs, label_order=schema.names, min_votes=min_votes)
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
        new.append(AnnotationRecord(doc_id=doc_id, text_sha256=recs[0].text_sha256, annotator=out_layer,
                                    spans=vote.spans, status="confirmed",
                                    origin={"adjudicated": "majority", "layers": [r.annotator for r in recs],
                                            "min_votes": min_votes or len(recs) // 2 + 1}))
    report.written = store.upsert(out_layer, new)
    return report
