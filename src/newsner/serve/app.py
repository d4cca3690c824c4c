"""The suggestion endpoint: POST /suggest {"text": "..."} -> spans with offsets in UTF-16 code units.

UTF-16 because the caller is doccano: its browser counts JavaScript string positions, and doccano's
auto-labeling stores the offsets it receives as they are (`?unit=grapheme` for a project with grapheme_mode
on, whose offsets count grapheme clusters). `labels` holds exactly the three keys doccano's
auto-labeling template turns into spans; `spans` adds the source and score for other callers.

A suggestion that takes longer than `budget` seconds answers an empty list (`"timed_out": true`) instead of
keeping the annotator waiting: doccano calls the endpoint synchronously, without a timeout, from the request of
the annotator who opened the document.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from newsner.errors import AnnotationError
from newsner.schema import Span
from newsner.text.offsets import GraphemeMap, OffsetMap

#: Longest text accepted (characters): a news article is far shorter; this bounds one request's work.
MAX_TEXT = 1_000_000


class SuggesterLike(Protocol):
    name: str

    def suggest(self, texts: Sequence[str]) -> list[list[Span]]: ...


UNITS = ("utf-16", "grapheme")


def spans_utf16(text: str, spans: Sequence[Span], unit: str = "utf-16") -> list[dict[str, Any]]:
    """Spans with offsets in UTF-16 code units, or in grapheme clusters (`unit="grapheme"`, for a doccano
    project with grapheme_mode on); a span whose edge falls inside a cluster is left out there."""
    omap = OffsetMap(text)
    gmap = GraphemeMap(text) if unit == "grapheme" else None
    out = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if gmap is not None:
            try:
                start, end = gmap.to_graphemes(span.start), gmap.to_graphemes(span.end)
            except AnnotationError:
                continue
        else:
            start, end = omap.span_to_utf16(span.start, span.end)
        out.append({"label": span.label, "start_offset": start, "end_offset": end,
                    "source": span.source, "score": span.score})
    return out


def create_app(suggester: SuggesterLike, *, budget: float = 10.0) -> Starlette:
    """The ASGI app around a loaded suggester (loaded before the server listens, so /health means ready)."""
    # One worker thread: a spaCy pipeline is not meant to be called from two threads at once.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="suggest")

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "name": suggester.name, "unit": "utf-16"})

    async def suggest(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"detail": "the body must be JSON: {\"text\": \"...\"}"}, status_code=400)
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            return JSONResponse({"detail": "the body must be a JSON object with a string \"text\""},
                                status_code=400)
        if len(text) > MAX_TEXT:
            return JSONResponse({"detail": f"text longer than {MAX_TEXT} characters"}, status_code=413)
        unit = request.query_params.get("unit", "utf-16")
        if unit not in UNITS:
            return JSONResponse({"detail": f"unit must be one of {', '.join(UNITS)}"}, status_code=400)
        loop = asyncio.get_running_loop()
        try:
            [spans] = await asyncio.wait_for(loop.run_in_executor(pool, suggester.suggest, [text]), budget)
        except asyncio.TimeoutError:
            return JSONResponse({"labels": [], "spans": [], "unit": unit, "timed_out": True,
                                 "name": suggester.name})
        items = spans_utf16(text, spans, unit)
        labels = [{k: item[k] for k in ("label", "start_offset", "end_offset")} for item in items]
        return JSONResponse({"labels": labels, "spans": items, "unit": unit, "timed_out": False,
                             "name": suggester.name})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    return Starlette(routes=[Route("/health", health, methods=["GET"]),
                             Route("/suggest", suggest, methods=["POST"])], lifespan=lifespan)
