"""Sentence bounds by a regex (end punctuation or a line break), which keeps a quote and its "he said" together.

Pure and cheap (no parser): the relation rule, the claims table and the suggesters all cut sentences this way.

A sentence ends:
- at a line break (a feed's or a post's lines are separate statements);
- at . ! ? (optionally followed by a closing quote) before a space and a capital, a digit or an opening quote;
- at . ! ? before an emoji ("…according to Reuters. 👍🏽 Separatists …" is two sentences);
- at . ! ? before a lower-case word, unless the full stop ends an abbreviation ("e.g.", "approx.", "U.S.").
A single capital ("U.S.", "A. Goita") and common titles before the full stop do not end a sentence.
"""

from __future__ import annotations

import re
import unicodedata

_BREAK = re.compile(r"""[.!?]["”»']?\s+|\n+""")
_NOT_AN_END = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Gen|Col|St|Lt|Sgt|Capt|Maj|Mt|No|Mme|Mgr|Pr)|(?<![^\W\d_])[A-Z])$")
# Lower-case words after these full stops continue the sentence: abbreviations, and dotted words ("a.m.").
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|approx|vs|cf|ca|incl|est|fig|no|nos|vol|p|pp|al|av|env|"
                           r"art|ch|cie|min|max|km|m|h|mn)|\.[^\W\d_]|\b[^\W\d_])$", re.IGNORECASE)
_OPENING = "\"“«‘'("


def _is_emoji(ch: str) -> bool:
    """An emoji or pictograph (👍, 📌, 🇲🇱, ✅, ⚠): Unicode symbol categories outside letters and punctuation."""
    if not ch:
        return False
    code = ord(ch)
    return unicodedata.category(ch) == "So" or 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF


def sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) code-point bounds of the sentences of `text` (regex split, no parser)."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in _BREAK.finditer(text):
        if "\n" not in m.group(0):  # a line break always ends a sentence
            following = text[m.end():m.end() + 2]
            head = following[1:2] if following[:1] in _OPENING else following[:1]
            if not head:
                continue
            before = text[max(0, m.start() - 8):m.start()]
            if _is_emoji(head):
                pass  # "… Reuters. 👍🏽 Separatists …": the emoji starts a new statement
            elif head.isupper() or head.isdigit():
                if _NOT_AN_END.search(before):
                    continue
            elif head.islower():
                if m.group(0)[0] != "." or _ABBREVIATION.search(before):
                    continue
            else:
                continue
        end = m.start() + len(m.group(0).rstrip())
        if end > start:
            out.append((start, end))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out
