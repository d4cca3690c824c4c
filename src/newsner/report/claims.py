"""The report's "Conflicting casualty claims" section: per article, the claims whose sources disagree, side by side.

Reads the gold layer's claims (`newsner.claims.table.iter_claims`, one streamed pass over the corpus) and keeps at
most `limit` conflicting articles, so the page stays readable and memory does not grow with the corpus.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from newsner.annotations.store import GOLD, AnnotationStore
from newsner.corpus.store import Corpus
from newsner.errors import NewsnerError
from newsner.workspace import Workspace

LIMIT = 50


def _num(x: float | None) -> str:
    return "–" if x is None else str(int(x)) if float(x).is_integer() else f"{x:g}"


def _figure(lo: float | None, hi: float | None) -> str:
    """A claim's count: "17", "15–20", "≥ 17" (open-ended: "at least 17"), "≤ 20"."""
    if lo is None or hi is None:
        return "–" if lo is None and hi is None else f"≥ {_num(lo)}" if hi is None else f"≤ {_num(hi)}"
    return _num(lo) if lo == hi else f"{_num(lo)}–{_num(hi)}"


def claims_section(workspace: Workspace, table: Callable[[Sequence[str], list[Sequence[object]]], str], *,
                   layer: str = GOLD, limit: int = LIMIT) -> str:
    """HTML for the section, or "" when the layer has no conflicting claims (or no layer/corpus to read)."""
    from newsner.claims.table import conflicts, iter_claims

    if not AnnotationStore(workspace.annotations_dir).path(layer).exists() or not Corpus(workspace.corpus_dir).exists():
        return ""
    problems: list[str] = []
    shown: list[str] = []
    more = 0
    try:
        for found in conflicts(iter_claims(workspace, layer=layer, problems=problems)):
            if len(shown) >= limit:
                more += 1
                continue
            title = found.title or found.doc_id
            head = (f"<h3>{html.escape(title)} <span class=muted>({html.escape(found.doc_id)}"
                    f"{', ' + html.escape(found.published) if found.published else ''})</span></h3>")
            rows: list[Sequence[object]] = [
                (c["source"] or "(unattributed)", c["casualty"], _figure(c["min"], c["max"]),
                 "yes" if c["approximate"] else "", c["actor"] or "", c["location"] or "")
                for c in found.claims]
            lowest = (f"<p>Lowest credible figure: <b>{_num(found.lowest)}</b>; highest claimed: "
                      f"{_num(found.highest)}; {len(found.sources)} sources.</p>")
            shown.append(head + table(["source", "casualty", "figure", "approx.", "actor", "location"], rows)
                         + lowest)
    except NewsnerError as exc:  # a damaged layer or corpus: the rest of the report must still open
        return ('<h2>Conflicting casualty claims</h2><p class="warn">could not read the claims: '
                f"{html.escape(str(exc))}</p>")
    if not shown:
        return ""
    out = [f"<h2>Conflicting casualty claims</h2><p>Articles of the {html.escape(layer)} layer whose sources give "
           "different casualty figures, side by side (lowest figure first; see <code>newsner export claims</code> "
           "for every claim).</p>", *shown]
    if more:
        out.append(f'<p class="muted">… and {more} more article(s) with conflicting claims.</p>')
    if problems:
        out.append(f'<p class="muted">{len(problems)} record(s) left out: {html.escape(problems[0])}</p>')
    return "".join(out)


__all__ = ["claims_section"]
