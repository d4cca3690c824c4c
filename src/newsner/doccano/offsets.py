"""Character offsets between Python and doccano's web UI.

Python indexes a string by code points. doccano's annotation screen runs in the browser, where a string is a
sequence of UTF-16 code units, so every span an annotator draws is stored as UTF-16 offsets: a character outside
the Basic Multilingual Plane (emoji, flags, many CJK extension characters, some historic scripts) counts as two
units there and one here. Every offset crossing the doccano boundary goes through `OffsetMap`, so
`text[start:end]` in Python is exactly the span the annotator saw.

Combining marks, CRLF and every other BMP character are one unit in both systems; only astral characters
(code point > U+FFFF) shift offsets.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from newsner.errors import AnnotationError

_BMP_MAX = 0xFFFF
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


class OffsetMap:
    """Converts offsets over one text between Python code points and UTF-16 code units (both directions).

    Building the map is one pass over the text; each conversion is a binary search over the positions of the
    astral characters, so texts without any (the usual case) convert for free.
    """

    __slots__ = ("_astral_cp", "_astral_u16", "cp_length", "u16_length")

    def __init__(self, text: str) -> None:
        # Fast path: ASCII text, or text whose UTF-16 encoding has one unit per code point.
        if text.isascii():
            self._astral_cp: list[int] = []
        else:
            self._astral_cp = [m.start() for m in _ASTRAL.finditer(text)]
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
        # Astral characters that start strictly before `offset`; one starting at offset - 1 would be split.
        k = bisect_left(self._astral_u16, offset)
        if k and self._astral_u16[k - 1] == offset - 1:
            raise AnnotationError(f"UTF-16 offset {offset} splits a character outside the BMP (an emoji or "
                                  "similar) in two")
        return offset - k

    def span_to_utf16(self, start: int, end: int) -> tuple[int, int]:
        return self.to_utf16(start), self.to_utf16(end)

    def span_from_utf16(self, start: int, end: int) -> tuple[int, int]:
        return self.from_utf16(start), self.from_utf16(end)


class GraphemeMap:
    """Offsets counted in grapheme clusters (what doccano stores for a project with `grapheme_mode` on: 👍🏽 or
    a flag is one unit there) to and from Python code points. Clusters come from the `regex` module's `\\X`
    (Unicode extended grapheme clusters, as the browser's Intl.Segmenter)."""

    __slots__ = ("_bounds",)

    def __init__(self, text: str) -> None:
        import regex

        bounds = [0]
        for m in regex.finditer(r"\X", text):
            bounds.append(m.end())
        self._bounds = bounds  # code-point offset where grapheme i starts; the last entry is len(text)

    @property
    def length(self) -> int:
        return len(self._bounds) - 1

    def from_graphemes(self, offset: int) -> int:
        if not 0 <= offset <= self.length:
            raise AnnotationError(f"offset {offset} is outside the text (length {self.length} grapheme clusters)")
        return self._bounds[offset]

    def to_graphemes(self, offset: int) -> int:
        k = bisect_left(self._bounds, offset)
        if k >= len(self._bounds) or self._bounds[k] != offset:
            raise AnnotationError(f"code-point offset {offset} falls inside a grapheme cluster")
        return k

    def span_from_utf16(self, start: int, end: int) -> tuple[int, int]:
        """Same name as OffsetMap's, so a reader takes either: here the offsets are grapheme clusters."""
        return self.from_graphemes(start), self.from_graphemes(end)


def utf16_length(text: str) -> int:
    """Length of `text` in UTF-16 code units (what JavaScript's `text.length` says)."""
    return len(text) + sum(1 for _ in _ASTRAL.finditer(text))


def to_utf16(text: str, offset: int) -> int:
    """One-off conversion of a code-point offset over `text` to UTF-16 units (use OffsetMap for many)."""
    return OffsetMap(text).to_utf16(offset)


def from_utf16(text: str, offset: int) -> int:
    """One-off conversion of a UTF-16 offset over `text` to code points (use OffsetMap for many)."""
    return OffsetMap(text).from_utf16(offset)


__all__ = ["GraphemeMap", "OffsetMap", "from_utf16", "to_utf16", "utf16_length"]
