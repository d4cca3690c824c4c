"""Sentence bounds by a regex (end punctuation or a line break), which keeps a quote and its "he said" together.

Pure and cheap (no parser): the relation rule, the claims table and the suggesters all cut sentences this way.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? (optionally followed by a closing quote) before a space and a capital, a digit or an
# opening quote, or at a line break. A single capital ("U.S.", "A. Goita") and common titles do not end one.
_BREAK = re.compile(r"""[.!?]["”»']?\s+|\n+""")
_NOT_AN_END = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Gen|Col|St|Lt|Sgt|Capt|Maj|Mt|No)|(?<![^\W\d_])[A-Z])$")
_OPENING = "\"“«‘'("


def sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) code-point bounds of the sentences of `text` (regex split, no parser)."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in _BREAK.finditer(text):
        if m.group(0)[0] != "\n":
            following = text[m.end():m.end() + 2]
            head = following[1:2] if following[:1] in _OPENING else following[:1]
            if not head or not (head.isupper() or head.isdigit()):
                continue
            if _NOT_AN_END.search(text, max(0, m.start() - 5), m.start()):
                continue
        end = m.start() + len(m.group(0).rstrip())
        if end > start:
            out.append((start, end))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out
