"""Inputs → drafts: path expansion and one reader per format (.txt, .html/.htm, .jsonl, .csv/.tsv, stdin).

A *draft* is everything an Article needs except the id, hash, duplicate link and ingest time, which the
pipeline adds. Readers never raise for bad input: every problem becomes a `Rejection` naming the file (and
line) and what to do, and the other documents of the same file are still read.
"""

from __future__ import annotations

import glob
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from newsner.errors import IngestError
from newsner.ingest.clean import clean_text
from newsner.ingest.decode import decode_bytes
from newsner.ingest.drafts import (
    Draft,
    FileResult,
    InputFile,
    ReadOptions,
    Rejection,
    _mb,
)
from newsner.ingest.html import EXTRACTOR, EXTRACTOR_VERSION, extract_html
from newsner.ingest.lang import resolve_language
from newsner.ingest.records import iter_records

KINDS = {".txt": "txt", ".text": "txt", ".html": "html", ".htm": "html", ".xhtml": "html",
         ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
SUPPORTED = ", ".join(sorted(KINDS))
STDIN = "-"

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
    for got in iter_file(item, options, stdin):
        if isinstance(got, Rejection):
            result.rejections.append(got)
        else:
            result.drafts.append(got)
    return result


def iter_file(item: InputFile, options: ReadOptions, stdin: BinaryIO | None = None) -> Iterator[Draft | Rejection]:
    """Drafts and rejections of one input, in order; JSONL and CSV files are streamed record by record, so
    memory does not grow with the file."""
    try:
        if item.path is not None and item.kind in RECORD_KINDS:
            with _open_bytes(item.path) as fh:
                yield from iter_records(item, item.kind, fh, options)
            return
        data, kind = read_input_bytes(item, options.max_bytes, stdin)
        if kind in RECORD_KINDS:
            yield from iter_records(item, kind, io.BytesIO(data), options)
        else:
            yield read_document(item.display, data, kind, encoding=options.encoding)
    except IngestError as exc:
        yield Rejection(item.display, None, str(exc), _reason_kind(str(exc)))


def _reason_kind(reason: str) -> str:
    for prefix, kind in (("empty", "empty"), ("binary", "binary"), ("undecodable", "undecodable"),
                         ("too large", "too large"), ("no article text", "no article text"),
                         ("cannot read", "unreadable"), ("no such", "missing"), ("invalid JSON", "invalid JSON"),
                         ("truncated", "invalid JSON"), ("no text column", "no text column")):
        if reason.startswith(prefix):
            return kind
    return "rejected"


def read_document(display: str, data: bytes, kind: str, *, encoding: str | None = None) -> Draft:
    """One .txt or .html document → draft (IngestError when it holds no article).

    `encoding`: read the bytes in this encoding instead of guessing (--encoding).
    """
    decoded = decode_bytes(data, html=kind == "html", encoding=encoding)
    warnings = [f"{display}: {decoded.warning}"] if decoded.warning else []
    if kind == "html":
        page = extract_html(decoded.text)
        meta = dict(page.meta)
        meta["encoding"] = decoded.encoding
        language, overruled = resolve_language(page.languages, page.text)
        if overruled:
            meta["language_declared"] = overruled
        return Draft(text=page.text, title=page.title, url=page.url, source=page.sitename,
                     published=page.published, language=language, meta=meta, path=display,
                     extractor=EXTRACTOR, extractor_version=EXTRACTOR_VERSION, warnings=warnings)
    cleaned = clean_text(decoded.text, find_title=True)
    if not cleaned.text:
        raise IngestError("no article text left after removing boilerplate (empty or only appeals/widgets)")
    meta = {"encoding": decoded.encoding}
    if cleaned.author:
        meta["author"] = cleaned.author
    return Draft(text=cleaned.text, title=cleaned.title, published=cleaned.published,
                 language=resolve_language(None, cleaned.text)[0], meta=meta, path=display,
                 warnings=warnings)
