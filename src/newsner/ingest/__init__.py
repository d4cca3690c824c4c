"""Ingestion: .txt/.html/.jsonl/.csv files, folders, globs or stdin → cleaned Article records in the corpus.

    drafts.py    the types readers share: Draft, Rejection, InputFile, ReadOptions
    readers.py   path expansion and one reader per format; every problem becomes a Rejection
    records.py   JSONL / CSV records, streamed
    decode.py    bytes → str (BOMs, declared and detected charsets, binary and empty files)
    clean.py     normalization and boilerplate removal for plain text; headline → title
    html.py      trafilatura extraction of text and metadata
    lang.py      the language from the text (py3langid) when the input gives none or contradicts itself
    pipeline.py  ingest(): streamed, chunk by chunk, each chunk one commit of shards + index (newsner.corpus)
"""

from __future__ import annotations

from typing import Any

__all__ = ["IngestReport", "Rejection", "ingest"]


def __getattr__(name: str) -> Any:
    # lazy: importing newsner.ingest.decode (or this package) must not load the whole pipeline
    if name in ("IngestReport", "ingest"):
        from newsner.ingest import pipeline

        return getattr(pipeline, name)
    if name == "Rejection":
        from newsner.ingest.drafts import Rejection

        return Rejection
    raise AttributeError(name)
