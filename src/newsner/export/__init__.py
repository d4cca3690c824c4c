"""Export annotated articles as a Hugging Face DatasetDict, spaCy DocBins or CoNLL files.

Pipeline (streaming: one pass over the corpus, a bounded number of articles in flight):

1. Records of the chosen layer are *indexed* (doc id → byte offset in annotations/<layer>.jsonl), not loaded;
   ``majority`` indexes every annotator layer and votes per article (`newsner.annotations.majority_vote`).
   Only confirmed records unless ``include_unconfirmed`` (`records`).
2. The corpus is streamed. An annotated article goes to the split its near-duplicate cluster hashes to
   (``sha256(seed:cluster)``, cluster = ``duplicate_of`` or the article id), so a cluster never straddles
   splits and a document's split never changes when others are added; whole clusters move only so that every
   label with examples reaches train and no split is left empty (`splits`).
3. Batches of articles are tokenized and aligned (`newsner.text.align`) in this process or in ``jobs`` worker
   processes; results come back in order, so the output does not depend on ``jobs`` (`worker`).
4. Writers append per split (`hf`, `spacy`, `conll`). Everything goes to a temporary folder beside ``out``
   that replaces ``out`` only when complete, so a failed or interrupted export leaves the previous one intact;
   what a crash between the swap's renames leaves is recovered by the next run (`pipeline`).
5. ``alignment.jsonl`` lists every span that did not go in as annotated; ``export.json`` has the totals;
   ``README.md`` is the dataset card (`card`).

Label ids always come from the label schema (`LabelSchema.bio_tags()`), never from the data.
"""

from newsner.export.card import dataset_card, summary_dict
from newsner.export.options import (
    BATCH_ARTICLES,
    EXPORT_FORMATS,
    MARKER,
    SPLITS,
    ExportOptions,
    ExportResult,
    Progress,
    SplitStats,
    parse_splits,
)
from newsner.export.parts import BatchResult, Item, SplitPart, WorkerConfig
from newsner.export.pipeline import export
from newsner.export.records import LayerIndex, RecordSource
from newsner.export.spacy import DocBinStreamWriter, docbin_attrs
from newsner.export.splits import SMALL_EXPORT, small_corpus_splits, split_of
from newsner.export.worker import process_batch, record_spans

__all__ = [
    "BATCH_ARTICLES", "EXPORT_FORMATS", "MARKER", "SMALL_EXPORT", "SPLITS", "BatchResult", "DocBinStreamWriter",
    "ExportOptions", "ExportResult", "Item", "LayerIndex", "Progress", "RecordSource", "SplitPart", "SplitStats",
    "WorkerConfig", "dataset_card", "docbin_attrs", "export", "parse_splits", "process_batch", "record_spans",
    "small_corpus_splits", "split_of", "summary_dict",
]
