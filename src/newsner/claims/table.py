"""Who says how many: one row per casualty claim, and the conflicting claims of each article side by side.

A claim is a CASUALTY span of an annotation layer with its normalized count (`newsner.claims.normalize`), the
CLAIM_SOURCE it is attributed to, and the ACTOR(s) and LOCATION it concerns. Links come from the record's
relations (CLAIMED_BY, VICTIM, PERPETRATOR, LOCATED_IN). Where the record has none:

- a record without any relation at all (a layer made before relations existed) gets the source the
  pre-annotation rule proposes (`newsner.annotations.relations.suggest_relations`), flagged
  ``source_link = "rule"``; a record with relations whose annotator left a count unlinked keeps it unattributed
  (``source = null``) — that was a decision, not an omission;
- actor and location fall back to the nearest ACTOR / LOCATION of the same sentence, flagged ``"nearest"``.

`export_claims` streams the corpus once (memory holds the layer's records that have a CASUALTY, not the
corpus) and writes Parquet or CSV atomically. `conflicts` groups rows per article and returns the articles
whose sources disagree, with the lowest credible figure (the conservative rule) and the spread.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from newsner._io import atomic_open
from newsner.annotations.store import GOLD, NOT_LAYERS, AnnotationStore
from newsner.claims.normalize import normalize_count
from newsner.corpus.store import Corpus
from newsner.errors import InputError, SchemaError
from newsner.model.relations import suggest_relations
from newsner.schema import AnnotationRecord, Article, Span
from newsner.text.sentences import sentences
from newsner.workspace import Workspace

_ENTITY_LINKS = {"VICTIM": "victim", "PERPETRATOR": "perpetrator"}


@dataclass
class Claim:
    """One row of the claims table (column order = field order)."""

    doc_id: str
    title: str | None
    published: str | None
    duplicate_of: str | None  # the article's near-duplicate cluster: sum figures over one article per cluster
    layer: str
    source: str | None
    source_link: str | None  # "relation", "rule" (record had no relations), or None (unattributed)
    casualty: str
    start: int
    end: int
    parsed: bool
    min: float | None
    max: float | None
    approximate: bool
    unit: str | None
    unparsed_reason: str | None
    count_note: str | None  # what the count's reading did beyond the table (groups summed, a hedged figure left out)
    victim: str | None
    perpetrator: str | None
    actor: str | None  # victim and perpetrator joined, or the nearest ACTOR of the sentence
    actor_link: str | None  # "relation", "nearest", or None
    location: str | None
    location_link: str | None  # "relation", "nearest", or None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS}  # dataclasses.asdict deep-copies: 3x slower


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Claim))


def _join(texts: Iterable[str]) -> str | None:
    unique = list(dict.fromkeys(texts))
    return "; ".join(unique) if unique else None


def claims_of(record: AnnotationRecord, article: Article, *, layer: str | None = None) -> list[Claim]:
    """The claims of one annotated article, in text order. Pure; raises SchemaError if the record is stale."""
    text = article.text
    record.check(text)  # hash, offsets and relation indices, naming the document
    spans = record.sorted_spans()
    rels = list(record.relations)
    rule = suggest_relations(text, spans, types=["CLAIMED_BY"]) if not rels else []
    bounds = sentences(text)

    def sentence(span: Span) -> tuple[int, int]:
        for s, e in bounds:
            if s <= span.start < e:
                return s, e
        return 0, len(text)

    def nearest(span: Span, label: str) -> str | None:
        lo, hi = sentence(span)
        near = [s for s in spans if s.label == label and lo <= s.start < hi]
        if not near:
            return None
        return min(near, key=lambda s: (max(s.start - span.end, span.start - s.end, 0), s.start)).text

    out: list[Claim] = []
    for i, cas in enumerate(spans):
        if cas.label != "CASUALTY":
            continue
        linked = {t: [spans[r.tail].text for r in rels if r.head == i and r.type == t]
                  for t in ("CLAIMED_BY", "VICTIM", "PERPETRATOR", "LOCATED_IN")}
        source, source_link = _join(linked["CLAIMED_BY"]), "relation" if linked["CLAIMED_BY"] else None
        if source is None and rule:
            suggested = [spans[r.tail].text for r in rule if r.head == i]
            source, source_link = _join(suggested), "rule" if suggested else None
        victim, perpetrator = _join(linked["VICTIM"]), _join(linked["PERPETRATOR"])
        actor = _join(linked["VICTIM"] + linked["PERPETRATOR"])
        actor_link = "relation" if actor else None
        if actor is None:
            actor = nearest(cas, "ACTOR")
            actor_link = "nearest" if actor else None
        location = _join(linked["LOCATED_IN"])
        location_link = "relation" if location else None
        if location is None:
            location = nearest(cas, "LOCATION")
            location_link = "nearest" if location else None
        count = normalize_count(cas.text, language=article.language, after=text[cas.end:cas.end + 60])
        out.append(Claim(
            doc_id=record.doc_id, title=article.title, published=article.published,
            duplicate_of=article.duplicate_of,
            layer=layer or record.annotator, source=source, source_link=source_link, casualty=cas.text,
            start=cas.start, end=cas.end, parsed=count.parsed,
            min=None if count.min is None else float(count.min),
            max=None if count.max is None else float(count.max), approximate=count.approximate,
            unit=count.unit, unparsed_reason=count.reason, count_note=count.note, victim=victim,
            perpetrator=perpetrator, actor=actor, actor_link=actor_link, location=location,
            location_link=location_link))
    return out


@dataclass
class ClaimsResult:
    """What `export_claims` did: counts for the summary line and every problem, by document."""

    path: Path
    claims: int = 0
    articles: int = 0
    unattributed: int = 0
    unparsed: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def iter_claims(workspace: Workspace, *, layer: str = GOLD, problems: list[str] | None = None,
                progress: Callable[[int, int], None] | None = None) -> Iterator[Claim]:
    """Stream the claims of `layer` in corpus order. Records that do not fit their article go to `problems`."""
    store = AnnotationStore(workspace.annotations_dir)
    if not store.path(layer).exists():
        others = [x for x in store.layers() if x not in NOT_LAYERS and x != layer]
        raise InputError(f"{store.path(layer)}: no annotation layer {layer!r}; pass --layer with one of the layers "
                         f"here ({', '.join(others) or 'none yet'})"
                         + (", or adjudicate them into gold (newsner annotations adjudicate)" if layer == GOLD
                            else ""))
    # Only records with a CASUALTY are kept in memory: the corpus itself is streamed once.
    records = {r.doc_id: r for r in store.read(layer) if any(s.label == "CASUALTY" for s in r.spans)}
    corpus = Corpus(workspace.corpus_dir)
    corpus.require()
    total, seen = len(records), 0
    for article in corpus:
        record = records.pop(article.id, None)
        if record is None:
            continue
        seen += 1
        try:
            yield from claims_of(record, article, layer=layer)
        except SchemaError as exc:
            if problems is None:
                raise
            problems.append(f"{exc}; its claims were left out")
        if progress is not None:
            progress(seen, total)
    if problems is not None:
        problems.extend(f"document {doc_id} ({layer}): not in the corpus; its claims were left out"
                        for doc_id in sorted(records))


def export_claims(workspace: Workspace, out: Path, *, layer: str = GOLD,
                  progress: Callable[[int, int], None] | None = None) -> ClaimsResult:
    """Write the claims table of `layer` to `out` (.parquet or .csv), atomically; returns the summary."""
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".parquet", ".csv"):
        raise InputError(f"{out}: the claims table is written as .parquet or .csv; give --out a file name "
                         "ending in one of them")
    result = ClaimsResult(path=out)
    started = time.monotonic()
    docs: set[str] = set()

    def counted(rows: Iterator[Claim]) -> Iterator[Claim]:
        for row in rows:
            result.claims += 1
            docs.add(row.doc_id)
            result.unattributed += row.source is None
            result.unparsed += not row.parsed
            yield row

    rows = counted(iter_claims(workspace, layer=layer, problems=result.problems, progress=progress))
    if kind == ".csv":
        _write_csv(out, rows)
    else:
        _write_parquet(out, rows)
    result.articles = len(docs)
    result.seconds = time.monotonic() - started
    return result


def _write_csv(out: Path, rows: Iterable[Claim]) -> None:
    with atomic_open(out, "w") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.to_dict().items()})


def _csv_cell(value: Any) -> Any:
    """'' for null; whole figures as integers ("17", not "17.0"), as a spreadsheet user expects."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _arrow_schema() -> Any:
    import pyarrow as pa

    types = {"start": pa.int64(), "end": pa.int64(), "parsed": pa.bool_(), "approximate": pa.bool_(),
             "min": pa.float64(), "max": pa.float64()}
    return pa.schema([(name, types.get(name, pa.string())) for name in COLUMNS])


def _write_parquet(out: Path, rows: Iterable[Claim], *, batch: int = 4096) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema()
    with atomic_open(out, "wb") as fh:
        writer = pq.ParquetWriter(fh, schema)
        buffer: list[dict[str, Any]] = []
        try:
            for row in rows:
                buffer.append(row.to_dict())
                if len(buffer) >= batch:
                    writer.write_table(pa.Table.from_pylist(buffer, schema=schema))
                    buffer.clear()
            if buffer:
                writer.write_table(pa.Table.from_pylist(buffer, schema=schema))
        finally:
            writer.close()


def read_claims(path: Path) -> list[dict[str, Any]]:
    """Read a claims table written by `export_claims` back as row dicts (Parquet or CSV; CSV '' → None)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8", newline="") as fh:
            rows = []
            for raw in csv.DictReader(fh):
                row: dict[str, Any] = {k: (v if v != "" else None) for k, v in raw.items()}
                for key in ("start", "end"):
                    row[key] = int(row[key])
                for key in ("min", "max"):
                    row[key] = None if row[key] is None else float(row[key])
                for key in ("parsed", "approximate"):
                    row[key] = row[key] == "True"
                rows.append(row)
            return rows
    import pyarrow.parquet as pq

    return list(pq.read_table(path).to_pylist())


# ------------------------------------------------------------------------------------------ conflicts
@dataclass
class ArticleConflict:
    """The claims of one article whose sources disagree, side by side (lowest minimum first)."""

    doc_id: str
    title: str | None
    published: str | None
    claims: list[dict[str, Any]]
    sources: list[str | None]
    lowest: float | None  # the conservative figure: the lowest credible minimum among the claims
    highest: float | None  # the highest figure claimed (a maximum, or a minimum when open-ended)


def conflicts(rows: Iterable[Claim | dict[str, Any]]) -> Iterator[ArticleConflict]:
    """Per article, the conflicting claims side by side.

    `rows` are claims in article order (as `iter_claims`/`read_claims` give them). An article conflicts
    when at least two parsed claims come from different sources (an unattributed claim counts as its own
    source) and their figures differ. Streams one article at a time.
    """
    current: list[dict[str, Any]] = []
    for row in rows:
        item = row.to_dict() if isinstance(row, Claim) else dict(row)
        if current and item["doc_id"] != current[0]["doc_id"]:
            found = _conflict(current)
            if found is not None:
                yield found
            current = []
        current.append(item)
    if current:
        found = _conflict(current)
        if found is not None:
            yield found


def _conflict(claims: list[dict[str, Any]]) -> ArticleConflict | None:
    parsed = [c for c in claims if c["parsed"]]
    sources = list(dict.fromkeys(c["source"] for c in parsed))
    figures = {(c["min"], c["max"]) for c in parsed}
    if len(sources) < 2 or len(figures) < 2:
        return None
    side = sorted(parsed, key=lambda c: (c["min"] is None, c["min"] or 0.0, c["start"]))
    mins = [c["min"] for c in parsed if c["min"] is not None]
    highs = [c["max"] if c["max"] is not None else c["min"] for c in parsed]
    highs = [h for h in highs if h is not None]
    first = claims[0]
    return ArticleConflict(doc_id=first["doc_id"], title=first["title"], published=first["published"],
                           claims=side, sources=sources, lowest=min(mins) if mins else None,
                           highest=max(highs) if highs else None)


__all__ = ["COLUMNS", "ArticleConflict", "Claim", "ClaimsResult", "claims_of", "conflicts", "export_claims",
           "iter_claims", "read_claims"]
