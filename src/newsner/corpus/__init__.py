"""The corpus store of record: JSONL shards (`store`), the rebuildable index (`index`) and how it is checked,
repaired or replaced when opened (`repair`), near-duplicate signatures (`signatures`) and the linking of new
articles to clusters (`linking`).

Ingest and push both build on this package; it imports nothing from the stages above it.
"""

from newsner.corpus.store import Corpus

__all__ = ["Corpus"]
