"""Which unit a doccano-style file's offsets are in: UTF-16 code units, code points or grapheme clusters.

Only spans whose code-point range depends on the unit (those after an emoji, a flag or a combining sequence) say
anything; every other span means the same in all three. For each telling span and each unit the span *fits* when
the conversion succeeds (not outside the text, not splitting a character), both ends fall on token boundaries
(no word cut in two, no grapheme cluster split) and, when the file gives the span's text, it matches. The unit
that fits the most telling spans wins when it fits at least 90 % of them and strictly more than any other unit
that reads them differently (a unit reading every span exactly as the winner does is no rival: code points and
grapheme clusters agree on a text whose only non-BMP characters are single-code-point emoji); otherwise the file
is ambiguous and the user is asked to say (``--offsets``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from newsner.errors import AnnotationError, FormatError
from newsner.text.offsets import UNITS, UnitConverter, grapheme_starts, units_differ

UNIT_NAMES = {"utf16": "UTF-16 code units", "codepoints": "code points", "graphemes": "grapheme clusters"}
_MIN_SHARE = 0.9


@dataclass
class UnitDecision:
    """The unit a file's offsets are read in, and the evidence."""

    unit: str
    #: Spans whose meaning depends on the unit.
    telling: int = 0
    #: unit → telling spans that fit it.
    fits: dict[str, int] = field(default_factory=dict)
    #: Other units that read every telling span exactly as `unit` does (the same import either way).
    same_as: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if not self.telling:
            return "offsets read as UTF-16 code units (no span comes after an emoji, flag or combining mark, so " \
                   "every unit gives the same spans)"
        counts = ", ".join(f"{UNIT_NAMES[u]} {self.fits.get(u, 0)}" for u in UNITS)
        alike = "".join(f"; {UNIT_NAMES[u]} read every span the same way" for u in self.same_as)
        return (f"offsets read as {UNIT_NAMES[self.unit]} (detected: of {self.telling} span(s) whose meaning "
                f"depends on the unit, these fit: {counts}{alike})")


def _objects(path: Path) -> Iterator[Any]:
    with open(path, "rb") as fh:
        if path.suffix == ".json":
            try:
                obj = orjson.loads(fh.read())
            except orjson.JSONDecodeError:
                return
            yield from (obj if isinstance(obj, list) else [obj])
            return
        for raw in fh:
            try:
                yield orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue


def _spans(obj: dict[str, Any]) -> Iterator[tuple[int, int, str | None]]:
    from newsner.formats.doccano import SPAN_KEYS

    for key in SPAN_KEYS:
        raw = obj.get(key)
        if not isinstance(raw, list):
            continue
        for item in raw:
            if isinstance(item, list | tuple) and len(item) == 3:
                start, end, text = item[0], item[1], None
            elif isinstance(item, dict):
                start = item.get("start_offset", item.get("start"))
                end = item.get("end_offset", item.get("end"))
                text = item.get("text") if isinstance(item.get("text"), str) else None
            else:
                continue
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end:
                yield start, end, text


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _fits(text: str, bounds: set[int], span: tuple[int, int], given: str | None) -> bool:
    start, end = span
    if start not in bounds or end not in bounds:
        return False
    if start > 0 and _is_word(text[start - 1]) and _is_word(text[start]):
        return False
    if end < len(text) and _is_word(text[end - 1]) and _is_word(text[end]):
        return False
    return given is None or text[start:end] == given


def detect_offset_unit(path: Path) -> UnitDecision:
    """Decide the offset unit of one doccano-style file (see the module docstring).

    Raises:
        FormatError: two units fit equally well, or none fits at least 90 % of the telling spans; the message
            gives the counts and says to pass ``--offsets``.
    """
    from newsner.formats.doccano import TEXT_KEYS

    fits = dict.fromkeys(UNITS, 0)
    #: unit → what it made of each telling span, in order: units that tie but read every span alike agree.
    readings: dict[str, list[tuple[int, int] | None]] = {u: [] for u in UNITS}
    telling = 0
    try:
        objects = _objects(path)
        for obj in objects:
            if not isinstance(obj, dict):
                continue
            text = next((obj[k] for k in TEXT_KEYS if isinstance(obj.get(k), str)), None)
            if not text or not units_differ(text):
                continue
            converters = {u: UnitConverter(text, u) for u in UNITS}
            bounds = set(grapheme_starts(text))
            for start, end, given in _spans(obj):
                results: dict[str, tuple[int, int] | None] = {}
                for unit, conv in converters.items():
                    try:
                        results[unit] = conv.span(start, end)
                    except AnnotationError:
                        results[unit] = None
                if len(set(results.values())) == 1:
                    continue  # every unit reads this span the same way: no evidence
                telling += 1
                for unit, cp in results.items():
                    readings[unit].append(cp)
                    if cp is not None and _fits(text, bounds, cp, given):
                        fits[unit] += 1
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror})") from None
    if not telling:
        return UnitDecision("utf16")
    ranked = sorted(UNITS, key=lambda u: -fits[u])
    best = ranked[0]
    # Units that fit as many spans as the best but read every telling span exactly as it does give the same
    # import (a Python script's file whose only non-BMP characters are single-code-point emoji: code points and
    # grapheme clusters agree everywhere): nothing to ask. The first in UNITS order names the reading.
    rivals = [u for u in ranked[1:] if fits[u] == fits[best] and readings[u] != readings[best]]
    same = [u for u in ranked[1:] if readings[u] == readings[best]]
    decision = UnitDecision(best, telling, fits, same_as=same)
    counts = ", ".join(f"{UNIT_NAMES[u]} {fits[u]}" for u in UNITS)
    if rivals:
        raise FormatError(f"{path}: cannot tell which unit the offsets are in: of {telling} span(s) whose meaning "
                          f"depends on it, {counts} fit; pass --offsets utf16 (doccano's web UI), codepoints "
                          "(a Python script) or graphemes (doccano grapheme_mode)")
    if fits[best] < _MIN_SHARE * telling:
        raise FormatError(f"{path}: no offset unit fits: of {telling} span(s) whose meaning depends on the unit, "
                          f"{counts} fit; the spans may belong to another version of the texts (or pass "
                          "--offsets to read them in one unit anyway)")
    return decision
