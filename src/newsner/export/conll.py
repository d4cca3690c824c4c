"""The CoNLL writer: one text file per split."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from newsner.export.options import SPLITS
from newsner.export.parts import SplitPart, WorkerConfig
from newsner.formats.conll import decode, docstart_line, encode, format_sentence


class ConllWriter:
    def __init__(self, root: Path) -> None:
        self.files = {s: open(root / f"{s}.conll", "w", encoding="utf-8", newline="\n") for s in SPLITS}

    def add(self, split: str, part: SplitPart) -> None:
        fh = self.files[split]
        for block in part.conll:
            fh.write(block)

    def close(self, split_sizes: dict[str, int], fingerprint: str) -> None:
        for fh in self.files.values():
            fh.close()

    def abort(self) -> None:
        for fh in self.files.values():
            fh.close()


def add_conll_units(part: SplitPart, doc_id: str, texts: Sequence[str], tags: np.ndarray,
                    ranges: list[tuple[int, int]], bio: Sequence[str], cfg: WorkerConfig) -> None:
    """CoNLL blocks of one article: a -DOCSTART- line, then one block per unit in the chosen tag dialect."""
    part.conll.append(docstart_line(doc_id, cfg.conll_columns) + "\n\n")
    for a, b in ranges:
        names = [bio[t] for t in tags[a:b].tolist()]
        if cfg.conll_scheme != "iob2":
            names = encode(len(names), decode(names, "iob2")[0], cfg.conll_scheme)
        part.conll.append(format_sentence(texts[a:b], names, cfg.conll_columns) + "\n\n")
