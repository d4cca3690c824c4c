from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.schema import AnnotationRecord, Article, Span


def test_report_shows_corpus_layers_and_agreement(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    texts = ["Wagner fighters left <Kidal> on Monday.", "The army said 5 died in Gao."]
    arts = [Article.from_text(t, source="Sahel Monitor", published="2024-07-29") for t in texts]
    corpus = Corpus(workspace / "corpus")
    with corpus.lock():
        corpus.append(arts)
    store = AnnotationStore(workspace / "annotations")
    for layer, label in (("alice", "LOCATION"), ("bob", "ACTOR")):
        start = texts[0].index("Kidal")
        store.write_layer(layer, [AnnotationRecord(arts[0].id, arts[0].text_sha256, layer,
                                                   [Span(start, start + 5, label, "Kidal")], "confirmed")])
    out = workspace / "report.html"
    result = cli("report", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "2 articles" in page and "Sahel Monitor" in page and "2024-07" in page
    assert re.search(r"<td>alice</td><td class=\"n\">1</td><td class=\"n\">1</td><td class=\"n\">0</td>"
                     r"<td class=\"n\">1</td>", page)  # documents, confirmed, ACTOR 0, LOCATION 1
    assert "alice / bob" in page  # agreement: same span, different label
    assert "<Kidal>" not in page and "<script" not in page  # text is escaped; nothing executable


def test_report_on_an_empty_workspace_says_what_to_run(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "--out", str(workspace / "r.html"))
    assert result.exit_code == 0
    page = (workspace / "r.html").read_text()
    assert "newsner ingest" in page and "newsner doccano pull" in page and "ACTOR" in page
    folder = cli("report", "--out", str(workspace))
    assert folder.exit_code != 0


def test_report_has_a_plot_per_view_with_caption(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.report_workspace import build

    build(workspace)
    out = workspace / "report.html"
    result = cli("report", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text()
    plots = re.findall(r'<svg role="img" aria-label="([^"]+)" data-plot="([^"]+)"', page)
    assert [key for _, key in plots] == ["entities-0", "activity", "rounds", "agreement", "curve-0", "alignment"]
    assert "Entities per label per split — exports/hf" in [title for title, _ in plots]
    assert page.count("<figcaption>Look for") + page.count("Look at the right end") >= 6
    # the curve's verdict, recomputed from its evidence (240 test examples, interval above 0)
    assert "more annotation still helps" in page and "95% interval +0.06 to +0.19 over 240 examples" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "warning: exports/hf: label CLAIM_SOURCE has no examples at all" in page


def test_report_plots_keep_matplotlib_out_of_cli_start() -> None:
    import subprocess
    import sys

    code = "import sys, newsner.cli; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_report_shows_conflicting_claims_side_by_side(workspace: Path) -> None:
    from newsner.report.page import build_report
    from newsner.workspace import Workspace
    from tests.report_workspace import build

    page = build_report(build(workspace))
    assert page.count("<h2>Conflicting casualty claims</h2>") == 1
    section = page.split("<h2>Conflicting casualty claims</h2>")[1].split("<h2>")[0]
    assert "Kidal clashes" in section
    # lowest figure first: the army's five, then the spokesman's at-least-17
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>", section)
    assert rows == [("The army", "five soldiers died", "5"), ("a rebel spokesman", "At least 17 dead", "≥ 17")]
    assert "Lowest credible figure: <b>5</b>" in section
    # the 24 other gold articles have one source each: no conflict, not listed
    assert section.count("<h3>") == 1
    # no gold layer: no section (and no error)
    (workspace / "annotations" / "gold.jsonl").unlink()
    assert "Conflicting casualty claims" not in build_report(Workspace.at(workspace))


def test_a_damaged_rounds_line_is_named_not_skipped(cli, workspace) -> None:  # type: ignore[no-untyped-def]
    """The report reads rounds.jsonl through newsner.rounds.record: a cut line is reported with file:line, and no page
    with fewer rounds than were recorded is written."""
    (workspace / "annotations" / "rounds.jsonl").write_text(
        '{"round": 1, "created_at": "2026-11-20T09:00:00Z", "strategy": "random", "seed": 0, "requested": 1, '
        '"selected": 1, "model": null, "project": "newsner", "doc_ids": ["a"]}\n{"round": 2, "strat\n')
    out = workspace / "report.html"
    result = cli("report", "--out", str(out))
    assert result.exit_code == 1 and "rounds.jsonl:2" in result.stderr and "Traceback" not in result.output
    assert not out.exists()


def _svg_attrs(page: str, key: str) -> dict[str, str]:
    import html

    tag = re.search(rf'<svg [^>]*data-plot="{key}"[^>]*>', page)
    assert tag, key
    return {k: html.unescape(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', tag.group(0))}


def test_report_on_a_misleading_workspace_says_true_things(workspace: Path, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: one-day axis, split named, examples vs documents, no verdict from 2 test examples, the
    suggestion layer and opened-only records are not annotators, an export outside exports/ is found."""
    from newsner.report.page import build_report
    from tests.report_workspace import build_misleading

    outside = tmp_path_factory.mktemp("elsewhere") / "hf"  # not under the workspace
    page = build_report(build_misleading(workspace, outside))
    activity = _svg_attrs(page, "activity")
    assert activity["xticks"] == "2026-12-02", activity  # not five "Jan 01"
    assert activity["legend"] == "alice (10)|bob (10)"  # admin's suggestions and dana's opened documents: not work
    assert "Not annotators (no confirmed work of a person): admin, dana, patterns" in page
    agreement = _svg_attrs(page, "agreement")
    assert agreement["xticks"] == "alice|bob"
    curve = _svg_attrs(page, "curve-0")
    assert curve["ylabel"] == "F1 on test, 2 examples"
    assert curve["xlabel"] == "training examples (sentences); 88 from 11 documents at 100%"
    assert "documents" not in curve["xlabel"].split(";")[0]
    assert "too little to tell" in page and "more annotation still helps" not in page
    entities = _svg_attrs(page, "entities-0")
    assert entities["xlabel"] == "label"
    assert f"Entities per label per split — {outside.resolve()}" in page and "No export" not in page


def test_report_finds_an_export_written_with_out_outside_exports(cli, workspace: Path, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    texts = ["Wagner fighters attacked Gao on Monday.", "The army said 5 died in Gao."]
    arts = [Article.from_text(t, language="en") for t in texts]
    corpus = Corpus(workspace / "corpus")
    with corpus.lock():
        corpus.append(arts)
    AnnotationStore(workspace / "annotations").write_layer("gold", [AnnotationRecord(
        a.id, a.text_sha256, "gold", [Span(a.text.index("Gao"), a.text.index("Gao") + 3, "LOCATION", "Gao")],
        "confirmed") for a in arts])
    outside = tmp_path_factory.mktemp("shared") / "hf"  # not under the workspace
    result = cli("export", "hf", "--out", str(outside), "--allow-empty")
    assert result.exit_code == 0, result.output
    assert cli("report", "--out", str(workspace / "r.html")).exit_code == 0
    page = (workspace / "r.html").read_text()
    assert "No export" not in page and f"Entities per label per split — {outside.resolve()}" in page
    assert f"<td>{outside.resolve()}</td><td>hf</td>" in page  # the Exports table lists it too


@pytest.mark.parametrize("days, ticks", [
    (["2026-12-02"], ["2026-12-02"]),  # one day: that day, not five "Jan 01"
    (["2026-11-20", "2026-11-21", "2026-11-24"], ["Nov 20", "Nov 21", "Nov 22", "Nov 23", "Nov 24"]),
    (["2025-12-30", "2026-01-02"], ["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02"]),  # the year changes
])
def test_activity_ticks_fit_the_span_of_the_data(days: list[str], ticks: list[str]) -> None:
    from collections import Counter

    from newsner.report.plots import activity_over_time

    svg = activity_over_time({"alice": Counter(days)}, "activity") or ""
    assert _svg_attrs(svg, "activity")["xticks"].split("|") == ticks


def test_activity_ticks_over_two_years_name_months_and_years() -> None:
    from collections import Counter

    from newsner.report.plots import activity_over_time

    svg = activity_over_time({"alice": Counter(["2025-01-15", "2025-09-01", "2026-12-02"])}, "activity") or ""
    ticks = _svg_attrs(svg, "activity")["xticks"].split("|")
    assert 3 <= len(ticks) <= 8 and all(re.fullmatch(r"[A-Z][a-z]{2} 20\d\d", t) for t in ticks), ticks
