"""Character offsets between Python and doccano's web UI.

Python indexes a string by code points. doccano's annotation screen runs in the browser, where a string is a
sequence of UTF-16 code units, so every span an annotator draws is stored as UTF-16 offsets: a character outside
the Basic Multilingual Plane (emoji, flags, many CJK extension characters, some historic scripts) counts as two
units there and one here. Every offset crossing the doccano boundary goes through `OffsetMap`, so
`text[start:end]` in Python is exactly the span the annotator saw.

Combining marks, CRLF and every other BMP character are one unit in both systems; only astral characters
(code point > U+FFFF) shift offsets.
"""

# The conversions live in the neutral newsner.text.offsets (readers in newsner.formats use them without importing the
# doccano package); this module keeps the names the doccano side and its tests import.
from newsner.text.offsets import GraphemeMap, OffsetMap, from_utf16, to_utf16, utf16_length

__all__ = ["GraphemeMap", "OffsetMap", "from_utf16", "to_utf16", "utf16_length"]
