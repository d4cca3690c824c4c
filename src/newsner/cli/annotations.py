"""`newsner annotations import|validate|agreement|adjudicate`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from newsner.cli._app import annotations_app, console, err_console, workspace_of
from newsner.cli.export import LazyProgress

if TYPE_CHECKING:  # the annotations library (and what it loads) is imported when a command runs, not for --help
    from newsner.annotations import AgreementReport, ImportReport

GOLD = "gold"  # = newsner.annotations.store.GOLD (kept literal so --help does not load the store)


def _layers(value: str | None) -> list[str] | None:
    return [x.strip() for x in value.split(",") if x.strip()] if value else None


@annotations_app.command("import")
def import_cli(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", show_default=False,
                                                help="Annotation files or folders (re3d: the folder).")],
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="auto (from names and content), doccano, conll or re3d.")] = "auto",
    label_map: Annotated[list[str] | None, typer.Option(
        "--map", "-m", help="Map foreign labels onto the schema: Organisation=ACTOR,Location=LOCATION (FOO= drops "
        "FOO). Labels neither mapped nor in the schema are skipped and reported.")] = None,
    annotator: Annotated[str, typer.Option(
        "--annotator", "-a", help="Layer for documents whose file names no annotator (doccano files with users "
        "go to user<N>).")] = "imported",
    unconfirmed: Annotated[bool, typer.Option(
        "--unconfirmed", help="Import as unconfirmed (suggestions) instead of finished, confirmed work.")] = False,
    scheme: Annotated[str, typer.Option("--scheme", help="CoNLL dialect: auto, iob2, iob1, io, bioes.")] = "auto",
    documents: Annotated[str, typer.Option(
        "--documents", help="CoNLL documents: auto (-DOCSTART- if any, else the file), docstart, sentence, file."
    )] = "auto",
    offsets: Annotated[str, typer.Option(
        "--offsets", help="doccano offsets: auto (detected per file from how the spans fit the text), utf16 "
        "(doccano's web UI), codepoints (a Python script) or graphemes (doccano grapheme_mode).")] = "auto",
    min_confidence: Annotated[float, typer.Option(
        "--min-confidence", min=0.0, max=1.0, help="re3d: skip entities below this confidence.")] = 0.5,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every skipped span.")] = False,
) -> None:
    """Import annotations made elsewhere into annotation records (and their articles into the corpus).

    Each bad line is reported as FILE:LINE: problem on stderr while the rest imports; exit code 1 then.

    Example: newsner annotations import ../shared/data/re3d --format re3d --map Organisation=ACTOR,Location=LOCATION
    """
    ws = workspace_of(ctx)
    from newsner.annotations import import_annotations, parse_label_map

    mapping = parse_label_map(label_map or [], ws.label_schema())
    progress = LazyProgress("importing")
    try:
        report = import_annotations(ws, files, fmt=fmt, label_map=mapping, annotator=annotator,
                                    status="unconfirmed" if unconfirmed else "confirmed", scheme=scheme,
                                    documents=documents, offsets=offsets, min_confidence=min_confidence,
                                    progress=progress)
    finally:
        progress.stop()
    _render_import(report, verbose)
    for rejected in report.rejected:
        typer.echo(str(rejected), err=True)
    if report.rejected:
        typer.echo(f"{len(report.rejected)} line(s)/document(s) rejected (listed above); everything else was "
                   "imported", err=True)
        raise typer.Exit(1)


def _render_import(report: ImportReport, verbose: bool) -> None:
    table = Table(title=f"import of {len(report.files)} {report.fmt} file(s)", title_justify="left")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("documents read", str(report.documents))
    table.add_row("articles added to the corpus", str(report.articles_added))
    table.add_row("articles already in the corpus", str(report.articles_present))
    for layer, res in report.layers.items():
        table.add_row(f"layer {layer}: records added / updated / unchanged",
                      f"{res.added} / {res.updated} / {res.unchanged}")
    for label, n in report.spans_imported.most_common():
        table.add_row(f"spans imported: {label}", str(n))
    for reason, n in sorted(report.skipped_by_reason.items()):
        table.add_row(f"spans skipped: {reason}", str(n))
    for label, n in sorted(report.dropped_by_map.items()):
        table.add_row(f"spans dropped by --map {label}=", str(n))
    for note, n in sorted(report.notes.items()):
        table.add_row(note, str(n))
    for kind, n in sorted(report.relations_imported.items()):
        table.add_row(f"relations imported: {kind}", str(n))
    if report.relation_problems:
        table.add_row("relations not kept", str(len(report.relation_problems)))
    if report.relation_notes:
        table.add_row("relations turned round (drawn backwards)", str(len(report.relation_notes)))
    table.add_row("lines/documents rejected", str(len(report.rejected)))
    console.print(table)
    for path, unit in report.offset_units.items():
        console.print(f"{path}: {unit}", markup=False, soft_wrap=True)
    if verbose:
        for path, scheme in report.schemes.items():
            console.print(f"{path}: read as {scheme.upper()}", markup=False)
    elif report.schemes:
        by_scheme = Counter(report.schemes.values())
        console.print("CoNLL dialect: " + ", ".join(f"{s.upper()} ({n} file(s))" for s, n in by_scheme.most_common())
                      + ("; --verbose lists each file" if len(report.schemes) > 1 else ""), markup=False)
    replaced = sum(res.updated for res in report.layers.values())
    if replaced:
        err_console.print(f"note: {replaced} record(s) already in a layer were replaced by this import (their "
                          "earlier spans are gone); import with another --annotator to keep both", markup=False)
    if report.unused_map:
        err_console.print(f"warning: --map {', '.join(report.unused_map)} matched no label in the input (labels "
                          f"seen: {', '.join(sorted(report.labels_seen)) or 'none'})", markup=False)
    if report.unmapped:
        listing = ", ".join(f"{label} ({n})" for label, n in report.unmapped.most_common())
        console.print(f"labels not in the schema, not imported: {listing}; map them with --map LABEL=SCHEMA_LABEL "
                      "(or LABEL= to drop them without this notice)", markup=False, soft_wrap=True)
    # Mismatches and out-of-range offsets are rare and each is a data problem worth seeing; low-confidence and
    # unmapped spans are many and already counted by label, so they are listed only with --verbose.
    for skipped in report.skipped:
        if verbose or "does not match" in skipped.reason or "outside" in skipped.reason:
            console.print(f"skipped {skipped}", markup=False, soft_wrap=True)
    for problem in report.relation_problems:  # each is a relation an annotator made: always worth seeing
        console.print(f"relation skipped: {problem}", markup=False, soft_wrap=True)
    for note in report.relation_notes:
        console.print(f"relation turned round: {note}", markup=False, soft_wrap=True)


@annotations_app.command("validate")
def validate_cli(
    ctx: typer.Context,
    layer: Annotated[list[str] | None, typer.Option(
        "--layer", "-l", help="Layer(s) to check (default: every layer in annotations/).")] = None,
) -> None:
    """Check every record against the corpus (article present, same text, spans fit) and the label schema.

    Problems are listed as FILE:LINE: problem on stderr (exit code 1); overlapping spans are warnings.

    Example: newsner annotations validate --layer gold
    """
    from newsner.annotations import validate_annotations

    checks = validate_annotations(workspace_of(ctx), layer)
    table = Table(title="annotation layers", title_justify="left")
    for col in ("layer", "records", "confirmed", "spans", "problems", "warnings"):
        table.add_column(col, justify="left" if col == "layer" else "right")
    for c in checks:
        table.add_row(c.layer, str(c.records), str(c.confirmed), str(c.spans), str(len(c.problems)),
                      str(len(c.warnings)))
    console.print(table)
    for c in checks:
        for w in c.warnings:
            console.print(f"warning: {w}", markup=False, soft_wrap=True)
    problems = [p for c in checks for p in c.problems]
    for p in problems:
        typer.echo(p, err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s); fix the records (or re-pull/re-import) and validate again", err=True)
        raise typer.Exit(1)
    if not checks:
        console.print("no annotation layers yet (pull from doccano or `newsner annotations import`)")


@annotations_app.command("agreement")
def agreement_cli(
    ctx: typer.Context,
    layers: Annotated[str | None, typer.Option(
        "--layers", help="Comma-separated layers to compare (default: every annotator layer).")] = None,
    include_unconfirmed: Annotated[bool, typer.Option("--include-unconfirmed",
                                                      help="Also compare unconfirmed records.")] = False,
    top: Annotated[int, typer.Option("--top", min=0, help="Documents with the most disagreement to list.")] = 10,
) -> None:
    """Inter-annotator agreement: entity F1 (strict and overlap) per pair and label, Cohen's κ / Krippendorff's α
    over tokens, a label confusion table, and the documents with the most disagreement.

    Example: newsner annotations agreement --layers alice,bob --include-unconfirmed
    """
    from newsner.annotations import agreement_report

    report = agreement_report(workspace_of(ctx), _layers(layers), include_unconfirmed=include_unconfirmed, top=top)
    render_agreement(report)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def render_agreement(report: AgreementReport) -> None:
    """Print an AgreementReport (also used by `newsner doccano review` for before/after)."""
    which = "confirmed and unconfirmed" if report.include_unconfirmed else "confirmed only"
    table = Table(title=f"agreement per pair ({which})", title_justify="left")
    for col in ("pair", "docs", "spans A / B", "F1 strict", "F1 overlap", "κ tokens"):
        table.add_column(col, justify="left" if col == "pair" else "right")
    for p in report.pairs:
        if not p.documents:
            table.add_row(f"{p.a} × {p.b}", "0", "–", "–", "–", "–")
            continue
        table.add_row(f"{p.a} × {p.b}", str(p.documents), f"{p.overall.a} / {p.overall.b}", _fmt(p.overall.f1),
                      _fmt(p.overlap.f1), _fmt(p.kappa))
    console.print(table)
    if any(p.per_label for p in report.pairs):
        per_label = Table(title="per label", title_justify="left")
        for col in ("pair", "label", "spans A / B", "F1 strict", "F1 overlap", "κ tokens"):
            per_label.add_column(col, justify="left" if col in ("pair", "label") else "right")
        for p in report.pairs:
            loose = {la.label: la for la in p.overlap_per_label}
            for la in p.per_label:
                per_label.add_row(f"{p.a} × {p.b}", la.label, f"{la.a} / {la.b}", _fmt(la.f1),
                                  _fmt(loose[la.label].f1), _fmt(p.kappa_per_label.get(la.label)))
        console.print(per_label)
    if report.has_relations:
        rel = Table(title="relations per type (a relation agrees when both spans and its type agree)",
                    title_justify="left")
        for col in ("pair", "relation", "relations A / B", "F1"):
            rel.add_column(col, justify="left" if col in ("pair", "relation") else "right")
        for p in report.pairs:
            for la in p.relations_per_type + ([p.relations] if p.relations is not None else []):
                rel.add_row(f"{p.a} × {p.b}", la.label, f"{la.a} / {la.b}", _fmt(la.f1))
        console.print(rel)
    if report.documents:
        name = {"cohen_kappa": "Cohen's κ", "krippendorff_alpha": "Krippendorff's α (nominal)"}.get(
            report.chance_corrected_method or "", "chance-corrected agreement")
        console.print(f"{report.documents} document(s) compared; {name} over tokens: "
                      f"{_fmt(report.chance_corrected)}", markup=False)
    if report.confusion:
        rows = sorted({a for a, _ in report.confusion}, key=_label_order(report))
        cols = sorted({b for _, b in report.confusion}, key=_label_order(report))
        conf = Table(title="label confusion (overlapping spans; rows: first layer of each pair, — = nothing there)",
                     title_justify="left")
        conf.add_column("")
        for c in cols:
            conf.add_column(c, justify="right")
        for r in rows:
            conf.add_row(r, *(str(report.confusion.get((r, c), 0) or "") for c in cols))
        console.print(conf)
    if report.most_disagreement:
        console.print("documents with the most disagreement:", markup=False)
        for d in report.most_disagreement:
            console.print(f"  {d.doc_id}: {d.disputed} disputed / {d.agreed} agreed span(s) "
                          f"({', '.join(d.annotators)}); e.g. {'; '.join(d.examples)}", markup=False, soft_wrap=True)
    for note in report.notes:
        console.print(note, markup=False, soft_wrap=True)


def _label_order(report: AgreementReport):  # type: ignore[no-untyped-def]
    rank = {lb: i for i, lb in enumerate(report.labels)}
    return lambda lb: (lb == "—", rank.get(lb, len(rank)), lb)


@annotations_app.command("adjudicate")
def adjudicate_cli(
    ctx: typer.Context,
    layers: Annotated[str | None, typer.Option(
        "--layers", help="Comma-separated annotator layers to vote over (default: all but gold/majority).")] = None,
    out: Annotated[str, typer.Option("--out", help="Layer to write.")] = GOLD,
    min_votes: Annotated[int | None, typer.Option(
        "--min-votes", min=1, help="Votes a span needs (default: a strict majority of the document's annotators).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace records already in the output layer (default: keep them).")] = False,
    include_unconfirmed: Annotated[bool, typer.Option("--include-unconfirmed",
                                                      help="Let unconfirmed records vote too.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every span that lost the vote.")] = False,
) -> None:
    """Build the gold layer by span-level majority vote over the annotator layers.

    Example: newsner annotations adjudicate --layers alice,bob,carol --out gold
    """
    from newsner.annotations import adjudicate

    report = adjudicate(workspace_of(ctx), _layers(layers), out_layer=out, min_votes=min_votes,
                        overwrite=overwrite, include_unconfirmed=include_unconfirmed)
    table = Table(title=f"adjudication → {report.out_layer} (from {', '.join(report.layers)})", title_justify="left")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("documents voted", str(report.documents))
    table.add_row("  with a single annotator (spans taken as they are)", str(report.single_annotator))
    table.add_row("documents already in the output layer (kept)", str(report.kept_existing))
    table.add_row("spans kept", str(report.spans))
    table.add_row("spans below the vote threshold", str(report.below_threshold))
    table.add_row("winning spans dropped for overlapping a stronger one", str(report.overlap_dropped))
    if report.relations or report.relations_below_threshold or report.relations_span_lost:
        table.add_row("relations kept", str(report.relations))
        table.add_row("relations below the vote threshold", str(report.relations_below_threshold))
        table.add_row("relations whose span lost the vote", str(report.relations_span_lost))
    table.add_row("records on another text version / missing article", str(len(report.stale)))
    if report.written:
        table.add_row("records added / updated / unchanged",
                      f"{report.written.added} / {report.written.updated} / {report.written.unchanged}")
    console.print(table)
    for line in report.stale:
        typer.echo(f"left out: {line}", err=True)
    for line in report.disagreements[: None if verbose else 10]:
        console.print(f"  {line}", markup=False, soft_wrap=True)
    if not verbose and len(report.disagreements) > 10:
        console.print(f"  ... {len(report.disagreements) - 10} more (--verbose lists them)", markup=False,
                      soft_wrap=True)
