"""Export options, the totals an export returns, and the names every part of the export shares."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsner.annotations.store import GOLD
from newsner.errors import InputError
from newsner.formats.conll import SCHEMES
from newsner.text.align import (
    RESOLUTIONS,
    UNITS,
    AlignmentIssue,
)

EXPORT_FORMATS = ("hf", "spacy", "conll")
SPLITS = ("train", "validation", "test")
#: Articles per unit of work; smaller for small exports so every worker gets some.
BATCH_ARTICLES = 128
MARKER = "export.json"

Progress = Callable[[int, int], None]
_LICENSE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,63}")


# ------------------------------------------------------------------------------------------- options
@dataclass(frozen=True)
class ExportOptions:
    fmt: str
    layer: str = GOLD
    unit: str = "sentence"
    max_tokens: int | None = None
    splits: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    include_unconfirmed: bool = False
    strict: bool = False
    resolution: str = "contract"
    parquet: bool = False
    jsonl: bool = False
    jobs: int = 1
    conll_scheme: str = "iob2"
    conll_columns: int = 4
    min_votes: int | None = None
    #: Write the export even when it has no document or no entity (refused by default: issue 13).
    allow_empty: bool = False
    #: The dataset's licence identifier for the card and dataset_info.json (`--license`, e.g. cc-by-4.0).
    license: str | None = None

    def check(self) -> None:
        if self.fmt not in EXPORT_FORMATS:
            raise InputError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, got {self.fmt!r}")
        if self.unit not in UNITS:
            raise InputError(f"--unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if self.resolution not in RESOLUTIONS:
            raise InputError(f"--resolution must be one of {', '.join(RESOLUTIONS)}, got {self.resolution!r}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise InputError(f"--max-tokens must be at least 1, got {self.max_tokens}")
        if self.jobs < 1:
            raise InputError(f"--jobs must be at least 1, got {self.jobs}")
        if self.conll_scheme not in SCHEMES:
            raise InputError(f"--scheme must be one of {', '.join(SCHEMES)}, got {self.conll_scheme!r}")
        if self.conll_columns not in (2, 4):
            raise InputError(f"--columns must be 2 or 4, got {self.conll_columns}")
        if self.license is not None and not _LICENSE_ID.fullmatch(self.license):
            raise InputError(f"--license {self.license!r}: expected a licence identifier such as cc-by-4.0, "
                             "cc-by-nc-4.0, mit, apache-2.0, other or unknown")
        if (self.parquet or self.jsonl) and self.fmt != "hf":
            raise InputError("--parquet and --jsonl go with `newsner export hf`")


def parse_splits(spec: str) -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` → fractions of train, validation, test (each ≥ 0, summing to 1)."""
    try:
        parts = tuple(float(p) for p in spec.split(","))
    except ValueError:
        raise InputError(f"--splits {spec!r}: expected three numbers like 0.8,0.1,0.1") from None
    if len(parts) != 3 or any(p < 0 for p in parts) or abs(sum(parts) - 1) > 1e-6:
        raise InputError(f"--splits {spec!r}: expected three fractions ≥ 0 for train,validation,test summing to 1")
    return parts[0], parts[1], parts[2]


#: Below this many clusters the splits are cut by rank (see small_corpus_splits); above it an empty split


@dataclass
class SplitStats:
    examples: int = 0
    documents: int = 0
    tokens: int = 0
    entities: Counter[str] = field(default_factory=Counter)


@dataclass
class ExportResult:
    out: Path
    options: ExportOptions
    labels: list[str]
    bio_tags: list[str]
    schema_version: int
    splits: dict[str, SplitStats]
    #: Report counters in `COUNTERS` order (zeros included), then majority-vote counters when relevant.
    alignment: dict[str, int]
    issues_total: int
    issues_preview: list[AlignmentIssue]
    skipped_documents: list[str]
    annotators: dict[str, int]
    layer_names: list[str]
    unconfirmed_left_out: int
    languages: dict[str, int]
    files: list[str]
    #: Clusters moved away from their hashed split (see `newsner.export.splits`), as plain sentences.
    split_moves: list[str] = field(default_factory=list)
    #: Labels a model cannot learn from this export (no training examples), as plain sentences.
    warnings: list[str] = field(default_factory=list)
    #: What `newsner.export.swap.recover` did before this export started.
    recovered: list[str] = field(default_factory=list)
    #: The exported articles' own licences (their meta/provenance, as ingest and imports recorded them) → articles.
    source_licenses: dict[str, int] = field(default_factory=dict)

    @property
    def documents(self) -> int:
        return sum(s.documents for s in self.splits.values())

    @property
    def entities(self) -> int:
        return sum(sum(s.entities.values()) for s in self.splits.values())
