"""`export()`: the streaming pipeline that ties records, splits, workers and writers together."""

from __future__ import annotations

import collections
import hashlib
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import orjson

from newsner._io import dumps
from newsner.align import (
    COUNTERS,
    AlignmentIssue,
)
from newsner.annotations import MAJORITY
from newsner.corpus import Corpus
from newsner.errors import AlignmentError, ExportError
from newsner.export.card import write_summary
from newsner.export.conll import ConllWriter
from newsner.export.hf import HFWriter, hf_features
from newsner.export.options import BATCH_ARTICLES, MARKER, SPLITS, ExportOptions, ExportResult, Progress, SplitStats
from newsner.export.parts import BatchResult, Item, WorkerConfig
from newsner.export.records import RecordSource
from newsner.export.spacy import SpacyWriter
from newsner.export.splits import SMALL_EXPORT, small_corpus_splits, split_of
from newsner.export.worker import _init_worker, _run_batch, process_batch
from newsner.workspace import Workspace


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
    writer: HFWriter | SpacyWriter | ConllWriter | None = None
    try:
        if options.fmt == "hf":
            writer = HFWriter(tmp, hf_features(schema), parquet=options.parquet, jsonl=options.jsonl)
        elif options.fmt == "spacy":
            writer = SpacyWriter(tmp)
        else:
            writer = ConllWriter(tmp)
        result = _run(corpus, source, options, labels, writer, tmp, progress)
        result.schema_version = schema.version
        result.bio_tags = schema.bio_tags()
        if options.strict:
            _raise_if_not_clean(result, tmp)
        fingerprint = hashlib.sha256(dumps([str(options), result.documents, result.issues_total]).encode()
                                     ).hexdigest()[:16]
        writer.close({s: st.examples for s, st in result.splits.items()}, fingerprint)
        writer = None
        write_summary(tmp, result)
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
         writer: HFWriter | SpacyWriter | ConllWriter, tmp: Path, progress: Progress | None) -> ExportResult:
    cfg = WorkerConfig(options.fmt, tuple(labels), options.unit, options.max_tokens, options.resolution,
                       options.conll_scheme, options.conll_columns,
                       writer.schema if isinstance(writer, HFWriter) else None)
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
