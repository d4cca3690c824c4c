"""The report's plots: matplotlib figures rendered to inline SVG (no network, no scripts at view time).

Each function returns an SVG string, or None when there is nothing to draw (the page then says so in a
sentence instead of showing an empty plot). matplotlib is imported here only, with the Agg backend, when a
report is written: never at CLI start-up.
"""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from newsner.report.data import AgreementMatrix, Curve, ExportInfo

SPLIT_COLORS = {"train": "#4C72B0", "validation": "#DD8452", "test": "#55A868"}
PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974",
           "#64B5CD"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _axis_text(fig: Any) -> dict[str, str]:
    """What the axes say, as text (the SVG draws its text as paths): labels, tick labels and legend entries.

    Read after drawing, so date ticks carry their formatted labels. Kept on the <svg> as data-* attributes and a
    <desc>, for screen readers and for the browser test that checks the plots say true things."""
    if not fig.axes:
        return {}
    ax = fig.axes[0]
    legend = ax.get_legend()
    return {
        "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
        "xticks": "|".join(t.get_text() for t in ax.get_xticklabels() if t.get_text()),
        "yticks": "|".join(t.get_text() for t in ax.get_yticklabels() if t.get_text()),
        "legend": "|".join(t.get_text() for t in legend.get_texts()) if legend is not None else "",
    }


def _svg(fig: Any, key: str) -> str:
    """The figure as an <svg> element; `key` salts its internal ids so several plots share a page safely."""
    plt = _plt()
    import matplotlib

    title = html.escape(fig.axes[0].get_title() if fig.axes else key, quote=True)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"newsner-{key}"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    axes = _axis_text(fig)
    plt.close(fig)
    text = buf.getvalue()
    svg = text[text.index("<svg"):]
    # RDF metadata (creator, format) is of no use inline and names outside URLs.
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    # The page sizes plots with CSS; keep the aspect ratio from the viewBox.
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', svg, count=1)
    attrs = "".join(f' data-{k}="{html.escape(v, quote=True)}"' for k, v in axes.items())
    desc = "; ".join(f"{k}: {v.replace('|', ', ')}" for k, v in axes.items() if v)
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{title}" data-plot="{key}" class="plot"{attrs}', 1)
    head_end = svg.index(">") + 1
    return svg[:head_end] + f"<desc>{html.escape(desc)}</desc>" + svg[head_end:]


def _figure(width: float = 7.0, height: float = 3.4, *, counts: str = "y") -> tuple[Any, Any]:
    """A figure with one axes; `counts` names the axis that counts things (whole-number ticks)."""
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    if counts:
        (ax.yaxis if counts == "y" else ax.xaxis).set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def entities_per_split(info: ExportInfo, labels: Sequence[str], key: str) -> str | None:
    names = list(labels) + sorted({lb for st in info.entities.values() for lb in st} - set(labels))
    if not any(v for st in info.entities.values() for v in st.values()):
        return None
    fig, ax = _figure()
    splits = [s for s in ("train", "validation", "test") if s in info.entities]
    width = 0.8 / max(1, len(splits))
    for k, split in enumerate(splits):
        xs = [i + (k - (len(splits) - 1) / 2) * width for i in range(len(names))]
        ys = [info.entities[split].get(lb, 0) for lb in names]
        bars = ax.bar(xs, ys, width, label=split, color=SPLIT_COLORS.get(split, PALETTE[k % len(PALETTE)]))
        texts = ax.bar_label(bars, labels=[str(y) for y in ys], fontsize=7, padding=1, color="#333")
        for text, y in zip(texts, ys, strict=True):
            if split == "train" and y == 0:  # the number to worry about
                text.set_color("#C44E52")
                text.set_fontweight("bold")
    ax.set_xticks(range(len(names)), names)
    ax.set_xlabel("label")
    ax.set_ylabel("entities")
    ax.set_title(f"Entities per label per split — {info.folder}")
    ax.legend(frameon=False, fontsize=8)
    return _svg(fig, key)


def activity_over_time(per_day: dict[str, Counter[str]], key: str) -> str | None:
    if not per_day:
        return None
    from datetime import date

    fig, ax = _figure()
    for k, (annotator, days) in enumerate(sorted(per_day.items())):
        xs = sorted(days)
        total, ys = 0, []
        for d in xs:
            total += days[d]
            ys.append(total)
        ax.step([date.fromisoformat(d) for d in xs], ys, where="post", marker="o", markersize=4,
                label=f"{annotator} ({total})", color=PALETTE[k % len(PALETTE)])
    _date_axis(ax, sorted({date.fromisoformat(d) for days in per_day.values() for d in days}))
    ax.set_ylim(bottom=0)  # cumulative counts from 0: one day of pulls is not a 9.45–10.5 axis
    ax.set_xlabel("day (UTC)")
    ax.set_ylabel("documents annotated (cumulative)")
    ax.set_title("Documents annotated per annotator over time")
    ax.legend(frameon=False, fontsize=8)
    fig.autofmt_xdate()
    return _svg(fig, key)


def _date_axis(ax: Any, days: Sequence[Any]) -> None:
    """Day ticks whose format fits the data's span: every pull on one day must not read "Jan 01" five times.

    One day: that day alone, padded by a day each side, as YYYY-MM-DD. Up to two months: one tick per day (or
    per few days), "Dec 02" with the year in the axis when it is one year. Longer: month ticks, "Dec 2026"."""
    import datetime as dt

    import matplotlib.dates as mdates

    first, last = days[0], days[-1]
    span = (last - first).days
    if span == 0:
        ax.set_xlim(first - dt.timedelta(days=1), last + dt.timedelta(days=1))
        ax.set_xticks([first])
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))  # type: ignore[no-untyped-call]
        return
    ax.set_xlim(first - dt.timedelta(hours=12), last + dt.timedelta(hours=12))
    if span <= 62:
        step = max(1, -(-span // 7))  # at most about 8 ticks
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=step))  # type: ignore[no-untyped-call]
        fmt = "%b %d" if first.year == last.year else "%Y-%m-%d"
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))  # type: ignore[no-untyped-call]
        fmt = "%b %Y"
    ax.xaxis.set_major_formatter(mdates.DateFormatter(fmt))  # type: ignore[no-untyped-call]


def per_round(rounds: list[dict[str, Any]], round_docs: dict[str, set[str]], key: str) -> str | None:
    if not rounds:
        return None
    fig, ax = _figure()
    annotators = sorted(round_docs)
    series = [("selected", "#bbbbbb")] + [(a, PALETTE[k % len(PALETTE)]) for k, a in enumerate(annotators)]
    width = 0.8 / len(series)
    names = [f"round {r.get('round', i + 1)}\n{r.get('strategy', '?')}" for i, r in enumerate(rounds)]
    for k, (name, color) in enumerate(series):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(rounds))]
        if name == "selected":
            ys = [len(r["doc_ids"]) for r in rounds]
        else:
            ys = [len(round_docs[name] & {str(d) for d in r["doc_ids"]}) for r in rounds]
        bars = ax.bar(xs, ys, width, label=name, color=color)
        ax.bar_label(bars, fontsize=7, padding=1)
    ax.set_xticks(range(len(rounds)), names, fontsize=8)
    ax.set_xlabel("round (selection strategy)")
    ax.set_ylabel("documents")
    ax.set_title("Documents annotated per round")
    ax.legend(frameon=False, fontsize=8)
    return _svg(fig, key)


def agreement_matrix(matrix: AgreementMatrix, key: str) -> str | None:
    names = matrix.annotators
    if not any(docs for _, docs in matrix.pairs.values()):
        return None
    import numpy as np

    plt = _plt()
    n = len(names)
    fig, ax = plt.subplots(figsize=(7.0, max(3.4, 0.5 * n + 1.4)), dpi=100)
    values = np.full((n, n), np.nan)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            pair = matrix.pairs.get((a, b)) or matrix.pairs.get((b, a))
            if pair and pair[1] > 0:
                values[i, j] = pair[0]  # NaN (no span on either side) stays grey
    cmap = plt.get_cmap("RdYlGn").copy()
    cmap.set_bad("#f0f0f0")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            pair = matrix.pairs.get((a, b)) or matrix.pairs.get((b, a))
            if i == j:
                text = "—"
            elif not pair or pair[1] == 0:
                text = "no shared\ndocument"
            elif pair[0] != pair[0]:  # NaN: shared documents but neither side marked anything
                text = f"no spans\n{pair[1]} doc"
            else:
                text = f"{pair[0]:.2f}\n{pair[1]} doc"
            dark = pair is not None and i != j and pair[1] > 0 and pair[0] == pair[0] and not 0.2 < pair[0] < 0.8
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="#fff" if dark else "#222")
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("annotator")
    ax.set_ylabel("annotator")
    ax.set_title("Agreement: pairwise entity F1 (exact span and label)")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="F1")
    return _svg(fig, key)


_UNIT_PLURAL = {"sentence": "sentences", "document": "documents (one per article)", "window": "windows of sentences"}


def curve_axes(curve: Curve) -> tuple[str, str, list[float]]:
    """x label, y label and x values of a learning curve, saying what was counted and where F1 was measured.

    The x values are training examples (the export's units: sentences by default), never called documents unless
    the export's unit is the document; the documents behind the full training split are named when known."""
    points = sorted(curve.points, key=lambda p: float(p.get("fraction", 0)))
    counts = [p.get("train_examples", p.get("train_docs")) for p in points]
    if all(isinstance(c, int) and c > 0 for c in counts):
        xs = [float(c) for c in counts if isinstance(c, int)]
        unit = _UNIT_PLURAL.get(curve.unit or "", "export units")
        xlabel = f"training examples ({unit})"
        documents = points[-1].get("train_documents")
        if curve.unit != "document" and isinstance(documents, int) and documents > 0:
            xlabel += f"; {int(xs[-1])} from {documents} documents at {float(points[-1].get('fraction', 1)):.0%}"
    else:
        xs = [float(p.get("fraction", 0)) for p in points]
        xlabel = "fraction of the training split"
    evidence = curve.evidence or {}
    n = evidence.get("eval_examples")
    size = f", {n} examples" if isinstance(n, int) else ""
    ylabel = f"F1 on {curve.split}{size}" if curve.split else "F1 (split not recorded)"
    return xlabel, ylabel, xs


def learning_curve(curve: Curve, labels: Sequence[str], key: str) -> str | None:
    points = sorted(curve.points, key=lambda p: float(p.get("fraction", 0)))
    if not points:
        return None
    xlabel, ylabel, xs = curve_axes(curve)
    fig, ax = _figure(counts="x" if xlabel.startswith("training examples") else "")
    names = [lb for lb in labels if any(lb in p["f1"] for p in points)]
    names += sorted({k for p in points for k in p["f1"]} - set(names) - {"overall"})
    for k, label in enumerate(names):
        ax.plot(xs, [p["f1"].get(label, float("nan")) for p in points], marker="o", markersize=3, linewidth=1.2,
                label=label, color=PALETTE[k % len(PALETTE)])
    if any("overall" in p["f1"] for p in points):
        ax.plot(xs, [p["f1"].get("overall", float("nan")) for p in points], marker="o", color="#111", linewidth=2.4,
                label="overall")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"Learning curve — models/{curve.model}")
    ax.legend(frameon=False, fontsize=8, ncols=2)
    return _svg(fig, key)


def alignment_problems(exports: list[ExportInfo], key: str) -> str | None:
    kinds = sorted({k for e in exports for k in e.problems}, key=lambda k: -sum(e.problems[k] for e in exports))
    if not kinds:
        return None
    shown = [e for e in exports if e.problems]
    fig, ax = _figure(7.0, 1.3 + 0.42 * len(kinds) * len(shown), counts="x")
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e6e6e6", linewidth=0.8)
    height = min(0.5, 0.8 / len(shown))
    for k, info in enumerate(shown):
        ys = [i + (k - (len(shown) - 1) / 2) * height for i in range(len(kinds))]
        bars = ax.barh(ys, [info.problems[kd] for kd in kinds], height, label=info.folder,
                       color=PALETTE[k % len(PALETTE)])
        ax.bar_label(bars, fontsize=7, padding=2)
    ax.set_yticks(range(len(kinds)), [kd.replace("_", " ") for kd in kinds])
    ax.set_ylim(len(kinds) - 0.4, -0.6)  # inverted: the most frequent kind on top; bars keep their width
    ax.set_xlabel("spans (alignment.jsonl)")
    ax.set_ylabel("kind of problem")
    ax.set_title("Alignment problems by kind")
    ax.margins(x=0.12)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(fig, key)
