"""`newsner train --engine transformers`: a tiny BERT built here (no download) fine-tuned on a small `export hf`,
then used everywhere a model is: suggestions (offsets after 🇲🇱🔥, across a window boundary), serve's UTF-16
answer, evaluate (the same scores on the hf and the spaCy export of the same split), select --strategy uncertain,
the learning curve, and the refusals (another label schema, the extra not installed)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

from newsner.errors import ModelError  # noqa: E402
from newsner.model.predict import Suggester  # noqa: E402
from newsner.workspace import Workspace  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.hf_fixtures import annotated_workspace, export_hf, tiny_base  # noqa: E402

FLAG_TEXT = ("🇲🇱🔥 Russian mercenaries attacked Gao on Friday and at least 12 civilians were killed, "
             "a rebel spokesman said.")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A workspace, its hf export, a tiny base, and the model fine-tuned from it (trained once per module)."""
    from newsner.model.hf_train import train_transformer

    root = tmp_path_factory.mktemp("hfws")
    (root / "annotations").mkdir()
    shutil.copy(REPO / "annotations" / "labels.json", root / "annotations" / "labels.json")
    ws, articles = annotated_workspace(root, 60)
    data = export_hf(ws, root / "exports" / "hf")
    base = tiny_base(data, root / "bases" / "tiny-bert")
    lines: list[str] = []
    result = train_transformer(data, root / "models" / "tiny", ws.label_schema(), base=base, max_steps=40,
                               learning_rate=5e-3, eval_steps=20, progress=lines.append)
    return {"ws": ws, "data": data, "base": base, "model": result.path, "result": result, "lines": lines,
            "articles": articles}


def test_training_writes_the_model_with_its_schema_and_export_and_reports_progress(trained: dict[str, Any]) -> None:
    model: Path = trained["model"]
    assert (model / "config.json").is_file() and (model / "tokenizer.json").is_file()
    assert not (model / "checkpoints").exists(), "checkpoints are cleaned up"
    meta = json.loads((model / "newsner.json").read_text())
    schema = trained["ws"].label_schema()
    assert meta["engine"] == "transformers" and meta["label_schema_version"] == schema.version
    assert meta["labels"] == schema.names and meta["export"]["path"] == str(trained["data"].resolve())
    assert meta["export"]["exported_at"] and meta["base"] == str(trained["base"])
    config = json.loads((model / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(len(config["id2label"]))] == schema.bio_tags()
    assert trained["lines"] and all("validation F1" in line for line in trained["lines"])
    assert trained["result"].best_f1 > 0.8, trained["lines"]


def test_suggestions_keep_graphemes_and_code_point_offsets_after_a_flag(trained: dict[str, Any]) -> None:
    from starlette.testclient import TestClient

    from newsner.serve.app import create_app

    suggester = Suggester.load(trained["ws"].label_schema(), model_dir=trained["model"])
    assert suggester.name == "model:tiny"
    [spans] = suggester.suggest([FLAG_TEXT])
    got = {(s.text, s.label) for s in spans}
    assert {("Russian mercenaries", "ACTOR"), ("Gao", "LOCATION"), ("a rebel spokesman", "CLAIM_SOURCE")} <= got
    for s in spans:
        assert FLAG_TEXT[s.start:s.end] == s.text and s.source == "model:tiny" and 0 < s.score <= 1
        assert s.start >= len("🇲🇱🔥 "), "nothing starts inside the flag or the emoji"
    actor = next(s for s in spans if s.label == "ACTOR")
    assert actor.start == FLAG_TEXT.index("Russian")
    with TestClient(create_app(suggester)) as http:
        body = http.post("/suggest", json={"text": FLAG_TEXT}).json()
    js = len(FLAG_TEXT[:actor.start].encode("utf-16-le")) // 2
    assert {"label": "ACTOR", "start_offset": js, "end_offset": js + len("Russian mercenaries")} in body["labels"]
    assert js == actor.start + 3, "🇲🇱 is two code points / four UTF-16 units, 🔥 one / two"


def test_a_long_article_is_read_in_windows_and_a_span_across_a_boundary_stays_whole(trained: dict[str, Any]) -> None:
    from newsner.model.hf_data import encode_words
    from newsner.model.hf_predict import TransformerTagger

    tagger = TransformerTagger(trained["model"], trained["ws"].label_schema())
    assert tagger.length == 64
    sentence = "Russian mercenaries attacked Gao on Friday and at least 12 civilians were killed, the army said."
    # Find a filler length that puts "Russian | mercenaries" astride the end of the first window.
    for pad in range(0, 60):
        text = "Report " * pad + "ended. " + " ".join([sentence] * 6)
        words, starts, _ends = tagger.words_of(text)
        windows = encode_words(tagger.tokenizer, [words], length=tagger.length)
        first_window_words = [j for j in windows.first[0] if j >= 0]
        last = first_window_words[-1]
        if words[last] == "Russian" and len(windows.sample) > 2:
            break
    else:
        pytest.fail("no filler length puts the entity on the window boundary")
    [scored] = tagger.score([text])
    boundary = int(starts[last])
    actors = [s for s in scored.spans if s.label == "ACTOR"]
    assert any(s.start == boundary and s.text == "Russian mercenaries" for s in actors), actors
    assert len([s for s in scored.spans if s.label == "LOCATION" and s.text == "Gao"]) == 6, \
        "every sentence is read, in whichever window it falls"
    for s in scored.spans:
        assert text[s.start:s.end] == s.text


def test_evaluate_scores_the_same_test_split_from_the_hf_and_the_spacy_export(trained: dict[str, Any],
                                                                             tmp_path: Path) -> None:
    from newsner.export import ExportOptions, export
    from newsner.model import evaluate

    ws: Workspace = trained["ws"]
    spacy_dir = tmp_path / "spacy"
    export(ws, spacy_dir, ExportOptions("spacy", splits=(0.7, 0.15, 0.15)))
    on_hf = evaluate(trained["model"], trained["data"], ws.label_schema())
    on_docbin = evaluate(trained["model"], spacy_dir / "test.spacy", ws.label_schema())
    assert on_hf.documents == on_docbin.documents > 0
    assert on_hf.f1 == pytest.approx(on_docbin.f1) and on_hf.f1 > 0.8
    assert [s.label for s in on_hf.per_label] == ws.label_schema().names


def test_select_uncertain_takes_a_transformer_model(trained: dict[str, Any]) -> None:
    from newsner.rounds.select import select_articles, uncertainty

    ws: Workspace = trained["ws"]
    chosen = select_articles(ws, 5, "uncertain", 0, model_dir=trained["model"])
    assert len(chosen.doc_ids) == 5 and chosen.model == "models/tiny"
    suggester = Suggester.load(ws.label_schema(), model_dir=trained["model"])
    by_id = {a.id: a.text for a in trained["articles"]}
    scores = {i: uncertainty(s.candidates) for i, s in zip(by_id, suggester.score(list(by_id.values())),
                                                              strict=True)}
    assert min(scores[i] for i in chosen.doc_ids) >= sorted(scores.values(), reverse=True)[len(scores) // 2]


def test_a_model_of_another_label_schema_is_refused(trained: dict[str, Any], tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(trained["model"], other)
    meta = json.loads((other / "newsner.json").read_text())
    (other / "newsner.json").write_text(json.dumps(meta | {"label_schema_version": 99}))
    with pytest.raises(ModelError, match="trained on label schema version 99.*retrain"):
        Suggester.load(trained["ws"].label_schema(), model_dir=other)


def test_the_learning_curve_trains_transformers_on_nested_subsets(trained: dict[str, Any], tmp_path: Path) -> None:
    from newsner.model.curve import train_curve

    lines: list[str] = []
    curve = train_curve(trained["data"], tmp_path / "curve-model", trained["ws"].label_schema(),
                        engine="transformers", base=trained["base"], max_steps=2, eval_steps=2,
                        learning_rate=5e-3, fractions=(0.5, 1.0), progress=lines.append)
    assert [p.fraction for p in curve.points] == [0.5, 1.0]
    assert curve.points[0].train_docs < curve.points[1].train_docs
    assert (tmp_path / "curve-model" / "newsner.json").is_file() and lines
    written = json.loads((tmp_path / "curve-model" / "curve.json").read_text())
    assert written["points"][1]["fraction"] == 1.0 and written["split"] == "test"
    from datasets import load_from_disk

    n_test = len(load_from_disk(str(trained["data"]))["test"])
    assert written["evidence"]["eval_examples"] == n_test, "per-example counts feed the verdict's bootstrap"


def test_cli_train_and_evaluate_transformers_print_progress_when_stderr_is_not_a_terminal(
        trained: dict[str, Any], runner: Any) -> None:
    from newsner.cli import app

    root = trained["ws"].root
    args = ["--workspace", str(root), "train", "--engine", "transformers", "--base", str(trained["base"]),
            "--out", str(root / "models" / "cli"), "--max-steps", "4", "--learning-rate", "5e-3"]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "step 4/4: validation F1" in done.stderr and "examples/s" in done.stderr
    assert "scores on" in done.stdout and "CLAIM_SOURCE" in done.stdout
    scored = runner.invoke(app, ["--workspace", str(root), "evaluate", "--model", str(root / "models" / "cli")])
    assert scored.exit_code == 0 and "test split" not in scored.stderr and "ACTOR" in scored.stdout, scored.output


def test_cli_transformers_needs_a_base_and_the_extra(runner: Any, workspace: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from newsner.cli import app

    done = runner.invoke(app, ["--workspace", str(workspace), "train", "--engine", "transformers"])
    assert done.exit_code == 1 and "--engine transformers needs --base" in done.stderr
    monkeypatch.setitem(sys.modules, "transformers", None)  # as if the extra were not installed
    done = runner.invoke(app, ["--workspace", str(workspace), "train", "--engine", "transformers", "--base", "x"])
    assert done.exit_code == 1
    (line,) = done.stderr.strip().splitlines()
    assert "pip install 'newsner[transformers]'" in line


def test_doccano_auto_labeling_gives_a_second_annotator_the_transformer_suggestions(
        trained: dict[str, Any], doccano_client: Any, doccano_server: Any, doccano_project: dict[str, Any]) -> None:
    """export hf → train --engine transformers → serve up --model models/tiny → auto-labeling in doccano."""
    from newsner.annotations.store import AnnotationStore
    from newsner.doccano import sync
    from newsner.doccano.autolabel import auto_label, configure_auto_labeling
    from newsner.serve.process import ModelServer
    from tests.test_serve import _annotator, annotator_id, js

    ws: Workspace = trained["ws"]
    pid, project = int(doccano_project["id"]), str(doccano_project["name"])
    sync.push(ws, project=project, client=doccano_client)
    server = ModelServer(ws, die_with_parent=True)
    try:
        info = server.up(model_dir=ws.root / "models" / "tiny", timeout=120)
        assert info.name == "model:tiny"
        configure_auto_labeling(doccano_client, pid, info.url, ws.label_schema())
        name, annotator = _annotator(doccano_client, doccano_server, pid)
        article = next(a for a in trained["articles"] if a.text.startswith("🇲🇱🔥"))
        [example] = [e for e in doccano_client.iter_examples(pid, limit=1000) if e["text"] == article.text]
        with annotator:
            auto_label(annotator, pid, int(example["id"]))
            mine = annotator.list_spans(pid, int(example["id"]))
    finally:
        server.down()
    [expected] = Suggester.load(ws.label_schema(), model_dir=ws.root / "models" / "tiny").suggest([article.text])
    types = {int(t["id"]): t["text"] for t in doccano_client.list_span_types(pid)}
    got = {(s["start_offset"], s["end_offset"], types[int(s["label"])]) for s in mine}
    assert expected and got == {(js(article.text, s.start), js(article.text, s.end), s.label) for s in expected}
    assert {int(s["user"]) for s in mine} == {annotator_id(doccano_client, name)}
    sync.pull(ws, project=project, client=doccano_client)
    [record] = [r for r in AnnotationStore(ws.annotations_dir).read(name) if r.doc_id == article.id]
    assert {(s.start, s.end, s.label) for s in record.spans} == {(s.start, s.end, s.label) for s in expected}


def test_pre_annotate_with_a_transformer_on_ray_writes_the_same_bytes_as_locally(
        trained: dict[str, Any], runner: Any, ray_local: Path) -> None:
    from newsner.cli import app

    root = trained["ws"].root
    outs = []
    for engine in ("local", "ray"):
        out = root / f"suggest-{engine}.jsonl"
        done = runner.invoke(app, ["--workspace", str(root), "pre-annotate", "--model", str(trained["model"]),
                                   "--engine", engine, "--out", str(out)])
        assert done.exit_code == 0 and "Traceback" not in done.output, done.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    records = [json.loads(line) for line in outs[0].decode().splitlines()]
    assert len(records) == len(trained["articles"]) and all(r["origin"]["suggester"] == "model:tiny"
                                                            for r in records)
    assert sum(len(r["spans"]) for r in records) >= 3 * len(records)
