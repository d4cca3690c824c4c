"""Reading `newsner export spacy` DocBins with one clear line for every way they can be wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsner.errors import InputError


def export_hint(folder: Path) -> str:
    return f"create it with `newsner export spacy --out {folder}`"


def read_docbin(path: Path, *, split: str | None = None) -> Any:
    """A spaCy DocBin from `path`; InputError (naming the file and the fix) when missing, not a DocBin, or empty.

    Checked before anything is trained or written: spaCy's own errors here (E923 with no training example,
    E1014 for a file that is not a DocBin) come late, as tracebacks, after the output folder was made.
    """
    from spacy.tokens import DocBin

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: not found; {export_hint(path.parent)}")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; pass a DocBin file such as {path / 'test.spacy'}")
    try:
        db = DocBin().from_disk(path)
    except Exception as exc:  # noqa: BLE001 - spaCy raises ValueError (E1014), msgpack and zlib errors alike
        kind = "E1014" if "E1014" in str(exc) else type(exc).__name__
        raise InputError(f"{path}: not a spaCy DocBin (.spacy) file ({kind}); {export_hint(path.parent)}") from None
    if len(db) == 0:
        what = f"the {split} split" if split else "the file"
        raise InputError(f"{path}: {what} holds no documents; annotate more articles (confirmed records in the "
                         f"layer you export), then {export_hint(path.parent)}")
    return db
