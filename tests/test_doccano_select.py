"""`newsner doccano push --select/--strategy/--seed`, `--auto-label`, and push progress with a rate."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from newsner.doccano import sync
from newsner.doccano.client import DoccanoClient
from newsner.doccano.push import Selection
from newsner.errors import ModelError
from newsner.rounds.record import load_rounds
from newsner.schema import AnnotationRecord, Span
from newsner.workspace import Workspace
from tests.test_doccano_sync import doccano_env, external_ids, setup_workspace  # noqa: F401,F811 (fixture)

TEXTS = [f"Report {i}: fighting near Kidal, the army said. Wagner withdrew from post {i}." for i in range(12)]


def test_select_pushes_n_new_articles_per_seed_and_records_each_round(
        workspace: Path, doccano_client: DoccanoClient, doccano_project: dict[str, Any]) -> None:
    pid, project = int(doccano_project["id"]), str(doccano_project["name"])
    ws, articles = setup_workspace(workspace, TEXTS)
    first = sync.push(ws, project=project, client=doccano_client, selection=Selection(4, "random", 7))
    assert first.round is not None and first.round.round == 1 and first.uploaded == 4
    assert set(external_ids(doccano_client, pid)) == set(first.round.doc_ids)
    second = sync.push(ws, project=project, client=doccano_client, selection=Selection(4, "random", 7))
    assert second.round is not None and second.round.round == 2
    assert not set(second.round.doc_ids) & set(first.round.doc_ids), "never re-picks an article in doccano"
    assert sum(external_ids(doccano_client, pid).values()) == 8
    rounds = load_rounds(ws)
    assert [(r.round, r.strategy, r.seed, r.requested, r.project) for r in rounds] == [
        (1, "random", 7, 4, project), (2, "random", 7, 4, project)]
    # The same seed on a fresh project picks the same first round.
    other = doccano_client.create_project(f"select-{uuid.uuid4().hex[:8]}", description="newsner test")
    try:
        again = sync.push(ws, project=str(other["name"]), client=doccano_client, selection=Selection(4, "random", 7))
        assert again.round is not None and again.round.doc_ids == first.round.doc_ids
    finally:
        doccano_client.delete_project(int(other["id"]))


def test_select_dry_run_records_nothing_and_uncertain_needs_a_model(
        workspace: Path, doccano_client: DoccanoClient, doccano_project: dict[str, Any]) -> None:
    project = str(doccano_project["name"])
    ws, _ = setup_workspace(workspace, TEXTS)
    dry = sync.push(ws, project=project, client=doccano_client, selection=Selection(3, "diverse", 1), dry_run=True)
    assert dry.to_upload == 3 and dry.round is not None and load_rounds(ws) == []
    with pytest.raises(ModelError, match="newsner train"):
        sync.push(ws, project=project, client=doccano_client, selection=Selection(3, "uncertain", 1))


def test_cli_select_auto_label_and_progress_with_a_rate(cli: Any, workspace: Path, doccano_env: Any,  # noqa: F811
                                                        doccano_client: DoccanoClient,
                                                        doccano_project: dict[str, Any]) -> None:
    pid, project = int(doccano_project["id"]), str(doccano_project["name"])
    ws, articles = setup_workspace(workspace, TEXTS)
    no_select = cli("doccano", "push", "--project", project, "--strategy", "diverse")
    assert no_select.exit_code == 1 and "add --select" in no_select.stderr
    no_server = cli("doccano", "push", "--project", project, "--auto-label")
    assert no_server.exit_code == 1 and "newsner serve up" in no_server.stderr
    picked = cli("doccano", "push", "--project", project, "--select", "5", "--strategy", "diverse", "--seed", "3")
    assert picked.exit_code == 0, picked.output
    assert "round 1: 5 of 5 requested article(s), strategy diverse, seed 3" in picked.stdout
    # Progress on stderr, with a rate, also when stderr is not a terminal.
    assert "uploading articles: 5/5 (" in picked.stderr and "/s)" in picked.stderr
    # A pre-annotation push to the examples already there shows progress and a rate too.
    records = [AnnotationRecord(doc_id=a.id, text_sha256=a.text_sha256, annotator="newsner-patterns",
                                spans=[Span(a.text.index("Wagner"), a.text.index("Wagner") + 6, "ACTOR", "Wagner")])
               for a in articles]
    path = workspace / "suggestions.jsonl"
    path.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in records))
    pre = cli("doccano", "push", "--project", project, "--select", "2", "--seed", "3", "--with-annotations", str(path))
    assert pre.exit_code == 0, pre.output
    assert "pre-annotating: 5/5 (" in pre.stderr, pre.stderr
    assert "pre-annotations: 7 document(s)" in pre.stdout
    served = cli("serve", "up")
    try:
        assert served.exit_code == 0, served.output
        labelled = cli("doccano", "push", "--project", project, "--auto-label")
        assert labelled.exit_code == 0, labelled.output
        assert "auto-labeling config created: doccano asks http://127.0.0.1:" in labelled.stdout
        assert "uploaded: 5" in labelled.stdout, "without --select the rest of the corpus goes up, as before"
    finally:
        cli("serve", "down")
    assert sum(external_ids(doccano_client, pid).values()) == len(TEXTS)


def test_a_select_push_that_dies_mid_upload_finishes_the_same_round_on_rerun(
        workspace: Path, doccano_client: DoccanoClient, doccano_project: dict[str, Any]) -> None:
    pid, project = int(doccano_project["id"]), str(doccano_project["name"])
    ws, _ = setup_workspace(workspace, TEXTS)

    def crash(batch: int) -> None:
        raise KeyboardInterrupt  # the push is killed after its first batch

    with pytest.raises(KeyboardInterrupt):
        sync.push(ws, project=project, client=doccano_client, selection=Selection(4, "random", 5), batch_size=2,
                  after_batch=crash)
    assert sum(external_ids(doccano_client, pid).values()) == 2 and load_rounds(ws) == []
    report = sync.push(ws, project=project, client=doccano_client, selection=Selection(4, "random", 5),
                       batch_size=2)
    assert report.resumed and report.uploaded == 2
    [round_] = load_rounds(ws)
    assert set(round_.doc_ids) == set(external_ids(doccano_client, pid)) and len(round_.doc_ids) == 4


@pytest.mark.parametrize("args, says", [
    (["--select", "1000000000000000000000000000000"], "--select 1000000000000000000000000000000 is out of range"),
    (["--select", "3", "--seed", "1208925819614629174706176"], "--seed 1208925819614629174706176 is out of range"),
    (["--select", "3", "--model", "models/nowhere/model-best"], "--model models/nowhere/model-best: no such model"),
    (["--select", "3", "--strategy", "sideways"], "--strategy: unknown strategy 'sideways'"),
], ids=["select", "seed", "model", "strategy"])
def test_selection_options_out_of_range_are_one_line_before_any_work(
        args: list[str], says: str, cli: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_workspace(workspace, TEXTS)
    # No doccano listens here: an option checked only after connecting would report the connection instead.
    monkeypatch.setenv("NEWSNER_DOCCANO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("NEWSNER_DOCCANO_USERNAME", "nobody")
    monkeypatch.setenv("NEWSNER_DOCCANO_PASSWORD", "nothing")
    out = cli("doccano", "push", "--project", "p", *args)
    assert out.exit_code == 1, out.output
    assert "Traceback" not in out.output
    [line] = out.stderr.strip().splitlines()
    assert says in line, line
    assert load_rounds(Workspace.at(workspace)) == []


def test_a_model_with_a_strategy_that_ignores_it_is_refused(cli: Any, workspace: Path, tmp_path: Path) -> None:
    setup_workspace(workspace, TEXTS)
    model = tmp_path / "model-best"
    model.mkdir()
    out = cli("doccano", "push", "--project", "p", "--select", "3", "--model", str(model))
    assert out.exit_code == 1 and "--model is used only by --strategy uncertain" in out.stderr


def test_a_selection_with_nothing_eligible_records_no_round_and_says_so(
        cli: Any, workspace: Path, doccano_env: Any, doccano_client: DoccanoClient,  # noqa: F811
        doccano_project: dict[str, Any]) -> None:
    project = str(doccano_project["name"])
    ws, _ = setup_workspace(workspace, TEXTS[:3])
    first = cli("doccano", "push", "--project", project, "--select", "5")
    assert first.exit_code == 0, first.output
    assert "round 1: 3 of 5 requested article(s)" in first.stdout
    again = cli("doccano", "push", "--project", project, "--select", "5", "--seed", "2")
    assert again.exit_code == 0, again.output
    assert "selection: 0 of 5 requested article(s): nothing is eligible" in again.stdout
    assert "no round recorded" in again.stdout
    assert [r.round for r in load_rounds(ws)] == [1]
