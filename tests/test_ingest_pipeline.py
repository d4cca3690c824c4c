"""ingest(): the whole batch — samples, re-ingest, bad inputs, --strict, stdin, --jobs, concurrent writers."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsner.corpus.store import Corpus
from newsner.errors import CorpusError, IngestError, InputError
from newsner.ingest import ingest
from newsner.ingest import readers as readers_module

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "corpus" / "raw"
STORY = ("The army said on {day} it had repelled an attack on its base in {town}, killing {n} assailants, while "
         "a spokesman for the rebels said their fighters had destroyed two armoured vehicles and captured "
         "{m} soldiers. Neither account could be verified independently because telephone networks were cut.")
TOWNS = ["Kidal", "Gao", "Menaka", "Tessalit", "Anefis", "Aguelhok", "Bourem", "Ansongo", "Douentza", "Hombori"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def story(i: int) -> str:
    return (f"Fighting reported near {TOWNS[i % 10]} ({i})\n\n"
            + STORY.format(day=DAYS[i % 6], town=TOWNS[i % 10], n=i + 3, m=i % 7 + 1)
            + f"\n\nLocal officials in {TOWNS[(i * 7) % 10]} said {i * 11 + 5} families had fled towards the river "
            f"since the start of the fighting on day {i}, most of them women and children walking for days.")


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def sample_document_count() -> int:
    n = sum(1 for p in RAW.iterdir() if p.suffix in (".txt", ".html"))
    n += sum(1 for p in RAW.glob("*.jsonl") for line in p.read_text().splitlines() if line.strip())
    n += sum(sum(1 for _ in csv.DictReader(p.open())) for p in RAW.glob("*.csv"))
    return n


@pytest.fixture
def bad_inputs(tmp_path: Path) -> tuple[Path, dict[tuple[str, int | None], str]]:
    """A folder with one of every bad input, two good files, and the reason each must be rejected for."""
    d = tmp_path / "inbox"
    d.mkdir()
    (d / "good.txt").write_text(story(1), encoding="utf-8")
    (d / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (d / "empty.txt").write_bytes(b"")
    (d / "undecodable.txt").write_bytes(bytes(range(128, 256)) * 20)
    (d / "nav-only.html").write_text(
        "<html><head><title>Home</title></head><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<div class='cookie'>We use cookies. <button>Accept</button></div><footer>© 2025</footer></body></html>")
    (d / "huge.txt").write_text(story(2) + "\n\n" + "More text. " * 5000, encoding="utf-8")
    good_line = json.dumps({"text": story(3), "title": "Good line", "region": "North"})
    lines = [
        good_line,
        '{"text": "broken, "title": 1}',
        '["a", "list"]',
        json.dumps({"headline": "no text field", "body_html": "<p>x</p>"}),
        json.dumps({"text": "   "}),
        '{"text": "The army said on Friday it had',
    ]
    (d / "feed.jsonl").write_text("\n".join(lines), encoding="utf-8")
    with (d / "no-text.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([["headline", "date"], ["Kidal attack", "2025-01-02"]])
    (d / "notes.md").write_text("# not an input type")
    expected = {
        ("binary.txt", None): "binary file: a PNG image",
        ("empty.txt", None): "empty file",
        ("undecodable.txt", None): "undecodable bytes",
        ("nav-only.html", None): "no article text",
        ("huge.txt", None): "too large",
        ("feed.jsonl", 2): "invalid JSON",
        ("feed.jsonl", 3): "expected a JSON object",
        ("feed.jsonl", 4): "no text field (looked for text, content",
        ("feed.jsonl", 5): "empty text",
        ("feed.jsonl", 6): "truncated JSON",
        ("no-text.csv", None): ("no text column (looked for text, content, body, article, full_text, story, maintext) "
                                "(columns: headline, date); pass --text-column NAME"),
    }
    return d, expected


def test_sample_corpus_and_seed(tmp_path: Path, shared_data: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    report = ingest([str(RAW), str(shared_data / "seed")], corpus, source="sample")
    assert report.rejected == []
    assert report.ingested == sample_document_count() + 1 == len(corpus)
    assert corpus.validate() == []
    articles = {a.provenance["path"].rsplit("/", 1)[-1]: a for a in corpus}
    wire, republished = articles["waw-ber-ouzal-convoy.txt"], articles["kessara-daily-ber-ouzal-convoy.html"]
    # the first-seen copy (folders are read in name order) heads the cluster
    assert republished.duplicate_of is None and wire.duplicate_of == republished.id
    assert report.near_duplicates == 1 == sum(1 for a in corpus if a.duplicate_of)
    seed = next(a for name, a in articles.items() if name.startswith("000_"))
    assert seed.title == "Mali Army, Russian Allies Suffer Heavy Losses in North – Local Sources"
    assert seed.text.startswith("Mali's army and its Russian allies") and seed.text.endswith("in favor of Russia.")
    assert {a.source for a in corpus} == {"sample"}
    assert republished.meta["sitename"] == "Kessara Daily"  # what --source replaced is kept


def test_provenance_and_meta_keep_everything(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "c")
    ingest([str(RAW / name) for name in ("wire-feed.jsonl", "briefs.csv", "sahel-monitor-inessane-base-attack.html")],
           corpus)
    by_line = {(a.provenance["path"].rsplit("/", 1)[-1], a.provenance.get("line")): a for a in corpus}
    first = by_line[("wire-feed.jsonl", 1)]
    assert first.meta == {"id": "waw-2025-0412-001", "author": "Fatou Diarra",
                          "tags": ["Kessara", "curfew", "security"], "region": "North"}
    assert (first.title, first.url, first.source, first.published) == (
        "Curfew extended in three northern regions", "https://westafricawire.example/2025/04/12/curfew-extended",
        "West Africa Wire", "2025-04-12")
    third = by_line[("wire-feed.jsonl", 3)]
    assert third.published == "2025-04-15" and third.meta["published_raw"] == "April 15, 2025"
    brief = by_line[("briefs.csv", 2)]
    assert brief.title == "Gunmen kill five at gold mining site near Tinfadar"
    assert brief.meta == {"byline": "Sahel Observer staff", "region": "North"}  # every other column is kept
    assert (brief.source, brief.published) == ("Sahel Observer", "2025-04-14")  # 'outlet' and 'date' are mapped
    page = by_line[("sahel-monitor-inessane-base-attack.html", None)]
    assert set(page.provenance) == {"path", "extractor", "extractor_version", "ingested_at"}
    assert page.provenance["extractor"] == "trafilatura" and page.meta["author"] == "Aminata Keïta"
    assert set(first.provenance) == {"path", "line", "extractor", "extractor_version", "ingested_at"}


def test_reingest_changes_no_byte(tmp_path: Path, shared_data: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    inputs = [str(RAW), str(shared_data / "seed"), str(shared_data / "html" / "pathological")]
    first = ingest(inputs, corpus)
    assert first.ingested > 10
    before = snapshot(corpus.root)
    again = ingest(inputs, corpus, jobs=2)
    assert again.ingested == 0 and again.duplicates == first.ingested + first.duplicates
    assert again.rejected == first.rejected
    assert snapshot(corpus.root) == before
    ingest(list(reversed(inputs)), corpus)  # order does not matter either
    assert snapshot(corpus.root) == before


def test_every_bad_input_is_one_line_and_the_rest_is_ingested(tmp_path: Path, bad_inputs, monkeypatch) -> None:
    folder, expected = bad_inputs
    (folder / "locked.txt").write_text(story(4))
    real_open = readers_module._open_bytes

    def deny(path: Path):  # type: ignore[no-untyped-def]
        if path.name == "locked.txt":  # as root, chmod 000 would not stop us: simulate the permission error
            raise IngestError("cannot read the file (permission denied); check its permissions")
        return real_open(path)

    monkeypatch.setattr(readers_module, "_open_bytes", deny)
    expected[("locked.txt", None)] = "cannot read the file (permission denied)"
    missing = tmp_path / "nowhere" / "story.txt"
    corpus = Corpus(tmp_path / "corpus")
    report = ingest([str(folder), str(missing), str(tmp_path / "none-*.html")], corpus, max_bytes=20_000)
    got = {(Path(r.path).name, r.line): r.reason for r in report.rejected}
    expected[(missing.name, None)] = "no such file or folder"
    expected[("none-*.html", None)] = "no file matches this pattern"
    assert set(got) == set(expected)
    for key, reason in expected.items():
        assert got[key].startswith(reason), (key, got[key])
    assert len(report.rejected) == len(expected)  # one line each
    assert str(report.rejected[0]).startswith(report.rejected[0].path)
    assert report.skipped == [str(folder / "notes.md")]
    assert report.ingested == 2 and {a.title for a in corpus} == {"Good line", "Fighting reported near Gao (1)"}


def test_malformed_batch_leaves_the_corpus_byte_identical(tmp_path: Path, bad_inputs) -> None:
    folder, _ = bad_inputs
    for good in ("good.txt",):
        (folder / good).unlink()
    (folder / "feed.jsonl").write_text('{"text": 5}\n{"oops"\n')
    corpus = Corpus(tmp_path / "corpus")
    ingest([str(RAW)], corpus)
    before = snapshot(corpus.root)
    report = ingest([str(folder)], corpus, max_bytes=20_000)
    assert report.ingested == 0 and len(report.rejected) >= 8
    assert snapshot(corpus.root) == before
    # and a missing corpus folder is not even created by a batch that holds nothing good
    fresh = Corpus(tmp_path / "fresh")
    ingest([str(folder)], fresh, max_bytes=20_000)
    assert not fresh.root.exists()


def test_strict_rejects_the_whole_batch_before_writing(tmp_path: Path, bad_inputs) -> None:
    folder, expected = bad_inputs
    corpus = Corpus(tmp_path / "corpus")
    report = ingest([str(folder)], corpus, strict=True, max_bytes=20_000)
    assert not report.written and report.ingested == 0 and len(report.rejected) == len(expected)
    assert not corpus.root.exists()
    ok = ingest([str(folder / "good.txt")], corpus, strict=True)
    assert ok.written and ok.ingested == 1


def test_near_duplicate_of_an_article_already_in_the_corpus(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    ingest([str(RAW / "waw-ber-ouzal-convoy.txt")], corpus)
    (first,) = list(corpus)
    report = ingest([str(RAW / "kessara-daily-ber-ouzal-convoy.html")], corpus)
    assert report.near_duplicates == 1
    assert [a.duplicate_of for a in corpus] == [None, first.id]


def test_exact_duplicates_within_a_batch_and_against_the_corpus(tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text(story(5))
    (d / "b.txt").write_text(story(5).replace("\n\n", "\n\n\n  "))  # same text once normalized
    corpus = Corpus(tmp_path / "corpus")
    report = ingest([str(d)], corpus)
    assert (report.ingested, report.duplicates) == (1, 1)
    report = ingest([str(d / "a.txt")], corpus)
    assert (report.ingested, report.duplicates) == (0, 1)


def test_stdin_text_and_jsonl(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    report = ingest(["-"], corpus, stdin=io.BytesIO(story(6).encode("utf-8")))
    assert report.ingested == 1
    lines = "\n".join(json.dumps({"text": story(i), "url": f"https://x.example/{i}"}) for i in (7, 8))
    report = ingest(["-"], corpus, stdin=io.BytesIO(lines.encode("utf-8")))
    assert report.ingested == 2
    assert [a.provenance["path"] for a in corpus] == ["<stdin>"] * 3
    assert [a.url for a in corpus][1:] == ["https://x.example/7", "https://x.example/8"]


def test_folders_globs_and_skips(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "2025" / "03").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "2025" / "03" / "one.txt").write_text(story(9))
    (root / "2025" / "two.TXT").write_text(story(10))
    (root / ".hidden" / "three.txt").write_text(story(11))
    (root / "2025" / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (root / "2025" / "03" / "again").symlink_to(root)  # a symlink loop is walked once
    corpus = Corpus(tmp_path / "corpus")
    report = ingest([str(root)], corpus)
    assert report.ingested == 2 and report.skipped == [str(root / "2025" / "photo.jpg")]
    fresh = Corpus(tmp_path / "glob")
    report = ingest([str(root / "**" / "*.txt"), str(root / "2025" / "03" / "one.txt")], fresh)
    assert report.ingested == 1  # the glob is case-sensitive like the shell; one.txt named twice is read once


def test_the_corpus_never_reads_its_own_shards(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    ingest([str(RAW)], corpus)
    (tmp_path / "corpus" / "raw").mkdir()
    (tmp_path / "corpus" / "raw" / "new.txt").write_text(story(12))
    report = ingest([str(tmp_path / "corpus")], corpus)
    assert report.ingested == 1 and report.duplicates == 0 and report.rejected == []


def test_text_column_for_csv_and_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Title", "body_text", "lang"])
        w.writerow(["Kidal", story(13), "en"])
    corpus = Corpus(tmp_path / "corpus")
    assert ingest([str(path)], corpus).rejected[0].reason.startswith("no text column (looked for text, ")
    report = ingest([str(path)], corpus, text_column="body_text")
    assert report.ingested == 1
    (article,) = list(corpus)
    assert (article.title, article.language, article.meta) == ("Kidal", "en", {})
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"content": story(14)}) + "\n")
    assert ingest([str(feed)], corpus).ingested == 1  # 'content' is a default text field


def test_jobs_give_the_same_corpus(tmp_path: Path, shared_data: Path) -> None:
    pages = [str(p) for p in sorted((shared_data / "html").glob("*/*.html"))] + [str(RAW)]

    def records(root: Path, jobs: int) -> list[dict[str, object]]:
        corpus = Corpus(root)
        ingest(pages, corpus, jobs=jobs)
        out = []
        for a in corpus:
            d = a.to_dict()
            d["provenance"].pop("ingested_at")
            out.append(d)
        return out

    assert records(tmp_path / "one", 1) == records(tmp_path / "two", 2)


def test_bad_options_and_corpus_path(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(CorpusError, match="is a file"):
        ingest([str(RAW)], Corpus(tmp_path / "file"))
    with pytest.raises(InputError, match="--jobs"):
        ingest([str(RAW)], Corpus(tmp_path / "c"), jobs=0)


def test_two_concurrent_ingests_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for i in range(40):
        (a / f"{i:03d}.txt").write_text(story(i))
    for i in range(25, 70):  # 15 stories in both batches
        (b / f"{i:03d}.txt").write_text(story(i))
    ws = tmp_path / "ws"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "newsner", "--workspace", str(ws), "ingest"]
    procs = [subprocess.Popen([*cmd, str(d)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for d in (a, b)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    corpus = Corpus(ws / "corpus")
    assert corpus.validate() == []
    titles = [a.title for a in corpus]
    assert len(titles) == len(set(titles)) == 70
