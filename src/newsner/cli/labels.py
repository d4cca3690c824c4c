"""`newsner labels show`."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from newsner.cli._app import console, labels_app, workspace_of


@labels_app.command("show")
def show_cli(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the validated schema as JSON."),
) -> None:
    """Show the label schema: order (which fixes dataset ids), colours, shortcut keys, guidelines, relation types.

    Example: newsner labels show
    """
    schema = workspace_of(ctx).label_schema()
    if as_json:
        typer.echo(json.dumps(schema.to_dict(), indent=2, ensure_ascii=False))
        return
    console.print(f"label schema version {schema.version}: {', '.join(schema.names)}")
    if schema.guidelines:
        console.print(schema.guidelines, markup=False)
    table = Table(show_lines=True)
    for col in ("#", "label", "key", "colour", "guideline"):
        table.add_column(col)
    for i, label in enumerate(schema.labels):
        table.add_row(str(i), f"[on {label.color}] {label.name} [/]", label.shortcut, label.color,
                      label.description)
    console.print(table)
    console.print("dataset tags: " + " ".join(schema.bio_tags()), markup=False)
    if schema.relations:
        rel_table = Table(show_lines=True)
        for col in ("#", "relation", "head → tail", "colour", "guideline"):
            rel_table.add_column(col)
        for i, rel in enumerate(schema.relations):
            rel_table.add_row(str(i), f"[on {rel.color}] {rel.name} [/]",
                              f"{'|'.join(rel.head)} → {'|'.join(rel.tail)}", rel.color, rel.description)
        console.print(rel_table)
        console.print("relation types: " + ", ".join(
            f"{r.name} ({'|'.join(r.head)} → {'|'.join(r.tail)})" for r in schema.relations), markup=False)
