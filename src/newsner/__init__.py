"""newsner: turn news articles into NER training data.

Library entry points (the CLI is a thin layer over these):
    newsner.corpus.store.Corpus            the JSONL article store
    newsner.schema                   Article, Span, AnnotationRecord, LabelSchema
    newsner.errors.NewsnerError      the root of every error newsner raises
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from newsner.errors import NewsnerError

if TYPE_CHECKING:
    from newsner.schema import AnnotationRecord, Article, LabelSchema, Span

__version__ = "0.1.0"
__all__ = ["AnnotationRecord", "Article", "LabelSchema", "NewsnerError", "Span", "__version__"]

_FROM_SCHEMA = {"AnnotationRecord", "Article", "LabelSchema", "Span"}


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `import newsner` (and `newsner --help`) does not pay for the schema module.
    if name in _FROM_SCHEMA:
        from newsner import schema

        return getattr(schema, name)
    raise AttributeError(f"module 'newsner' has no attribute {name!r}")
