"""`ingest()`: inputs → cleaned Article records appended to the corpus, streamed in committed chunks.

1. expand the PATH arguments (files, folders, globs, '-');
2. with `strict`, a first streaming pass reads everything and stops if anything is rejected: the corpus is not
   touched;
3. read the inputs as a stream of drafts (HTML in a process pool with jobs > 1, a bounded number in flight;
   JSONL/CSV record by record) and cut it into chunks of `chunk_size` articles;
4. per chunk, under the corpus lock: skip ids already in the corpus (the index answers), compute the MinHash
   signatures of what is new, link near-duplicates through the index's LSH bands (first seen wins), and append
   shards + index rows as one commit (see newsner.corpus.index for the protocol).

Memory holds one chunk whatever the input size. A crash loses at most the chunk being committed; a rerun skips
what was committed (same ids) and finishes the rest, so the corpus ends identical to an uninterrupted run's
(`ingested_at` aside). Re-ingesting the same inputs changes no byte of the corpus.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from newsner.corpus.index import CorpusIndex
from newsner.corpus.signatures import DEFAULT_THRESHOLD
from newsner.corpus.store import Corpus
from newsner.errors import CorpusError, InputError
from newsner.ingest.decode import DEFAULT_MAX_BYTES
from newsner.ingest.drafts import Draft, FileResult, InputFile, ReadOptions, Rejection
from newsner.ingest.readers import expand_paths, file_key, iter_file, read_file
from newsner.schema import Article

#: Articles per commit: the most a crash can lose, and what memory holds at once (~25 MB). Each commit rewrites
#: the pages of the recent band table, so bigger chunks cost less per article (1000 → 2500: +8 % rate).
DEFAULT_CHUNK = 2500

#: progress(done, total, articles): bytes of input read so far (total 0 when unknown: stdin), articles written.
ProgressCallback = Callable[[int, int, int], None]


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
    written: bool = False
    strict: bool = False
    warnings: list[str] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0

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


def iter_inputs(items: list[InputFile], options: ReadOptions, *, jobs: int = 1,
                progress: Callable[[int, int], None] | None = None,
                stdin: BinaryIO | None = None) -> Iterator[Draft | Rejection]:
    """Drafts and rejections of every input, in input order; HTML read in `jobs` processes with at most
    4 × jobs pages in flight (memory stays bounded), everything else streamed here."""
    total = sum(i.size for i in items)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += items[n].size
        if progress:
            progress(done, total)

    html = sum(1 for item in items if item.kind == "html" and item.path is not None)
    if jobs <= 1 or html <= 1:
        for n, item in enumerate(items):
            try:
                yield from iter_file(item, options, stdin)
            except Exception as exc:  # noqa: BLE001 - one unexpected failure costs one file, not the batch
                yield _internal(item, exc)
            tick(n)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_pool_context()) as pool:
        window: deque[tuple[int, Future[FileResult] | None]] = deque()
        pending = iter(enumerate(items))
        exhausted = False
        while True:
            while not exhausted and len(window) < 4 * jobs:
                nxt = next(pending, None)
                if nxt is None:
                    exhausted = True
                    break
                n, item = nxt
                parallel = item.kind == "html" and item.path is not None
                window.append((n, pool.submit(_safe_read, item, options) if parallel else None))
            if not window:
                return
            n, fut = window.popleft()
            if fut is None:
                try:
                    yield from iter_file(items[n], options, stdin)
                except Exception as exc:  # noqa: BLE001
                    yield _internal(items[n], exc)
            else:
                try:
                    result = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker (e.g. killed for memory)
                    result = FileResult(rejections=[Rejection(items[n].display, None, "extraction crashed "
                                                              f"({type(exc).__name__}: {exc})", "internal error")])
                yield from result.drafts
                yield from result.rejections
            tick(n)


def _internal(item: InputFile, exc: Exception) -> Rejection:
    return Rejection(item.display, None, f"could not be read ({type(exc).__name__}: {exc}); please report this file",
                     "internal error")


def read_inputs(items: list[InputFile], options: ReadOptions, *, jobs: int = 1,
                stdin: BinaryIO | None = None) -> list[FileResult]:
    """Every input read whole (small inputs and tests); `ingest` streams with iter_inputs instead."""
    return [_safe_read(item, options, stdin) for item in items]


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


def ingest(paths: Iterable[str | Path], corpus: Corpus | Path, *, source: str | None = None, jobs: int = 1,
           strict: bool = False, max_bytes: int = DEFAULT_MAX_BYTES, text_column: str | None = None,
           progress: ProgressCallback | None = None, stdin: BinaryIO | None = None,
           threshold: float = DEFAULT_THRESHOLD, lock_timeout: float = 600.0, chunk_size: int = DEFAULT_CHUNK,
           encoding: str | None = None, engine: str = "local", ray_address: str | None = None,
           ray_cpus: int | None = None) -> IngestReport:
    """Ingest files, folders, globs or '-' (stdin) into `corpus`; see the module docstring for the steps.

    Bad inputs never raise: they are listed in the report's `rejected`. Raises InputError for bad options
    and CorpusError when the corpus cannot be read or written. (`threshold` is kept for callers; the linking
    rule lives in newsner.corpus.signatures.)
    """
    corpus = corpus if isinstance(corpus, Corpus) else Corpus(Path(corpus))
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    if max_bytes <= 0:
        raise InputError("--max-size must be more than 0 MB")
    if engine not in ("local", "ray"):
        raise InputError(f"--engine must be local or ray, got {engine!r}")
    if engine == "ray":
        from newsner.ingest.ray_engine import require_ray

        require_ray()  # without Ray installed: one line saying how to install it, before anything is read
    if chunk_size < 1:
        raise InputError(f"--chunk must be at least 1, got {chunk_size}")
    if encoding:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"--encoding {encoding}: no such encoding (try utf-8, cp1252, latin-1, cp1250, "
                             "cp1251)") from None
    if corpus.root.exists() and not corpus.root.is_dir():
        raise CorpusError(f"{corpus.root}: is a file, expected the corpus folder")
    args = [str(p) for p in paths]
    if not args:
        raise InputError("no PATH given: name files, folders, globs or '-' for stdin")
    report = IngestReport(corpus=corpus.root, strict=strict)
    started = time.monotonic()

    own_shards = {k for p in corpus.shard_paths() if (k := file_key(p)) is not None}
    items, report.rejected, report.skipped = expand_paths(args, exclude=own_shards)
    options = ReadOptions(max_bytes=max_bytes, text_column=text_column, encoding=encoding)
    if strict and any(item.path is None for item in items):
        stdin = io.BytesIO((stdin or sys.stdin.buffer).read())  # read twice below; stdin is read whole anyway

    def stream(pass_progress: Callable[[int, int], None] | None) -> Iterator[Draft | Rejection]:
        if isinstance(stdin, io.BytesIO):
            stdin.seek(0)
        if engine == "ray":
            from newsner.ingest.ray_engine import iter_inputs_ray

            return iter_inputs_ray(items, options, address=ray_address, num_cpus=ray_cpus, stdin=stdin)
        return iter_inputs(items, options, jobs=jobs, progress=pass_progress, stdin=stdin)

    if strict:
        rejected: list[Rejection] = []
        for got in stream(None):  # --strict: validate everything first, keep nothing but the rejections
            if isinstance(got, Rejection):
                rejected.append(got)
        if rejected or report.rejected:
            report.rejected.extend(rejected)
            report.inputs = len(items)
            report.seconds = time.monotonic() - started
            return report
    state = {"bytes": 0, "total": 0}

    def on_bytes(done: int, total: int) -> None:
        state["bytes"], state["total"] = done, total
        if progress:
            progress(done, total, report.ingested)

    ingested_at = _now()
    rejected_inputs: set[str] = set()
    chunk: list[Draft] = []
    opened: list[Any] = []  # the corpus index, opened once the lock is held
    with contextlib.ExitStack() as held:
        # One thread on purpose: writing a chunk in a second thread while the next is read measured 25 % slower
        # (both halves are mostly Python, and they fight over the GIL).
        def commit() -> None:
            if not opened:  # the lock (and the corpus folder) only once there is something to add
                held.enter_context(corpus.lock(timeout=lock_timeout))
                # one index connection for the whole run: verified once, its log checkpointed as it grows
                opened.append(held.enter_context(contextlib.closing(corpus.index())))
            _commit_chunk(corpus, opened[0], chunk, report, source=source, ingested_at=ingested_at)
            if progress:
                progress(state["bytes"], state["total"], report.ingested)

        for got in stream(on_bytes):
            if isinstance(got, Rejection):
                report.rejected.append(got)
                if got.line is None:
                    rejected_inputs.add(got.path)
                continue
            report.documents += 1
            report.warnings.extend(got.warnings)
            chunk.append(got)
            if len(chunk) >= chunk_size:
                commit()
                chunk = []
        if chunk:
            commit()
    report.inputs = len(items) - len(rejected_inputs)
    report.seconds = time.monotonic() - started
    return report


def _commit_chunk(corpus: Corpus, idx: CorpusIndex, drafts: list[Draft], report: IngestReport, *,
                  source: str | None, ingested_at: str) -> None:
    """One chunk: exact repeats and known ids skipped, signatures of the rest, one commit (links included)."""
    from newsner.corpus.signatures import Signature

    batch: dict[str, Article] = {}
    for draft in drafts:
        article = to_article(draft, source=source, ingested_at=ingested_at)
        if article.id in batch:
            report.duplicates += 1
        else:
            batch[article.id] = article
    known = idx.known_many(list(batch))
    articles = [a for key, a in batch.items() if key not in known]
    report.duplicates += len(batch) - len(articles)
    if not articles:
        return  # a re-ingest stops here: nothing is written, no signature computed
    written = corpus.append(articles, signatures=[Signature.of(a.text) for a in articles], link=True, index=idx)
    report.ingested += written
    report.duplicates += len(articles) - written  # none while we hold the lock; counted if ever
    report.near_duplicates += sum(1 for a in articles if a.duplicate_of)
    report.written = report.written or written > 0
    report.chunks += 1
