"""`pre-annotate --engine ray` in Ray local mode (2 CPUs): the same suggestion file, byte for byte, as the local
engine; a worker killed mid-run is survived; bad corpus records are named, never a Ray traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from newsner.corpus.store import Corpus
from newsner.model.patterns import default_patterns_path
from newsner.schema import Article
from tests.model_fixtures import TOWNS, train_tiny_model

SENTENCES = ["Wagner fighters attacked {town} on Friday, the army said.",
             "A spokesman for the rebels told AFP that at least {n} dead were counted near {town}.",
             "Mali's army retreated from {town} after the floods, residents said.",
             "The council of {town} reopened the market road on Monday."]


def _corpus(root: Path, n: int = 150) -> None:
    arts = [Article.from_text(" ".join(s.format(town=TOWNS[(i + k) % len(TOWNS)], n=i + k)
                                       for k, s in enumerate(SENTENCES[: 1 + i % 4])) + f" (dispatch {i})",
                              source="test") for i in range(n)]
    corpus = Corpus(root / "corpus", shard_size=40)  # several shards: several blocks for Ray
    with corpus.lock():
        corpus.append(arts)
    assert n <= 40 or len(corpus.shard_paths()) > 1


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_model(tmp_path_factory.mktemp("tiny"), steps=60)


def _both(cli, workspace: Path, *args: str) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    local, on_ray = workspace / "local.jsonl", workspace / "ray.jsonl"
    done = cli("pre-annotate", *args, "--out", str(local))
    assert done.exit_code == 0, done.output
    done = cli("pre-annotate", *args, "--out", str(on_ray), "--engine", "ray")
    assert done.exit_code == 0, done.output
    assert "Traceback" not in done.output
    return local.read_bytes(), on_ray.read_bytes()


def test_patterns_on_ray_write_the_same_bytes_as_the_local_engine(cli, workspace: Path, ray_local) -> None:  # type: ignore[no-untyped-def]
    _corpus(workspace)
    local, on_ray = _both(cli, workspace)
    assert on_ray == local
    ids = [json.loads(line)["doc_id"] for line in on_ray.decode().splitlines()]
    assert ids == [a.id for a in Corpus(workspace / "corpus")] and len(ids) == 150
    assert sum(bool(json.loads(line)["spans"]) for line in on_ray.decode().splitlines()) == 150


def test_model_and_patterns_on_ray_write_the_same_bytes(cli, workspace: Path, ray_local, model: Path) -> None:  # type: ignore[no-untyped-def]
    _corpus(workspace, 60)
    local, on_ray = _both(cli, workspace, "--model", str(model), "--patterns", str(default_patterns_path()))
    assert on_ray == local
    assert any(s["source"].startswith("model:baseline") and s.get("score") is not None
               for line in on_ray.decode().splitlines() for s in json.loads(line)["spans"])


def test_a_worker_killed_mid_run_still_gives_the_same_file(cli, workspace: Path, ray_local: Path) -> None:  # type: ignore[no-untyped-def]
    _corpus(workspace)
    ray_local.write_text("kill the first worker batch that sees this\n")
    out = workspace / "ray.jsonl"
    first = cli("pre-annotate", "--out", str(out), "--engine", "ray")
    assert not ray_local.exists()  # a worker did die
    assert "Traceback" not in first.output
    if first.exit_code != 0:  # Ray gave up on the batch: one line, no file; the rerun finishes
        assert not out.exists()
        rerun = cli("pre-annotate", "--out", str(out), "--engine", "ray")
        assert rerun.exit_code == 0, rerun.output
    local = workspace / "local.jsonl"
    assert cli("pre-annotate", "--out", str(local)).exit_code == 0
    assert out.read_bytes() == local.read_bytes()  # every article once, in corpus order
    print("killed worker recovered by Ray itself:", first.exit_code == 0)


def test_a_bad_corpus_record_is_named_not_a_ray_traceback(cli, workspace: Path, ray_local) -> None:  # type: ignore[no-untyped-def]
    _corpus(workspace, 50)
    shard = Corpus(workspace / "corpus").shard_paths()[1]
    lines = shard.read_text().splitlines(keepends=True)
    shard.write_text("".join(lines[:2]) + "{not json\n" + "".join(lines[2:]))
    out = workspace / "ray.jsonl"
    done = cli("pre-annotate", "--out", str(out), "--engine", "ray")
    assert done.exit_code == 1
    assert shard.name in done.output and ":3" in done.output and "Traceback" not in done.output
    assert not out.exists()


def test_without_ray_pre_annotate_says_how_to_install_it(cli, workspace: Path,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _corpus(workspace, 5)
    monkeypatch.setitem(sys.modules, "ray", None)
    done = cli("pre-annotate", "--engine", "ray", "--out", str(workspace / "x.jsonl"))
    assert done.exit_code == 1 and "pip install 'newsner[ray]'" in done.output
    assert not (workspace / "x.jsonl").exists()
