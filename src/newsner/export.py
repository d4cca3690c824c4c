"""Export annotated articles as a Hugging Face DatasetDict, spaCy DocBins or CoNLL files.

Pipeline (streaming: one pass over the corpus, a bounded number of articles in flight):

1. Records of the chosen layer are *indexed* (doc id → byte offset in annotations/<layer>.jsonl), not loaded;
   ``majority`` indexes every annotator layer and votes per article (`newsner.annotations.majority_vote`).
   Only confirmed records unless ``include_unconfirmed``.
2. The corpus is streamed. An annotated article goes to the split its near-duplicate cluster hashes to
   (``sha256(seed:cluster)``, cluster = ``duplicate_of`` or the article id), so a cluster never straddles
   splits and a document's split never changes when others are added.
3. Batches of articles are tokenized and aligned (`newsner.align`) in this process or in ``jobs`` worker
   processes; results come back in order, so the output does not depend on ``jobs``.
4. Writers append per split: Arrow files in ``save_to_disk`` layout (+ optional Parquet / JSONL), streaming
   DocBin files, CoNLL text. Everything goes to a temporary folder beside ``out`` that replaces ``out`` only
   when complete, so a failed or interrupted export leaves the previous one intact.
5. ``alignment.jsonl`` lists every span that did not go in as annotated; ``export.json`` has the totals;
   ``README.md`` is the dataset card.

Label ids always come from the label schema (`LabelSchema.bio_tags()`), never from the data.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from newsner._io import atomic_write_text, dumps
from newsner.align import (
    COUNTERS,
    RESOLUTIONS,
    UNITS,
    AlignmentIssue,
    align_spans,
    blank_nlp,
    make_units,
    sent_flag,
    tokenize_batch,
    utf8_token_array,
)
from newsner.annotations import MAJORITY, annotator_layers, majority_vote
from newsner.annotations_store import GOLD, AnnotationStore
from newsner.corpus import Corpus
from newsner.errors import AlignmentError, ExportError, InputError
from newsner.formats.conll import SCHEMES, decode, docstart_line, encode, format_sentence
from newsner.schema import AnnotationRecord, Article, LabelSchema
from newsner.workspace import Workspace

EXPORT_FORMATS = ("hf", "spacy", "conll")
SPLITS = ("train", "validation", "test")
#: Articles per unit of work; smaller for small exports so every worker gets some.
BATCH_ARTICLES = 128
MARKER = "export.json"

Progress = Callable[[int, int], None]


# ------------------------------------------------------------------------------------------- options
@dataclass(frozen=True)
class ExportOptions:
    fmt: str
    layer: str = GOLD
    unit: str = "sentence"
    max_tokens: int | None = None
    splits: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    include_unconfirmed: bool = False
    strict: bool = False
    resolution: str = "contract"
    parquet: bool = False
    jsonl: bool = False
    jobs: int = 1
    conll_scheme: str = "iob2"
    conll_columns: int = 4
    min_votes: int | None = None

    def check(self) -> None:
        if self.fmt not in EXPORT_FORMATS:
            raise InputError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, got {self.fmt!r}")
        if self.unit not in UNITS:
            raise InputError(f"--unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if self.resolution not in RESOLUTIONS:
            raise InputError(f"--resolution must be one of {', '.join(RESOLUTIONS)}, got {self.resolution!r}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise InputError(f"--max-tokens must be at least 1, got {self.max_tokens}")
        if self.jobs < 1:
            raise InputError(f"--jobs must be at least 1, got {self.jobs}")
        if self.conll_scheme not in SCHEMES:
            raise InputError(f"--scheme must be one of {', '.join(SCHEMES)}, got {self.conll_scheme!r}")
        if self.conll_columns not in (2, 4):
            raise InputError(f"--columns must be 2 or 4, got {self.conll_columns}")
        if (self.parquet or self.jsonl) and self.fmt != "hf":
            raise InputError("--parquet and --jsonl go with `newsner export hf`")


def parse_splits(spec: str) -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` → fractions of train, validation, test (each ≥ 0, summing to 1)."""
    try:
        parts = tuple(float(p) for p in spec.split(","))
    except ValueError:
        raise InputError(f"--splits {spec!r}: expected three numbers like 0.8,0.1,0.1") from None
    if len(parts) != 3 or any(p < 0 for p in parts) or abs(sum(parts) - 1) > 1e-6:
        raise InputError(f"--splits {spec!r}: expected three fractions ≥ 0 for train,validation,test summing to 1")
    return parts[0], parts[1], parts[2]


#: Below this many clusters the splits are cut by rank (see small_corpus_splits); above it an empty split
#: is practically impossible and the per-cluster hash alone decides, with no extra pass over the corpus.
SMALL_EXPORT = 1000


def _unit_hash(cluster: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{cluster}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def small_corpus_splits(clusters: Iterable[str], seed: int, fractions: Sequence[float]) -> dict[str, str]:
    """Cluster → split for a small export: split_of's hash, then no split with a non-zero fraction left empty.

    With a handful of articles a hash alone easily leaves validation or test empty (10 clusters at 0.8/0.1/0.1:
    one time in three), and a baseline then has nothing to be scored on. An empty split takes the cluster whose
    hash lies nearest its interval from a split that has more than one; every other cluster stays where the hash
    put it, so adding articles moves nothing unless a split was empty. A cluster never straddles splits.
    """
    unique = sorted(set(clusters))
    u = {c: _unit_hash(c, seed) for c in unique}
    out = {c: split_of(c, seed, fractions) for c in unique}
    bounds, cum = {}, 0.0
    for name, frac in zip(SPLITS, fractions, strict=True):
        bounds[name] = (cum, cum + frac)
        cum += frac
    for name, frac in zip(SPLITS, fractions, strict=True):
        if frac <= 0 or name in out.values():
            continue
        sizes = {n: list(out.values()).count(n) for n in SPLITS}
        donors = [c for c in unique if sizes[out[c]] > 1]
        if not donors:
            break  # fewer clusters than splits: nothing to spare
        lo, hi = bounds[name]
        nearest = min(donors, key=lambda c: (min(abs(u[c] - lo), abs(u[c] - hi)), c))
        out[nearest] = name
    return out


def split_of(cluster: str, seed: int, fractions: Sequence[float]) -> str:
    """The split of a near-duplicate cluster: a stable hash of (seed, cluster) against the fractions."""
    u = _unit_hash(cluster, seed)
    cum = 0.0
    for name, frac in zip(SPLITS, fractions, strict=True):
        cum += frac
        if u < cum:
            return name
    return next(name for name, frac in reversed(list(zip(SPLITS, fractions, strict=True))) if frac > 0)


# ------------------------------------------------------------------------------------------- records
_RECORD_HEAD = re.compile(rb'^\{"doc_id":"([0-9a-f]+)","text_sha256":"([0-9a-f]+)","annotator":"((?:[^"\\]|\\.)*)",')
_RECORD_STATUS = re.compile(rb'"status":"(confirmed|unconfirmed)","origin":')


class LayerIndex:
    """doc_id → (offset, length) of its line in one layer file; records are read on demand."""

    def __init__(self, path: Path, *, include_unconfirmed: bool) -> None:
        self.path = path
        self.where: dict[str, tuple[int, int]] = {}
        self.unconfirmed = 0
        self.annotators: Counter[str] = Counter()
        offset = 0
        with open(path, "rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if raw.strip():
                    doc_id, status, annotator = self._head(raw, path, lineno)
                    if status == "confirmed" or include_unconfirmed:
                        self.where[doc_id] = (offset, len(raw))
                        self.annotators[annotator] += 1
                    else:
                        self.unconfirmed += 1
                offset += len(raw)
        self._fh: IO[bytes] = open(path, "rb")

    @staticmethod
    def _head(raw: bytes, path: Path, lineno: int) -> tuple[str, str, str]:
        """(doc_id, status, annotator) of one record line.

        `AnnotationStore` writes ``{"doc_id":..,"text_sha256":..,"annotator":..,"spans":[..],"status":..``
        in that order, so the fields are read from the start and the end of the line without parsing the
        spans; any other layout is parsed in full.
        """
        head = _RECORD_HEAD.match(raw)
        tail = _RECORD_STATUS.search(raw, max(0, len(raw) - 200))
        if head and tail:
            return head.group(1).decode(), tail.group(1).decode(), str(orjson.loads(b'"' + head.group(3) + b'"'))
        try:
            obj = orjson.loads(raw)
            return str(obj["doc_id"]), str(obj.get("status", "unconfirmed")), str(obj.get("annotator", path.stem))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise ExportError(f"{path}:{lineno}: not a valid annotation record; run "
                              "`newsner annotations validate`") from None

    def get_bytes(self, doc_id: str) -> bytes | None:
        """The record's line as stored."""
        loc = self.where.get(doc_id)
        if loc is None:
            return None
        self._fh.seek(loc[0])
        return self._fh.read(loc[1])

    def get_raw(self, doc_id: str) -> dict[str, Any] | None:
        """The record's JSON object, unvalidated (export checks each span against the text itself)."""
        raw = self.get_bytes(doc_id)
        if raw is None:
            return None
        obj: dict[str, Any] = orjson.loads(raw)
        return obj

    def get(self, doc_id: str) -> AnnotationRecord | None:
        obj = self.get_raw(doc_id)
        return None if obj is None else AnnotationRecord.from_dict(obj, where=f"{self.path}: document {doc_id}")

    def close(self) -> None:
        self._fh.close()


class RecordSource:
    """The spans to export for an article, from one layer or the majority of the annotator layers."""

    def __init__(self, workspace: Workspace, layer: str, *, include_unconfirmed: bool, labels: Sequence[str],
                 min_votes: int | None) -> None:
        store = AnnotationStore(workspace.annotations_dir)
        self.layer = layer
        self.labels = list(labels)
        self.min_votes = min_votes
        if layer == MAJORITY:
            names = annotator_layers(store)
            if not names:
                raise ExportError("--layer majority: no annotator layers in annotations/ (pull or import first)")
        else:
            if not store.path(layer).exists():
                raise ExportError(f"{store.path(layer)}: no annotation layer {layer!r} (layers here: "
                                  f"{', '.join(store.layers()) or 'none'}); pull, import or adjudicate first")
            names = [layer]
        self.layer_names = names
        self.indexes = [LayerIndex(store.path(n), include_unconfirmed=include_unconfirmed) for n in names]
        self.wanted: set[str] = set().union(*(ix.where.keys() for ix in self.indexes))
        self.unconfirmed = sum(ix.unconfirmed for ix in self.indexes)
        self.annotators: Counter[str] = Counter()
        for ix in self.indexes:
            self.annotators.update(ix.annotators)
        self.vote_notes: Counter[str] = Counter()

    def spans_for(self, article: Article) -> tuple[list[tuple[int, int, str, str]] | bytes | None, str | None]:
        """(spans, None) or (None, why the article's records cannot be used).

        Spans are (start, end, label, text) tuples, or — for one layer in AnnotationStore's layout — the
        record line itself, parsed by the worker that aligns it (less work here, less to send to workers).
        """
        stale = "the record was made on another version of the article text (text_sha256 differs)"
        if self.layer != MAJORITY:
            raw = self.indexes[0].get_bytes(article.id)
            head = _RECORD_HEAD.match(raw) if raw is not None else None
            if raw is not None and head is not None:
                return (raw, None) if head.group(2).decode() == article.text_sha256 else (None, stale)
            # Any other layout: plain tuples from the JSON; alignment checks every span against the text.
            obj = self.indexes[0].get_raw(article.id)
            if obj is None or obj.get("text_sha256") != article.text_sha256:
                return None, stale
            try:
                return [(s["start"], s["end"], s["label"], s.get("text", "")) for s in obj.get("spans", [])], None
            except (KeyError, TypeError):
                return None, f"unreadable record in {self.indexes[0].path}; run `newsner annotations validate`"
        records = [r for r in (ix.get(article.id) for ix in self.indexes) if r is not None]
        current = [r for r in records if r.text_sha256 == article.text_sha256]
        if not current:
            return None, stale
        vote = majority_vote(current, label_order=self.labels, min_votes=self.min_votes)
        self.vote_notes["documents"] += 1
        self.vote_notes["below_threshold"] += len(vote.below_threshold)
        self.vote_notes["overlap_dropped"] += len(vote.overlap_dropped)
        return [(s.start, s.end, s.label, s.text) for s in vote.spans], None

    def close(self) -> None:
        for ix in self.indexes:
            ix.close()


# ---------------------------------------------------------------------------------------- the worker
@dataclass(frozen=True)
class WorkerConfig:
    fmt: str
    labels: tuple[str, ...]
    unit: str
    max_tokens: int | None
    resolution: str
    conll_scheme: str
    conll_columns: int
    #: The Arrow schema of the HF features (hf only): workers build finished tables.
    arrow_schema: Any = None


@dataclass
class Item:
    doc_id: str
    text: str
    language: str | None
    source: str | None
    published: str | None
    split: str
    #: (start, end, label, text) tuples, or a record line whose "spans" the worker reads (`record_spans`).
    spans: list[tuple[int, int, str, str]] | bytes


@dataclass
class _HFColumns:
    """Columns of one batch and split, gathered as flat arrays; `table` turns them into Arrow in one go."""

    ids: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)
    published: list[str | None] = field(default_factory=list)
    languages: list[str | None] = field(default_factory=list)
    unit_bounds: list[np.ndarray] = field(default_factory=list)  # per article: unit starts, relative
    char_offsets: list[np.ndarray] = field(default_factory=list)  # per article: token byte offsets
    char_data: list[np.ndarray] = field(default_factory=list)  # per article: token bytes
    tags: list[np.ndarray] = field(default_factory=list)

    def table(self, schema: Any) -> Any:
        import pyarrow as pa

        # token strings: one StringArray from concatenated bytes and shifted offsets
        base = np.cumsum([0] + [int(o[-1]) for o in self.char_offsets])
        str_offsets = np.concatenate([o[:-1] + b for o, b in zip(self.char_offsets, base, strict=False)]
                                     + [np.array([base[-1]])]).astype(np.int32)
        data = np.concatenate(self.char_data) if self.char_data else np.zeros(0, dtype=np.uint8)
        n_tokens = len(str_offsets) - 1
        values = pa.StringArray.from_buffers(n_tokens, pa.py_buffer(str_offsets), pa.py_buffer(data))
        # list offsets: every unit's first token, shifted by the tokens of the articles before it
        tok_base = np.cumsum([0] + [len(t) for t in self.tags])
        list_offsets = np.concatenate([u + b for u, b in zip(self.unit_bounds, tok_base, strict=False)]
                                      + [np.array([tok_base[-1]])]).astype(np.int32)
        tags = np.concatenate(self.tags) if self.tags else np.zeros(0, dtype=np.int64)
        offsets = pa.array(list_offsets, type=pa.int32())
        columns = [pa.array(self.ids, pa.string()), pa.array(self.doc_ids, pa.string()),
                   pa.ListArray.from_arrays(offsets, values),
                   pa.ListArray.from_arrays(offsets, pa.array(tags, type=pa.int64())),
                   pa.array(self.sources, pa.string()), pa.array(self.published, pa.string()),
                   pa.array(self.languages, pa.string())]
        return pa.Table.from_arrays(columns, schema=schema)


@dataclass
class SplitPart:
    """One batch's output for one split, in the form its writer appends."""

    table: Any = None  # hf: a pyarrow Table
    conll: list[str] = field(default_factory=list)
    tokens: list[np.ndarray] = field(default_factory=list)  # spacy: per-doc attribute arrays
    spaces: list[np.ndarray] = field(default_factory=list)
    strings: set[str] = field(default_factory=set)
    examples: int = 0
    documents: int = 0
    n_tokens: int = 0
    entities: Counter[str] = field(default_factory=Counter)


@dataclass
class BatchResult:
    parts: dict[str, SplitPart]
    issues: list[AlignmentIssue]
    counts: Counter[str]
    languages: Counter[str]


_CONFIG: WorkerConfig | None = None


def _init_worker(config: WorkerConfig) -> None:
    global _CONFIG
    _CONFIG = config
    blank_nlp(None)  # the usual pipeline, ready before the first batch arrives


def _run_batch(items: list[Item]) -> BatchResult:
    assert _CONFIG is not None
    return process_batch(items, _CONFIG)


def record_spans(item: Item) -> tuple[list[tuple[int, int, str, str]], AlignmentIssue | None]:
    """The spans of an Item; a record line that cannot be read gives no spans and a named issue."""
    if not isinstance(item.spans, bytes):
        return item.spans, None
    try:
        return [(s["start"], s["end"], s["label"], s.get("text", "")) for s in orjson.loads(item.spans)["spans"]], None
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return [], AlignmentIssue(item.doc_id, "", 0, 0, "", "unreadable_record", "dropped",
                                  detail="the annotation record cannot be read; run `newsner annotations validate`")


def process_batch(items: list[Item], cfg: WorkerConfig) -> BatchResult:
    """Tokenize, align and cut a batch of articles into examples (runs in a worker process when jobs > 1)."""
    parts: dict[str, SplitPart] = {}
    columns: dict[str, _HFColumns] = {}
    issues: list[AlignmentIssue] = []
    counts: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    labels = cfg.labels
    bio = ["O"] + [f"{p}-{lb}" for lb in labels for p in ("B", "I")]
    docs = []
    flags = []
    for item in items:
        nlp, code = blank_nlp(item.language)
        languages[code] += 1
        docs.append(nlp.make_doc(item.text))
        flags.append(sent_flag(nlp))
    all_tokens = tokenize_batch(docs, [item.text for item in items], flags)
    for item, doc, tokens in zip(items, docs, all_tokens, strict=True):
        spans, unreadable = record_spans(item)
        if unreadable is not None:
            issues.append(unreadable)
            counts["unreadable_record"] += 1
        aligned = align_spans(tokens, item.text, spans, doc_id=item.doc_id, labels=labels,
                              resolution=cfg.resolution)
        tags = aligned.tags(len(tokens), labels)
        ranges, unit_issues, unit_counts = make_units(tokens, aligned, unit=cfg.unit,
                                                      max_tokens=cfg.max_tokens, doc_id=item.doc_id,
                                                      text=item.text, tags=tags)
        issues.extend(aligned.issues)
        issues.extend(unit_issues)
        counts.update(aligned.counts)
        if unit_counts:
            counts.update(unit_counts)
        unit_starts = np.array([a for a, _ in ranges], dtype=np.int64)
        if len(unit_starts):
            # An entity cut by a unit boundary restarts with B- (even id I-X → odd id B-X), so each example is
            # valid IOB2 on its own.
            first = tags[unit_starts]
            cut = (first > 0) & (first % 2 == 0)
            tags[unit_starts[cut]] -= 1
        part = parts.setdefault(item.split, SplitPart())
        part.documents += 1
        part.examples += len(ranges)
        part.n_tokens += len(tokens)
        begins = tags[tags % 2 == 1]
        for k, n in enumerate(np.bincount((begins - 1) // 2, minlength=len(labels)).tolist()):
            if n:
                part.entities[labels[k]] += n
        if cfg.fmt == "hf":
            cols = columns.setdefault(item.split, _HFColumns())
            cols.ids.extend(f"{item.doc_id}-{k}" for k in range(len(ranges)))
            cols.doc_ids.extend([item.doc_id] * len(ranges))
            cols.sources.extend([item.source] * len(ranges))
            cols.published.extend([item.published] * len(ranges))
            cols.languages.extend([item.language] * len(ranges))
            cols.unit_bounds.append(unit_starts)
            offsets, data = utf8_token_array(tokens)
            cols.char_offsets.append(offsets)
            cols.char_data.append(data)
            cols.tags.append(tags)
        elif cfg.fmt == "conll":
            part.conll.append(docstart_line(item.doc_id, cfg.conll_columns) + "\n\n")
            texts = tokens.texts
            for a, b in ranges:
                names = [bio[t] for t in tags[a:b].tolist()]
                if cfg.conll_scheme != "iob2":
                    names = encode(len(names), decode(names, "iob2")[0], cfg.conll_scheme)
                part.conll.append(format_sentence(texts[a:b], names, cfg.conll_columns) + "\n\n")
        else:
            _add_docbin_units(part, doc, tokens, tags, ranges, labels, item.text)
    for split, cols in columns.items():
        parts[split].table = cols.table(cfg.arrow_schema)
    return BatchResult(parts, issues, counts, languages)


def _add_docbin_units(part: SplitPart, doc: Any, tokens: Any, tags: np.ndarray, ranges: list[tuple[int, int]],
                      labels: Sequence[str], text: str) -> None:
    """DocBin arrays for each unit, computed straight from the tokenizer's Doc (no Doc objects built).

    Columns follow `DOCBIN_ATTRS` (ORTH, ENT_IOB, ENT_TYPE); whitespace tokens inside a unit are kept (O) so
    ``doc.text`` is exactly the article text of the unit.
    """
    from spacy.attrs import ORTH, SPACY

    strings = doc.vocab.strings
    n = len(doc)
    orth = doc.to_array(ORTH).astype(np.uint64)
    spaces = doc.to_array(SPACY).astype(bool)
    ent_iob = np.full(n, 2, dtype=np.uint64)  # 2 = O, 3 = B, 1 = I (spaCy's ENT_IOB codes)
    ent_type = np.zeros(n, dtype=np.uint64)
    label_hash = np.array([strings.add(lb) for lb in labels], dtype=np.uint64)
    kept = tokens.doc_index
    nz = np.flatnonzero(tags)
    if len(nz):
        t = tags[nz]
        ent_iob[kept[nz]] = np.where(t % 2 == 1, 3, 1)
        ent_type[kept[nz]] = label_hash[(t - 1) // 2]
    part.strings.update(tokens.texts)
    part.strings.update(labels)
    for i in np.flatnonzero(~np.isin(np.arange(n), kept)).tolist():
        part.strings.add(doc[i].text)
    for a, b in ranges:
        x, y = int(kept[a]), int(kept[b - 1]) + 1
        arr = np.stack([orth[x:y], ent_iob[x:y].copy(), ent_type[x:y]], axis=1)
        if arr[0, 1] == 1:
            arr[0, 1] = 3  # an entity cut at the unit start begins here
        sp = spaces[x:y].copy()
        sp[-1] = False  # the unit ends at its last token; what follows belongs to the next unit
        part.tokens.append(np.ascontiguousarray(arr))
        part.spaces.append(sp.reshape(-1, 1))


# ------------------------------------------------------------------------------------------- writers
def hf_features(schema: LabelSchema) -> Any:
    """The dataset features: conll2003-like `tokens` / `ner_tags`, plus article metadata."""
    from datasets import ClassLabel, Features, Value

    try:
        from datasets import List as ListFeature  # datasets ≥ 4: `Sequence` is a compatibility shim
    except ImportError:  # pragma: no cover - datasets 3.x
        from datasets import Sequence as ListFeature
    return Features({
        "id": Value("string"),
        "doc_id": Value("string"),
        "tokens": ListFeature(Value("string")),
        "ner_tags": ListFeature(ClassLabel(names=schema.bio_tags())),
        "source": Value("string"),
        "published": Value("string"),
        "language": Value("string"),
    })


class _HFWriter:
    def __init__(self, root: Path, features: Any, *, parquet: bool, jsonl: bool) -> None:
        import pyarrow.parquet as pq
        from datasets.arrow_writer import ArrowWriter

        self.root = root
        self.features = features
        self.schema = features.arrow_schema
        self.writers = {}
        self.parquet: dict[str, Any] = {}
        self.jsonl: dict[str, IO[bytes]] = {}
        for split in SPLITS:
            (root / split).mkdir(parents=True)
            self.writers[split] = ArrowWriter(features=features, path=str(root / split / "data-00000-of-00001.arrow"))
            if parquet:
                (root / "parquet").mkdir(exist_ok=True)
                self.parquet[split] = pq.ParquetWriter(str(root / "parquet" / f"{split}.parquet"), self.schema)
            if jsonl:
                (root / "jsonl").mkdir(exist_ok=True)
                self.jsonl[split] = open(root / "jsonl" / f"{split}.jsonl", "wb")

    def add(self, split: str, part: SplitPart) -> None:
        table = part.table
        if table is None or not table.num_rows:
            return
        self.writers[split].write_table(table)
        if split in self.parquet:
            self.parquet[split].write_table(table)
        if split in self.jsonl:
            fh = self.jsonl[split]
            for row in table.to_pylist():
                fh.write(orjson.dumps(row) + b"\n")

    def close(self, split_sizes: dict[str, int], fingerprint: str) -> None:
        from datasets import DatasetInfo, SplitDict, SplitInfo

        splits = SplitDict()
        for split in SPLITS:
            n, nbytes = self.writers[split].finalize()
            self.writers[split].close()
            splits.add(SplitInfo(name=split, num_examples=n, num_bytes=nbytes))
        for split in SPLITS:
            info = DatasetInfo(description="NER examples exported by newsner (see README.md)",
                               features=self.features, splits=splits)
            info.write_to_directory(str(self.root / split))
            # The state file `Dataset.save_to_disk` writes: one data file, no format, the split name.
            state: dict[str, Any] = {"_data_files": [{"filename": "data-00000-of-00001.arrow"}],
                     "_fingerprint": f"{fingerprint}-{split}", "_format_columns": None, "_format_kwargs": {},
                     "_format_type": None, "_output_all_columns": False, "_split": split}
            (self.root / split / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
        (self.root / "dataset_dict.json").write_text(json.dumps({"splits": list(SPLITS)}))
        for pw in self.parquet.values():
            pw.close()
        for fh in self.jsonl.values():
            fh.close()

    def abort(self) -> None:
        for fh in self.jsonl.values():
            fh.close()
        for pw in self.parquet.values():
            with contextlib.suppress(Exception):
                pw.close()


class DocBinStreamWriter:
    """Writes one spaCy DocBin file without holding its documents in memory.

    A DocBin file is ``zlib(msgpack({version, attrs, tokens, spaces, lengths, strings, cats, flags,
    span_groups}))`` where ``tokens``/``spaces`` are the concatenated per-document arrays. The arrays are
    appended to scratch files as they come; `close` streams the msgpack framing and the scratch files through
    one zlib compressor. Only the string set (unique tokens) and one int per document stay in memory.
    `DocBin().from_disk` reads the result (tested).
    """

    def __init__(self, path: Path, attrs: list[int]) -> None:
        self.path = path
        self.attrs = attrs
        self.scratch = path.with_name(path.name + ".parts")
        self.scratch.mkdir()
        self.tokens_fh = open(self.scratch / "tokens", "wb")
        self.spaces_fh = open(self.scratch / "spaces", "wb")
        self.lengths: list[int] = []
        self.strings: set[str] = set()

    def add(self, part: SplitPart) -> None:
        for arr, sp in zip(part.tokens, part.spaces, strict=True):
            self.tokens_fh.write(arr.astype(np.uint64, copy=False).tobytes("C"))
            self.spaces_fh.write(sp.astype(bool, copy=False).tobytes("C"))
            self.lengths.append(len(arr))
        self.strings.update(part.strings)

    def close(self) -> None:
        import srsly

        self.tokens_fh.close()
        self.spaces_fh.close()
        n = len(self.lengths)
        comp = zlib.compressobj()
        with open(self.path, "wb") as out:

            def put(data: bytes) -> None:
                out.write(comp.compress(data))

            def put_file(path: Path) -> None:
                size = path.stat().st_size
                put(b"\xc6" + size.to_bytes(4, "big"))  # msgpack bin32 header
                with open(path, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        put(chunk)

            def put_array(items: Iterator[bytes], count: int) -> None:
                put(b"\xdd" + count.to_bytes(4, "big"))  # msgpack array32 header
                for item in items:
                    put(item)

            put(b"\x89")  # fixmap with 9 entries, the keys DocBin.to_bytes writes
            put(srsly.msgpack_dumps("version") + srsly.msgpack_dumps("0.1"))
            put(srsly.msgpack_dumps("attrs") + srsly.msgpack_dumps(self.attrs))
            put(srsly.msgpack_dumps("tokens"))
            put_file(self.scratch / "tokens")
            put(srsly.msgpack_dumps("spaces"))
            put_file(self.scratch / "spaces")
            put(srsly.msgpack_dumps("lengths") + srsly.msgpack_dumps(np.asarray(self.lengths, dtype="int32")
                                                                      .tobytes("C")))
            put(srsly.msgpack_dumps("strings"))
            put_array((srsly.msgpack_dumps(s) for s in sorted(self.strings)), len(self.strings))
            put(srsly.msgpack_dumps("cats"))
            put_array((b"\x80" for _ in range(n)), n)  # {} per doc
            put(srsly.msgpack_dumps("flags"))
            flag = srsly.msgpack_dumps({"has_unknown_spaces": False})
            put_array((flag for _ in range(n)), n)
            put(srsly.msgpack_dumps("span_groups"))
            put_array((b"\xc4\x00" for _ in range(n)), n)  # empty bytes: no span groups
            out.write(comp.flush())
        shutil.rmtree(self.scratch)

    def abort(self) -> None:
        self.tokens_fh.close()
        self.spaces_fh.close()


def docbin_attrs() -> list[int]:
    """Attribute columns in DocBin's own order (ORTH first, then the others sorted)."""
    from spacy.attrs import ENT_IOB, ENT_TYPE, ORTH

    return [ORTH, *sorted([ENT_IOB, ENT_TYPE])]


class _SpacyWriter:
    def __init__(self, root: Path) -> None:
        attrs = docbin_attrs()
        self.writers = {s: DocBinStreamWriter(root / f"{s}.spacy", attrs) for s in SPLITS}

    def add(self, split: str, part: SplitPart) -> None:
        self.writers[split].add(part)

    def close(self, split_sizes: dict[str, int], fingerprint: str) -> None:
        for w in self.writers.values():
            w.close()

    def abort(self) -> None:
        for w in self.writers.values():
            w.abort()


class _ConllWriter:
    def __init__(self, root: Path) -> None:
        self.files = {s: open(root / f"{s}.conll", "w", encoding="utf-8", newline="\n") for s in SPLITS}

    def add(self, split: str, part: SplitPart) -> None:
        fh = self.files[split]
        for block in part.conll:
            fh.write(block)

    def close(self, split_sizes: dict[str, int], fingerprint: str) -> None:
        for fh in self.files.values():
            fh.close()

    def abort(self) -> None:
        for fh in self.files.values():
            fh.close()


# -------------------------------------------------------------------------------------------- result
@dataclass
class SplitStats:
    examples: int = 0
    documents: int = 0
    tokens: int = 0
    entities: Counter[str] = field(default_factory=Counter)


@dataclass
class ExportResult:
    out: Path
    options: ExportOptions
    labels: list[str]
    bio_tags: list[str]
    schema_version: int
    splits: dict[str, SplitStats]
    #: Report counters in `COUNTERS` order (zeros included), then majority-vote counters when relevant.
    alignment: dict[str, int]
    issues_total: int
    issues_preview: list[AlignmentIssue]
    skipped_documents: list[str]
    annotators: dict[str, int]
    layer_names: list[str]
    unconfirmed_left_out: int
    languages: dict[str, int]
    files: list[str]

    @property
    def documents(self) -> int:
        return sum(s.documents for s in self.splits.values())


# ------------------------------------------------------------------------------------------ export()
def export(workspace: Workspace, out: Path, options: ExportOptions, *,
           progress: Progress | None = None) -> ExportResult:
    """Export the annotated articles of one layer (see the module docstring).

    Args:
        workspace: where corpus/ and annotations/ are.
        out: the folder to write (replaced atomically; must be empty, missing, or an earlier export).
        options: what and how to export.
        progress: called with (articles done, articles to export).

    Returns:
        The totals the CLI prints and the dataset card shows.

    Raises:
        InputError: bad options.
        ExportError: missing layer/corpus, or `out` is something else than an earlier export.
        AlignmentError: under ``strict``, when any span did not fit the tokens (nothing is written).
    """
    options.check()
    schema = workspace.label_schema()
    labels = schema.names
    corpus = Corpus(workspace.corpus_dir)
    corpus.require()
    _check_out(out)
    source = RecordSource(workspace, options.layer, include_unconfirmed=options.include_unconfirmed,
                          labels=labels, min_votes=options.min_votes)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    writer: _HFWriter | _SpacyWriter | _ConllWriter | None = None
    try:
        if options.fmt == "hf":
            writer = _HFWriter(tmp, hf_features(schema), parquet=options.parquet, jsonl=options.jsonl)
        elif options.fmt == "spacy":
            writer = _SpacyWriter(tmp)
        else:
            writer = _ConllWriter(tmp)
        result = _run(corpus, source, options, labels, writer, tmp, progress)
        result.schema_version = schema.version
        result.bio_tags = schema.bio_tags()
        if options.strict:
            _raise_if_not_clean(result, tmp)
        fingerprint = hashlib.sha256(dumps([str(options), result.documents, result.issues_total]).encode()
                                     ).hexdigest()[:16]
        writer.close({s: st.examples for s, st in result.splits.items()}, fingerprint)
        writer = None
        _write_summary(tmp, result)
        result.files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        _replace_dir(tmp, out)
        result.out = out
        return result
    except BaseException:
        if writer is not None:
            writer.abort()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        source.close()


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: is a file; --out must be a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ExportError(f"{out}: exists and is not a newsner export (no {MARKER}); choose another --out or "
                          "empty it")


def _replace_dir(tmp: Path, out: Path) -> None:
    """Swap the finished export into place; the previous export is removed only after the swap."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _items(corpus: Corpus, source: RecordSource, options: ExportOptions, skipped: list[str],
           seen: set[str]) -> Iterator[Item]:
    small: dict[str, str] | None = None
    if len(source.wanted) < SMALL_EXPORT:
        cluster_of = {obj["id"]: obj.get("duplicate_of") or obj["id"] for _, _, obj in corpus.iter_raw()
                      if isinstance(obj, dict) and obj.get("id") in source.wanted}
        small = small_corpus_splits(cluster_of.values(), options.seed, options.splits)
    for article in corpus:
        if article.id not in source.wanted:
            continue
        seen.add(article.id)
        spans, why = source.spans_for(article)
        if spans is None:
            skipped.append(f"article {article.id}: {why}")
            continue
        cluster = article.duplicate_of or article.id
        split = small[cluster] if small is not None else split_of(cluster, options.seed, options.splits)
        yield Item(article.id, article.text, article.language, article.source, article.published, split, spans)


def _batches(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _results(batches: Iterator[list[Item]], cfg: WorkerConfig, jobs: int) -> Iterator[BatchResult]:
    """Batch results in input order; with jobs > 1 at most 2·jobs batches are in flight (bounded memory)."""
    if jobs == 1:
        for batch in batches:
            yield process_batch(batch, cfg)
        return
    import multiprocessing

    # fork: workers inherit the imported spaCy (and its English language data) instead of each importing it
    # again; each builds its own pipeline in the initializer, in parallel.
    import spacy.lang.en  # noqa: F401

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(cfg,)) as pool:
        pending: collections.deque[Future[BatchResult]] = collections.deque()
        for batch in batches:
            pending.append(pool.submit(_run_batch, batch))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _run(corpus: Corpus, source: RecordSource, options: ExportOptions, labels: list[str],
         writer: _HFWriter | _SpacyWriter | _ConllWriter, tmp: Path, progress: Progress | None) -> ExportResult:
    cfg = WorkerConfig(options.fmt, tuple(labels), options.unit, options.max_tokens, options.resolution,
                       options.conll_scheme, options.conll_columns,
                       writer.schema if isinstance(writer, _HFWriter) else None)
    splits = {s: SplitStats() for s in SPLITS}
    counts: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    preview: list[AlignmentIssue] = []
    issues_total = 0
    skipped: list[str] = []
    seen: set[str] = set()
    total = len(source.wanted)
    done = 0
    with open(tmp / "alignment.jsonl", "wb") as report:
        items = _items(corpus, source, options, skipped, seen)
        batch = max(1, min(BATCH_ARTICLES, total // (4 * options.jobs)))
        for res in _results(_batches(items, batch), cfg, options.jobs):
            for split, part in res.parts.items():
                writer.add(split, part)
                st = splits[split]
                st.examples += part.examples
                st.documents += part.documents
                st.tokens += part.n_tokens
                st.entities.update(part.entities)
                done += part.documents
            counts.update(res.counts)
            languages.update(res.languages)
            for issue in res.issues:
                report.write(orjson.dumps(issue.to_dict()) + b"\n")
                issues_total += 1
                if len(preview) < 20:
                    preview.append(issue)
            if progress:
                progress(done, total)
    for doc_id in sorted(source.wanted - seen):
        skipped.append(f"article {doc_id}: has a record in {', '.join(source.layer_names)} but is not in the "
                       f"corpus ({corpus.root})")
    if source.layer == MAJORITY:
        counts["majority_below_threshold"] = source.vote_notes["below_threshold"]
        counts["majority_overlap_dropped"] = source.vote_notes["overlap_dropped"]
    return ExportResult(
        out=tmp, options=options, labels=labels, bio_tags=[], schema_version=0, splits=splits,
        alignment={**{k: counts.get(k, 0) for k in COUNTERS}, **{k: v for k, v in counts.items() if k not in COUNTERS}},
        issues_total=issues_total, issues_preview=preview, skipped_documents=skipped,
        annotators=dict(source.annotators), layer_names=list(source.layer_names),
        unconfirmed_left_out=source.unconfirmed, languages=dict(languages), files=[])


def _raise_if_not_clean(result: ExportResult, tmp: Path) -> None:
    problems = result.issues_total + len(result.skipped_documents)
    if not problems:
        return
    lines = [str(i) for i in result.issues_preview[:5]] + result.skipped_documents[:5]
    raise AlignmentError(
        f"--strict: {result.issues_total} span(s) did not fit the tokens and {len(result.skipped_documents)} "
        f"document(s) could not be exported; nothing was written. First: " + "; ".join(lines)
        + " (run without --strict to get every one in alignment.jsonl)")


# ------------------------------------------------------------------------------------- card + summary
def summary_dict(result: ExportResult) -> dict[str, Any]:
    from newsner import __version__

    try:
        import spacy

        spacy_version = str(getattr(spacy, "__version__", "?"))
    except ImportError:  # pragma: no cover
        spacy_version = "?"
    o = result.options
    return {
        "format": o.fmt,
        "layer": o.layer,
        "layers_used": result.layer_names,
        "annotators": result.annotators,
        "unit": o.unit,
        "max_tokens": o.max_tokens,
        "splits": {s: {"examples": st.examples, "documents": st.documents, "tokens": st.tokens,
                       "entities": {lb: st.entities.get(lb, 0) for lb in result.labels}}
                   for s, st in result.splits.items()},
        "split_fractions": dict(zip(SPLITS, o.splits, strict=True)),
        "seed": o.seed,
        "label_schema_version": result.schema_version,
        "labels": result.labels,
        "ner_tags": result.bio_tags,
        "alignment": dict(result.alignment),
        "alignment_issues": result.issues_total,
        "resolution": o.resolution,
        "skipped_documents": result.skipped_documents,
        "unconfirmed_left_out": result.unconfirmed_left_out,
        "include_unconfirmed": o.include_unconfirmed,
        "languages": result.languages,
        "newsner_version": __version__,
        "spacy_version": spacy_version,
        "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _write_summary(tmp: Path, result: ExportResult) -> None:
    summary = summary_dict(result)
    atomic_write_text(tmp / MARKER, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(tmp / "README.md", dataset_card(result, summary))


def dataset_card(result: ExportResult, summary: dict[str, Any]) -> str:
    """The dataset card (README.md): what is in it, how to load it, counts, alignment, provenance."""
    o = result.options
    labels = result.labels
    lines = [
        "---",
        "task_categories:",
        "- token-classification",
        "task_ids:",
        "- named-entity-recognition",
        "language:",
        *[f"- {code}" for code in sorted(result.languages)],
        "pretty_name: newsner conflict-news NER",
        "---",
        "",
        "# newsner NER dataset",
        "",
        "Named entities in conflict news (who did what, where, how many were hurt, who says so), exported by",
        f"newsner {summary['newsner_version']} from the `{o.layer}` annotation layer.",
        "",
        "## Loading",
        "",
    ]
    if o.fmt == "hf":
        lines += ["```python", "from datasets import load_from_disk", "", "ds = load_from_disk(\"<this folder>\")",
                  "names = ds[\"train\"].features[\"ner_tags\"].feature.names", "```", ""]
        if o.parquet or o.jsonl:
            lines += ["Also as " + " and ".join(x for x, on in (("`parquet/<split>.parquet`", o.parquet),
                                                                  ("`jsonl/<split>.jsonl`", o.jsonl)) if on)
                      + " (same columns; `ner_tags` as ids).", ""]
    elif o.fmt == "spacy":
        lines += ["`train.spacy`, `validation.spacy`, `test.spacy` are spaCy DocBins (one Doc per example, entities "
                  "in `doc.ents`):", "", "```python", "import spacy", "from spacy.tokens import DocBin", "",
                  "docs = list(DocBin().from_disk(\"train.spacy\").get_docs(spacy.blank(\"en\").vocab))", "```", ""]
    else:
        columns = "TOKEN _ _ TAG" if o.conll_columns == 4 else "TOKEN TAG"
        lines += [f"`train.conll`, `validation.conll`, `test.conll`: one `{columns}` line per token "
                  f"({o.conll_scheme.upper()} tags), a blank line after each example, and a `-DOCSTART-` line "
                  "before each article" + (" carrying its corpus id (`-DOCSTART- -X- <id> O`)."
                                          if o.conll_columns == 4 else "."), ""]
    lines += [
        "## Fields",
        "",
        "| field | type | meaning |",
        "| --- | --- | --- |",
        "| `id` | string | `<doc_id>-<n>`: the n-th example of the article |",
        "| `doc_id` | string | the corpus article id (derived from its text) |",
        "| `tokens` | list of string | spaCy blank-tokenizer tokens (whitespace tokens left out) |",
        "| `ner_tags` | list of ClassLabel | IOB2 tags, names below |",
        "| `source`, `published`, `language` | string | article metadata (null when unknown) |",
        "",
        f"`ner_tags` names, in id order (fixed by label schema version {result.schema_version}, never by the data):",
        "",
        "    " + ", ".join(f"{i}={t}" for i, t in enumerate(result.bio_tags)),
        "",
        "## Splits",
        "",
        f"Fractions train/validation/test = {'/'.join(f'{x:g}' for x in o.splits)} by a stable hash of each "
        f"article's near-duplicate cluster (seed {o.seed}): duplicates never straddle splits, and adding articles "
        "never moves existing ones. Unit: "
        + {"sentence": "one sentence per example", "document": "one article per example",
           "window": f"consecutive sentences packed into at most {o.max_tokens or 128} tokens"}[o.unit]
        + (f"; examples longer than {o.max_tokens} tokens are cut" if o.max_tokens and o.unit != "window" else "")
        + ".",
        "",
        "| split | examples | articles | tokens | " + " | ".join(labels) + " |",
        "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in labels) + " |",
    ]
    for split, st in result.splits.items():
        lines.append(f"| {split} | {st.examples} | {st.documents} | {st.tokens} | "
                     + " | ".join(str(st.entities.get(lb, 0)) for lb in labels) + " |")
    lines += ["", "Label columns count entities (B- tags).", "", "## Annotation", ""]
    layer_desc = {GOLD: "the adjudicated gold layer", MAJORITY: "a span-level majority vote over the annotator "
                  f"layers ({', '.join(result.layer_names)})"}.get(o.layer, f"annotator layer `{o.layer}`")
    lines += [f"Spans come from {layer_desc}; "
              + ("unconfirmed documents are included." if o.include_unconfirmed
                 else f"only confirmed documents ({result.unconfirmed_left_out} unconfirmed left out)."),
              "",
              "Annotators (records): " + (", ".join(f"{a} ({n})" for a, n in sorted(result.annotators.items()))
                                         or "none"),
              "", "## Alignment", "",
              f"Character spans were mapped onto tokens; misaligned spans were resolved by **{o.resolution}**, "
              "overlapping ones by *longer wins, then earlier, then schema order*. Every span that did not go in as "
              "annotated is listed in `alignment.jsonl`.", "",
              "| | count |", "| --- | ---: |"]
    for key, value in result.alignment.items():
        lines.append(f"| {key.replace('_', ' ')} | {value} |")
    if result.skipped_documents:
        lines += ["", f"{len(result.skipped_documents)} annotated article(s) could not be exported (see "
                      "`export.json`)."]
    lines += ["", "## Provenance", "",
              f"- newsner {summary['newsner_version']}, spaCy {summary['spacy_version']} "
              f"(tokenizer `spacy.blank`: {', '.join(f'{k} ({v})' for k, v in sorted(result.languages.items()))})",
              f"- label schema version {result.schema_version}: {', '.join(labels)}",
              f"- exported {summary['exported_at']}; options in `export.json`",
              ""]
    return "\n".join(lines)
