"""Inputs → drafts: path expansion and one reader per format (.txt, .html/.htm, .jsonl, .csv/.tsv, stdin).

A *draft* is everything an Article needs except the id, hash, duplicate link and ingest time, which the
pipeline adds. Readers never raise for bad input: every problem becomes a `Rejection` naming the file (and
line) and what to do, and the other documents of the same file are still read.
"""

from __future__ import annotations

import csv
import glob
import io
import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from newsner import __version__
from newsner.errors import IngestError
from newsner.ingest.clean import clean_text, normalize, parse_date
from newsner.ingest.decode import decode_bytes
from newsner.ingest.html import EXTRACTOR, EXTRACTOR_VERSION, extract_html
from newsner.ingest.lang import guess_language

KINDS = {".txt": "txt", ".text": "txt", ".html": "html", ".htm": "html", ".xhtml": "html",
         ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
SUPPORTED = ", ".join(sorted(KINDS))
STDIN = "-"

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
    words: list[str] | None = field(default=None, repr=False)  # clean.WORD tokens of `text`, if known


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


@dataclass
class FileResult:
    drafts: list[Draft] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


# --------------------------------------------------------------------------------------- expansion
def _has_glob(s: str) -> bool:
    return any(c in s for c in "*?[")


#: A file's identity on disk: (device, inode). Two paths to the same file (a folder and a file in it,
#: symlinks, hard links) are read once; cheaper than resolving every path.
FileKey = tuple[int, int]


def file_key(path: Path) -> FileKey | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _walk(folder: Path, skipped: list[str], rejections: list[Rejection],
          visited: set[FileKey]) -> Iterator[tuple[Path, os.stat_result]]:
    """(path, stat) of files under `folder`, sorted, recursively; hidden entries are not entered, and no folder
    is entered twice (symlink loops)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        rejections.append(Rejection(str(folder), None, f"cannot list the folder ({exc.strerror}); "
                                    "check its permissions", "unreadable"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            st = entry.stat()  # follows symlinks, like the shell would
        except OSError:
            skipped.append(str(path))  # a dangling symlink
            continue
        if stat.S_ISDIR(st.st_mode):
            if (st.st_dev, st.st_ino) not in visited:
                visited.add((st.st_dev, st.st_ino))
                yield from _walk(path, skipped, rejections, visited)
        elif path.suffix.lower() in KINDS:
            yield path, st
        else:
            skipped.append(str(path))


def expand_paths(paths: list[str], *, exclude: set[FileKey] | None = None) -> tuple[
        list[InputFile], list[Rejection], list[str]]:
    """Files to read from PATH arguments (files, folders, globs, '-'), in a stable order.

    Returns (inputs, rejections for paths that do not exist or cannot be listed, files skipped in folders
    because their type is not supported). `exclude` holds the file keys never to read (the corpus' own
    shards). A file named twice is read once.
    """
    exclude = exclude or set()
    inputs: list[InputFile] = []
    rejections: list[Rejection] = []
    skipped: list[str] = []
    seen: set[FileKey] = set()
    visited_dirs: set[FileKey] = set()
    stdin_used = False

    def add(path: Path, explicit: bool, st: os.stat_result | None = None) -> None:
        try:
            st = st or path.stat()
        except OSError as exc:
            rejections.append(Rejection(str(path), None, f"cannot read ({exc.strerror})", "unreadable"))
            return
        key = (st.st_dev, st.st_ino)
        if key in seen or key in exclude:
            return
        seen.add(key)
        if not stat.S_ISREG(st.st_mode):
            rejections.append(Rejection(str(path), None, "not a regular file (a device, FIFO or socket)",
                                        "unreadable"))
            return
        kind = KINDS.get(path.suffix.lower(), "auto" if explicit else "")
        inputs.append(InputFile(str(path), path, kind, st.st_size))

    for arg in paths:
        if arg == STDIN:
            if not stdin_used:
                inputs.append(InputFile("<stdin>", None, "auto"))
                stdin_used = True
            continue
        candidates: list[Path]
        if _has_glob(arg) and not Path(arg).exists():
            matches = sorted(glob.glob(os.path.expanduser(arg), recursive=True))
            if not matches:
                rejections.append(Rejection(arg, None, "no file matches this pattern", "missing"))
                continue
            candidates = [Path(m) for m in matches]
        else:
            candidates = [Path(os.path.expanduser(arg))]
        for path in candidates:
            if path.is_dir():
                key = file_key(path)
                if key is None or key in visited_dirs:
                    continue  # already read through another argument
                visited_dirs.add(key)
                found_any = False
                for found, st in _walk(path, skipped, rejections, visited_dirs):
                    found_any = True
                    add(found, False, st)
                if not found_any and not _has_glob(arg):
                    rejections.append(Rejection(str(path), None, f"no input files in this folder (newsner reads "
                                                f"{SUPPORTED})", "missing"))
            elif path.exists() or path.is_symlink():
                add(path, explicit=True)
            else:
                rejections.append(Rejection(str(path), None, "no such file or folder", "missing"))
    return inputs, rejections, skipped


# ------------------------------------------------------------------------------------------ reading
RECORD_KINDS = ("jsonl", "csv", "tsv")


def read_input_bytes(item: InputFile, max_bytes: int, stdin: BinaryIO | None = None) -> tuple[bytes, str]:
    """The raw bytes of one input and its format; a single document over `max_bytes` is refused unread.

    JSONL and CSV files are read whole (the limit applies to each of their records instead).
    """
    if item.path is not None and item.kind in ("txt", "html") and item.size > max_bytes:
        raise IngestError(_too_large(item.size, max_bytes))
    if item.path is None:
        if stdin is None:
            import sys
            stdin = sys.stdin.buffer
        return _read_limited(stdin, item, max_bytes)
    with _open_bytes(item.path) as fh:
        return _read_limited(fh, item, max_bytes)


def _read_limited(fh: Any, item: InputFile, max_bytes: int) -> tuple[bytes, str]:
    if item.kind in RECORD_KINDS:
        return fh.read(), item.kind
    data = fh.read(max_bytes + 1)
    kind = item.kind if item.kind != "auto" else sniff_kind(data)
    if kind in RECORD_KINDS:
        return data + fh.read(), kind
    if len(data) > max_bytes:
        size = item.size if item.path is not None else len(data)
        raise IngestError(_too_large(max(size, len(data)), max_bytes, at_least=item.path is None))
    return data, kind


def _too_large(size: int, max_bytes: int, at_least: bool = False) -> str:
    more = "more than " if at_least else ""
    return (f"too large: {more}{_mb(size)}, over the size limit of {_mb(max_bytes)} "
            "(raise it with --max-size MB if this really is one article)")


def _open_bytes(path: Path) -> io.BufferedReader:
    try:
        return open(path, "rb")
    except PermissionError:
        raise IngestError("cannot read the file (permission denied); check its permissions") from None
    except FileNotFoundError:
        raise IngestError("no such file (it disappeared while ingesting)") from None
    except IsADirectoryError:
        raise IngestError("is a folder, expected a file") from None
    except OSError as exc:
        raise IngestError(f"cannot read the file ({exc.strerror})") from None


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.3g} MB"


def sniff_kind(data: bytes) -> str:
    """Format of stdin or an unknown-extension file, from its first bytes."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body", b"<meta", b"<!--", b"<div",
                        b"<article", b"<script")):
        return "html"
    if head.startswith(b"{"):
        return "jsonl"
    return "txt"


def read_file(item: InputFile, options: ReadOptions, stdin: BinaryIO | None = None) -> FileResult:
    """Read one input into drafts; every problem becomes a Rejection (never an exception)."""
    result = FileResult()
    try:
        data, kind = read_input_bytes(item, options.max_bytes, stdin)
        if kind in RECORD_KINDS:
            _read_records(item, kind, data, options, result)
        else:
            result.drafts.append(read_document(item.display, data, kind))
    except IngestError as exc:
        result.rejections.append(Rejection(item.display, None, str(exc), _reason_kind(str(exc))))
    return result


def _reason_kind(reason: str) -> str:
    for prefix, kind in (("empty", "empty"), ("binary", "binary"), ("undecodable", "undecodable"),
                         ("too large", "too large"), ("no article text", "no article text"),
                         ("cannot read", "unreadable"), ("no such", "missing"), ("invalid JSON", "invalid JSON"),
                         ("truncated", "invalid JSON"), ("no text column", "no text column")):
        if reason.startswith(prefix):
            return kind
    return "rejected"


def read_document(display: str, data: bytes, kind: str) -> Draft:
    """One .txt or .html document → draft (IngestError when it holds no article)."""
    decoded = decode_bytes(data, html=kind == "html")
    if kind == "html":
        page = extract_html(decoded.text)
        meta = dict(page.meta)
        meta["encoding"] = decoded.encoding
        return Draft(text=page.text, title=page.title, url=page.url, source=page.sitename,
                     published=page.published, language=page.language or guess_language(page.text), meta=meta,
                     path=display, extractor=EXTRACTOR, extractor_version=EXTRACTOR_VERSION)
    cleaned = clean_text(decoded.text, find_title=True)
    if not cleaned.text:
        raise IngestError("no article text left after removing boilerplate (empty or only appeals/widgets)")
    meta = {"encoding": decoded.encoding}
    if cleaned.author:
        meta["author"] = cleaned.author
    return Draft(text=cleaned.text, title=cleaned.title, published=cleaned.published,
                 language=guess_language(cleaned.text, words=cleaned.words), meta=meta, path=display,
                 words=cleaned.words)


# ------------------------------------------------------------------------------------- JSONL / CSV
def _read_records(item: InputFile, kind: str, data: bytes, options: ReadOptions, result: FileResult) -> None:
    decoded = decode_bytes(data)
    text = decoded.text
    if kind == "jsonl":
        _read_jsonl(item.display, text, options, result)
    else:
        _read_csv(item.display, text, kind, options, result)


def _read_jsonl(display: str, text: str, options: ReadOptions, result: FileResult) -> None:
    lines = text.split("\n")
    ends_with_newline = text.endswith("\n")
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = Rejection(display, lineno, "")
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            last = lineno == len(lines) and not ends_with_newline
            opened = raw.count("{") + raw.count("[") > raw.count("}") + raw.count("]")
            if last and opened:
                reason = "truncated JSON (the line ends before the object closes; was the file cut off?)"
            else:
                reason = f"invalid JSON ({exc}); fix or remove this line"
            result.rejections.append(Rejection(where.path, lineno, reason, "invalid JSON"))
            continue
        if not isinstance(obj, dict):
            result.rejections.append(Rejection(display, lineno, f"expected a JSON object with a text field, "
                                               f"got {type(obj).__name__}", "invalid JSON"))
            continue
        _record(display, lineno, obj, options, result, len(raw.encode("utf-8")), extractor="newsner.jsonl")


def _read_csv(display: str, text: str, kind: str, options: ReadOptions, result: FileResult) -> None:
    # Articles are long: lift csv's 128 KiB field limit to the document size limit.
    csv.field_size_limit(max(options.max_bytes, 131072))
    if kind == "tsv":
        delimiter = "\t"
    else:
        try:
            delimiter = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise IngestError("empty file (no header row)") from None
    except csv.Error as exc:
        raise IngestError(f"not a readable CSV header ({exc})") from None
    header = [h.strip() for h in header]
    column = _text_key(header, options.text_column)
    if column is None:
        wanted = f"'{options.text_column}'" if options.text_column else f"(looked for {', '.join(TEXT_FIELDS)})"
        raise IngestError(f"no text column {wanted} (columns: {', '.join(header) or 'none'}); "
                          "pass --text-column NAME")
    row_start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.rejections.append(Rejection(display, row_start, f"malformed CSV row ({exc})", "invalid CSV"))
            break  # the reader cannot resynchronise after a broken quote
        lineno = row_start
        row_start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            result.rejections.append(Rejection(display, lineno, f"row has {len(row)} fields, the header has "
                                               f"{len(header)}; check quoting", "invalid CSV"))
            continue
        record = dict(zip(header, row, strict=True))
        _record(display, lineno, record, options, result, sum(len(c.encode("utf-8")) for c in row),
                extractor="newsner.csv", text_key=column)


def _text_key(keys: list[str], wanted: str | None) -> str | None:
    lowered = {k.lower(): k for k in keys}
    if wanted:
        return wanted if wanted in keys else lowered.get(wanted.lower())
    return next((lowered[k] for k in TEXT_FIELDS if k in lowered), None)


def _record(display: str, lineno: int, obj: Mapping[str, Any], options: ReadOptions, result: FileResult,
            size: int, *, extractor: str, text_key: str | None = None) -> None:
    """One JSONL object / CSV row → draft; every other field is kept (mapped onto Article fields or in meta)."""
    key = text_key or _text_key(list(obj), options.text_column)
    if size > options.max_bytes:
        result.rejections.append(Rejection(display, lineno, f"too large: over the size limit of "
                                           f"{_mb(options.max_bytes)} (raise it with --max-size MB)", "too large"))
        return
    if key is None:
        wanted = f"'{options.text_column}'" if options.text_column else f"(looked for {', '.join(TEXT_FIELDS)})"
        result.rejections.append(Rejection(display, lineno, f"no text field {wanted} (fields: "
                                           f"{', '.join(map(str, obj)) or 'none'}); pass --text-column NAME",
                                           "no text column"))
        return
    raw_text = obj[key]
    if not isinstance(raw_text, str):
        result.rejections.append(Rejection(display, lineno, f"field '{key}' must be a string, got "
                                           f"{type(raw_text).__name__}", "invalid JSON"))
        return
    fields: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    used = {key}
    by_lower = {k.lower(): k for k in obj}
    for name, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            real = by_lower.get(alias)
            if real is not None and isinstance(obj[real], str) and obj[real].strip():
                fields[name] = normalize(obj[real])
                used.add(real)
                break
    for k, v in obj.items():
        if k in used:
            continue
        if k == "meta" and isinstance(v, dict):
            for mk, mv in v.items():
                meta.setdefault(mk, mv)
        else:
            meta[k] = v  # every other field is kept, including an input's own id or provenance
    cleaned = clean_text(raw_text, find_title="title" not in fields)
    if not cleaned.text:
        reason = ("empty text" if not raw_text.strip()
                  else "no article text left after removing boilerplate")
        result.rejections.append(Rejection(display, lineno, f"{reason} in field '{key}'", "empty"))
        return
    if "title" not in fields and cleaned.title:
        fields["title"] = cleaned.title
    if cleaned.author and "author" not in meta:
        meta["author"] = cleaned.author
    published = fields.pop("published", None)
    iso = _iso_date(published) if published else cleaned.published
    if published and iso != published:
        meta["published_raw"] = published  # the input's own spelling, kept beside the ISO form (or its absence)
    fields["published"] = iso
    if "language" not in fields:
        fields["language"] = guess_language(cleaned.text, words=cleaned.words)
    result.drafts.append(Draft(text=cleaned.text, meta=meta, path=display, line=lineno,
                               extractor=extractor, words=cleaned.words, **fields))


def _iso_date(value: str) -> str | None:
    """ISO form of a date field (YYYY-MM-DD, optionally with time), or None when it is not recognisably a date."""
    value = value.strip()
    if _ISO_DATETIME.match(value):
        return value
    return parse_date(value)
