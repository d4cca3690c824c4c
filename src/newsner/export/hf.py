"""The Hugging Face writer: Arrow files in `save_to_disk` layout, optional Parquet / JSONL."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from newsner.export.options import SPLITS
from newsner.export.parts import SplitPart
from newsner.schema import LabelSchema


@dataclass
class HFColumns:
    """Columns of one batch and split, gathered as flat arrays; `table` turns them into Arrow in one go."""

    ids: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)
    published: list[str | None] = field(default_factory=list)
    languages: list[str | None] = field(default_factory=list)
    unit_bounds: list[np.ndarray] = field(default_factory=list)  # per article: unit starts, relative
    char_offsets: list[np.ndarray] = field(default_factory=list)  # per article: token byte offsets
    char_data: list[np.ndarray] = field(default_factory=list)  # per article: token bytes
    tags: list[np.ndarray] = field(default_factory=list)
    relations: list[list[dict[str, Any]]] = field(default_factory=list)  # per example: [{head, tail, type id}]

    def table(self, schema: Any) -> Any:
        import pyarrow as pa

        # token strings: one StringArray from concatenated bytes and shifted offsets
        base = np.cumsum([0] + [int(o[-1]) for o in self.char_offsets])
        str_offsets = np.concatenate([o[:-1] + b for o, b in zip(self.char_offsets, base, strict=False)]
                                     + [np.array([base[-1]])]).astype(np.int32)
        data = np.concatenate(self.char_data) if self.char_data else np.zeros(0, dtype=np.uint8)
        n_tokens = len(str_offsets) - 1
        values = pa.StringArray.from_buffers(n_tokens, pa.py_buffer(str_offsets), pa.py_buffer(data))
        # list offsets: every unit's first token, shifted by the tokens of the articles before it
        tok_base = np.cumsum([0] + [len(t) for t in self.tags])
        list_offsets = np.concatenate([u + b for u, b in zip(self.unit_bounds, tok_base, strict=False)]
                                      + [np.array([tok_base[-1]])]).astype(np.int32)
        tags = np.concatenate(self.tags) if self.tags else np.zeros(0, dtype=np.int64)
        offsets = pa.array(list_offsets, type=pa.int32())
        columns = [pa.array(self.ids, pa.string()), pa.array(self.doc_ids, pa.string()),
                   pa.ListArray.from_arrays(offsets, values),
                   pa.ListArray.from_arrays(offsets, pa.array(tags, type=pa.int64())),
                   pa.array(self.sources, pa.string()), pa.array(self.published, pa.string()),
                   pa.array(self.languages, pa.string())]
        if "relations" in schema.names:
            columns.append(pa.array(self.relations, type=schema.field("relations").type))
        return pa.Table.from_arrays(columns, schema=schema)



def hf_features(schema: LabelSchema) -> Any:
    """The dataset features: conll2003-like `tokens` / `ner_tags`, article metadata, and — when the label
    schema defines relation types — `relations`: per example [{head, tail, type}], head/tail indexing the
    example's entities in `ner_tags` order (k-th B- tag), type a ClassLabel of the relation names."""
    from datasets import ClassLabel, Features, Value

    try:
        from datasets import List as ListFeature  # datasets ≥ 4: `Sequence` is a compatibility shim
    except ImportError:  # pragma: no cover - datasets 3.x
        from datasets import Sequence as ListFeature
    from newsner.export.relations import hf_relations_feature

    return Features({
        "id": Value("string"),
        "doc_id": Value("string"),
        "tokens": ListFeature(Value("string")),
        "ner_tags": ListFeature(ClassLabel(names=schema.bio_tags())),
        "source": Value("string"),
        "published": Value("string"),
        "language": Value("string"),
        **({"relations": hf_relations_feature(schema)} if schema.relations else {}),
    })


class HFWriter:
    def __init__(self, root: Path, features: Any, *, parquet: bool, jsonl: bool) -> None:
        import pyarrow.parquet as pq
        from datasets.arrow_writer import ArrowWriter

        self.root = root
        self.features = features
        self.schema = features.arrow_schema
        self.tag_names: list[str] = list(features["ner_tags"].feature.names)
        self.relation_names: list[str] | None = None
        if "relations" in features:
            inner: Any = features["relations"].feature  # List({head, tail, type: ClassLabel})
            self.relation_names = list(inner["type"].names)
        self.writers = {}
        self.parquet: dict[str, Any] = {}
        self.jsonl: dict[str, IO[bytes]] = {}
        for split in SPLITS:
            (root / split).mkdir(parents=True)
            self.writers[split] = ArrowWriter(features=features, path=str(root / split / "data-00000-of-00001.arrow"))
            if parquet:
                (root / "parquet").mkdir(exist_ok=True)
                self.parquet[split] = pq.ParquetWriter(str(root / "parquet" / f"{split}.parquet"), self.schema)
            if jsonl:
                (root / "jsonl").mkdir(exist_ok=True)
                self.jsonl[split] = open(root / "jsonl" / f"{split}.jsonl", "wb")

    def add(self, split: str, part: SplitPart) -> None:
        table = part.table
        if table is None or not table.num_rows:
            return
        self.writers[split].write_table(table)
        if split in self.parquet:
            self.parquet[split].write_table(table)
        if split in self.jsonl:
            fh = self.jsonl[split]
            for row in table.to_pylist():
                fh.write(orjson.dumps(self._named(row)) + b"\n")

    def _named(self, row: dict[str, Any]) -> dict[str, Any]:
        """A JSON Lines row carries tag and relation names, not ids: JSON has no ClassLabel, so a reader
        (`load_dataset("json", …)`, `run_ner.py`) would see bare integers it cannot map back to labels."""
        tags = self.tag_names
        row["ner_tags"] = [tags[t] for t in row["ner_tags"]]
        names = self.relation_names
        if names is not None and row.get("relations"):
            row["relations"] = [{**r, "type": names[r["type"]]} for r in row["relations"]]
        return row

    def close(self, split_sizes: dict[str, int], fingerprint: str) -> None:
        from datasets import DatasetInfo, SplitDict, SplitInfo

        splits = SplitDict()
        for split in SPLITS:
            n, nbytes = self.writers[split].finalize()
            self.writers[split].close()
            splits.add(SplitInfo(name=split, num_examples=n, num_bytes=nbytes))
        for split in SPLITS:
            info = DatasetInfo(description="NER examples exported by newsner (see README.md)",
                               features=self.features, splits=splits)
            info.write_to_directory(str(self.root / split))
            # The state file `Dataset.save_to_disk` writes: one data file, no format, the split name.
            state: dict[str, Any] = {"_data_files": [{"filename": "data-00000-of-00001.arrow"}],
                     "_fingerprint": f"{fingerprint}-{split}", "_format_columns": None, "_format_kwargs": {},
                     "_format_type": None, "_output_all_columns": False, "_split": split}
            (self.root / split / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
        (self.root / "dataset_dict.json").write_text(json.dumps({"splits": list(SPLITS)}))
        for pw in self.parquet.values():
            pw.close()
        for fh in self.jsonl.values():
            fh.close()

    def abort(self) -> None:
        for fh in self.jsonl.values():
            fh.close()
        for pw in self.parquet.values():
            with contextlib.suppress(Exception):
                pw.close()
