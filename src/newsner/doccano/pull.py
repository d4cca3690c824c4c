"""**pull** exports the project through doccano's export task (one file per member, or one shared `all` layer in a
collaborative project), plus a second export restricted to confirmed examples to learn who confirmed what, maps
every example back to its article, converts offsets back to code points and checks every span against the
corpus text. A member's record for a document is written when they labelled or confirmed it (or when an earlier
pull wrote one, so clearing every span in doccano is mirrored); examples nobody touched are not written.
Records equal to the ones on disk are kept as they are, so pulling twice writes identical files.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsner.annotations.relations import fit_relations
from newsner.annotations.store import GOLD, AnnotationStore
from newsner.corpus.store import Corpus
from newsner.doccano.offsets import GraphemeMap, OffsetMap
from newsner.errors import AnnotationError, DoccanoError, InputError
from newsner.formats.doccano_relations import is_entity_id
from newsner.schema import AnnotationRecord, Article, LabelSchema, Relation, Span
from newsner.workspace import Workspace

if TYPE_CHECKING:
    from newsner.doccano.client import DoccanoClient

from newsner.doccano.sync_common import (
    SHARED_LAYER,
    LayerSummary,
    Problem,
    Progress,
    PullReport,
    _server_of,
    default_project,
    same_server,
)

#: Problem kinds about one relation only: the document itself was pulled (with the relation dropped, or turned
#: round when it was drawn backwards).
RELATION_TURNED = "relation-turned"
RELATION_PROBLEMS = ("bad-relation", RELATION_TURNED)


# ============================================================================================== pull
def records_from_export(
    lines: Iterable[Mapping[str, Any]],
    *,
    annotator: str,
    confirmed_ids: set[int],
    articles: Mapping[str, Article],
    schema: LabelSchema,
    origin: Mapping[str, Any],
    previous: Mapping[str, AnnotationRecord],
    keep_empty: set[str] | None = None,
    grapheme_mode: bool = False,
) -> tuple[list[AnnotationRecord], list[Problem], int]:
    """Turn one member's export lines into AnnotationRecords (code-point offsets, checked against the corpus).

    Returns (records, problems, untouched): a document whose spans cannot all be placed is not written (its
    previous record, if any, stays on disk) and each reason is a Problem; `untouched` counts examples the
    member neither labelled nor confirmed. `previous` records equal to the new ones (ignoring pulled_at) are
    returned unchanged so the bytes on disk do not change. Documents in `keep_empty` get a record even when
    empty (an earlier pull wrote one: the member cleared it). `grapheme_mode`: the project counts offsets in
    grapheme clusters (doccano's project setting), not UTF-16 units.
    """
    names = set(schema.names)
    keep_empty = keep_empty or set()
    records: dict[str, AnnotationRecord] = {}
    candidates: dict[str, list[int]] = defaultdict(list)
    problems: list[Problem] = []
    untouched = 0
    for line in lines:
        example_id = int(line["id"])
        # A relation project (use_relation) exports `entities` [{id, label, start_offset, end_offset}] and
        # `relations` [{id, from_id, to_id, type}] instead of `label` [[start, end, label]].
        found = line.get("entities")
        relation_project = isinstance(found, list)
        entities: list[Any] = found if isinstance(found, list) else []
        raw_labels: list[Any]
        if relation_project:
            raw_labels = [[e.get("start_offset"), e.get("end_offset"), e.get("label")] if isinstance(e, Mapping)
                          else e for e in entities]
        else:
            raw_labels = line.get("label") or []
        confirmed = example_id in confirmed_ids
        ext = line.get("external_id")
        ext = ext if isinstance(ext, str) and ext else None
        if not raw_labels and not confirmed and (ext is None or ext not in keep_empty):
            untouched += 1
            continue
        if ext is None:
            problems.append(Problem("no-article", f"example has {len(raw_labels)} span(s) but no external_id "
                                    "(it was not pushed by newsner); not pulled", annotator=annotator,
                                    example_id=example_id))
            continue
        article = articles.get(ext)
        if article is None:
            problems.append(Problem("no-article", "no article with this id in the corpus; not pulled",
                                    doc_id=ext, annotator=annotator, example_id=example_id))
            continue
        text = line.get("text")
        if text != article.text:
            problems.append(Problem("text-changed", "the text in doccano differs from the corpus (edited inside "
                                    f"doccano?); its {len(raw_labels)} span(s) were not pulled",
                                    doc_id=ext, annotator=annotator, example_id=example_id))
            continue
        omap: OffsetMap | GraphemeMap = GraphemeMap(article.text) if grapheme_mode else OffsetMap(article.text)
        spans: list[Span] = []
        by_entity: dict[Any, Span] = {}
        bad: list[str] = []
        for n, item in enumerate(raw_labels):
            try:
                start16, end16, label = int(item[0]), int(item[1]), str(item[2])
            except (TypeError, ValueError, IndexError):
                bad.append(f"unreadable span {item!r}")
                continue
            if label not in names:
                bad.append(f"label {label!r} is not in the label schema ({', '.join(schema.names)})")
                continue
            try:
                start, end = omap.span_from_utf16(start16, end16)
            except AnnotationError as exc:
                bad.append(f"span [{start16}, {end16}) {label}: {exc}")
                continue
            if start >= end:
                bad.append(f"span [{start16}, {end16}) {label} is empty")
                continue
            spans.append(Span(start, end, label, article.text[start:end]))
            if relation_project and is_entity_id(entities[n].get("id")):
                by_entity[entities[n].get("id")] = spans[-1]
        if bad:
            for message in bad:
                problems.append(Problem("bad-span", f"{message}; the document was not pulled",
                                        doc_id=ext, annotator=annotator, example_id=example_id))
            continue
        spans = sorted(spans, key=_span_key)
        relations: list[Relation] = []
        if relation_project:
            relations, rel_problems = _relations(line.get("relations") or [], by_entity, spans, schema)
            problems += [Problem("bad-relation", f"{message}; the relation was not kept", doc_id=ext,
                                 annotator=annotator, example_id=example_id) for message in rel_problems]
            # Direction: CLAIMED_BY drawn from the source to the count (the easy click order in doccano's
            # relation mode) is turned round and said; a self-link or labels that fit neither way are not kept.
            fit = fit_relations(spans, relations, schema, where="relation")
            relations = fit.relations
            problems += [Problem(RELATION_TURNED, _strip_where(note) + "; turned round", doc_id=ext,
                                 annotator=annotator, example_id=example_id) for note in fit.turned]
            problems += [Problem("bad-relation", _strip_where(message), doc_id=ext, annotator=annotator,
                                 example_id=example_id) for message in fit.problems]
        record = AnnotationRecord(doc_id=ext, text_sha256=article.text_sha256, annotator=annotator,
                                  spans=spans, relations=relations,
                                  status="confirmed" if confirmed else "unconfirmed",
                                  origin={**origin, "example_id": example_id})
        old = previous.get(ext)
        if old is not None and _same_record(old, record):
            record = old
        records[ext] = record
        candidates[ext].append(example_id)
    for doc_id, ids in candidates.items():
        if len(ids) > 1:
            records.pop(doc_id, None)
            problems.append(Problem("duplicate", f"examples {', '.join(map(str, sorted(ids)))} hold this article "
                                    "and both carry this member's work; merge them in doccano, then pull again",
                                    doc_id=doc_id, annotator=annotator))
    return list(records.values()), problems, untouched


def _relations(raw: Any, by_entity: Mapping[Any, Span], spans: list[Span], schema: LabelSchema,
               ) -> tuple[list[Relation], list[str]]:
    """doccano relations (between entity ids) -> Relations over the sorted spans, and what could not be kept."""
    index = {span: i for i, span in enumerate(spans)}
    types = set(schema.relation_names)
    out: set[Relation] = set()
    problems: list[str] = []
    for n, rel in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(rel, Mapping):
            problems.append(f"relation {n} is unreadable ({rel!r})")
            continue
        name, kind = rel.get("id", n), rel.get("type")
        bad = [k for k in ("from_id", "to_id") if not is_entity_id(rel.get(k))]
        if bad:
            problems.append(f"relation {name!r} {kind} has {' and '.join(f'{k} {rel.get(k)!r}' for k in bad)}, "
                            "not a span id")
            continue
        missing = [str(rel.get(k)) for k in ("from_id", "to_id") if rel.get(k) not in by_entity]
        if missing:
            problems.append(f"relation {name} {kind} points at span {', '.join(missing)}, which is not among the "
                            "document's spans (deleted or unreadable)")
            continue
        if kind not in types:
            problems.append(f"relation {name} has type {kind!r}, not in the label schema's relations "
                            f"({', '.join(sorted(types)) or 'none defined'})")
            continue
        out.add(Relation(index[by_entity[rel["from_id"]]], index[by_entity[rel["to_id"]]], str(kind)))
    return sorted(out), problems


def _strip_where(message: str) -> str:
    """fit_relations' messages start with its `where` ("relation: relation ..."): the Problem names the place."""
    return message.removeprefix("relation: ")


def _span_key(span: Span) -> tuple[int, int, str, str]:
    return span.start, span.end, span.label, span.text


def _same_record(a: AnnotationRecord, b: AnnotationRecord) -> bool:
    """Equal in everything that is written, except when it was pulled."""
    if (a.doc_id, a.text_sha256, a.annotator, a.status) != (b.doc_id, b.text_sha256, b.annotator, b.status):
        return False
    if sorted(a.spans, key=_span_key) != sorted(b.spans, key=_span_key):
        return False
    if sorted(set(a.relations)) != sorted(set(b.relations)):
        return False
    if not same_server(str(a.origin.get("server", "")), str(b.origin.get("server", ""))):
        return False
    return {k: v for k, v in a.origin.items() if k not in ("pulled_at", "server")} == {
        k: v for k, v in b.origin.items() if k not in ("pulled_at", "server")}


def _write_layer(store: AnnotationStore, annotator: str, path: Path, previous: Mapping[str, AnnotationRecord],
                 records: list[AnnotationRecord]) -> LayerSummary:
    """Merge the pulled records into the layer; the file is rewritten only when a record changed."""
    summary = LayerSummary(annotator=annotator, path=path, records=len(records),
                           confirmed=sum(1 for r in records if r.status == "confirmed"),
                           spans=sum(len(r.spans) for r in records),
                           relations=sum(len(r.relations) for r in records))
    merged = dict(previous)
    for record in records:
        old = previous.get(record.doc_id)
        if old is None:
            summary.added += 1
        elif old is record:  # records_from_export hands back the record on disk when nothing changed
            summary.unchanged += 1
        else:
            summary.updated += 1
        merged[record.doc_id] = record
    if summary.added or summary.updated:
        store.write_layer(annotator, merged.values())
    return summary


def pull(
    workspace: Workspace,
    *,
    project: str | None = None,
    out_dir: Path | None = None,
    corpus_dir: Path | None = None,
    client: DoccanoClient | None = None,
    progress: Progress | None = None,
) -> PullReport:
    """Export every member's layer from doccano and write it as AnnotationRecords, one file per annotator.

    Args:
        project: doccano project name (default: `default_project()`).
        out_dir: where the layers go (default: WORKSPACE/annotations).

    Raises:
        DoccanoError: no such project, or the server failed.
    """
    project = project or default_project()
    schema = workspace.label_schema()
    corpus = Corpus(corpus_dir or workspace.corpus_dir)
    corpus.require()
    owns = client is None
    if client is None:
        from newsner.doccano.config import connect

        client = connect(workspace)
    try:
        server = _server_of(client)
        found = client.find_project(project)
        if found is None:
            raise DoccanoError(f"no project {project!r} on {server}; run `newsner doccano push --project "
                               f"{project}` first (or check --project)")
        project_id = int(found["id"])
        # The project's own unit for offsets: grapheme clusters when an admin switched grapheme_mode on.
        settings = found if "grapheme_mode" in found else client.get_project(project_id)
        grapheme_mode = bool(settings.get("grapheme_mode"))
        report = PullReport(server=server, project=project, project_id=project_id)
        tick = progress or (lambda *_: None)
        tick("exporting from doccano", 0, None)
        store = AnnotationStore(out_dir or workspace.annotations_dir)
        # Most of a pull is spent waiting for doccano's export tasks: run both in threads (httpx clients are
        # thread-safe) and read the corpus and the layers already on disk meanwhile.
        with ThreadPoolExecutor(max_workers=2) as pool:
            approved_future = pool.submit(client.export_jsonl, project_id, only_approved=True)
            layers_future = pool.submit(client.export_jsonl, project_id)
            articles = {a.id: a for a in corpus}
            on_disk: dict[str, dict[str, AnnotationRecord]] = {}
            for member in [*(str(m.get("username")) for m in client.list_members(project_id)), SHARED_LAYER]:
                with contextlib.suppress(InputError):  # a name unusable as a layer is reported below
                    if store.path(member).exists():
                        on_disk[member] = store.load(member)
            approved = approved_future.result()
            layers = layers_future.result()
        pulled_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        origin = {"server": server, "project": project, "pulled_at": pulled_at}
        in_project = {str(line.get("external_id")) for lines in layers.values() for line in lines
                      if line.get("external_id")}
        report.examples = max((len(lines) for lines in layers.values()), default=0)
        for stem in sorted(layers):
            annotator = stem
            if annotator == GOLD:
                report.problems.append(Problem("bad-layer", f"a doccano member is called {GOLD!r}, the name of the "
                                               "adjudicated layer; rename the user in doccano; layer not pulled",
                                               annotator=annotator))
                continue
            try:
                path = store.path(annotator)
                previous = on_disk[annotator] if annotator in on_disk else store.load(annotator)
            except InputError as exc:
                report.problems.append(Problem("bad-layer", f"{exc}; layer not pulled", annotator=annotator))
                continue
            mine = {d for d, r in previous.items()
                    if same_server(str(r.origin.get("server", "")), server) and r.origin.get("project") == project}
            confirmed_ids = {int(line["id"]) for line in approved.get(stem, [])}
            records, problems, untouched = records_from_export(
                layers[stem], annotator=annotator, confirmed_ids=confirmed_ids, articles=articles, schema=schema,
                origin=origin, previous=previous, keep_empty=mine, grapheme_mode=grapheme_mode)
            report.problems += problems
            report.untouched += untouched
            for doc_id in sorted(d for d in mine if d not in in_project):
                report.problems.append(Problem("example-gone", "the example is no longer in the doccano project; "
                                               "the record pulled earlier is kept", doc_id=doc_id,
                                               annotator=annotator))
            report.layers.append(_write_layer(store, annotator, path, previous, records))
            tick("writing layers", len(report.layers), len(layers))
        return report
    finally:
        if owns:
            client.close()


