"""The suggestion worker: one thread, texts cut into bounded pieces, the budget bounding the work itself.

Why pieces: the time a suggester takes is not linear in the length of a text (spaCy's tokenizer spends O(n²) on
one long run without a space, ")" × 40,000 takes minutes), and a text cannot be taken from a thread that is
working on it. So a text longer than `PIECE` characters is cut at a paragraph break, else at a sentence end (as
newsner.text.sentences finds them: never after the "Gen." of a name), else at a space, and a run of more than `RUN`
characters without a space is cut every `RUN` characters (no word or entity is that long; a URL is shorter). Each
piece is suggested alone and its spans shifted back by its offset. A text of at most `PIECE` characters is one
piece: it gets exactly what `Suggester.suggest` gives it.

Why one thread: a spaCy pipeline is not meant to be called from two threads at once. Between two pieces the
worker takes the next piece of the job that has had the least worker time so far (a new, short request goes
before the rest of a long one), and drops a job whose deadline passed or whose caller stopped waiting, so a long
text costs at most its budget plus one piece.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from newsner.schema import Span
from newsner.text.sentences import sentences

#: Longest piece (characters). A news article of a few pages is one to three pieces; one piece costs a few ms
#: with patterns, well under a second with a trained model, which bounds what a short request waits.
PIECE = 4000
#: Longest run of non-space characters kept whole in one piece.
RUN = 200

_PARAGRAPH = re.compile(r"\n\s*\n")
#: CJK sentence ends, which need no space after them (newsner.text.sentences only cuts before a space).
_CJK_END = re.compile(r"""[。！？]["”」』）)]*""")
_SPACE = re.compile(r"\s+")
_LONG_RUN = re.compile(r"\S{%d}" % (RUN + 1))
# Inside a run without spaces (Chinese, Japanese, Thai text; or garbage), cut after a punctuation mark if any.
_RUN_BREAK = re.compile(r"""[。！？!?.;；,，、:：)）」』»”"'/-]+""")


class SuggesterLike(Protocol):
    name: str

    def suggest(self, texts: Sequence[str]) -> list[list[Span]]: ...


def _last_end(pattern: re.Pattern[str], text: str, lo: int, hi: int) -> int | None:
    """End of the last match of `pattern` ending within (lo, hi], or None."""
    found = None
    for m in pattern.finditer(text, lo, hi):
        found = m.end()
    return found if found is not None and found > lo else None


def _last_sentence_start(text: str, lo: int, hi: int) -> int | None:
    """Start of the last sentence (newsner.text.sentences) beginning within (lo, hi], or None. Two characters past
    `hi` are read: whether a full stop ends a sentence depends on what follows it."""
    found = [lo + start for start, _ in sentences(text[lo:hi + 2]) if 0 < start <= hi - lo]
    return found[-1] if found else None


def pieces(text: str, *, size: int = PIECE, run: int = RUN) -> Iterator[tuple[int, str]]:
    """(offset, piece) pairs that cover `text` in order, each at most `size` characters (lazily: a 1,000,000-
    character text is cut as the worker goes, not up front)."""
    long_run = _LONG_RUN if run == RUN else re.compile(r"\S{%d}" % (run + 1))
    pos, n = 0, len(text)
    while pos < n:
        hi = min(n, pos + size)
        m = long_run.search(text, pos, hi)
        if m is not None:  # a run without a space: cut before it, or cut it
            end = m.start() if m.start() > pos else (_last_end(_RUN_BREAK, text, pos + run // 2, pos + run)
                                                     or pos + run)
        elif hi == n:
            end = n
        else:
            # Prefer the latest break in the second half of the window, so pieces stay near `size`.
            half = pos + size // 2
            end = (_last_end(_PARAGRAPH, text, half, hi) or _last_sentence_start(text, half, hi)
                   or _last_end(_CJK_END, text, half, hi)
                   or _last_end(_SPACE, text, pos, hi) or hi)
        yield pos, text[pos:end]
        pos = end


@dataclass
class Job:
    text: str
    deadline: float
    future: asyncio.Future[list[Span]]
    loop: asyncio.AbstractEventLoop
    seq: int
    parts: Iterator[tuple[int, str]] = field(init=False)
    spans: list[Span] = field(default_factory=list)
    used: float = 0.0  # worker seconds spent on this job so far
    abandoned: bool = False

    def __post_init__(self) -> None:
        self.parts = pieces(self.text)


@dataclass(frozen=True)
class WorkerState:
    busy_seconds: float  # how long the worker has been on its current piece (0 when idle)
    waiting: int  # jobs in the queue, the running one included
    dropped: int  # jobs dropped at their deadline since start


class Worker:
    """Runs `suggester.suggest` on one thread, piece by piece, shortest-served job first.

    Example:
        worker = Worker(suggester); worker.start()
        spans = await worker.suggest(text, budget=10.0)   # None when the budget ran out
    """

    def __init__(self, suggester: SuggesterLike) -> None:
        self.suggester = suggester
        self._jobs: list[Job] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._busy_since: float | None = None
        self._dropped = 0
        self._stop = False
        # A daemon thread: a piece that never returns must not keep the process from exiting.
        self._thread = threading.Thread(target=self._run, name="suggest", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            for job in self._jobs:
                job.abandoned = True
            self._cond.notify_all()

    def state(self) -> WorkerState:
        with self._cond:
            since = self._busy_since
            return WorkerState(0.0 if since is None else time.monotonic() - since, len(self._jobs), self._dropped)

    async def suggest(self, text: str, *, budget: float) -> list[Span] | None:
        """Spans of `text` (code points), or None when they were not ready within `budget` seconds (the rest of
        the work is dropped then, not left running)."""
        loop = asyncio.get_running_loop()
        job = Job(text, time.monotonic() + budget, loop.create_future(), loop, next(self._seq))
        with self._cond:
            self._jobs.append(job)
            self._cond.notify()
        try:
            return await asyncio.wait_for(asyncio.shield(job.future), budget)
        except asyncio.TimeoutError:
            return None
        finally:
            job.abandoned = True  # answered, timed out or the caller left: no more pieces for it

    # ------------------------------------------------------------------ the thread
    def _next(self) -> tuple[Job, int, str] | None:
        """The next piece to run (under the lock), dropping finished and expired jobs; None to stop."""
        while True:
            if self._stop:
                return None
            now = time.monotonic()
            for job in [j for j in self._jobs if j.abandoned or now >= j.deadline]:
                self._jobs.remove(job)
                self._dropped += 1
            if self._jobs:
                job = min(self._jobs, key=lambda j: (j.used, j.seq))
                part = next(job.parts, None)
                if part is None:  # all pieces done (only an empty text gets here)
                    self._jobs.remove(job)
                    self._finish(job)
                    continue
                return job, part[0], part[1]
            self._cond.wait()

    def _finish(self, job: Job) -> None:
        spans = job.spans

        def resolve() -> None:
            if not job.future.done():
                job.future.set_result(spans)

        self._hand_over(job, resolve)

    def _fail(self, job: Job, exc: BaseException) -> None:
        def resolve() -> None:
            if not job.future.done():
                job.future.set_exception(exc)

        self._hand_over(job, resolve)

    @staticmethod
    def _hand_over(job: Job, resolve: Callable[[], None]) -> None:
        if job.abandoned:  # nobody waits for it (timed out, or the server stopped and its loop is gone)
            return
        with contextlib.suppress(RuntimeError):  # the loop closed in between
            job.loop.call_soon_threadsafe(resolve)

    def _run(self) -> None:
        while True:
            with self._cond:
                nxt = self._next()
                if nxt is None:
                    return
                job, offset, piece = nxt
                self._busy_since = started = time.monotonic()
            try:
                [found] = self.suggester.suggest([piece])
            except Exception as exc:  # noqa: BLE001  (handed to the request that asked; the worker goes on)
                with self._cond:
                    self._busy_since = None
                    if job in self._jobs:
                        self._jobs.remove(job)
                self._fail(job, exc)
                continue
            with self._cond:
                self._busy_since = None
                job.used += time.monotonic() - started
                job.spans.extend(s if offset == 0 else
                                 Span(s.start + offset, s.end + offset, s.label, s.text, source=s.source,
                                      score=s.score) for s in found)
                if offset + len(piece) >= len(job.text) and job in self._jobs:
                    self._jobs.remove(job)
                    self._finish(job)
