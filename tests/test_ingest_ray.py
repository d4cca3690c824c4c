"""`ingest --engine ray` in Ray local mode (2 CPUs): the same corpus as the local engine, bad inputs named."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from newsner.corpus.store import Corpus
from newsner.errors import InputError
from newsner.ingest import ingest
from tests.test_ingest_archive import _corpus_lines

PARAGRAPH = ("The council of {town} said on {day} that the road to the market had reopened after the floods, and "
             "that {n} families who had left the district were expected to return before the harvest. ")
WORDS = ("road bridge market clinic school council river convoy harvest drought police court border mayor bank "
         "cotton gold rain flood camp truck fuel price wage strike vote").split()


def story(seed: int, sentences: int = 12) -> str:
    """A distinct text per seed (no 5-word window shared by chance with another seed's)."""
    rng = random.Random(seed)
    return " ".join(" ".join(rng.choice(WORDS) for _ in range(10)).capitalize() + f" ({seed}-{k})."
                    for k in range(sentences))


def _inputs(folder: Path) -> Path:
    folder.mkdir()
    for i in range(6):
        (folder / f"story{i}.txt").write_text(f"Headline {i}\n\n" + story(i))
    # an edited copy: must land in the same cluster with both engines
    (folder / "story_copy.txt").write_text("Headline 2 (update)\n\n" + story(2).replace("(2-3)", "(2-3b)")
                                           + " Reporting by the desk.")
    (folder / "page.html").write_text(
        "<html lang='en'><head><title>Dam opens</title></head><body><article><h1>Dam opens</h1>"
        + "".join(f"<p>{PARAGRAPH.format(town='Sorbaya', day='Friday', n=k)} {story(100 + k, 3)}</p>"
                  for k in range(5))
        + "</article></body></html>")
    (folder / "feed.jsonl").write_text(
        "".join(json.dumps({"text": story(200 + i)}) + "\n" for i in range(5)) + "{not json\n")
    (folder / "empty.txt").write_text("")
    return folder


def test_ray_engine_writes_the_same_corpus_as_the_local_engine(tmp_path: Path, ray_local) -> None:  # type: ignore[no-untyped-def]
    folder = _inputs(tmp_path / "in")
    local = ingest([folder], Corpus(tmp_path / "local"), chunk_size=3)
    on_ray = ingest([folder], Corpus(tmp_path / "ray"), chunk_size=3, engine="ray")
    assert on_ray.ingested == local.ingested == 13 and on_ray.near_duplicates == local.near_duplicates == 1
    assert _corpus_lines(tmp_path / "ray") == _corpus_lines(tmp_path / "local")  # ids, texts, clusters, order
    rejected = sorted((Path(r.path).name, r.line, r.reason) for r in on_ray.rejected)
    assert rejected == sorted((Path(r.path).name, r.line, r.reason) for r in local.rejected)
    assert [(name, line) for name, line, _ in rejected] == [("empty.txt", None), ("feed.jsonl", 6)]
    assert not any("Traceback" in reason or "ray" in reason.lower() for _, _, reason in rejected)


def test_a_worker_killed_mid_run_gives_the_same_corpus(tmp_path: Path, ray_local) -> None:  # type: ignore[no-untyped-def]
    """A Ray worker SIGKILLed in the middle of an ingest (as a lost node): Ray retries its batch, or the rerun
    finishes the job; either way the corpus equals the local engine's, every article once."""
    folder = _inputs(tmp_path / "in")
    ingest([folder], Corpus(tmp_path / "local"), chunk_size=3)
    ray_local.write_text("kill the first worker batch that sees this\n")
    try:
        ingest([folder], Corpus(tmp_path / "ray"), chunk_size=3, engine="ray")
    except InputError as exc:  # Ray gave up on the batch: one line, then the rerun below finishes
        assert "Traceback" not in str(exc)
    assert not ray_local.exists()  # a worker did die
    ingest([folder], Corpus(tmp_path / "ray"), chunk_size=3, engine="ray")  # a rerun adds nothing twice
    records = _corpus_lines(tmp_path / "ray")
    assert records == _corpus_lines(tmp_path / "local")
    assert len({r["id"] for r in records}) == len(records)


def test_without_ray_the_engine_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    (tmp_path / "a.txt").write_text(PARAGRAPH.format(town="X", day="Monday", n=1) * 3)
    with pytest.raises(InputError, match=r"pip install 'newsner\[ray\]'"):
        ingest([tmp_path / "a.txt"], Corpus(tmp_path / "corpus"), engine="ray")
    assert not (tmp_path / "corpus").exists()
