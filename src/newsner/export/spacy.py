"""The spaCy writer: DocBin files streamed to disk (see `DocBinStreamWriter`)."""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from newsner.export.options import SPLITS
from newsner.export.parts import SplitPart


def add_docbin_units(part: SplitPart, doc: Any, tokens: Any, tags: np.ndarray, ranges: list[tuple[int, int]],
                      labels: Sequence[str], text: str) -> None:
    """DocBin arrays for each unit, computed straight from the tokenizer's Doc (no Doc objects built).

    Columns follow `DOCBIN_ATTRS` (ORTH, ENT_IOB, ENT_TYPE); whitespace tokens inside a unit are kept (O) so
    ``doc.text`` is exactly the article text of the unit.
    """
    from spacy.attrs import ORTH, SPACY

    strings = doc.vocab.strings
    n = len(doc)
    orth = doc.to_array(ORTH).astype(np.uint64)
    spaces = doc.to_array(SPACY).astype(bool)
    ent_iob = np.full(n, 2, dtype=np.uint64)  # 2 = O, 3 = B, 1 = I (spaCy's ENT_IOB codes)
    ent_type = np.zeros(n, dtype=np.uint64)
    label_hash = np.array([strings.add(lb) for lb in labels], dtype=np.uint64)
    kept = tokens.doc_index
    nz = np.flatnonzero(tags)
    if len(nz):
        t = tags[nz]
        ent_iob[kept[nz]] = np.where(t % 2 == 1, 3, 1)
        ent_type[kept[nz]] = label_hash[(t - 1) // 2]
    part.strings.update(tokens.texts)
    part.strings.update(labels)
    for i in np.flatnonzero(~np.isin(np.arange(n), kept)).tolist():
        part.strings.add(doc[i].text)
    for a, b in ranges:
        x, y = int(kept[a]), int(kept[b - 1]) + 1
        arr = np.stack([orth[x:y], ent_iob[x:y].copy(), ent_type[x:y]], axis=1)
        if arr[0, 1] == 1:
            arr[0, 1] = 3  # an entity cut at the unit start begins here
        sp = spaces[x:y].copy()
        sp[-1] = False  # the unit ends at its last token; what follows belongs to the next unit
        part.tokens.append(np.ascontiguousarray(arr))
        part.spaces.append(sp.reshape(-1, 1))




class DocBinStreamWriter:
    """Writes one spaCy DocBin file without holding its documents in memory.

    A DocBin file is ``zlib(msgpack({version, attrs, tokens, spaces, lengths, strings, cats, flags,
    span_groups}))`` where ``tokens``/``spaces`` are the concatenated per-document arrays. The arrays are
    appended to scratch files as they come; `close` streams the msgpack framing and the scratch files through
    one zlib compressor. Only the string set (unique tokens) and one int per document stay in memory.
    `DocBin().from_disk` reads the result (tested).
    """

    def __init__(self, path: Path, attrs: list[int]) -> None:
        self.path = path
        self.attrs = attrs
        self.scratch = path.with_name(path.name + ".parts")
        self.scratch.mkdir()
        self.tokens_fh = open(self.scratch / "tokens", "wb")
        self.spaces_fh = open(self.scratch / "spaces", "wb")
        self.lengths: list[int] = []
        self.strings: set[str] = set()
        # One msgpack'd user_data dict per doc (DocBin(store_user_data=True) reads them); small, so kept in a
        # scratch file like the tokens rather than in memory.
        self.user_data_fh = open(self.scratch / "user_data", "wb")

    def add(self, part: SplitPart) -> None:
        import srsly

        for arr, sp in zip(part.tokens, part.spaces, strict=True):
            self.tokens_fh.write(arr.astype(np.uint64, copy=False).tobytes("C"))
            self.spaces_fh.write(sp.astype(bool, copy=False).tobytes("C"))
            self.lengths.append(len(arr))
        for relations in part.user_data:
            data = srsly.msgpack_dumps({"relations": relations} if relations else {})
            self.user_data_fh.write(len(data).to_bytes(4, "big") + data)
        self.strings.update(part.strings)

    def close(self) -> None:
        import srsly

        self.tokens_fh.close()
        self.spaces_fh.close()
        self.user_data_fh.close()
        n = len(self.lengths)
        comp = zlib.compressobj()
        with open(self.path, "wb") as out:

            def put(data: bytes) -> None:
                out.write(comp.compress(data))

            def put_file(path: Path) -> None:
                size = path.stat().st_size
                put(b"\xc6" + size.to_bytes(4, "big"))  # msgpack bin32 header
                with open(path, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        put(chunk)

            def put_array(items: Iterator[bytes], count: int) -> None:
                put(b"\xdd" + count.to_bytes(4, "big"))  # msgpack array32 header
                for item in items:
                    put(item)

            put(b"\x8a")  # fixmap with 10 entries, the keys DocBin(store_user_data=True).to_bytes writes
            put(srsly.msgpack_dumps("version") + srsly.msgpack_dumps("0.1"))
            put(srsly.msgpack_dumps("attrs") + srsly.msgpack_dumps(self.attrs))
            put(srsly.msgpack_dumps("tokens"))
            put_file(self.scratch / "tokens")
            put(srsly.msgpack_dumps("spaces"))
            put_file(self.scratch / "spaces")
            put(srsly.msgpack_dumps("lengths") + srsly.msgpack_dumps(np.asarray(self.lengths, dtype="int32")
                                                                      .tobytes("C")))
            put(srsly.msgpack_dumps("strings"))
            put_array((srsly.msgpack_dumps(s) for s in sorted(self.strings)), len(self.strings))
            put(srsly.msgpack_dumps("cats"))
            put_array((b"\x80" for _ in range(n)), n)  # {} per doc
            put(srsly.msgpack_dumps("flags"))
            flag = srsly.msgpack_dumps({"has_unknown_spaces": False})
            put_array((flag for _ in range(n)), n)
            put(srsly.msgpack_dumps("span_groups"))
            put_array((b"\xc4\x00" for _ in range(n)), n)  # empty bytes: no span groups
            put(srsly.msgpack_dumps("user_data"))
            put_array(self._user_data(), n)
            out.write(comp.flush())
        shutil.rmtree(self.scratch)

    def _user_data(self) -> Iterator[bytes]:
        import srsly

        with open(self.scratch / "user_data", "rb") as fh:
            while head := fh.read(4):
                yield srsly.msgpack_dumps(fh.read(int.from_bytes(head, "big")))  # a bin: DocBin stores bytes

    def abort(self) -> None:
        self.tokens_fh.close()
        self.spaces_fh.close()
        self.user_data_fh.close()


def docbin_attrs() -> list[int]:
    """Attribute columns in DocBin's own order (ORTH first, then the others sorted)."""
    from spacy.attrs import ENT_IOB, ENT_TYPE, ORTH

    return [ORTH, *sorted([ENT_IOB, ENT_TYPE])]


class SpacyWriter:
    def __init__(self, root: Path) -> None:
        attrs = docbin_attrs()
        self.writers = {s: DocBinStreamWriter(root / f"{s}.spacy", attrs) for s in SPLITS}

    def add(self, split: str, part: SplitPart) -> None:
        self.writers[split].add(part)

    def close(self, split_sizes: dict[str, int], fingerprint: str) -> None:
        for w in self.writers.values():
            w.close()

    def abort(self) -> None:
        for w in self.writers.values():
            w.abort()
