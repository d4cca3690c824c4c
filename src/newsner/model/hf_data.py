"""The transformers engine's data side: the optional extra, the `export hf` DatasetDict, and word windows.

Words → sub-words the standard way (Hugging Face's run_ner): the tokenizer is called on the export's words
(`is_split_into_words`), the first sub-token of each word carries the word's tag, the others -100 (ignored by
the loss and the metrics). A unit longer than the model's maximum length is not truncated away: it is cut into
overlapping windows (`stride` sub-tokens shared), every window a training example, and at prediction time each
word takes the prediction of the window where it sits furthest from an edge (the most context on both sides).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsner.errors import InputError, ModelError
from newsner.schema import LabelSchema

INSTALL = "pip install 'newsner[transformers]'"
#: Sub-tokens two neighbouring windows share (capped at a quarter of the window).
STRIDE = 64


def require_transformers() -> None:
    """ModelError with the one line that installs the extra, before any work."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ModelError(f"the transformers engine needs the optional extra ({exc.name} is not installed): "
                         f"{INSTALL}") from None


def quiet_transformers() -> None:
    """No progress bars from transformers (loading and saving weights): they are noise in newsner's output."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def export_hint(folder: Path) -> str:
    return f"create it with `newsner export hf --out {folder}`"


def load_export(data_dir: Path, schema: LabelSchema, *, splits: Sequence[str] = ("train", "validation")) -> Any:
    """The `newsner export hf` DatasetDict; InputError when missing, not an export, empty, or of another schema."""
    from datasets import load_from_disk

    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise InputError(f"{data_dir}: not found; {export_hint(data_dir)}")
    if not (data_dir / "dataset_dict.json").is_file():
        hint = " (that is a spaCy export: the transformers engine reads `export hf`)" if any(
            data_dir.glob("*.spacy")) else ""
        raise InputError(f"{data_dir}: not a Hugging Face export{hint}; {export_hint(data_dir)}")
    try:
        ds = load_from_disk(str(data_dir))
    except (OSError, ValueError) as exc:
        raise InputError(f"{data_dir}: cannot load the dataset ({exc}); {export_hint(data_dir)}") from None
    for split in splits:
        if split not in ds or len(ds[split]) == 0:
            raise InputError(f"{data_dir}: the {split} split holds no examples; annotate more articles, then "
                             f"{export_hint(data_dir)}")
    first = next(iter(ds.values()))
    names = list(first.features["ner_tags"].feature.names)
    if names != schema.bio_tags():
        raise ModelError(f"{data_dir}: its ner_tags ({', '.join(names)}) are not this workspace's label schema "
                         f"version {schema.version} ({', '.join(schema.bio_tags())}); {export_hint(data_dir)}")
    return ds


def max_length(tokenizer: Any, config: Any) -> int:
    """The longest input the model takes: the tokenizer's limit (a huge sentinel when unset) and the position
    embeddings'."""
    limits = [int(tokenizer.model_max_length)] if 0 < int(tokenizer.model_max_length) < 100_000 else []
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        # RoBERTa-style models reserve two positions for padding offsets.
        limits.append(positions - 2 if getattr(config, "model_type", "") in ("roberta", "xlm-roberta",
                                                                              "camembert") else positions)
    return min(limits) if limits else 512


@dataclass
class Windows:
    """Tokenized windows of a batch of word lists."""

    encoding: Any  # BatchEncoding with input_ids, attention_mask (lists)
    #: per window: the document (index in the batch) it comes from
    sample: list[int]
    #: per window: per sub-token, the word index when it is the first sub-token of its word, else -1
    first: list[list[int]]


def encode_words(tokenizer: Any, words: Sequence[Sequence[str]], *, length: int) -> Windows:
    """Windows of at most `length` sub-tokens over each word list (overlapping by `STRIDE`, capped)."""
    stride = min(STRIDE, max(1, length // 4))
    enc = tokenizer([list(w) for w in words], is_split_into_words=True, truncation=True, max_length=length,
                    stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True)
    samples = [int(i) for i in enc["overflow_to_sample_mapping"]]
    first: list[list[int]] = []
    for w in range(len(samples)):
        word_ids = enc.word_ids(w)
        offsets = enc["offset_mapping"][w]
        overflow = w > 0 and samples[w - 1] == samples[w]
        row: list[int] = []
        previous = None
        for word_id, (start, _end) in zip(word_ids, offsets, strict=True):
            is_first = word_id is not None and word_id != previous
            if is_first and previous is None and overflow and start > 0:
                # An overflow window may begin inside a word (it cuts sub-words, not words): that word's
                # first sub-token is in the window before.
                is_first = False
            row.append(word_id if is_first else -1)
            previous = word_id if word_id is not None else previous
        first.append(row)
    return Windows(encoding=enc, sample=samples, first=first)


def window_labels(windows: Windows, tags: Sequence[Sequence[int]]) -> list[list[int]]:
    """The training labels of each window: the word's tag on its first sub-token, -100 everywhere else."""
    return [[tags[windows.sample[w]][j] if j >= 0 else -100 for j in row] for w, row in enumerate(windows.first)]


def best_windows(windows: Windows, n_words: Sequence[int]) -> list[list[tuple[int, int] | None]]:
    """For each document and word: (window, sub-token) whose prediction to take — the window where the word's
    first sub-token sits furthest from an edge; None for a word the tokenizer gave no sub-token."""
    best: list[list[tuple[int, int] | None]] = [[None] * n for n in n_words]
    depth: list[list[int]] = [[-1] * n for n in n_words]
    for w, row in enumerate(windows.first):
        doc = windows.sample[w]
        content = [i for i, j in enumerate(row) if j >= 0]
        if not content:
            continue
        lo, hi = content[0], content[-1]
        for i, j in enumerate(row):
            if j < 0:
                continue
            d = min(i - lo, hi - i)
            if d > depth[doc][j]:
                depth[doc][j] = d
                best[doc][j] = (w, i)
    return best
