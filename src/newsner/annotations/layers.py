"""What the annotation modules share: which layers are annotators', loading them, grouping by document."""

from __future__ import annotations

from collections.abc import Sequence

from newsner.annotations.store import GOLD, AnnotationStore
from newsner.errors import InputError
from newsner.schema import AnnotationRecord

MAJORITY = "majority"
DERIVED_LAYERS = (GOLD, MAJORITY)


def annotator_layers(store: AnnotationStore, layers: Sequence[str] | None = None) -> list[str]:
    """The layers to compare/vote over: `layers` if given, else every layer except gold and majority."""
    if layers:
        present = set(store.layers())
        missing = [layer for layer in layers if store.path(layer).stem not in present]
        if missing:
            raise InputError(f"no annotation layer {', '.join(map(repr, missing))} (layers here: "
                             f"{', '.join(sorted(present)) or 'none'})")
        return list(layers)
    return [layer for layer in store.layers() if layer not in DERIVED_LAYERS]


def load_layers(store: AnnotationStore, layers: Sequence[str], include_unconfirmed: bool
                ) -> dict[str, dict[str, AnnotationRecord]]:
    """layer → doc_id → record; unconfirmed records only when `include_unconfirmed`."""
    out: dict[str, dict[str, AnnotationRecord]] = {}
    for layer in layers:
        out[layer] = {d: r for d, r in store.load(layer).items()
                      if include_unconfirmed or r.status == "confirmed"}
    return out



def records_by_document(loaded: dict[str, dict[str, AnnotationRecord]]) -> dict[str, list[AnnotationRecord]]:
    out: dict[str, list[AnnotationRecord]] = {}
    for layer in sorted(loaded):
        for doc_id, rec in loaded[layer].items():
            out.setdefault(doc_id, []).append(rec)
    return out

