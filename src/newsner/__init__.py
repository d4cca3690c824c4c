"""newsner: turn news articles into NER training data.

Library entry points (the CLI is a thin layer over these):
    newsner.corpus.Corpus            the JSONL article store
    newsner.schema                   Article, Span, AnnotationRecord, LabelSchema
    newsner.errors.NewsnerError      the root of every error newsner raises
"""

from newsner.errors import NewsnerError
from newsner.schema import AnnotationRecord, Article, LabelSchema, Span

__version__ = "0.1.0"
__all__ = ["AnnotationRecord", "Article", "LabelSchema", "NewsnerError", "Span", "__version__"]
