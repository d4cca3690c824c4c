"""A self-contained HTML report of a workspace: plots first, then corpus, label schema, layers, agreement, exports.

One page a project lead can open or mail: no scripts, no external assets (plots are inline SVG, text drawn as
paths, so no font or network is needed at view time; each plot's axis text is kept on its <svg> as data-*
attributes and a <desc>), nothing secret (of the private state under .newsner/ only exports.json, the list of
export folders, is read; never the doccano credentials or URLs).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from newsner import __version__
from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.errors import InputError
from newsner.report import data
from newsner.workspace import Workspace

_CSS = """*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#f6f7f9}
main{max-width:78em;margin:0 auto;padding:1.5em 2em 3em}
header{background:#1f2d3d;color:#fff;padding:1.2em max(2em,calc((100% - 78em)/2 + 2em))}
header h1{margin:0;font-size:1.6em}
header p{margin:.3em 0 0;color:#c9d3dd}
h2{margin-top:1.8em;border-bottom:1px solid #dde1e6;padding-bottom:.2em}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(30em,1fr));gap:1.2em}
figure.plot-card{margin:0;background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:1em;
box-shadow:0 1px 2px rgba(0,0,0,.04)}
figure.plot-card h3{margin:0 0 .4em;font-size:1.02em}
svg.plot{display:block;width:100%;height:auto}
figcaption{color:#555;font-size:.92em;margin-top:.5em;border-top:1px solid #eef0f2;padding-top:.45em}
figure.empty p{color:#666;margin:.6em 0 0}
table{border-collapse:collapse;margin:.5em 0 1.5em;background:#fff}
th,td{border:1px solid #d5d9de;padding:.25em .6em;text-align:left}th{background:#f0f2f5}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#777}.warn{color:#a33;font-weight:600}"""


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            numeric = isinstance(cell, (int, float)) and not isinstance(cell, bool)
            # None is a score that does not exist (no shared document, no span of that label): a dash, not 0.
            text = "–" if cell is None else f"{cell:.3f}" if isinstance(cell, float) else str(cell)
            cells.append(f'<td class="n">{text}</td>' if numeric else f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _card(title: str, svg: str | None, caption: str, empty: str) -> str:
    """One plot with its caption (what to look for), or the sentence saying why there is none."""
    if svg is None:
        return (f'<figure class="plot-card empty"><h3>{html.escape(title)}</h3>'
                f"<p>{empty}</p></figure>")
    return f'<figure class="plot-card">{svg}<figcaption>{caption}</figcaption></figure>'


def _plots(workspace: Workspace, labels: list[str], layers: list[str],
           exports: list[data.ExportInfo]) -> str:
    from newsner.report import plots

    cards = []
    if exports:
        for k, info in enumerate(exports):
            cards.append(_card(
                f"Entities per label per split — {info.folder}",
                plots.entities_per_split(info, labels, f"entities-{k}"),
                "Look for a label with 0 in train (red number): a model cannot learn it and scores 0. Validation "
                "and test need some of every label too, or its score means nothing.",
                f"{html.escape(info.folder)} has no entity in any split."))
    else:
        cards.append(_card("Entities per label per split", None, "",
                           f"No export in {html.escape(str(workspace.root / 'exports'))} yet (the report reads the "
                           "workspace's exports/ folder): run <code>newsner export hf --out exports/hf</code> "
                           "from the workspace."))

    rounds = data.read_rounds(workspace)
    wanted = {str(d) for r in rounds for d in r["doc_ids"]}
    activity = data.read_activity(workspace, wanted)
    note = (" Records without a pull time are dated by their layer file's last change."
            if activity.from_file_time else "")
    left_out = _left_out(activity)
    cards.append(_card(
        "Documents annotated per annotator over time",
        plots.activity_over_time(activity.per_day, "activity"),
        "Look for annotators who stopped or fell behind: a flat line is a stretch with no new document "
        f"(first pull time of each confirmed record).{note}{left_out}",
        "No annotator has confirmed a document yet: run <code>newsner doccano pull</code> or <code>newsner "
        f"annotations import</code>.{left_out}"))
    cards.append(_card(
        "Documents annotated per round",
        plots.per_round(rounds, activity.round_docs, "rounds"),
        "Look for rounds where annotators finished far fewer documents than were selected (grey).",
        "No annotation round yet: <code>newsner doccano push --select N</code> records one in "
        "annotations/rounds.jsonl."))

    annotators = sorted(activity.per_day)  # layers with confirmed work: not gold, not the suggestion layer
    matrix = data.read_agreement(workspace, annotators)
    cards.append(_card(
        "Agreement between annotators",
        plots.agreement_matrix(matrix, "agreement") if matrix else None,
        "Look for pairs below about 0.7: they read the guidelines differently; review their documents. Grey "
        f"cells: no confirmed document in common, so no score. Confirmed records only.{left_out}",
        "Fewer than two annotators have documents in common, so there is no agreement to show."
        if matrix else "Agreement needs at least two annotator layers."))

    curves = data.read_curves(workspace)
    for k, curve in enumerate(curves):
        verdict = f"<strong>{html.escape(curve.verdict)}</strong> " if curve.verdict else ""
        cards.append(_card(
            f"Learning curve — models/{curve.model}", plots.learning_curve(curve, labels, f"curve-{k}"),
            f"{verdict}Look at the right end: a rise says more annotation helps only when the verdict (from an "
            "interval over enough evaluation examples) agrees; a label stuck near 0 needs more examples.", ""))
    if not curves:
        cards.append(_card("Learning curve", None, "",
                           "No learning curve yet: run <code>newsner train --curve</code>."))

    cards.append(_card(
        "Alignment problems by kind",
        plots.alignment_problems(exports, "alignment"),
        "Look for many dropped or contracted spans: annotations whose edges do not fall on token boundaries; "
        "every one is listed in the export's alignment.jsonl.",
        "No alignment problem in any export: every span went in as annotated." if exports
        else "No export yet, so nothing was aligned."))
    return '<h2>At a glance</h2><div class="plots">' + "".join(cards) + "</div>"


def _left_out(activity: data.Activity) -> str:
    """The sentence naming what is not counted as an annotator's work (nothing is left out silently)."""
    parts = []
    if activity.not_annotators:
        names = html.escape(", ".join(activity.not_annotators))
        parts.append(f" Not annotators (no confirmed work of a person): {names} — a pushing account's or "
                     "pre-annotate's suggestions, or documents only opened.")
    counted = {k: v for k, v in activity.unconfirmed.items() if k not in activity.not_annotators}
    if counted:
        parts.append(" Unconfirmed records left out (suggestions or documents opened with auto-labeling on): "
                     + html.escape(", ".join(f"{k} {v}" for k, v in sorted(counted.items()))) + ".")
    return "".join(parts)


def build_report(workspace: Workspace) -> str:
    """The report as one HTML document."""
    from newsner.annotations import agreement

    schema = workspace.label_schema()
    store = AnnotationStore(workspace.annotations_dir)
    layers = data.layer_names(workspace)
    exports = data.read_exports(workspace)
    parts = [_plots(workspace, schema.names, layers, exports)]

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

    parts.append("<h2>Annotation layers</h2>")
    if layers:
        rows = []
        for layer in layers:
            records = list(store.read(layer))
            labels = Counter(s.label for r in records for s in r.spans)
            rows.append((layer, len(records), sum(r.status == "confirmed" for r in records),
                         *(labels.get(name, 0) for name in schema.names)))
        parts.append(_table(["layer", "documents", "confirmed", *schema.names], rows))
        annotators = data.annotator_layers(workspace)
        if len(annotators) >= 2:
            pairs = agreement(workspace, annotators, include_unconfirmed=False)
            parts.append("<h3>Agreement (entity F1, exact span and label; confirmed records of the annotators)</h3>")
            parts.append(_table(["layers", "documents", "all", "overlap", "token κ", *schema.names], (
                (f"{p.a} / {p.b}", p.documents, p.overall.f1 if p.documents else None,
                 p.overlap.f1 if p.documents else None, p.kappa,
                 *(la.f1 for la in p.per_label)) for p in pairs)))
    else:
        parts.append("<p>No annotation layers yet (run <code>newsner doccano pull</code> or "
                     "<code>newsner annotations import</code>).</p>")

    from newsner.report.claims import claims_section

    parts.append(claims_section(workspace, _table))

    parts.append("<h2>Exports</h2>")
    if exports:
        rows = []
        warnings = []
        for info in exports:
            splits = info.meta.get("splits", {})
            sizes = ", ".join(f"{k} {v.get('examples', v) if isinstance(v, dict) else v}" for k, v in splits.items())
            rows.append((info.folder, info.meta.get("format", "?"), info.meta.get("layer", "?"), sizes))
            warnings += [f"{info.folder}: {w}" for w in info.meta.get("warnings", []) if isinstance(w, str)]
        parts.append(_table(["folder", "format", "layer", "examples per split"], rows))
        parts += [f'<p class="warn">warning: {html.escape(w)}</p>' for w in warnings]
    else:
        parts.append(f"<p>No exports in {html.escape(str(workspace.root / 'exports'))} yet, nor any recorded "
                     "elsewhere (run <code>newsner export hf --out exports/hf</code> from the workspace).</p>")

    head = (f"<header><h1>newsner report</h1><p>workspace {html.escape(str(workspace.root))} · generated "
            f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} · newsner {__version__}</p></header>")
    return (f"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport "
            f"content=\"width=device-width,initial-scale=1\"><title>newsner report</title><style>{_CSS}</style>"
            f"<body>{head}<main>{''.join(parts)}</main></body></html>\n")


def write_report(workspace: Workspace, out: Path) -> Path:
    """Write the report atomically to `out` (an .html file)."""
    from newsner._io import atomic_write_text

    if out.exists() and out.is_dir():
        raise InputError(f"{out}: is a folder; --out takes a file name such as report.html")
    atomic_write_text(out, build_report(workspace))
    return out
