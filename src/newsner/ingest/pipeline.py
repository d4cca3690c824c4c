"""`ingest()`: inputs → cleaned Article records appended to the corpus, in one all-or-nothing write.

1. expand the PATH arguments (files, folders, globs, '-');
2. read every input into drafts (HTML in a process pool with jobs > 1); bad inputs become rejections;
3. with `strict`, stop here if anything was rejected: the corpus is not touched;
4. drop exact repeats within the batch;
5. under the corpus lock: skip articles already in the corpus (same id), compute MinHash signatures of the
   corpus and of the new articles, mark near-duplicates against the corpus and the batch (first seen wins),
   append the new ones (shards replaced atomically).

Nothing is written before step 5, and nothing at all when no article is new, so re-ingesting the same inputs
changes no byte of the corpus (`ingested_at` is only set on articles actually written).
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from newsner.corpus import Corpus
from newsner.errors import CorpusError, InputError
from newsner.ingest.decode import DEFAULT_MAX_BYTES
from newsner.ingest.dedupe import DEFAULT_THRESHOLD, NearDuplicateIndex
from newsner.ingest.readers import (
    Draft,
    FileResult,
    InputFile,
    ReadOptions,
    Rejection,
    expand_paths,
    file_key,
    read_file,
)
from newsner.schema import Article

#: progress(done, total) in bytes of input read so far; total is 0 when unknown (stdin only).
ProgressCallback = Callable[[int, int], None]


@dataclass
class IngestReport:
    """What one ingest did. `rejected` lists every input (or line) that did not become an article."""

    corpus: Path
    inputs: int = 0
    documents: int = 0
    ingested: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    written: bool = False
    strict: bool = False

    @property
    def ok(self) -> bool:
        return not self.rejected

    def rejected_by_reason(self) -> Counter[str]:
        return Counter(r.kind for r in self.rejected)


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _pool_context() -> Any:
    # fork shares the already-imported trafilatura with the workers (a spawn start costs ~1 s per worker)
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and sys.platform != "darwin" else None)


def _safe_read(item: InputFile, options: ReadOptions, stdin: BinaryIO | None = None) -> FileResult:
    """read_file with a last line of defence: one unexpected failure costs one file, not the batch."""
    try:
        return read_file(item, options, stdin)
    except Exception as exc:  # noqa: BLE001 - reported as this file's rejection, with the exception named
        return FileResult(rejections=[Rejection(item.display, None, f"could not be read ({type(exc).__name__}: "
                                                f"{exc}); please report this file", "internal error")])


def read_inputs(items: list[InputFile], options: ReadOptions, *, jobs: int = 1,
                progress: ProgressCallback | None = None,
                stdin: BinaryIO | None = None) -> list[FileResult]:
    """Read every input, HTML in `jobs` processes; results come back in input order."""
    total = sum(i.size for i in items)
    done = 0
    results: list[FileResult | None] = [None] * len(items)
    html = [n for n, item in enumerate(items) if item.kind == "html" and item.path is not None]

    def tick(n: int) -> None:
        nonlocal done
        done += items[n].size
        if progress:
            progress(done, total)

    if jobs > 1 and len(html) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(html)), mp_context=_pool_context()) as pool:
            futures: dict[int, Future[FileResult]] = {n: pool.submit(_safe_read, items[n], options) for n in html}
            for n, item in enumerate(items):  # the rest is read here meanwhile
                if n not in futures:
                    results[n] = _safe_read(item, options, stdin)
                    tick(n)
            for n, fut in futures.items():
                try:
                    results[n] = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker (e.g. killed for memory)
                    results[n] = FileResult(rejections=[Rejection(items[n].display, None, "extraction crashed "
                                                                  f"({type(exc).__name__}: {exc})", "internal error")])
                tick(n)
    else:
        for n, item in enumerate(items):
            results[n] = _safe_read(item, options, stdin)
            tick(n)
    return [r if r is not None else FileResult() for r in results]


def to_article(draft: Draft, *, source: str | None, ingested_at: str) -> Article:
    """A draft as an Article: id and hash from the text, provenance, --source applied."""
    meta = dict(draft.meta)
    if source and draft.source and draft.source != source:
        meta.setdefault("source", draft.source)  # --source wins; what the input said is kept
    provenance: dict[str, Any] = {"path": draft.path}
    if draft.line:
        provenance["line"] = draft.line
    provenance.update(extractor=draft.extractor, extractor_version=draft.extractor_version,
                      ingested_at=ingested_at)
    return Article.from_text(draft.text, title=draft.title, url=draft.url, source=source or draft.source,
                             published=draft.published, language=draft.language, provenance=provenance,
                             meta=meta)


def _index_corpus(corpus: Corpus, index: NearDuplicateIndex) -> None:
    """Signatures of every article already in the corpus, streamed (texts are not kept in memory)."""
    for _, _, obj in corpus.iter_raw():
        if isinstance(obj, dict) and isinstance(obj.get("id"), str) and isinstance(obj.get("text"), str):
            dup = obj.get("duplicate_of")
            index.add(obj["id"], index.signature(obj["text"]), duplicate_of=dup if isinstance(dup, str) else None)


def ingest(paths: Iterable[str | Path], corpus: Corpus | Path, *, source: str | None = None, jobs: int = 1,
           strict: bool = False, max_bytes: int = DEFAULT_MAX_BYTES, text_column: str | None = None,
           progress: ProgressCallback | None = None, stdin: BinaryIO | None = None,
           threshold: float = DEFAULT_THRESHOLD, lock_timeout: float = 600.0) -> IngestReport:
    """Ingest files, folders, globs or '-' (stdin) into `corpus`; see the module docstring for the steps.

    Bad inputs never raise: they are listed in the report's `rejected`. Raises InputError for bad options
    and CorpusError when the corpus cannot be read or written.
    """
    corpus = corpus if isinstance(corpus, Corpus) else Corpus(Path(corpus))
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    if max_bytes <= 0:
        raise InputError("--max-size must be more than 0 MB")
    if corpus.root.exists() and not corpus.root.is_dir():
        raise CorpusError(f"{corpus.root}: is a file, expected the corpus folder")
    args = [str(p) for p in paths]
    if not args:
        raise InputError("no PATH given: name files, folders, globs or '-' for stdin")
    report = IngestReport(corpus=corpus.root, strict=strict)

    own_shards = {k for p in corpus.shard_paths() if (k := file_key(p)) is not None}
    items, report.rejected, report.skipped = expand_paths(args, exclude=own_shards)
    options = ReadOptions(max_bytes=max_bytes, text_column=text_column)
    results = read_inputs(items, options, jobs=jobs, progress=progress, stdin=stdin)
    drafts: list[Draft] = []
    for result in results:
        drafts.extend(result.drafts)
        report.rejected.extend(result.rejections)
    report.inputs = sum(1 for r in results if r.drafts or not r.rejections)
    report.documents = len(drafts)
    if strict and report.rejected:
        return report  # --strict: the whole batch is refused before anything is written

    ingested_at = _now()
    batch: dict[str, Article] = {}
    words: dict[str, list[str] | None] = {}
    for draft in drafts:
        article = to_article(draft, source=source, ingested_at=ingested_at)
        if article.id in batch:
            report.duplicates += 1
        else:
            batch[article.id] = article
            words[article.id] = draft.words
    if not batch:
        return report

    index = NearDuplicateIndex(threshold=threshold)
    with corpus.lock(timeout=lock_timeout):
        known = corpus.ids()
        new = [a for key, a in batch.items() if key not in known]
        report.duplicates += len(batch) - len(new)
        if not new:
            return report  # a re-ingest stops here: nothing is written, no signature computed
        _index_corpus(corpus, index)
        for article in new:  # signatures only for what is new: a re-ingest computes none
            sig = index.signature(article.text, words[article.id])
            article.duplicate_of = index.match(sig)
            index.add(article.id, sig, duplicate_of=article.duplicate_of)
            if article.duplicate_of:
                report.near_duplicates += 1
        corpus.append(new)
    report.ingested = len(new)
    report.ids = [a.id for a in new]
    report.written = True
    return report
