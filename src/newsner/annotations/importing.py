"""Import annotations made elsewhere (doccano JSONL, CoNLL, re3d) into the corpus and annotation layers.

Import policy (`import_annotations`):
- Each input document becomes an article (added to the corpus when its text is new; id from the text) and one
  record in the annotator's layer (``--annotator``, or ``user<N>`` when a doccano file names users).
- Labels are mapped with ``--map A=B`` (``A=`` drops A on purpose). A label that is neither mapped nor in the
  schema is **not imported**: its spans are skipped and counted by label, so the schema check downstream never
  sees it and the user sees exactly what was left out.
- A line that cannot be read rejects that line's document only; everything else imports and the result says
  which lines failed (the CLI exits 1).
- The same document twice for one annotator in one import is a conflict: the first wins, later ones are rejected.
- A document that had spans, all of whose spans were left out because their labels are outside the schema (and
  not mapped), is **not imported** and is listed as rejected: as a confirmed record with no span it would teach a
  model that those names are not entities. (Spans dropped on purpose with ``--map X=`` do not count: the user
  said X is not an entity here.)
- A file with no document at all is reported (rejected), not silently accepted.
- doccano offsets are read in the unit each file's spans fit (`formats.offset_units`) unless ``offsets`` names one.
- Nothing is written until every layer can be: the layers' locks are taken (which checks annotations/ is
  writable) before any article is added to the corpus, and held until the records are written.
- Records are written with ``status`` confirmed by default (imported files are finished work) and an ``origin``
  naming the file and line, without timestamps, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner.annotations.relations import fit_relations
from newsner.annotations.store import AnnotationStore, UpsertResult
from newsner.corpus.store import Corpus
from newsner.errors import InputError
from newsner.formats import FORMATS, ParsedDoc, Rejected, SkippedSpan, to_nfc
from newsner.schema import (
    AnnotationRecord,
    Article,
    LabelSchema,
    Relation,
    Span,
    validate_article_dict,
)
from newsner.workspace import Workspace

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
    #: doccano files: file → the offset unit used and why (given, or detected where the unit mattered).
    offset_units: dict[str, str] = field(default_factory=dict)
    #: Documents not imported because every span had a label outside the schema.
    emptied: int = 0
    #: Every foreign label the input used → spans, and the --map keys no span used (a typo, most likely).
    labels_seen: Counter[str] = field(default_factory=Counter)
    unused_map: list[str] = field(default_factory=list)
    #: Relations imported, by type; relations that could not be kept, each naming file:line and why.
    relations_imported: Counter[str] = field(default_factory=Counter)
    relation_problems: list[str] = field(default_factory=list)
    #: Relations drawn backwards that were turned round (kept), each naming file:line.
    relation_notes: list[str] = field(default_factory=list)

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
    offsets: str = "auto",
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
        offsets: doccano offset unit: ``auto`` (detected per file), ``utf16``, ``codepoints`` or ``graphemes``.
        min_confidence: re3d entities below this confidence are skipped (and counted).
        progress: called with (files done, files total).

    Raises:
        InputError: unknown format/status, a path that does not exist, a bad option.
        FormatError: a file that cannot be opened at all.
    """
    from newsner.formats import conll, doccano, re3d
    from newsner.formats.offset_units import UNIT_NAMES, detect_offset_unit

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
    if offsets != "auto" and offsets not in UNIT_NAMES:
        raise InputError(f"--offsets must be auto, {', '.join(UNIT_NAMES)}; got {offsets!r}")
    for n, path in enumerate(files, start=1):
        before = len(parsed) + len(conll_docs) + len(report.rejected)
        if fmt == "doccano":
            unit = offsets
            if offsets == "auto":
                decision = detect_offset_unit(path)
                unit = decision.unit
                if decision.telling:  # say it only where the unit changed which words the spans cover
                    report.offset_units[str(path)] = decision.describe()
            else:
                report.offset_units[str(path)] = f"offsets read as {UNIT_NAMES[unit]} (--offsets {unit})"
            items: Iterable[ParsedDoc | Rejected] = doccano.read_doccano(path, offsets=unit)
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
        if len(parsed) + len(conll_docs) + len(report.rejected) == before and path.is_file():
            report.rejected.append(Rejected(str(path), "the file holds no document (it is empty or only blank "
                                                       "lines); nothing to import from it"))
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
        kept: list[Span | None] = []  # doc.spans index → the imported span (relations point at these)
        report.relation_problems.extend(doc.relation_problems)
        for s in doc.spans:
            kept.append(None)
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
            kept[-1] = Span(s.start, s.end, target, text)
        unmapped_here = sum(1 for s in doc.spans if s.label not in label_map and s.label not in schema.names)
        if not spans and (unmapped_here or doc.skipped):
            # Every span the file had was left out: as a confirmed record this would say "no entity here".
            report.emptied += 1
            why = []
            if unmapped_here:
                why.append(f"{unmapped_here} with labels outside the label schema (map them with --map "
                           "FOREIGN=LABEL, or FOREIGN= to drop them on purpose)")
            if doc.skipped:
                why.append(f"{len(doc.skipped)} skipped by the reader ({doc.skipped[0].reason})")
            report.rejected.append(Rejected(doc.where, "not imported: all of its spans were left out — "
                                            + "; ".join(why) + " — and a confirmed record without them would say "
                                            "the document has no entity"))
            continue
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
        ordered = sorted(spans)
        relations = _relations(doc, kept, ordered, schema, report)
        records.setdefault(layer, {})[article.id] = AnnotationRecord(
            doc_id=article.id, text_sha256=article.text_sha256, annotator=layer, spans=ordered,
            status=status, origin=doc.origin, relations=relations)

    store = AnnotationStore(workspace.annotations_dir)
    with contextlib.ExitStack() as held:
        # Take every layer's lock first: it fails (one clear line) when annotations/ cannot be written, before
        # any article goes into the corpus, and keeps concurrent writers of these layers out until we are done.
        for layer in sorted(records):
            held.enter_context(store.lock(layer))
        if articles:
            with corpus.lock():
                present = corpus.ids()
                new = [a for a in articles.values() if a.id not in present]
                corpus.append(new)
            report.articles_added = len(new)
            report.articles_present = len(articles) - len(new)
        for layer, by_doc in sorted(records.items()):
            report.layers[layer] = store.upsert(layer, by_doc.values())
    report.unused_map = sorted(k for k in label_map if k not in report.labels_seen)
    return report


def _relations(doc: ParsedDoc, kept: list[Span | None], ordered: list[Span], schema: LabelSchema,
               report: ImportReport) -> list[Relation]:
    """The reader's relations over the imported spans (sorted order); any that cannot be kept is reported."""
    index = {span: i for i, span in enumerate(ordered)}
    out: list[Relation] = []
    for h, t, kind in doc.relations:
        head, tail = kept[h], kept[t]
        if head is None or tail is None:
            lost = doc.spans[h] if head is None else doc.spans[t]
            report.relation_problems.append(
                f"{doc.where}: relation {kind} not kept: its span [{lost.start}, {lost.end}) {lost.label} was not "
                "imported (see the skipped spans)")
            continue
        out.append(Relation(index[head], index[tail], kind))
    # Types and directions are checked on the schema's labels (after --map): a relation drawn from the source to
    # the count is turned round with a note; an unknown type, a span linked to itself or labels that fit neither
    # way are not kept.
    fit = fit_relations(ordered, out, schema, where=doc.where)
    report.relation_notes.extend(f"{note}; turned round" for note in fit.turned)
    report.relation_problems.extend(fit.problems)
    for rel in fit.relations:
        report.relations_imported[rel.type] += 1
    return fit.relations


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


