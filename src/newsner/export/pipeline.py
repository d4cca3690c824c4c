"""`export()`: the streaming pipeline that ties records, splits, workers and writers together."""

from __future__ import annotations

import collections
import hashlib
import os
import shutil
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import orjson

from newsner._io import dumps
from newsner.annotations import MAJORITY
from newsner.corpus.store import Corpus
from newsner.errors import AlignmentError, ExportError
from newsner.export.card import source_license, write_summary
from newsner.export.conll import ConllWriter
from newsner.export.hf import HFWriter, hf_features
from newsner.export.options import BATCH_ARTICLES, SPLITS, ExportOptions, ExportResult, Progress, SplitStats
from newsner.export.parts import BatchResult, Item, WorkerConfig
from newsner.export.records import RecordSource
from newsner.export.spacy import SpacyWriter
from newsner.export.splits import SMALL_EXPORT, SplitPlan, label_warnings, plan_splits
from newsner.export.swap import check_out, recover, replace_dir
from newsner.export.worker import _init_worker, _run_batch, process_batch
from newsner.schema import Article
from newsner.text.align import COUNTERS, AlignmentIssue, import_spacy
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
    recovered = recover(out)
    check_out(out)
    source = RecordSource(workspace, options.layer, include_unconfirmed=options.include_unconfirmed,
                          labels=labels, min_votes=options.min_votes)
    if not source.wanted and not options.allow_empty:
        source.close()
        raise ExportError(_no_document(source, options))
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
        result = _run(corpus, source, options, labels, writer, tmp, progress,
                      relation_types=schema.relation_names)
        result.schema_version = schema.version
        result.bio_tags = schema.bio_tags()
        if options.strict:
            _raise_if_not_clean(result, tmp)
        if not options.allow_empty and (result.documents == 0 or result.entities == 0):
            raise ExportError(_nothing_to_learn(result))
        result.recovered = recovered
        fingerprint = hashlib.sha256(dumps([str(options), result.documents, result.issues_total]).encode()
                                     ).hexdigest()[:16]
        writer.close({s: st.examples for s, st in result.splits.items()}, fingerprint)
        writer = None
        write_summary(tmp, result)
        result.files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        replace_dir(tmp, out)
        result.out = out
        return result
    except BaseException:
        if writer is not None:
            writer.abort()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        source.close()


#: Below this share of the corpus, the exported articles are read at their indexed offsets instead of in one
#: pass over every shard (500 annotated articles of an archive of millions cost 500 reads, not the archive).
LOCATE_SHARE = 0.05


def _plan(corpus: Corpus, source: RecordSource, options: ExportOptions,
          labels: Sequence[str]) -> tuple[SplitPlan, dict[str, str]]:
    """Where each cluster goes, and each exported id's cluster root, from the corpus index (ids, roots, text
    hashes in corpus order) and the records' labels: no pass over the shards."""
    small = len(source.wanted) < SMALL_EXPORT
    idx = corpus.index()
    try:
        members = idx.members(sorted(source.wanted))
    finally:
        idx.close()
    clusters = ((root, source.labels_of(doc_id, sha)) for _, doc_id, root, sha in members)
    plan = plan_splits(clusters, options.seed, options.splits, label_order=labels, small=small)
    return plan, {doc_id: root for _, doc_id, root, _ in members}


def _articles(corpus: Corpus, wanted: set[str]) -> Iterator[Article]:
    """The corpus's articles in corpus order: those of `wanted` read at their offsets when they are few,
    else every article in one pass (the caller filters)."""
    idx = corpus.index()
    try:
        few = len(wanted) < LOCATE_SHARE * idx.count()
        if few:
            yield from idx.iter_articles(sorted(wanted))
    finally:
        idx.close()
    if not few:
        yield from corpus


def _items(corpus: Corpus, source: RecordSource, plan: SplitPlan, roots: dict[str, str], skipped: list[str],
           seen: set[str], licenses: Counter[str] | None = None) -> Iterator[Item]:
    for article in _articles(corpus, source.wanted):
        if article.id not in source.wanted:
            continue
        seen.add(article.id)
        spans, why = source.spans_for(article)
        if spans is None:
            skipped.append(f"article {article.id}: {why}")
            continue
        if licenses is not None and (found := source_license(article)):  # for the card's licence section
            licenses[found] += 1
        split = plan.split(roots.get(article.id) or article.duplicate_of or article.id)
        relations = source.relations_for(article.id) if not isinstance(spans, bytes) else []
        yield Item(article.id, article.text, article.language, article.source, article.published, split, spans,
                   relations)


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
    import_spacy()
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
         writer: HFWriter | SpacyWriter | ConllWriter, tmp: Path, progress: Progress | None, *,
         relation_types: Sequence[str] = ()) -> ExportResult:
    cfg = WorkerConfig(options.fmt, tuple(labels), options.unit, options.max_tokens, options.resolution,
                       options.conll_scheme, options.conll_columns,
                       writer.schema if isinstance(writer, HFWriter) else None,
                       tuple(relation_types))
    splits = {s: SplitStats() for s in SPLITS}
    counts: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    licenses: Counter[str] = Counter()
    preview: list[AlignmentIssue] = []
    issues_total = 0
    skipped: list[str] = []
    seen: set[str] = set()
    total = len(source.wanted)
    done = 0
    with open(tmp / "alignment.jsonl", "wb") as report:
        plan, roots = _plan(corpus, source, options, labels)
        items = _items(corpus, source, plan, roots, skipped, seen, licenses)
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
        unconfirmed_left_out=source.unconfirmed, languages=dict(languages), files=[],
        split_moves=[str(m) for m in plan.moves],
        warnings=label_warnings({s: dict(st.entities) for s, st in splits.items()}, labels),
        source_licenses=dict(licenses))


def _no_document(source: RecordSource, options: ExportOptions) -> str:
    layers = ", ".join(source.layer_names)
    if source.unconfirmed:
        return (f"nothing to export: layer {layers} has no confirmed document ({source.unconfirmed} unconfirmed); "
                "pass --include-unconfirmed to export them, or confirm them in doccano and pull again")
    return (f"nothing to export: layer {layers} has no document; pull, import or adjudicate first (or pass "
            "--allow-empty to write an empty export)")


def _nothing_to_learn(result: ExportResult) -> str:
    layers = ", ".join(result.layer_names)
    if result.documents == 0:
        first = f" (first: {result.skipped_documents[0]})" if result.skipped_documents else ""
        return (f"nothing to export: none of the {len(result.skipped_documents)} annotated article(s) of layer "
                f"{layers} could be exported{first}; nothing was written")
    why = (f"; {result.issues_total} span(s) did not fit the tokens (see --resolution)" if result.issues_total
           else "")
    return (f"no entity at all in {result.documents} document(s) of layer {layers}{why}: a model would learn that "
            "nothing is an entity. Check the labels match annotations/labels.json (`newsner annotations import "
            "--map`), or pass --allow-empty to write it anyway; nothing was written")


def _raise_if_not_clean(result: ExportResult, tmp: Path) -> None:
    problems = result.issues_total + len(result.skipped_documents)
    if not problems:
        return
    lines = [str(i) for i in result.issues_preview[:5]] + result.skipped_documents[:5]
    raise AlignmentError(
        f"--strict: {result.issues_total} span(s) or relation(s) did not fit the examples and "
        f"{len(result.skipped_documents)} "
        f"document(s) could not be exported; nothing was written. First: " + "; ".join(lines)
        + " (run without --strict to get every one in alignment.jsonl)")
