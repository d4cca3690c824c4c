"""A self-contained HTML report of a workspace: corpus, label schema, annotation layers, agreement, exports.

One page a project lead can open or mail: no scripts, no external assets, nothing secret (the doccano
credentials and URLs of private state under .newsner/ are never read).
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from newsner import __version__
from newsner.annotations_store import AnnotationStore
from newsner.corpus import Corpus
from newsner.errors import InputError
from newsner.workspace import Workspace

_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
.label{padding:0 .4em;border-radius:3px}.muted{color:#777}"""


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            numeric = isinstance(cell, (int, float)) and not isinstance(cell, bool)
            text = f"{cell:.3f}" if isinstance(cell, float) else str(cell)
            cells.append(f'<td class="n">{text}</td>' if numeric else f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def export_folders(workspace: Workspace) -> list[Path]:
    """The exports under exports/ (folders with export.json), after recovering any interrupted swap.

    Hidden folders (``.hf.tmp-PID``, ``.hf.old-PID``) are an export's scratch space, never an export.
    """
    from newsner.export.swap import recover

    root = workspace.root / "exports"
    if not root.is_dir():
        return []
    names = {m.group(1) for p in root.iterdir() if (m := re.match(r"^\.(.+)\.(?:tmp|old)-\d+$", p.name))}
    for name in sorted(names):
        recover(root / name)
    return sorted(p for p in root.iterdir() if not p.name.startswith(".") and (p / "export.json").is_file())


def build_report(workspace: Workspace) -> str:
    """The report as one HTML document."""
    from newsner.annotations import agreement

    schema = workspace.label_schema()
    parts = [f"<h1>newsner report</h1><p class=muted>workspace {html.escape(str(workspace.root))} · generated "
             f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} · newsner {__version__}</p>"]

    corpus = Corpus(workspace.corpus_dir)
    parts.append("<h2>Corpus</h2>")
    if corpus.exists() and corpus.shard_paths():
        st = corpus.stats()
        parts.append(f"<p>{st.articles} articles, {st.characters:,} characters, {st.near_duplicates} near-duplicates "
                     f"in {st.duplicate_clusters} cluster(s).</p>")
        for title, counter in (("source", st.by_source), ("language", st.by_language),
                               ("published (month)", st.by_month)):
            parts.append(_table([title, "articles"], counter.most_common()))
    else:
        parts.append("<p>No corpus yet (run <code>newsner ingest</code>).</p>")

    parts.append(f"<h2>Label schema (version {schema.version})</h2>")
    parts.append(_table(["#", "label", "key", "guideline"], (
        (i, lb.name, lb.shortcut, lb.description) for i, lb in enumerate(schema.labels))))

    store = AnnotationStore(workspace.annotations_dir)
    layers = store.layers()
    parts.append("<h2>Annotation layers</h2>")
    if layers:
        rows = []
        for layer in layers:
            records = list(store.read(layer))
            labels = Counter(s.label for r in records for s in r.spans)
            rows.append((layer, len(records), sum(r.status == "confirmed" for r in records),
                         *(labels.get(name, 0) for name in schema.names)))
        parts.append(_table(["layer", "documents", "confirmed", *schema.names], rows))
        annotators = [x for x in layers if x not in ("gold", "majority")]
        if len(annotators) >= 2:
            pairs = agreement(workspace, annotators, include_unconfirmed=True)
            parts.append("<h3>Agreement (entity F1, exact span and label; confirmed and unconfirmed)</h3>")
            parts.append(_table(["layers", "documents", "all", *schema.names], (
                (f"{p.a} / {p.b}", p.documents, p.overall.f1, *(la.f1 for la in p.per_label)) for p in pairs)))
    else:
        parts.append("<p>No annotation layers yet (run <code>newsner doccano pull</code> or "
                     "<code>newsner annotations import</code>).</p>")

    exports = export_folders(workspace)
    parts.append("<h2>Exports</h2>")
    if exports:
        rows = []
        for folder in exports:
            try:
                meta = json.loads((folder / "export.json").read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            splits = meta.get("splits", {})
            sizes = ", ".join(f"{k} {v.get('examples', v) if isinstance(v, dict) else v}" for k, v in splits.items())
            rows.append((str(folder.relative_to(workspace.root)), meta.get("format", "?"), meta.get("layer", "?"),
                         sizes))
        parts.append(_table(["folder", "format", "layer", "examples per split"], rows))
    else:
        parts.append("<p>No exports yet (run <code>newsner export hf --out exports/hf</code>).</p>")

    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>newsner report</title><style>{_CSS}</style>"
            f"<body>{''.join(parts)}</body></html>\n")


def write_report(workspace: Workspace, out: Path) -> Path:
    """Write the report atomically to `out` (an .html file)."""
    from newsner._io import atomic_write_text

    if out.exists() and out.is_dir():
        raise InputError(f"{out}: is a folder; --out takes a file name such as report.html")
    atomic_write_text(out, build_report(workspace))
    return out
