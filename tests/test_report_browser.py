"""The report in a real browser: headless Chromium (the system's package) opens report.html from disk; every
plot must render (non-empty <svg> with a non-zero box), with no console error and no network request. A
screenshot is kept (pytest's tmp dir, and $NEWSNER_TEST_ARTIFACTS when set)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from newsner.report import write_report
from tests.report_workspace import build, build_misleading

CHROMIUM = os.environ.get("NEWSNER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    """The system Chromium; in CI its absence is a failure (scripts/test.sh installs it), locally a skip."""
    found = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if found:
        return found
    message = (f"Chromium not found at {CHROMIUM}: install the system package (apt-get install -y chromium) "
               "or set NEWSNER_CHROMIUM")
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(message)
    pytest.skip(message)


def open_in_chromium(page_path: Path, screenshot: Path, tmp_path: Path) -> dict[str, object]:
    """Open `page_path` via file:// and return what the test checks; never downloads a browser."""
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    url = page_path.resolve().as_uri()
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=_chromium(), headless=True, args=ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda req: requests.append(req.url))
            page.goto(url, wait_until="load")
            boxes = page.eval_on_selector_all(
                "svg", "els => els.map(e => { const r = e.getBoundingClientRect();"
                       " return {w: r.width, h: r.height, children: e.querySelectorAll('path,use,text').length,"
                       " label: e.getAttribute('data-plot'), title: e.getAttribute('aria-label'),"
                       " xlabel: e.getAttribute('data-xlabel'), ylabel: e.getAttribute('data-ylabel'),"
                       " xticks: e.getAttribute('data-xticks'), legend: e.getAttribute('data-legend'),"
                       " caption: (e.closest('figure')?.querySelector('figcaption')?.innerText || '')}; })")
            empty_cards = page.eval_on_selector_all("figure.empty h3", "els => els.map(e => e.textContent)")
            body = page.inner_text("body")
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            context.close()
    return {"boxes": boxes, "errors": errors, "requests": requests, "url": url, "empty": empty_cards, "body": body}


def test_report_plots_render_in_chromium(workspace: Path, tmp_path: Path) -> None:
    _chromium()
    ws = build(workspace)
    out = workspace / "report.html"
    write_report(ws, out)
    shot = tmp_path / "report.png"
    seen = open_in_chromium(out, shot, tmp_path)
    artifacts = os.environ.get("NEWSNER_TEST_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / "report.png")
        shutil.copy(out, Path(artifacts) / "report.html")
    boxes = seen["boxes"]
    assert isinstance(boxes, list)
    labels = sorted(str(b["label"]) for b in boxes)
    # every plot of the page: entities, activity, rounds, agreement, learning curve, alignment problems
    assert labels == sorted(["entities-0", "activity", "rounds", "agreement", "curve-0", "alignment"]), labels
    for box in boxes:
        assert box["title"], box  # every plot has a title
        assert box["w"] > 100 and box["h"] > 50 and box["children"] > 10, box
    assert seen["empty"] == []
    assert seen["errors"] == []
    assert seen["requests"] == [seen["url"]]  # the page itself, nothing else
    assert shot.stat().st_size > 20_000


def test_empty_workspace_report_has_sentences_not_empty_plots(workspace: Path, tmp_path: Path) -> None:
    from newsner.workspace import Workspace

    _chromium()
    out = workspace / "report.html"
    write_report(Workspace.at(workspace), out)
    seen = open_in_chromium(out, tmp_path / "empty.png", tmp_path)
    assert seen["boxes"] == [] and seen["errors"] == []
    assert len(seen["empty"]) == 6  # entities, activity, rounds, agreement, curve, alignment: a sentence each


def test_missing_chromium_fails_under_ci_and_skips_locally(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    base = {k: v for k, v in os.environ.items() if k != "CI"}
    base.update(NEWSNER_CHROMIUM=str(tmp_path / "no-chromium"), PATH=str(tmp_path),
                PYTHONPATH=f"{repo / 'src'}{os.pathsep}{repo}")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
           f"{Path(__file__)}::test_empty_workspace_report_has_sentences_not_empty_plots"]
    ci = subprocess.run(cmd, env={**base, "CI": "true"}, capture_output=True, text=True, cwd=repo, timeout=300)
    assert ci.returncode == 1 and "1 failed" in ci.stdout and "apt-get install -y chromium" in ci.stdout
    local = subprocess.run(cmd, env=base, capture_output=True, text=True, cwd=repo, timeout=300)
    assert local.returncode == 0 and "1 skipped" in local.stdout and "Chromium not found" in local.stdout


def test_report_plots_say_true_things_in_chromium(workspace: Path, tmp_path: Path, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Issue 18, as a lead sees the page: every pull on one day, the curve's split and unit, no verdict from a
    2-example test split, the suggestion layer and opened-only records not annotators, an export outside
    exports/ found."""
    _chromium()
    outside = tmp_path_factory.mktemp("elsewhere") / "hf"
    ws = build_misleading(workspace, outside)
    out = workspace / "report.html"
    write_report(ws, out)
    seen = open_in_chromium(out, tmp_path / "misleading.png", tmp_path)
    assert seen["errors"] == [] and seen["requests"] == [seen["url"]]
    plots = {str(b["label"]): b for b in seen["boxes"]}  # type: ignore[union-attr]
    assert sorted(plots) == ["activity", "agreement", "curve-0", "entities-0"], sorted(plots)  # no round, no misfit
    for box in plots.values():
        assert box["w"] > 100 and box["h"] > 50 and box["children"] > 10, box
    # one day of pulls: one tick, that day (the data is Dec 02, not "Jan 01")
    activity = plots["activity"]
    assert activity["xticks"] == "2026-12-02" and "Jan 01" not in str(activity["xticks"])
    # the pushing account's suggestions and records made by opening documents are not annotators
    assert activity["legend"] == "alice (10)|bob (10)"
    assert plots["agreement"]["xticks"] == "alice|bob"
    assert "Not annotators (no confirmed work of a person): admin, dana, patterns" in str(activity["caption"])
    # the learning curve: the split curve.json names, examples (sentences) not documents
    curve = plots["curve-0"]
    assert curve["ylabel"] == "F1 on test, 2 examples"
    assert str(curve["xlabel"]).startswith("training examples (sentences)") and "11 documents" in str(curve["xlabel"])
    caption = str(curve["caption"])
    assert caption.startswith("too little to tell") and "more annotation still helps" not in caption
    # the export written with --out outside exports/
    assert f"Entities per label per split — {outside.resolve()}" == plots["entities-0"]["title"]
    assert "No export" not in str(seen["body"])
