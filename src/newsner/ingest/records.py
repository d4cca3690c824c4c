"""JSONL and CSV/TSV inputs, streamed record by record: one Draft or Rejection per line or row.

The encoding is decided from the first 64 KB (UTF-8 unless the bytes clearly are not; --encoding forces one);
every other field of a record is kept (mapped onto Article fields, or in meta).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

import orjson

from newsner.errors import IngestError
from newsner.ingest.clean import clean_text, normalize, parse_date
from newsner.ingest.decode import STRAY_HANDLER, decode_bytes
from newsner.ingest.drafts import (
    _ISO_DATETIME,
    FIELD_ALIASES,
    TEXT_FIELDS,
    Draft,
    InputFile,
    ReadOptions,
    Rejection,
    _mb,
)
from newsner.ingest.lang import resolve_language

# ------------------------------------------------------------------------------------- JSONL / CSV
_HEAD = 65536


def _text_stream(fh: BinaryIO, newline: str, forced: str | None) -> io.TextIOWrapper | io.StringIO:
    """A text stream over a record file, its encoding decided from the first 64 KB (UTF-8 unless they clearly
    are not; stray single bytes inside UTF-8 read as windows-1252)."""
    head = fh.read(_HEAD)
    fh.seek(0)
    if forced:
        return io.TextIOWrapper(fh, encoding=forced, errors="strict", newline=newline)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head[:8192]:
        # UTF-16/32: rare for feeds; decoded whole, the old way
        return io.StringIO(decode_bytes(fh.read()).text, newline=newline)
    if not head.strip():
        decode_bytes(head)  # raises "empty file"
    codec = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else None
    if codec is None:
        try:
            head.decode("utf-8")
            codec = "utf-8"
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 3 and len(head) == _HEAD:
                codec = "utf-8"  # a character cut by the 64 KB boundary
            else:
                guess = decode_bytes(head).encoding
                codec = "utf-8" if guess.startswith("utf-8") else guess
    errors = STRAY_HANDLER if codec.startswith("utf-8") else "strict"
    return io.TextIOWrapper(fh, encoding=codec, errors=errors, newline=newline)


def iter_records(item: InputFile, kind: str, fh: BinaryIO, options: ReadOptions) -> Iterator[Draft | Rejection]:
    stream = _text_stream(fh, "\n" if kind == "jsonl" else "", options.encoding)
    try:
        if kind == "jsonl":
            yield from _iter_jsonl(item.display, stream, options)
        else:
            yield from _iter_csv(item.display, stream, kind, options)
    except UnicodeDecodeError as exc:
        raise IngestError(f"undecodable bytes: byte {exc.start} of a read block is not {exc.encoding}; "
                          "pass --encoding NAME or re-save the file as UTF-8") from None
    finally:
        if isinstance(stream, io.TextIOWrapper):
            stream.detach()  # the caller owns (and closes) the byte stream


def _iter_jsonl(display: str, lines: Iterable[str], options: ReadOptions) -> Iterator[Draft | Rejection]:
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            opened = raw.count("{") + raw.count("[") > raw.count("}") + raw.count("]")
            if not raw.endswith("\n") and opened:
                reason = "truncated JSON (the line ends before the object closes; was the file cut off?)"
            else:
                reason = f"invalid JSON ({exc}); fix or remove this line"
            yield Rejection(display, lineno, reason, "invalid JSON")
            continue
        if not isinstance(obj, dict):
            yield Rejection(display, lineno, f"expected a JSON object with a text field, got {type(obj).__name__}",
                            "invalid JSON")
            continue
        yield _record(display, lineno, obj, options, len(raw.encode("utf-8")), extractor="newsner.jsonl")


class _QuoteCounter:
    """Lines of a CSV text, counting quote characters on the way: an odd total at the end means a quote was
    never closed (the csv module then silently reads the rest of the file into one field)."""

    def __init__(self, lines: Iterable[str], quote: str = '"') -> None:
        self.lines = iter(lines)
        self.quote = quote
        self.quotes = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.quotes += line.count(self.quote)
        return line


def _iter_csv(display: str, stream: io.TextIOBase, kind: str, options: ReadOptions) -> Iterator[Draft | Rejection]:
    # Articles are long: lift csv's 128 KiB field limit to the document size limit.
    csv.field_size_limit(max(options.max_bytes, 131072))
    if kind == "tsv":
        delimiter = "\t"
    else:
        sample = stream.read(_HEAD)
        stream.seek(0)
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    counter = _QuoteCounter(stream)
    reader = csv.reader(counter, delimiter=delimiter)
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
    held: tuple[int, list[str]] | None = None  # the last row waits until we know it did not swallow the file
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if held:
                yield _csv_row(display, held[0], held[1], header, column, options)
                held = None
            yield Rejection(display, row_start, f"malformed CSV row ({exc})", "invalid CSV")
            break  # the reader cannot resynchronise after a broken quote
        lineno = row_start
        row_start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if held:
            yield _csv_row(display, held[0], held[1], header, column, options)
        held = (lineno, row)
    if held:
        lineno, row = held
        if counter.quotes % 2 and reader.line_num > lineno:
            yield Rejection(display, lineno, f"unclosed quote: a quoted field opened on this row runs to the end of "
                            f"the file (lines {lineno}-{reader.line_num} read as one field); close the quote",
                            "invalid CSV")
        else:
            yield _csv_row(display, lineno, row, header, column, options)


def _csv_row(display: str, lineno: int, row: list[str], header: list[str], column: str,
             options: ReadOptions) -> Draft | Rejection:
    if len(row) != len(header):
        return Rejection(display, lineno, f"row has {len(row)} fields, the header has {len(header)}; check quoting",
                         "invalid CSV")
    record = dict(zip(header, row, strict=True))
    return _record(display, lineno, record, options, sum(len(c.encode("utf-8")) for c in row),
                   extractor="newsner.csv", text_key=column)


def _text_key(keys: list[str], wanted: str | None) -> str | None:
    lowered = {k.lower(): k for k in keys}
    if wanted:
        return wanted if wanted in keys else lowered.get(wanted.lower())
    return next((lowered[k] for k in TEXT_FIELDS if k in lowered), None)


def _record(display: str, lineno: int, obj: Mapping[str, Any], options: ReadOptions, size: int, *,
            extractor: str, text_key: str | None = None) -> Draft | Rejection:
    """One JSONL object / CSV row → draft; every other field is kept (mapped onto Article fields or in meta)."""
    key = text_key or _text_key(list(obj), options.text_column)
    if size > options.max_bytes:
        return Rejection(display, lineno, f"too large: over the size limit of "
                                           f"{_mb(options.max_bytes)} (raise it with --max-size MB)", "too large")
    if key is None:
        wanted = f"'{options.text_column}'" if options.text_column else f"(looked for {', '.join(TEXT_FIELDS)})"
        return Rejection(display, lineno, f"no text field {wanted} (fields: "
                                           f"{', '.join(map(str, obj)) or 'none'}); pass --text-column NAME",
                                           "no text column")
    raw_text = obj[key]
    if not isinstance(raw_text, str):
        return Rejection(display, lineno, f"field '{key}' must be a string, got "
                                           f"{type(raw_text).__name__}", "invalid JSON")
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
        return Rejection(display, lineno, f"{reason} in field '{key}'", "empty")
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
    fields["language"], overruled = resolve_language(fields.get("language"), cleaned.text)
    if overruled:
        meta.setdefault("language_declared", overruled)
    return Draft(text=cleaned.text, meta=meta, path=display, line=lineno, extractor=extractor,
                 **fields)


def _iso_date(value: str) -> str | None:
    """ISO form of a date field (YYYY-MM-DD, optionally with time), or None when it is not recognisably a date."""
    value = value.strip()
    if _ISO_DATETIME.match(value):
        return value
    return parse_date(value)
