"""Push the corpus to doccano and pull every annotator's layer back: idempotent, resumable, checked.

**push** makes the doccano project match the workspace: the project (sequence labelling; one layer per
annotator unless collaborative), its guideline page (from labels.json), its span types (colour, text colour,
shortcut key), and one example per corpus article, identified by the article id in `meta.external_id`.
Articles go up through doccano's file import in batches. doccano has no upsert, so a re-import creates
duplicates: push lists the project's examples once, uploads only the missing articles, and checks after every
batch that the example count grew by exactly the batch (an interrupted or retried import shows up here) and,
when it did not, lists again and deletes the extra copies (never one that carries work). A small state file
under `.newsner/doccano-sync/` remembers the batch in flight and which pre-annotations were already pushed, so a
rerun after a crash at any point waits for a half-finished import, removes its duplicates and uploads only the
rest.

Pre-annotations (`--with-annotations`) travel inside the import file for new articles and through the span API
for articles already in the project; they land in the layer of the account that pushes (in a collaborative
project everyone sees them). Offsets are converted to the UTF-16 units doccano's web UI uses.

**pull** exports the project through doccano's export task (one file per member, or one shared `all` layer in a
collaborative project), plus a second export restricted to confirmed examples to learn who confirmed what, maps
every example back to its article, converts offsets back to code points and checks every span against the
corpus text. A member's record for a document is written when they labelled or confirmed it (or when an earlier
pull wrote one, so clearing every span in doccano is mirrored); examples nobody touched are not written.
Records equal to the ones on disk are kept as they are, so pulling twice writes identical files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsner._io import atomic_write_text, dumps, loads, read_jsonl
from newsner.annotations_store import GOLD, AnnotationStore
from newsner.corpus import Corpus
from newsner.doccano.offsets import OffsetMap
from newsner.errors import AnnotationError, DoccanoAPIError, DoccanoError, InputError, SchemaError
from newsner.schema import AnnotationRecord, Article, Label, LabelSchema, Span, text_sha256
from newsner.workspace import Workspace

if TYPE_CHECKING:
    from newsner.doccano.client import DoccanoClient

#: progress(phase, done, total): called as long operations advance; total is None when unknown.
Progress = Callable[[str, int, int | None], None]

DEFAULT_BATCH_SIZE = 2000
#: Examples fetched per request when listing a project (doccano's default page is 5).
LIST_PAGE = 2000
#: Article fields shown to annotators (doccano shows an example's meta beside the text).
META_FIELDS = ("title", "source", "url", "published")
#: The layer name of a collaborative project's export (doccano writes it as all.jsonl).
SHARED_LAYER = "all"


def default_project() -> str:
    """The doccano project name when none is given: NEWSNER_DOCCANO_PROJECT, else 'newsner'."""
    return os.environ.get("NEWSNER_DOCCANO_PROJECT") or "newsner"


# ================================================================================================ reports
@dataclass(frozen=True)
class Problem:
    """Something push or pull could not do for one document; reported, never dropped silently."""

    kind: str
    message: str
    doc_id: str | None = None
    annotator: str | None = None
    example_id: int | None = None

    def __str__(self) -> str:
        where = []
        if self.doc_id:
            where.append(f"document {self.doc_id}")
        if self.annotator:
            where.append(f"annotator {self.annotator}")
        if self.example_id is not None:
            where.append(f"example {self.example_id}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class PushReport:
    server: str
    project: str
    dry_run: bool
    project_id: int | None = None
    collaborative: bool = False
    pushed_as: str | None = None  # the account whose layer holds the pre-annotations
    project_created: bool = False
    project_updated: list[str] = field(default_factory=list)
    span_types_created: list[str] = field(default_factory=list)
    span_types_updated: list[str] = field(default_factory=list)
    span_types_extra: list[str] = field(default_factory=list)
    articles: int = 0
    present: int = 0
    to_upload: int = 0
    uploaded: int = 0
    batches: int = 0
    duplicates_removed: int = 0
    not_in_corpus: int = 0
    foreign_examples: int = 0
    suggestion_records: int = 0
    suggestions_imported: int = 0
    suggestions_added: int = 0
    suggestions_unchanged: int = 0
    confirmed: int = 0
    resumed: bool = False
    problems: list[Problem] = field(default_factory=list)


@dataclass
class LayerSummary:
    annotator: str
    path: Path
    records: int = 0
    confirmed: int = 0
    spans: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class PullReport:
    server: str
    project: str
    project_id: int
    examples: int = 0
    untouched: int = 0
    layers: list[LayerSummary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class UserReport:
    username: str
    project: str | None
    role: str
    created: bool = False
    member_added: bool = False
    existing_role: str | None = None


# ================================================================================= schema -> doccano
def guideline_text(schema: LabelSchema) -> str:
    """The project's guideline page (markdown) from the label schema: general rules, then each label."""
    parts: list[str] = ["# Annotation guidelines", ""]
    if schema.guidelines.strip():
        parts += [schema.guidelines.strip(), ""]
    for label in schema.labels:
        parts += [f"## {label.name} (key `{label.shortcut}`)", "", label.description]
        if label.examples:
            parts += ["", "Examples: " + ", ".join(f"“{e}”" for e in label.examples)]
        parts.append("")
    parts.append(f"_Label schema version {schema.version}, generated by newsner from annotations/labels.json: "
                 "change that file and push again rather than editing this page._")
    return "\n".join(parts)


def project_description(schema: LabelSchema) -> str:
    return f"News articles for named-entity annotation ({', '.join(schema.names)}); managed by newsner."


@dataclass
class SpanTypePlan:
    """What to change so doccano's span types match the schema (applied in this order)."""

    release_keys: list[tuple[int, str]] = field(default_factory=list)  # (id, name): clear a shortcut first
    update: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)  # (id, name, fields)
    create: list[Label] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # in doccano, not in the schema: left alone


def _wanted_fields(label: Label) -> dict[str, Any]:
    return {"background_color": label.color.lower(), "text_color": label.text_color.lower(),
            "suffix_key": label.shortcut, "prefix_key": None}


def plan_span_types(schema: LabelSchema, existing: Sequence[Mapping[str, Any]]) -> SpanTypePlan:
    """Compare doccano's span types with the schema. Names are matched exactly: creating a name that exists
    makes doccano fail with a 500, so a label is only ever created when no type of that name is there."""
    plan = SpanTypePlan()
    by_name = {str(t["text"]): t for t in existing}
    key_owner = {lb.shortcut: lb.name for lb in schema.labels}
    for t in existing:
        # doccano refuses two types with one shortcut, so a key moving to another label is freed first.
        key = t.get("suffix_key")
        if key and not t.get("prefix_key") and key_owner.get(key) not in (None, t["text"]):
            plan.release_keys.append((int(t["id"]), str(t["text"])))
    for label in schema.labels:
        current = by_name.get(label.name)
        if current is None:
            plan.create.append(label)
            continue
        wanted = _wanted_fields(label)
        have = {"background_color": str(current.get("background_color") or "").lower(),
                "text_color": str(current.get("text_color") or "").lower(),
                "suffix_key": current.get("suffix_key") or None, "prefix_key": current.get("prefix_key") or None}
        changed = {k: v for k, v in wanted.items() if have[k] != v}
        if changed:
            plan.update.append((int(current["id"]), label.name, changed))
    plan.extra = sorted(set(by_name) - set(schema.names))
    return plan


def apply_span_types(client: DoccanoClient, project_id: int, plan: SpanTypePlan) -> dict[str, int]:
    """Apply a plan; returns span type name -> id for the whole project."""
    for type_id, _name in plan.release_keys:
        client.update_span_type(project_id, type_id, suffix_key=None)
    for type_id, _name, fields in plan.update:
        client.update_span_type(project_id, type_id, **fields)
    for label in plan.create:
        client.create_span_type(project_id, text=label.name, background_color=label.color,
                                text_color=label.text_color, suffix_key=label.shortcut)
    return {str(t["text"]): int(t["id"]) for t in client.list_span_types(project_id)}


# ================================================================================ corpus -> import file
def import_line(article: Article, spans: Sequence[Span] = ()) -> str:
    """One line of doccano's JSONL import: text, label (UTF-16 offsets) and the meta annotators see.

    The line is pure ASCII (non-ASCII escaped): doccano guesses the file's encoding with chardet, and an ASCII
    file cannot be guessed wrong; line separators such as U+2028 inside the text cannot split a line either.
    `label` and every meta key are always present (null when unknown): doccano reads a batch of lines into one
    pandas DataFrame, where a key missing from some lines becomes NaN, which is not JSON, and SQLite then
    refuses the whole batch (CHECK constraint JSON_VALID(meta)).
    """
    labels: list[list[Any]] = []
    if spans:
        omap = OffsetMap(article.text)
        labels = [[*omap.span_to_utf16(s.start, s.end), s.label] for s in sorted(spans)]
    record: dict[str, Any] = {"text": article.text, "label": labels, "external_id": article.id}
    for key in META_FIELDS:
        record[key] = getattr(article, key)
    return json.dumps(record, ensure_ascii=True, separators=(",", ":"))


def build_import_jsonl(articles: Iterable[Article], suggestions: Mapping[str, AnnotationRecord]) -> bytes:
    lines = [import_line(a, suggestions[a.id].spans if a.id in suggestions else ()) for a in articles]
    return ("\n".join(lines) + "\n").encode("ascii") if lines else b""


# ============================================================================== pre-annotations (input)
def load_suggestions(paths: Sequence[Path], articles: Mapping[str, Article], schema: LabelSchema, *,
                     allow_overlapping: bool = False) -> dict[str, AnnotationRecord]:
    """Read AnnotationRecord files to push as pre-annotations, checking each against the corpus and schema.

    Raises AnnotationError naming file:line and the document for: a document not in the corpus, a record made
    on another version of the text, a label the schema lacks, a span that does not fit the text, overlapping
    spans (doccano's import would drop one of them silently), two records for one document.
    """
    names = set(schema.names)
    out: dict[str, AnnotationRecord] = {}
    where_of: dict[str, str] = {}
    for path in paths:
        for lineno, obj in read_jsonl(Path(path)):
            where = f"{path}:{lineno}"
            try:
                record = AnnotationRecord.from_dict(obj, where=where)
            except SchemaError as exc:
                raise AnnotationError(str(exc)) from None
            doc = f"{where}: document {record.doc_id}"
            article = articles.get(record.doc_id)
            if article is None:
                raise AnnotationError(f"{doc} is not in the corpus; ingest it first or drop the record")
            if record.text_sha256 != article.text_sha256:
                raise AnnotationError(f"{doc}: the record was made on another version of the text "
                                      "(text_sha256 differs from the corpus); re-annotate it")
            for span in record.spans:
                if span.label not in names:
                    raise AnnotationError(f"{doc}: label {span.label!r} is not in the label schema "
                                          f"({', '.join(schema.names)}); add it to labels.json or map it")
            try:
                for span in record.spans:
                    span.check(article.text, where=doc)
            except SchemaError as exc:
                raise AnnotationError(str(exc)) from None
            if not allow_overlapping:
                ordered = sorted(record.spans)
                for a, b in zip(ordered, ordered[1:], strict=False):
                    if b.start < a.end:
                        raise AnnotationError(
                            f"{doc}: spans [{a.start}, {a.end}) {a.label} and [{b.start}, {b.end}) {b.label} "
                            "overlap, which the doccano project does not allow; keep one of them")
            if record.doc_id in out:
                raise AnnotationError(f"{doc} already has a record at {where_of[record.doc_id]}; "
                                      "push one record per document (one layer at a time)")
            out[record.doc_id] = record
            where_of[record.doc_id] = where
    return out


def suggestion_fingerprint(record: AnnotationRecord) -> str:
    """Identifies what was pushed for a document: text hash, spans and status (not the annotator)."""
    payload = [record.text_sha256, record.status, [[s.start, s.end, s.label] for s in sorted(record.spans)]]
    return hashlib.sha256(dumps(payload).encode("utf-8")).hexdigest()[:20]


# ===================================================================================== example index
@dataclass
class ExampleInfo:
    id: int
    text_sha256: str
    has_work: bool  # confirmed by the pusher, commented, or approved: never deleted as a duplicate


@dataclass
class ExampleIndex:
    by_article: dict[str, list[ExampleInfo]] = field(default_factory=dict)
    foreign: list[int] = field(default_factory=list)  # examples without an external_id
    total: int = 0

    def first(self, doc_id: str) -> ExampleInfo:
        return self.by_article[doc_id][0]


def index_examples(examples: Iterable[Mapping[str, Any]]) -> ExampleIndex:
    """Group listed examples by meta.external_id (ascending example id: oldest first)."""
    index = ExampleIndex()
    for ex in examples:
        index.total += 1
        meta = ex.get("meta") or {}
        ext = meta.get("external_id") if isinstance(meta, Mapping) else None
        info = ExampleInfo(
            id=int(ex["id"]), text_sha256=text_sha256(str(ex.get("text") or "")),
            has_work=bool(ex.get("is_confirmed") or ex.get("comment_count") or ex.get("annotation_approver")))
        if isinstance(ext, str) and ext:
            index.by_article.setdefault(ext, []).append(info)
        else:
            index.foreign.append(info.id)
    for infos in index.by_article.values():
        infos.sort(key=lambda i: i.id)
    return index


def plan_duplicates(index: ExampleIndex) -> tuple[list[int], list[Problem]]:
    """Example ids to delete so each article has one example, and the groups that need a human.

    Keeps the oldest copy, or the copy that carries work; copies with work are never deleted (two such copies
    are reported instead). The duplicates push itself can create come from an interrupted batch, moments old.
    """
    delete: list[int] = []
    problems: list[Problem] = []
    for doc_id, infos in index.by_article.items():
        if len(infos) < 2:
            continue
        worked = [i for i in infos if i.has_work]
        keep = worked[0] if worked else infos[0]
        delete += [i.id for i in infos if i is not keep and not i.has_work]
        if len(worked) > 1:
            problems.append(Problem("duplicate", f"{len(worked)} examples ({', '.join(str(i.id) for i in worked)}) "
                                    "hold this article and carry work; merge them in doccano by hand",
                                    doc_id=doc_id))
    return sorted(delete), problems


def _drop_examples(index: ExampleIndex, ids: Iterable[int]) -> None:
    gone = set(ids)
    for doc_id in list(index.by_article):
        kept = [i for i in index.by_article[doc_id] if i.id not in gone]
        if kept:
            index.by_article[doc_id] = kept
        else:
            del index.by_article[doc_id]
    index.total -= len(gone)


# ======================================================================================== push state
@dataclass
class PushState:
    """What a push must remember across crashes, per server and project (.newsner/doccano-sync/push-*.json)."""

    path: Path
    server: str
    project_id: int
    in_flight: list[str] = field(default_factory=list)  # article ids of a batch whose import may be running
    suggested: dict[str, str] = field(default_factory=dict)  # article id -> fingerprint of pushed suggestions

    @classmethod
    def location(cls, state_dir: Path, server: str, project_id: int) -> Path:
        key = hashlib.sha256(f"{server.rstrip('/')}|{project_id}".encode()).hexdigest()[:12]
        return state_dir / "doccano-sync" / f"push-{key}.json"

    @classmethod
    def load(cls, state_dir: Path, server: str, project_id: int) -> PushState:
        path = cls.location(state_dir, server, project_id)
        state = cls(path=path, server=server, project_id=project_id)
        if not path.exists():
            return state
        try:
            data = loads(path.read_bytes())
            state.in_flight = [str(x) for x in data.get("in_flight", [])]
            state.suggested = {str(k): str(v) for k, v in data.get("suggested", {}).items()}
        except (ValueError, AttributeError, OSError) as exc:
            raise InputError(f"{path}: unreadable push state ({exc}); delete the file and push again "
                             "(pre-annotations are then checked example by example)") from None
        return state

    def save(self) -> None:
        atomic_write_text(self.path, dumps({"server": self.server, "project_id": self.project_id,
                                            "in_flight": self.in_flight, "suggested": self.suggested}) + "\n")


def _settle(client: DoccanoClient, project_id: int, *, quiet: float = 2.0, limit: float = 120.0) -> None:
    """Wait until an import left running by an interrupted push stops adding examples (count stable)."""
    start = time.monotonic()
    last = client.count_examples(project_id)
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < quiet and time.monotonic() - start < limit:
        time.sleep(0.25)
        count = client.count_examples(project_id)
        if count != last:
            last, stable_since = count, time.monotonic()


# ============================================================================================== push
def _server_of(client: DoccanoClient) -> str:
    return str(getattr(client, "base_url", "")).rstrip("/")


def _chunks(items: Sequence[Article], size: int) -> Iterator[Sequence[Article]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def push(
    workspace: Workspace,
    *,
    project: str | None = None,
    corpus_dir: Path | None = None,
    annotation_files: Sequence[Path] = (),
    collaborative: bool | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    client: DoccanoClient | None = None,
    progress: Progress | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> PushReport:
    """Make the doccano project match the workspace; upload only what is missing. Returns what changed.

    Args:
        project: doccano project name (default: `default_project()`).
        annotation_files: AnnotationRecord JSONL files pushed as pre-annotations.
        collaborative: one shared layer instead of one per annotator; None keeps an existing project's mode
            (new projects: one layer per annotator).
        dry_run: change nothing; the report says what would change.
        client: a logged-in client (default: `connect(workspace)`).
        after_batch: called with the batch number once its import finished (tests inject crashes here).

    Raises:
        CorpusError, AnnotationError: bad local input, before anything is sent.
        DoccanoError: the server refused (wrong type of project, credentials, ...).
    """
    if batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    project = project or default_project()
    schema = workspace.label_schema()
    corpus = Corpus(corpus_dir or workspace.corpus_dir)
    corpus.require()
    articles = list(corpus)
    by_id = {a.id: a for a in articles}
    owns = client is None
    if client is None:
        from newsner.doccano.config import connect

        client = connect(workspace)
    try:
        return _Push(client, workspace, schema, project, articles, by_id, annotation_files, collaborative,
                     dry_run, batch_size, progress, after_batch).run()
    finally:
        if owns:
            client.close()


class _Push:
    def __init__(self, client: DoccanoClient, workspace: Workspace, schema: LabelSchema, project: str,
                 articles: list[Article], by_id: dict[str, Article], annotation_files: Sequence[Path],
                 collaborative: bool | None, dry_run: bool, batch_size: int, progress: Progress | None,
                 after_batch: Callable[[int], None] | None) -> None:
        self.client, self.workspace, self.schema = client, workspace, schema
        self.articles, self.by_id, self.annotation_files = articles, by_id, annotation_files
        self.collaborative, self.dry_run, self.batch_size = collaborative, dry_run, batch_size
        self.progress, self.after_batch = progress, after_batch
        self.report = PushReport(server=_server_of(client), project=project, dry_run=dry_run,
                                 articles=len(articles))

    def _tick(self, phase: str, done: int, total: int | None) -> None:
        if self.progress:
            self.progress(phase, done, total)

    def run(self) -> PushReport:
        report, client = self.report, self.client
        found = client.find_project(report.project)
        if found is not None and found.get("project_type") != "SequenceLabeling":
            raise DoccanoError(
                f"project {report.project!r} on {report.server} is a {found.get('project_type')} project, not "
                "sequence labelling; choose another name with --project")
        allow_overlap = bool(found.get("allow_overlapping")) if found else False
        # Every local check happens before the first change on the server.
        suggestions = load_suggestions(self.annotation_files, self.by_id, self.schema, allow_overlapping=allow_overlap)
        report.suggestion_records = len(suggestions)
        if suggestions:
            report.pushed_as = str(client.me().get("username") or "") or None
        if found is None:
            report.collaborative = bool(self.collaborative)
            report.project_created = True
            if self.dry_run:
                report.span_types_created = list(self.schema.names)
                report.to_upload = len(self.articles)
                report.suggestions_imported = len(suggestions)
                return report
            found = client.create_project(report.project, description=project_description(self.schema),
                                          guideline=guideline_text(self.schema),
                                          collaborative=bool(self.collaborative))
        project_id = int(found["id"])
        report.project_id = project_id
        if not report.project_created:
            report.collaborative = bool(found.get("collaborative_annotation"))
            self._update_project(found)
        label_ids = self._span_types(project_id)
        state = PushState.load(self.workspace.state_dir, report.server, project_id)
        index = self._existing(project_id, state)
        missing = [a for a in self.articles if a.id not in index.by_article]
        report.to_upload = len(missing)
        if self.dry_run:
            missing_ids = {a.id for a in missing}
            for doc_id, record in suggestions.items():
                if doc_id in missing_ids:
                    report.suggestions_imported += 1
                elif state.suggested.get(doc_id) == suggestion_fingerprint(record):
                    report.suggestions_unchanged += 1
                else:
                    report.suggestions_added += 1
            return report
        already = {d for d, r in suggestions.items() if state.suggested.get(d) == suggestion_fingerprint(r)}
        report.suggestions_unchanged = len(already)
        uploaded = self._upload(project_id, missing, suggestions, state, index)
        todo = {d: r for d, r in suggestions.items() if state.suggested.get(d) != suggestion_fingerprint(r)}
        self._suggest_existing(project_id, todo, uploaded, state, label_ids, index)
        return report

    # -------------------------------------------------------------------------------------- project
    def _update_project(self, found: Mapping[str, Any]) -> None:
        changes: dict[str, Any] = {}
        guideline = guideline_text(self.schema)
        if str(found.get("guideline") or "").strip() != guideline.strip():
            changes["guideline"] = guideline
        if self.collaborative is not None and bool(found.get("collaborative_annotation")) != self.collaborative:
            changes["collaborative_annotation"] = self.collaborative
            self.report.collaborative = self.collaborative
        self.report.project_updated = sorted(changes)
        if changes and not self.dry_run:
            self.client.update_project(int(found["id"]), **changes)

    def _span_types(self, project_id: int) -> dict[str, int]:
        existing = self.client.list_span_types(project_id)
        plan = plan_span_types(self.schema, existing)
        self.report.span_types_created = [lb.name for lb in plan.create]
        self.report.span_types_updated = sorted({name for _, name, _ in plan.update}
                                                | {name for _, name in plan.release_keys})
        self.report.span_types_extra = plan.extra
        if self.dry_run:
            return {str(t["text"]): int(t["id"]) for t in existing}
        return apply_span_types(self.client, project_id, plan)

    # ------------------------------------------------------------------------------------- examples
    def _list(self, project_id: int) -> ExampleIndex:
        total = self.client.count_examples(project_id)
        if total == 0:
            return ExampleIndex()
        seen = 0

        def listed() -> Iterator[dict[str, Any]]:
            nonlocal seen
            for ex in self.client.iter_examples(project_id, limit=LIST_PAGE):
                seen += 1
                if seen % LIST_PAGE == 0:
                    self._tick("listing examples", seen, total)
                yield ex

        index = index_examples(listed())
        self._tick("listing examples", seen, total)
        return index

    def _existing(self, project_id: int, state: PushState) -> ExampleIndex:
        report = self.report
        if state.in_flight and not self.dry_run:
            # The previous push stopped while a batch was importing: let that import finish first.
            report.resumed = True
            self._tick("waiting for an interrupted import", 0, None)
            _settle(self.client, project_id)
        index = self._list(project_id)
        self._dedupe(project_id, index)
        report.present = len(index.by_article)
        report.foreign_examples = len(index.foreign)
        report.not_in_corpus = sum(1 for doc_id in index.by_article if doc_id not in self.by_id)
        for doc_id, infos in index.by_article.items():
            article = self.by_id.get(doc_id)
            if article is not None and infos[0].text_sha256 != article.text_sha256:
                report.problems.append(Problem(
                    "text-changed", "the text in doccano differs from the corpus (edited inside doccano?); "
                    "its annotations will not be pulled", doc_id=doc_id, example_id=infos[0].id))
        if state.in_flight and not self.dry_run:
            state.in_flight = []
            state.save()
        return index

    def _dedupe(self, project_id: int, index: ExampleIndex) -> None:
        delete, problems = plan_duplicates(index)
        self.report.problems += problems
        if delete:
            self.report.duplicates_removed += len(delete)
            if not self.dry_run:
                self.client.delete_examples(project_id, delete)  # never empty: guarded by `if delete`
            _drop_examples(index, delete)

    def _upload(self, project_id: int, missing: list[Article], suggestions: Mapping[str, AnnotationRecord],
                state: PushState, index: ExampleIndex) -> set[str]:
        report, client = self.report, self.client
        expected = index.total
        uploaded: set[str] = set()
        for number, batch in enumerate(_chunks(missing, self.batch_size), start=1):
            data = build_import_jsonl(batch, suggestions)
            # Recorded before the import starts: if we die now, the next push waits for it and deduplicates.
            state.in_flight = [a.id for a in batch]
            state.save()
            client.import_jsonl(project_id, data, filename=f"newsner-batch-{number:05d}.jsonl")
            if self.after_batch:
                self.after_batch(number)
            expected += len(batch)
            count = client.count_examples(project_id)
            if count != expected:
                # More: doccano retried part of the import, or another push ran; fewer: lines were refused.
                fresh = self._list(project_id)
                self._dedupe(project_id, fresh)
                expected = fresh.total
                lost = [a.id for a in batch if a.id not in fresh.by_article]
                for doc_id in lost:
                    report.problems.append(Problem("not-imported", "doccano did not import this article; "
                                                   "push again", doc_id=doc_id))
                index.by_article = fresh.by_article
            for article in batch:
                record = suggestions.get(article.id)
                uploaded.add(article.id)
                if record is not None and record.status != "confirmed":
                    # Confirmed records still need a confirmation call; recorded once that is done.
                    state.suggested[article.id] = suggestion_fingerprint(record)
                    report.suggestions_imported += 1
            state.in_flight = []
            state.save()
            report.uploaded += len(batch)
            report.batches += 1
            self._tick("uploading articles", report.uploaded, len(missing))
        return uploaded

    def _suggest_existing(self, project_id: int, todo: Mapping[str, AnnotationRecord], uploaded: set[str],
                          state: PushState, label_ids: Mapping[str, int], index: ExampleIndex) -> None:
        """Pre-annotations for documents that were already in doccano, and confirmations."""
        report, client = self.report, self.client
        if not todo:
            return
        if any(d in uploaded for d in todo):
            index = self._list(project_id)  # the ids of the examples created by this run are needed
        done = 0
        for doc_id, record in todo.items():
            if doc_id not in index.by_article:
                report.problems.append(Problem("not-imported", "the article is not in doccano; its "
                                               "pre-annotations were not pushed", doc_id=doc_id))
                continue
            example_id = index.first(doc_id).id
            if doc_id in uploaded:
                report.suggestions_imported += 1  # its spans travelled in the import file
            elif self._add_spans(project_id, example_id, record, label_ids):
                report.suggestions_added += 1
            else:
                report.suggestions_unchanged += 1
            if record.status == "confirmed":
                client.confirm_example(project_id, example_id)
                report.confirmed += 1
            state.suggested[doc_id] = suggestion_fingerprint(record)
            done += 1
            if done % 200 == 0:
                state.save()
                self._tick("pre-annotating", done, len(todo))
        state.save()
        self._tick("pre-annotating", done, len(todo))

    def _add_spans(self, project_id: int, example_id: int, record: AnnotationRecord,
                   label_ids: Mapping[str, int]) -> bool:
        """Create the record's spans that the example lacks; True when any was added."""
        article = self.by_id[record.doc_id]
        omap = OffsetMap(article.text)
        have = {(int(s["start_offset"]), int(s["end_offset"]), int(s["label"]))
                for s in self.client.list_spans(project_id, example_id)}
        added = False
        for span in sorted(record.spans):
            start, end = omap.span_to_utf16(span.start, span.end)
            key = (start, end, label_ids[span.label])
            if key in have:
                continue
            try:
                self.client.create_span(project_id, example_id, start=start, end=end, label_id=key[2])
                added = True
            except DoccanoAPIError as exc:
                if exc.status != 400:
                    raise
                self.report.problems.append(Problem(
                    "suggestion-refused", f"pre-annotation [{span.start}, {span.end}) {span.label} "
                    f"{span.text!r} was refused by doccano ({exc}); it overlaps a span already there",
                    doc_id=record.doc_id, example_id=example_id))
        return added


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
) -> tuple[list[AnnotationRecord], list[Problem], int]:
    """Turn one member's export lines into AnnotationRecords (code-point offsets, checked against the corpus).

    Returns (records, problems, untouched): a document whose spans cannot all be placed is not written (its
    previous record, if any, stays on disk) and each reason is a Problem; `untouched` counts examples the
    member neither labelled nor confirmed. `previous` records equal to the new ones (ignoring pulled_at) are
    returned unchanged so the bytes on disk do not change. Documents in `keep_empty` get a record even when
    empty (an earlier pull wrote one: the member cleared it).
    """
    names = set(schema.names)
    keep_empty = keep_empty or set()
    records: dict[str, AnnotationRecord] = {}
    candidates: dict[str, list[int]] = defaultdict(list)
    problems: list[Problem] = []
    untouched = 0
    for line in lines:
        example_id = int(line["id"])
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
        omap = OffsetMap(article.text)
        spans: list[Span] = []
        bad: list[str] = []
        for item in raw_labels:
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
        if bad:
            for message in bad:
                problems.append(Problem("bad-span", f"{message}; the document was not pulled",
                                        doc_id=ext, annotator=annotator, example_id=example_id))
            continue
        record = AnnotationRecord(doc_id=ext, text_sha256=article.text_sha256, annotator=annotator,
                                  spans=sorted(spans, key=_span_key),
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


def _span_key(span: Span) -> tuple[int, int, str, str]:
    return span.start, span.end, span.label, span.text


def _same_record(a: AnnotationRecord, b: AnnotationRecord) -> bool:
    """Equal in everything that is written, except when it was pulled."""
    if (a.doc_id, a.text_sha256, a.annotator, a.status) != (b.doc_id, b.text_sha256, b.annotator, b.status):
        return False
    if sorted(a.spans, key=_span_key) != sorted(b.spans, key=_span_key):
        return False
    if not same_server(str(a.origin.get("server", "")), str(b.origin.get("server", ""))):
        return False
    return {k: v for k, v in a.origin.items() if k not in ("pulled_at", "server")} == {
        k: v for k, v in b.origin.items() if k not in ("pulled_at", "server")}


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    with contextlib.suppress(ValueError):
        return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
    return False


def same_server(a: str, b: str) -> bool:
    """The same doccano: equal URLs, or both the workspace's local server (loopback; its port may change across
    restarts when the last one was taken, and that must not make every pulled record look changed)."""
    a, b = a.rstrip("/"), b.rstrip("/")
    return a == b or (_is_loopback(a) and _is_loopback(b))


def _write_layer(store: AnnotationStore, annotator: str, path: Path, previous: Mapping[str, AnnotationRecord],
                 records: list[AnnotationRecord]) -> LayerSummary:
    """Merge the pulled records into the layer; the file is rewritten only when a record changed."""
    summary = LayerSummary(annotator=annotator, path=path, records=len(records),
                           confirmed=sum(1 for r in records if r.status == "confirmed"),
                           spans=sum(len(r.spans) for r in records))
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
                origin=origin, previous=previous, keep_empty=mine)
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


# ============================================================================================= users
ROLES = ("annotator", "annotation_approver", "project_admin")


def add_user(
    workspace: Workspace,
    username: str,
    password: Callable[[], str],
    *,
    role: str = "annotator",
    project: str | None = None,
    client: DoccanoClient | None = None,
) -> UserReport:
    """Create a doccano user when missing and make them a member of the project with `role`.

    `password` is called only when the user has to be created; the password is never stored or logged, and an
    existing user's password is left unchanged.
    """
    username = username.strip()
    if not username:
        raise InputError("the user name must not be empty")
    project = project or default_project()
    owns = client is None
    if client is None:
        from newsner.doccano.config import connect

        client = connect(workspace)
    try:
        roles = {str(r["name"]): int(r["id"]) for r in client.list_roles()}
        if role not in roles:
            raise InputError(f"unknown role {role!r}; doccano's roles are {', '.join(sorted(roles))}")
        report = UserReport(username=username, project=project, role=role)
        found = client.find_project(project)
        if found is None:
            raise DoccanoError(f"no project {project!r} on {_server_of(client)}; run `newsner doccano push "
                               f"--project {project}` first (or check --project)")
        user = client.find_user(username)
        if user is None:
            secret = password()
            if not secret:
                raise InputError(f"a password is needed to create {username!r} "
                                 "(set NEWSNER_NEW_USER_PASSWORD or type it at the prompt)")
            user = client.create_user(username, secret)
            report.created = True
        project_id = int(found["id"])
        for member in client.list_members(project_id):
            if member.get("username") == username or member.get("user") == user.get("id"):
                report.existing_role = str(member.get("rolename") or "")
                return report
        client.add_member(project_id, int(user["id"]), role)
        report.member_added = True
        return report
    finally:
        if owns:
            client.close()
