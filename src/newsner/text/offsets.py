"""Character offsets in the three units annotation tools use, and conversion to Python code points.

- **code points**: what Python indexes (`text[start:end]`); newsner stores every span this way.
- **UTF-16 code units**: what a browser measures; doccano's annotation screen stores spans in these. A character
  outside the Basic Multilingual Plane (emoji, flags, some CJK) is two units there and one code point here.
- **grapheme clusters**: what a person sees as one character (a flag 🇲🇱 is two code points and four UTF-16 units;
  ``e`` + combining acute is two code points). doccano projects with ``grapheme_mode`` count spans this way.

Readers in `newsner.formats` and the doccano side both convert through this module, so one text never gets two
different answers. `OffsetMap` converts UTF-16 ↔ code points; `GraphemeMap` converts graphemes ↔ code points.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from newsner.errors import AnnotationError

UNITS = ("utf16", "codepoints", "graphemes")
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


class OffsetMap:
    """Converts offsets over one text between Python code points and UTF-16 code units (both directions).

    Building the map is one pass over the text; each conversion is a binary search over the positions of the
    astral characters, so texts without any (the usual case) convert for free.
    """

    __slots__ = ("_astral_cp", "_astral_u16", "cp_length", "u16_length")

    def __init__(self, text: str) -> None:
        self._astral_cp: list[int] = [] if text.isascii() else [m.start() for m in _ASTRAL.finditer(text)]
        # Where each astral character starts in UTF-16 units: k astral characters before it add k units.
        self._astral_u16 = [cp + k for k, cp in enumerate(self._astral_cp)]
        self.cp_length = len(text)
        self.u16_length = len(text) + len(self._astral_cp)

    @property
    def identity(self) -> bool:
        """True when both unit systems agree everywhere (no astral characters)."""
        return not self._astral_cp

    def to_utf16(self, offset: int) -> int:
        """The UTF-16 offset of Python code-point offset `offset` (0 <= offset <= len(text))."""
        if not 0 <= offset <= self.cp_length:
            raise AnnotationError(f"offset {offset} is outside the text (length {self.cp_length} code points)")
        return offset + bisect_left(self._astral_cp, offset)

    def from_utf16(self, offset: int) -> int:
        """The Python code-point offset of UTF-16 offset `offset`.

        Raises AnnotationError when the offset is outside the text or falls between the two halves of a
        surrogate pair (no browser selection can end there; the number did not come from the text shown).
        """
        if not 0 <= offset <= self.u16_length:
            raise AnnotationError(f"offset {offset} is outside the text (length {self.u16_length} UTF-16 units)")
        k = bisect_left(self._astral_u16, offset)
        if k and self._astral_u16[k - 1] == offset - 1:
            raise AnnotationError(f"UTF-16 offset {offset} splits a character outside the BMP (an emoji or "
                                  "similar) in two")
        return offset - k

    def span_to_utf16(self, start: int, end: int) -> tuple[int, int]:
        return self.to_utf16(start), self.to_utf16(end)

    def span_from_utf16(self, start: int, end: int) -> tuple[int, int]:
        return self.from_utf16(start), self.from_utf16(end)


def grapheme_starts(text: str) -> list[int]:
    """Code-point offsets where each grapheme cluster starts, plus len(text) at the end."""
    import regex  # the stdlib `re` has no \\X; imported here to keep start-up light

    if text.isascii() and "\r\n" not in text:
        return list(range(len(text) + 1))
    starts = [m.start() for m in regex.finditer(r"\X", text)]
    starts.append(len(text))
    return starts


class GraphemeMap:
    """Converts offsets over one text between grapheme clusters and Python code points (both directions)."""

    __slots__ = ("_index", "_starts", "cp_length", "g_length")

    def __init__(self, text: str) -> None:
        self._starts = grapheme_starts(text)
        self._index = {cp: g for g, cp in enumerate(self._starts)}
        self.cp_length = len(text)
        self.g_length = len(self._starts) - 1

    @property
    def identity(self) -> bool:
        """True when every grapheme is one code point."""
        return self.g_length == self.cp_length

    def from_graphemes(self, offset: int) -> int:
        if not 0 <= offset <= self.g_length:
            raise AnnotationError(f"offset {offset} is outside the text (length {self.g_length} graphemes)")
        return self._starts[offset]

    def to_graphemes(self, offset: int) -> int:
        """The grapheme offset of a code-point offset; AnnotationError inside a cluster (e.g. a flag's half)."""
        if offset not in self._index:
            if 0 <= offset <= self.cp_length:
                raise AnnotationError(f"code-point offset {offset} falls inside a grapheme cluster (a flag, an "
                                      "emoji sequence, or a letter and its accent)")
            raise AnnotationError(f"offset {offset} is outside the text (length {self.cp_length} code points)")
        return self._index[offset]

    @property
    def length(self) -> int:
        """Length of the text in grapheme clusters."""
        return self.g_length

    def span_from_graphemes(self, start: int, end: int) -> tuple[int, int]:
        return self.from_graphemes(start), self.from_graphemes(end)

    def span_from_utf16(self, start: int, end: int) -> tuple[int, int]:
        """OffsetMap's name, so pull takes either map for a project: here the offsets are grapheme clusters."""
        return self.span_from_graphemes(start, end)

    def span_to_graphemes(self, start: int, end: int) -> tuple[int, int]:
        return self.to_graphemes(start), self.to_graphemes(end)


class UnitConverter:
    """Spans in one `unit` over one text → code points (the conversion each reader needs)."""

    def __init__(self, text: str, unit: str) -> None:
        if unit not in UNITS:
            raise AnnotationError(f"offset unit must be one of {', '.join(UNITS)}, got {unit!r}")
        self.unit = unit
        self._u16 = OffsetMap(text) if unit == "utf16" else None
        self._g = GraphemeMap(text) if unit == "graphemes" else None
        self.length = len(text)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Code-point span; AnnotationError when a converted offset is outside the text or splits a character."""
        if self._u16 is not None and not self._u16.identity:
            return self._u16.span_from_utf16(start, end)
        if self._g is not None and not self._g.identity:
            return self._g.span_from_graphemes(start, end)
        return start, end  # same numbers in code points; the caller checks they are inside the text


def utf16_length(text: str) -> int:
    """Length of `text` in UTF-16 code units (what JavaScript's `text.length` says)."""
    return len(text) + sum(1 for _ in _ASTRAL.finditer(text))


def to_utf16(text: str, offset: int) -> int:
    """One-off conversion of a code-point offset over `text` to UTF-16 units (use OffsetMap for many)."""
    return OffsetMap(text).to_utf16(offset)


def from_utf16(text: str, offset: int) -> int:
    """One-off conversion of a UTF-16 offset over `text` to code points (use OffsetMap for many)."""
    return OffsetMap(text).from_utf16(offset)


def units_differ(text: str) -> bool:
    """True when the three units do not all agree on this text (it has astral characters or multi-code-point
    graphemes), i.e. when the unit of a file's offsets matters."""
    return not text.isascii() and (bool(_ASTRAL.search(text)) or not GraphemeMap(text).identity)


__all__ = ["UNITS", "GraphemeMap", "OffsetMap", "UnitConverter", "from_utf16", "grapheme_starts", "to_utf16",
           "units_differ", "utf16_length"]
