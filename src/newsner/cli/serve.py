"""`newsner serve up|status|down|run`: suggestions on 127.0.0.1 for doccano's auto-labeling."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsner.cli._app import app, err_console, workspace_of

serve_app = typer.Typer(help="The model server: suggestions (UTF-16 offsets) for doccano's auto-labeling, on "
                             "127.0.0.1 only.\n\nExample: newsner serve up --model models/baseline/model-best && "
                             "newsner doccano push --auto-label", no_args_is_help=True)
app.add_typer(serve_app, name="serve")

ModelOpt = Annotated[Path | None, typer.Option("--model", help="A `newsner train` output, e.g. "
                                               "models/baseline/model-best, or a transformers model folder "
                                               "(`newsner train --engine transformers`).")]
BaseOpt = Annotated[str | None, typer.Option("--base", help="A pretrained spaCy pipeline (installed name such as "
                                             "fr_core_news_sm, or a folder) mapped to the schema by base_map: "
                                             "suggestions before anything is annotated, merged with the "
                                             "patterns unless --patterns names others.")]
PatternsOpt = Annotated[Path | None, typer.Option("--patterns", help="EntityRuler patterns (JSONL); default with no "
                                                  "--model: the patterns shipped with newsner.")]
PortOpt = Annotated[int | None, typer.Option("--port", "-p", help="Port on 127.0.0.1 (default: the last one "
                                             "when free, else a free one).")]
BudgetOpt = Annotated[float, typer.Option("--budget", help="Seconds one suggestion may take (above 0): then "
                                          "the answer is an empty list and the rest of its work is dropped "
                                          "(doccano waits without a timeout).")]


@serve_app.command("up")
def up_cli(ctx: typer.Context, model: ModelOpt = None, patterns: PatternsOpt = None, port: PortOpt = None,
           budget: BudgetOpt = 10.0, base: BaseOpt = None,
           timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait until it answers.")] = 120,
           ) -> None:
    """Start the model server in the background (state under .newsner/serve/) and wait until it answers.

    Then `newsner doccano push --auto-label` points the doccano project at it.

    Example: newsner serve up --model models/baseline/model-best --patterns annotations/patterns/conflict.jsonl
    Round 0 from a pretrained pipeline: newsner serve up --base fr_core_news_sm
    """
    from newsner.serve.process import ModelServer

    server = ModelServer(workspace_of(ctx))
    with err_console.status("starting the model server (loading the model)…"):
        info = server.up(model_dir=model, patterns=patterns, port=port, budget=budget, timeout=timeout, base=base)
    if info.already_running:
        typer.echo(f"the model server is already running at {info.url} ({info.name}, pid {info.pid})")
    else:
        typer.echo(f"the model server is running at {info.url} ({info.name}, pid {info.pid}, ready in "
                   f"{info.seconds:.1f} s)")
    typer.echo("stop it with: newsner serve down")


@serve_app.command("status")
def status_cli(ctx: typer.Context) -> None:
    """Say whether the model server runs and answers a suggestion (exit 1 when not).

    Example: newsner serve status
    """
    from newsner.serve.process import ModelServer

    st = ModelServer(workspace_of(ctx)).status()
    if st.state == "running":
        typer.echo(f"model server running (pid {st.pid}): {st.message}")
    else:
        typer.echo(f"model server {'is not running' if st.state == 'stopped' else st.state}: {st.message}")
    if not (st.state == "running" and st.healthy):
        raise typer.Exit(1)


@serve_app.command("down")
def down_cli(ctx: typer.Context) -> None:
    """Stop the model server: exactly the process `up` recorded.

    Example: newsner serve down
    """
    from newsner.serve.process import ModelServer

    server = ModelServer(workspace_of(ctx))
    if server.down():
        typer.echo(f"stopped the model server of {server.workspace.root}")
    else:
        typer.echo(f"no model server was running in {server.workspace.root}")


@serve_app.command("run")
def run_cli(ctx: typer.Context, model: ModelOpt = None, patterns: PatternsOpt = None, base: BaseOpt = None,
            port: Annotated[int, typer.Option("--port", "-p", help="Port on 127.0.0.1.")] = 8765,
            budget: BudgetOpt = 10.0) -> None:
    """Run the model server in the foreground (Ctrl-C stops it); `up` runs it in the background instead.

    Example: newsner serve run --port 8765
    """
    from newsner.serve.run import main

    argv = ["--workspace", str(workspace_of(ctx).root), "--port", str(port), "--budget", str(budget)]
    if model is not None:
        argv += ["--model", str(model)]
    if patterns is not None:
        argv += ["--patterns", str(patterns)]
    if base is not None:
        argv += ["--base", base]
    raise typer.Exit(main(argv))
