"""The suggestion endpoint: POST /suggest {"text": "..."} -> spans with offsets in UTF-16 code units.

UTF-16 because the caller is doccano: its browser counts JavaScript string positions, and doccano's
auto-labeling stores the offsets it receives as they are (`?unit=grapheme` for a project with grapheme_mode
on, whose offsets count grapheme clusters). `labels` holds exactly the three keys doccano's
auto-labeling template turns into spans; `spans` adds the source and score for other callers.

A suggestion that takes longer than `budget` seconds answers an empty list (`"timed_out": true`) instead of
keeping the annotator waiting: doccano calls the endpoint synchronously, without a timeout, from the request of
the annotator who opened the document. The budget bounds the work too, not only the wait (see `worker`): the rest
of a text that ran out of budget is dropped, and a short request is served between the pieces of a long one.

Bad input (not JSON, nested too deep, a lone surrogate, a body over MAX_BODY bytes) gets a 4xx with a reason
and one line in the log, never a traceback; the text itself is never logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from newsner.errors import AnnotationError, ServeError
from newsner.schema import Span
from newsner.serve.worker import SuggesterLike, Worker
from newsner.text.offsets import GraphemeMap, OffsetMap

#: Longest text accepted (characters): a news article is far shorter.
MAX_TEXT = 1_000_000
#: Largest body read (bytes): MAX_TEXT characters fit even when every one is written as a \u escape pair
#: (12 bytes a code point); a bigger body is refused from its Content-Length, or cut off once it passes this.
MAX_BODY = 12 * MAX_TEXT + 65_536
#: Largest --budget (seconds): doccano waits for the answer without a timeout, in the annotator's request.
MAX_BUDGET = 3600.0

_SURROGATE = re.compile("[\ud800-\udfff]")
log = logging.getLogger("newsner.serve")

__all__ = ["MAX_BODY", "MAX_TEXT", "SuggesterLike", "check_budget", "create_app", "spans_utf16"]

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
    """The ASGI app around a loaded suggester (loaded before the server listens, so /health means ready).

    Raises:
        ServeError: `budget` is not a positive number of seconds.
    """
    check_budget(budget)
    worker = Worker(suggester)

    async def health(_request: Request) -> JSONResponse:
        st = worker.state()
        body = {"ok": True, "name": suggester.name, "unit": "utf-16", "busy_seconds": round(st.busy_seconds, 3),
                "waiting": st.waiting, "dropped": st.dropped}
        if st.busy_seconds > budget:  # one piece outlasted a whole budget: no request can be answered in time
            detail = (f"the suggestion worker has been on one piece of text for {st.busy_seconds:.0f} s (budget "
                      f"{budget:g} s): suggestions come back empty; `newsner serve down` then `up` restarts it")
            return JSONResponse({**body, "ok": False, "detail": detail}, status_code=503)
        return JSONResponse(body)

    async def suggest(request: Request) -> JSONResponse:
        try:
            text = await read_text(request)
        except BadRequest as exc:
            log.warning("refused a request with HTTP %d: %s", exc.status, exc.detail)
            return JSONResponse({"detail": exc.detail}, status_code=exc.status,
                                headers={"connection": "close"} if exc.status == 413 else None)
        unit = request.query_params.get("unit", "utf-16")
        if unit not in UNITS:
            return JSONResponse({"detail": f"unit must be one of {', '.join(UNITS)}"}, status_code=400)
        spans = await worker.suggest(text, budget=budget)
        if spans is None:
            return JSONResponse({"labels": [], "spans": [], "unit": unit, "timed_out": True,
                                 "name": suggester.name})
        items = spans_utf16(text, spans, unit)
        labels = [{k: item[k] for k in ("label", "start_offset", "end_offset")} for item in items]
        return JSONResponse({"labels": labels, "spans": items, "unit": unit, "timed_out": False,
                             "name": suggester.name})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        worker.start()
        yield
        worker.stop()

    return Starlette(routes=[Route("/health", health, methods=["GET"]),
                             Route("/suggest", suggest, methods=["POST"])], lifespan=lifespan)


def check_budget(budget: float) -> None:
    """ServeError unless `budget` is a positive, finite number of seconds (0 would answer every request empty)."""
    if not (isinstance(budget, int | float) and math.isfinite(budget) and 0 < budget <= MAX_BUDGET):
        raise ServeError(f"--budget must be a number of seconds above 0 and at most {MAX_BUDGET:g} (got {budget}): "
                         "each suggestion may take that long")


class BadRequest(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


async def read_text(request: Request) -> str:
    """The "text" of a POST /suggest body, read at most MAX_BODY bytes (never the whole of a bigger body)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadRequest(400, "the Content-Length header is not a number")
        if int(declared) > MAX_BODY:  # refused before a byte of it is read
            raise BadRequest(413, f"the body is {int(declared)} bytes; at most {MAX_BODY} are accepted")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BadRequest(413, f"the body is longer than {MAX_BODY} bytes")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks))
    except RecursionError:
        raise BadRequest(400, "the body nests JSON arrays or objects too deep; send {\"text\": \"...\"}") from None
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8/16/32
        raise BadRequest(400, "the body must be JSON: {\"text\": \"...\"}") from None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise BadRequest(400, "the body must be a JSON object with a string \"text\"")
    if len(text) > MAX_TEXT:
        raise BadRequest(413, f"text longer than {MAX_TEXT} characters")
    bad = _SURROGATE.search(text)
    if bad is not None:
        raise BadRequest(400, f"the text holds a lone UTF-16 surrogate (\\u{ord(bad.group()):04x}) at character "
                              f"{bad.start()}: it is not valid Unicode; send the pair or drop it")
    return text
