"""Benchmark `newsner doccano push` / `pull` against doccano's own bulk paths, on a real server, in one run.

    .venv/bin/python bench/bench_sync.py [--articles 10000] [--sample 300] [--confirmed 0.05]
    .venv/bin/python bench/bench_sync.py --relations-only [--relation-articles 2000]

Starts a throwaway local doccano (LocalServer in a temporary workspace; NEWSNER_DOCCANO_VENV or
.newsner/venv-doccano) unless NEWSNER_DOCCANO_URL/USERNAME/PASSWORD name a server, then measures, each in a
fresh project:

Twice, for the articles alone and for the articles with pre-annotations (16 spans each):
1. raw import: doccano's file import of the exact JSONL push builds, as one file;
2. one request at a time: POST /examples (plus POST /spans for each pre-annotation) for a sample of articles,
   extrapolated to a rate;
3. push: `sync.push` of the same articles (target: >= 0.8x the raw import rate, >= 5x the one-at-a-time rate).
Then:
4. re-push of the unchanged corpus with its pre-annotations (target: 0 uploads, seconds);
5. pull of the annotated project (a share of the examples confirmed, so both exports carry data) against the raw
   export endpoint (POST /download, wait, GET the zip) of the same project, alternated, best of --repeat each
   (other processes share the machine) (target: <= 1.3x).

6. relations: push of --relation-articles articles with their pre-annotations, spans only
   (`suggest_relations=False`) against the same push with the relation rule's suggestions (relations travel in
   the import file), each in a fresh project, alternated, best of --repeat (target: with / without <= 1.5x);
   beside them doccano's own import of the same lines without and with relations (the floor of that ratio).

Prints the figures and the ratios; nothing is asserted (performance is not a test).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

from newsner._io import write_jsonl
from newsner.corpus.store import Corpus
from newsner.doccano import sync
from newsner.doccano.client import DoccanoClient
from newsner.doccano.install import ENV_VENV
from newsner.doccano.offsets import OffsetMap
from newsner.doccano.relation_sync import apply_relation_types
from newsner.doccano.server import LocalServer
from newsner.model.relations import with_suggested_relations
from newsner.schema import AnnotationRecord, Article, Span
from newsner.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
T = TypeVar("T")

ACTORS = ["Mali's army", "Wagner", "Russian mercenaries", "the junta", "CSP-DPA", "Colonel Assimi Goita"]
PLACES = ["Kidal", "Tinzaouatene", "Abeibara", "Gao", "Timbuktu", "Ménaka", "Algeria"]
SOURCES = ["a spokesman for the rebels", "a local politician", "AFP", "the army"]
FILLER = ["Fighting resumed on Monday", "Residents fled towards the border", "Convoys were seen on the road",
          "The situation remains tense 😟", "Reinforcements arrived by helicopter 🚁", "Markets stayed closed",
          "Тревога в регионе", "الوضع متوتر", "Communications were cut"]


def make_corpus(n: int, seed: int = 7) -> tuple[list[Article], list[AnnotationRecord]]:
    """n unique news-like articles (~500 characters, some emoji and non-Latin text) with entity spans."""
    rng = random.Random(seed)
    articles: list[Article] = []
    records: list[AnnotationRecord] = []
    for i in range(n):
        parts: list[tuple[str, str | None]] = [(f"Report {i} 🇲🇱: ", None)]
        for _ in range(4):
            dead = f"at least {rng.randint(2, 90)} dead"
            parts += [(rng.choice(ACTORS), "ACTOR"), (" attacked positions near ", None),
                      (rng.choice(PLACES), "LOCATION"), (", ", None), (dead, "CASUALTY"), (", ", None),
                      (rng.choice(SOURCES), "CLAIM_SOURCE"), (" said. ", None),
                      (rng.choice(FILLER), None), (". ", None)]
        text, spans, pos = "", [], 0
        for piece, label in parts:
            if label:
                spans.append(Span(pos, pos + len(piece), label, piece))
            text += piece
            pos += len(piece)
        article = Article.from_text(text, title=f"Bench article {i}", source="bench", url=f"https://bench.test/{i}",
                                    published="2024-07-29")
        articles.append(article)
        records.append(AnnotationRecord(article.id, article.text_sha256, "bench-model", spans))
    return articles, records


@contextmanager
def server() -> Iterator[tuple[str, str, str]]:
    if os.environ.get("NEWSNER_DOCCANO_URL"):
        yield (os.environ["NEWSNER_DOCCANO_URL"], os.environ["NEWSNER_DOCCANO_USERNAME"],
               os.environ["NEWSNER_DOCCANO_PASSWORD"])
        return
    venv = Path(os.environ.get(ENV_VENV) or REPO / ".newsner" / "venv-doccano")
    with tempfile.TemporaryDirectory(prefix="newsner-bench-server-") as root:
        local = LocalServer(Workspace.at(root), venv=venv, workers=2, die_with_parent=True)
        info = local.up(timeout=240)
        try:
            username, password = local.credentials()
            yield info.url, username, password
        finally:
            local.down()


def timed(what: str, fn: Callable[[], T]) -> tuple[T, float]:
    print(f"... {what}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"    {seconds:.2f} s", file=sys.stderr, flush=True)
    return result, seconds


def raw_export(client: DoccanoClient, project_id: int) -> int:
    """doccano's export endpoint alone: start the task, wait, download the zip. Returns its size."""
    task_id = client.start_export(project_id)
    client.wait_task(task_id, timeout=1200)
    return len(client.download_export(project_id, task_id))


def one_by_one(client: DoccanoClient, project_id: int, sample: list[Article],
               records: dict[str, AnnotationRecord] | None, label_ids: dict[str, int]) -> None:
    """The naive path: one POST per example (and one per span when there are pre-annotations)."""
    for article in sample:
        ex = client.create_example(project_id, article.text, meta={"external_id": article.id, "title": article.title})
        record = records.get(article.id) if records else None
        if record is None:
            continue
        omap = OffsetMap(article.text)
        for span in record.spans:
            start, end = omap.span_to_utf16(span.start, span.end)
            client.create_span(project_id, int(ex["id"]), start=start, end=end, label_id=label_ids[span.label])


def bench_workspace(root: str, articles: list[Article], records: list[AnnotationRecord],
                    ) -> tuple[Workspace, Path]:
    """A workspace at `root` holding `articles`, and the suggestions file push takes `records` from."""
    ws = Workspace.at(root)
    corpus = Corpus(ws.corpus_dir)
    with corpus.lock():
        corpus.append(articles)
    suggestions = ws.root / "suggestions.jsonl"
    write_jsonl(suggestions, (r.to_dict() for r in records))
    return ws, suggestions


def new_project(client: DoccanoClient, ws: Workspace, name: str, projects: list[int], *,
                use_relation: bool = False) -> tuple[int, dict[str, int]]:
    project = client.create_project(name, description="bench", use_relation=use_relation)
    projects.append(int(project["id"]))
    label_ids = sync.apply_span_types(client, int(project["id"]), sync.plan_span_types(ws.label_schema(), []))
    if use_relation:
        apply_relation_types(client, int(project["id"]), ws.label_schema(), dry_run=False)
    return int(project["id"]), label_ids


def bench_relations(client: DoccanoClient, n: int, repeat: int, tag: str, projects: list[int]) -> list[str]:
    """Push n articles with pre-annotations without, then with relations; best of `repeat` each, alternated.

    Beside each push, doccano's own import of the same lines (plain "JSONL" vs "JSONL(Relation)" with the same
    relations), to show what doccano itself needs for relations: the floor of the push ratio.
    """
    articles, records = make_corpus(n, seed=11)
    best = {key: float("inf") for key in ("push", "push+rel", "raw", "raw+rel")}
    reports: dict[bool, sync.PushReport] = {}
    with tempfile.TemporaryDirectory(prefix="newsner-bench-rel-") as root:
        ws, suggestions = bench_workspace(root, articles, records)
        schema = ws.label_schema()
        ruled = {r.doc_id: with_suggested_relations(r, a.text, schema=schema) for a, r in zip(articles, records,
                                                                                               strict=True)}
        files = {False: sync.build_import_jsonl(articles, ruled),
                 True: sync.build_import_jsonl(articles, ruled, relations={d: r.relations for d, r in ruled.items()})}
        for rep in range(repeat):
            for with_relations in (False, True):
                what = "with relations" if with_relations else "spans only"
                report, t = timed(f"[relations] push of {n} articles, {what} ({rep + 1})", partial(
                    sync.push, ws, project=f"bench-rel-{int(with_relations)}-{rep}-{tag}", client=client,
                    annotation_files=[suggestions], suggest_relations=with_relations))
                projects.append(int(report.project_id or 0))
                assert report.uploaded == n and not report.problems, report.problems[:3]
                key = "push+rel" if with_relations else "push"
                best[key] = min(best[key], t)
                reports[with_relations] = report
                pid, _ = new_project(client, ws, f"bench-rawrel-{int(with_relations)}-{rep}-{tag}", projects,
                                     use_relation=True)
                _, t = timed(f"[relations] doccano's import of the same lines, {what} ({rep + 1})", partial(
                    client.import_jsonl, pid, files[with_relations], relations=with_relations, timeout=1800))
                key = "raw+rel" if with_relations else "raw"
                best[key] = min(best[key], t)
    spans = sum(len(r.spans) for r in records)
    relations = reports[True].relations_added
    return [
        f"relations ({n} articles, {spans:,} pre-annotated spans, {relations:,} relations from the rule = "
        f"{relations / spans:.2f} a span; best of {repeat}):",
        f"  push, spans only:           {best['push']:8.2f} s  {n / best['push']:7.0f} articles/s",
        f"  push, with relations:       {best['push+rel']:8.2f} s  {n / best['push+rel']:7.0f} articles/s "
        f"({reports[True].batches} import files)",
        f"  doccano import, plain:      {best['raw']:8.2f} s",
        f"  doccano import, relations:  {best['raw+rel']:8.2f} s",
        f"  push with / without:        {best['push+rel'] / best['push']:8.2f}x   (target <= 1.5x)",
        f"  doccano's own with/without: {best['raw+rel'] / best['raw']:8.2f}x   (the floor: what doccano needs)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=300, help="articles created one by one (extrapolated)")
    parser.add_argument("--confirmed", type=float, default=0.05, help="share of examples confirmed before pull")
    parser.add_argument("--repeat", type=int, default=2, help="export/pull and relation timings: best of this many")
    parser.add_argument("--relation-articles", type=int, default=2000, help="articles of the relations comparison")
    parser.add_argument("--relations-only", action="store_true", help="only the relations comparison (6.)")
    args = parser.parse_args()
    if args.relations_only:
        tag = time.strftime("%H%M%S")
        with server() as (url, user, password), DoccanoClient.login(url, user, password, timeout=120) as client:
            made: list[int] = []
            try:
                only = bench_relations(client, args.relation_articles, args.repeat, tag, made)
            finally:
                for project_id in made:
                    client.delete_project(project_id)
        print()
        print(f"server: {url}")
        print("\n".join(only))
        return
    n = args.articles
    articles, records = make_corpus(n)
    by_doc = {r.doc_id: r for r in records}
    spans = sum(len(r.spans) for r in records)
    print(f"corpus: {n} articles, {sum(len(a.text) for a in articles):,} characters, {spans:,} spans",
          file=sys.stderr)
    tag = time.strftime("%H%M%S")
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="newsner-bench-ws-") as root, server() as (url, user, password):
        ws, suggestions = bench_workspace(root, articles, records)
        with DoccanoClient.login(url, user, password, timeout=120) as client:
            projects: list[int] = []
            try:
                for label, pre in (("articles only", None), ("with pre-annotations", by_doc)):
                    suffix = "pre" if pre else "plain"
                    raw_id, _ = new_project(client, ws, f"bench-raw-{suffix}-{tag}", projects)
                    data = sync.build_import_jsonl(articles, pre or {})
                    _, t_raw = timed(f"[{label}] raw import of {n} articles ({len(data) / 1e6:.1f} MB)",
                                     partial(client.import_jsonl, raw_id, data, timeout=1800))
                    one_id, label_ids = new_project(client, ws, f"bench-one-{suffix}-{tag}", projects)
                    sample = articles[: args.sample]
                    _, t_one = timed(f"[{label}] {len(sample)} articles one request at a time",
                                     partial(one_by_one, client, one_id, sample, pre, label_ids))
                    name = f"bench-push-{suffix}-{tag}"
                    files = [suggestions] if pre else []
                    report, t_push = timed(f"[{label}] push of {n} articles", partial(
                        sync.push, ws, project=name, client=client, annotation_files=files))
                    projects.append(int(report.project_id or 0))
                    assert report.uploaded == n and not report.problems, report
                    rate_raw, rate_one, rate_push = n / t_raw, len(sample) / t_one, n / t_push
                    rows += [
                        f"{label}:",
                        f"  raw file import:            {t_raw:8.2f} s  {rate_raw:7.0f} articles/s",
                        f"  one request at a time:      {t_one:8.2f} s  {rate_one:7.1f} articles/s (sample of "
                        f"{len(sample)}; {n} would take {n / rate_one:.0f} s)",
                        f"  push:                       {t_push:8.2f} s  {rate_push:7.0f} articles/s "
                        f"({report.batches} batches)",
                        f"  push / raw import rate:     {rate_push / rate_raw:8.2f}x   (target >= 0.8x)",
                        f"  push / one-at-a-time rate:  {rate_push / rate_one:8.1f}x   (target >= 5x)",
                    ]
                again, t_repush = timed("re-push of the unchanged corpus with its pre-annotations", lambda: sync.push(
                    ws, project=name, client=client, annotation_files=[suggestions]))
                rows.append(f"re-push (unchanged):          {t_repush:8.2f} s  uploads: {again.uploaded}, "
                            f"pre-annotations added: {again.suggestions_added}   (target: 0 uploads, seconds)")
                # pull vs the raw export endpoint, on the annotated project (a share confirmed first, not timed)
                pid = int(report.project_id or 0)
                share = int(n * args.confirmed)
                if share:
                    print(f"... confirming {share} examples (setup, not timed)", file=sys.stderr)
                    for i, ex in enumerate(client.iter_examples(pid, limit=share)):
                        if i >= share:
                            break
                        client.confirm_example(pid, int(ex["id"]))
                t_export, t_pull, size = float("inf"), float("inf"), 0
                for rep in range(args.repeat):
                    # alternate, so that load from other processes hits both alike; keep the best of each
                    size, t = timed(f"raw export endpoint ({rep + 1})", lambda: raw_export(client, pid))
                    t_export = min(t_export, t)
                    for old in ws.annotations_dir.glob("*.jsonl"):
                        old.unlink()  # every pull is a first pull: it writes every record
                    pulled, t = timed(f"pull ({rep + 1})", lambda: sync.pull(ws, project=name, client=client))
                    t_pull = min(t_pull, t)
                _, t_pull2 = timed("pull again (nothing changed)", lambda: sync.pull(ws, project=name, client=client))
                relation_rows = bench_relations(client, args.relation_articles, args.repeat, tag, projects)
            finally:
                for project_id in projects:
                    client.delete_project(project_id)
    layer = pulled.layers[0] if pulled.layers else None
    print()
    print(f"articles: {n}  spans: {spans:,}  server: {url}")
    print("\n".join(rows))
    print(f"raw export endpoint:          {t_export:8.2f} s  ({size / 1e6:.1f} MB zip; best of {args.repeat})")
    print(f"pull:                         {t_pull:8.2f} s  ({layer.records if layer else 0} records, "
          f"{layer.confirmed if layer else 0} confirmed, {layer.spans if layer else 0:,} spans; best of "
          f"{args.repeat})")
    print(f"pull again (no change):       {t_pull2:8.2f} s")
    print(f"  pull / raw export time:     {t_pull / t_export:8.2f}x   (target <= 1.3x)")
    print("\n".join(relation_rows))


if __name__ == "__main__":
    main()
