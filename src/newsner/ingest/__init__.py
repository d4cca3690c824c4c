"""Ingestion: .txt/.html/.jsonl/.csv files, folders, globs or stdin → cleaned Article records in the corpus.

    readers.py   path expansion and one reader per format; every problem becomes a Rejection
    decode.py    bytes → str (BOMs, declared and detected charsets, binary and empty files)
    clean.py     normalization and boilerplate removal for plain text; headline → title
    html.py      trafilatura extraction of text and metadata
    lang.py      a small language guess for inputs that declare none
    dedupe.py    MinHash/LSH near-duplicate clusters
    pipeline.py  ingest(): read, dedupe, one locked atomic append
"""

from newsner.ingest.pipeline import IngestReport, ingest
from newsner.ingest.readers import Rejection

__all__ = ["IngestReport", "Rejection", "ingest"]
