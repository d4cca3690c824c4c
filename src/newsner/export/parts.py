"""What travels between the pipeline and its workers: the worker config, articles in, split parts out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from newsner.text.align import (
    AlignmentIssue,
)


@dataclass(frozen=True)
class WorkerConfig:
    fmt: str
    labels: tuple[str, ...]
    unit: str
    max_tokens: int | None
    resolution: str
    conll_scheme: str
    conll_columns: int
    #: The Arrow schema of the HF features (hf only): workers build finished tables.
    arrow_schema: Any = None
    #: Relation type names of the label schema (their order is the HF ClassLabel order).
    relation_types: tuple[str, ...] = ()


@dataclass
class Item:
    doc_id: str
    text: str
    language: str | None
    source: str | None
    published: str | None
    split: str
    #: (start, end, label, text) tuples, or a record line whose "spans" the worker reads (`record_spans`).
    spans: list[tuple[int, int, str, str]] | bytes
    #: (head, tail, type) over the sorted spans, when `spans` are tuples (a record line carries its own).
    relations: list[tuple[int, int, str]] = field(default_factory=list)




@dataclass
class SplitPart:
    """One batch's output for one split, in the form its writer appends."""

    table: Any = None  # hf: a pyarrow Table
    conll: list[str] = field(default_factory=list)
    tokens: list[np.ndarray] = field(default_factory=list)  # spacy: per-doc attribute arrays
    spaces: list[np.ndarray] = field(default_factory=list)
    strings: set[str] = field(default_factory=set)
    #: spacy: per-doc relations ([{head, tail, type}] over doc.ents), stored as Doc.user_data["relations"]
    user_data: list[list[dict[str, Any]]] = field(default_factory=list)
    examples: int = 0
    documents: int = 0
    n_tokens: int = 0
    entities: Counter[str] = field(default_factory=Counter)


@dataclass
class BatchResult:
    parts: dict[str, SplitPart]
    issues: list[AlignmentIssue]
    counts: Counter[str]
    languages: Counter[str]
