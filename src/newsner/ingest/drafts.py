"""The types every reader shares: a `Draft` (an article before the pipeline assigns id, duplicate link and
ingest time), a `Rejection` (an input that did not become one, and why), what to read and how.

Kept apart from readers.py and records.py so both build on them without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsner import __version__

#: Field names looked up (in this order) for each Article field in JSONL records and CSV headers.
TEXT_FIELDS = ("text", "content", "body", "article", "full_text", "story", "maintext")
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline"),
    "url": ("url", "link", "canonical_url", "permalink"),
    "source": ("source", "outlet", "publisher", "sitename", "site_name"),
    "published": ("published", "date", "published_at", "publication_date", "pubdate", "date_published",
                  "datetime"),
    "language": ("language", "lang"),
}
# What Article.published accepts as is (the contract: an ISO date, optionally with a time).
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


@dataclass(frozen=True)
class Rejection:
    """One input (or one line of it) that did not become an article, and why."""

    path: str
    line: int | None
    reason: str
    kind: str = "rejected"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass
class Draft:
    """An article before the pipeline assigns id, duplicate link and ingest time."""

    text: str
    title: str | None = None
    url: str | None = None
    source: str | None = None
    published: str | None = None
    language: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    line: int | None = None
    extractor: str = "newsner.text"
    extractor_version: str = __version__
    warnings: list[str] = field(default_factory=list, repr=False)  # "FILE: what to check", shown on stderr


@dataclass(frozen=True)
class InputFile:
    """One input to read: a path (or stdin), how it is shown in messages, and its format."""

    display: str
    path: Path | None  # None: stdin
    kind: str  # txt | html | jsonl | csv | tsv | auto (sniffed from the content)
    size: int = 0


@dataclass
class ReadOptions:
    max_bytes: int
    text_column: str | None = None
    encoding: str | None = None  # --encoding: every input is read in it, no guessing


@dataclass
class FileResult:
    drafts: list[Draft] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.3g} MB"
