"""The article's language, read from its text (py3langid, whose model ships inside the package: nothing is
downloaded) when the input declares none or declares one the text clearly contradicts.

A declared language is kept unless the detector is very sure of another one on enough text (a template's
`<html lang="en">` on a French article); what the input declared then stays in `meta.language_declared`.
An unsure detection gives null (unknown), which is better than wrong.
"""

from __future__ import annotations

import re
from typing import Any

#: Detection used for an input that declares no language (normalized probability).
MIN_CONFIDENCE = 0.8
#: Detection needed to overrule a declared language, and on how many characters at least.
OVERRULE_CONFIDENCE = 0.99
OVERRULE_MIN_CHARS = 200
_MIN_CHARS = 30
_SAMPLE = 3000
_LETTER = re.compile(r"[^\W\d_]")
_IDENTIFIER: list[Any] = []


def _identifier() -> Any:
    """The py3langid model, loaded once per process on first use (~0.5 s; kept out of `newsner --help`)."""
    if not _IDENTIFIER:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        _IDENTIFIER.append(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))
    return _IDENTIFIER[0]


def detect_language(text: str) -> tuple[str | None, float]:
    """(ISO 639-1 code, probability) of the text's language; (None, 0.0) for text too short to tell."""
    sample = text[:_SAMPLE]
    if len(_LETTER.findall(sample[:400])) < _MIN_CHARS:
        return None, 0.0
    code, prob = _identifier().classify(sample)
    return str(code), float(prob)


def guess_language(text: str, *, words: list[str] | None = None) -> str | None:
    """The text's language when the detector is confident, else None. (`words` is accepted and unused.)"""
    code, prob = detect_language(text)
    return code if code and prob >= MIN_CONFIDENCE else None


def resolve_language(declared: str | None, text: str) -> tuple[str | None, str | None]:
    """(language to record, the declared value it overruled or None)."""
    declared = declared.strip().lower()[:3] if declared and declared.strip() else None
    if declared is None:
        return guess_language(text), None
    if len(text) < OVERRULE_MIN_CHARS:
        return declared, None
    code, prob = detect_language(text)
    if code and code != declared and prob >= OVERRULE_CONFIDENCE:
        return code, declared
    return declared, None
