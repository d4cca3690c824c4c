"""`newsner doccano review`: a curator resolves disagreements in doccano; `--pull` turns the result into gold."""

from __future__ import annotations

from typing import Annotated

import typer

from newsner.cli._app import console, doccano_app, err_console, workspace_of


@doccano_app.command("review")
def review_cli(
    ctx: typer.Context,
    pull: Annotated[bool, typer.Option("--pull", help="Read the curator's resolved examples into the gold layer "
                                       "instead of sending documents.")] = False,
    project: Annotated[str | None, typer.Option("--project", help="The annotation project (default: "
                                                "NEWSNER_DOCCANO_PROJECT or newsner).")] = None,
    review_project: Annotated[str | None, typer.Option("--review-project", help="The review project (default: "
                                                       "PROJECT-review).")] = None,
    curator: Annotated[str | None, typer.Option("--curator", help="doccano user who reviews; added to the review "
                                                "project with the role annotation_approver.")] = None,
    layers: Annotated[str | None, typer.Option("--layers", help="Comma-separated annotator layers (default: all "
                                               "but gold/majority).")] = None,
    include_unconfirmed: Annotated[bool, typer.Option("--include-unconfirmed",
                                                      help="Also compare unconfirmed records (suggestions, "
                                                      "documents nobody confirmed); with --pull, in the agreement "
                                                      "figures.")] = False,
    out: Annotated[str, typer.Option("--out", help="Layer --pull writes.")] = "gold",
) -> None:
    """Send the documents where annotators disagree to a review project in doccano; --pull writes gold from it.

    In the review project, spans all annotators agreed on carry their label; each disputed span carries the label
    plus "?" (ACTOR?), and the example's metadata says who marked what. Relations likewise: agreed ones with their
    type, disputed ones with the type plus "?" (CLAIMED_BY?). The curator deletes wrong candidates, relabels
    (redraws) right ones without "?", and marks the example done. --pull writes every done example with no "?" left
    to the gold layer, spans and relations, and prints agreement before (annotator × annotator) and after
    (annotator × gold) over confirmed records.

    Example: newsner doccano review --curator carol   (then, after the review)   newsner doccano review --pull
    """
    from newsner.cli.annotations import render_agreement
    from newsner.doccano.review import pull_review, push_review

    ws = workspace_of(ctx)
    names = [x.strip() for x in layers.split(",") if x.strip()] if layers else None
    if pull:
        report = pull_review(ws, project=project, review_project=review_project, out_layer=out, layers=names,
                             include_unconfirmed=include_unconfirmed)
        console.print(f"review project {report.project!r} (id {report.project_id}): {report.examples} example(s); "
                      f"{report.reviewed} reviewed → layer {report.out_layer} ({report.spans} span(s), "
                      f"{report.relations} relation(s)), {report.awaiting} not marked done yet",
                      markup=False, soft_wrap=True)
        if report.written:
            console.print(f"  records added {report.written.added}, updated {report.written.updated}, unchanged "
                          f"{report.written.unchanged}", markup=False)
        else:
            console.print(f"  nothing reviewed yet (no example marked done without candidates): layer "
                          f"{report.out_layer} not written", markup=False)
        for note in report.notes:
            console.print(f"  relation turned round: {note}", markup=False, soft_wrap=True)
        if report.before:
            console.print("agreement before the review (annotator × annotator):", markup=False)
            render_agreement(report.before)
        if report.after:
            report.after.pairs = [p for p in report.after.pairs if report.out_layer in (p.a, p.b)]
            report.after.most_disagreement = []
            console.print(f"agreement after the review (annotator × {report.out_layer}):", markup=False)
            render_agreement(report.after)
        for problem in report.problems:
            typer.echo(problem, err=True)
        if report.problems:
            raise typer.Exit(1)
        return
    with err_console.status("sending disagreements to doccano…"):
        pushed = push_review(ws, project=project, review_project=review_project, curator=curator, layers=names,
                             include_unconfirmed=include_unconfirmed)
    console.print(f"review project {pushed.project!r} at {pushed.server} (id {pushed.project_id}): "
                  f"{pushed.disputed} of {pushed.compared} compared document(s) disputed; {pushed.added} added "
                  f"({pushed.agreed_spans} agreed span(s), {pushed.candidate_spans} candidate span(s) marked '?'"
                  + (f", {pushed.agreed_relations} agreed relation(s), {pushed.candidate_relations} candidate "
                     "relation(s) marked '?'" if pushed.agreed_relations or pushed.candidate_relations else "")
                  + f"), {pushed.already_there} already there", markup=False, soft_wrap=True)
    if pushed.curator:
        console.print(f"curator: {pushed.curator} (annotation_approver)", markup=False)
    if pushed.before:
        render_agreement(pushed.before)
    for problem in pushed.problems:
        typer.echo(problem, err=True)
    if not pushed.compared:
        console.print("nothing to review: no document was annotated by two layers"
                      + ("" if include_unconfirmed else " (confirmed; try --include-unconfirmed)"), markup=False)
