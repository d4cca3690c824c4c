"""Archive-scale ingest: chunks, crash reruns, encodings of short files, CSV quotes, language, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from newsner.corpus.store import Corpus
from newsner.ingest import ingest
from newsner.ingest.decode import decode_bytes
from newsner.ingest.html import page_language, page_languages
from newsner.ingest.lang import resolve_language

FR = ("Le président a déclaré vendredi que les forces armées avaient repoussé une attaque près de la frontière, "
      "selon un communiqué publié dans la soirée par le ministère de la Défense.")
EN = ("The army said on Friday that it had repelled an attack near the border town, according to a statement "
      "released in the evening by the defence ministry, which gave no casualty figures.")


def _records(n: int) -> list[dict[str, str]]:
    return [{"text": f"Dispatch {i}. " + " ".join(f"Item {i}-{k}: the council of district {i} met on day {k} "
                                                   f"about road {i * 7 + k}." for k in range(10)),
             "title": f"Dispatch {i}"} for i in range(n)]


def _corpus_lines(root: Path) -> list[dict]:
    out = []
    for shard in sorted(root.glob("articles-*.jsonl")):
        for line in shard.read_text().splitlines():
            obj = json.loads(line)
            obj["provenance"].pop("ingested_at")
            out.append(obj)
    return out


def test_chunked_ingest_crash_then_rerun_equals_an_uninterrupted_run(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in _records(23)))
    whole = Corpus(tmp_path / "whole", shard_size=5)
    report = ingest([feed], whole, chunk_size=4)
    assert report.ingested == 23 and report.chunks == 6

    crashed = Corpus(tmp_path / "crashed", shard_size=5)
    from newsner.corpus import index as index_module

    real_finish = index_module.CorpusIndex.finish
    calls = {"n": 0}

    def finish_then_die(self, stats):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # killed inside the 4th chunk: its shards written, its commit not
        real_finish(self, stats)

    monkeypatch.setattr(index_module.CorpusIndex, "finish", finish_then_die)
    with pytest.raises(KeyboardInterrupt):
        ingest([feed], crashed, chunk_size=4)
    monkeypatch.undo()
    assert len(crashed) == 12  # three chunks kept, the fourth cut back: at most one chunk lost
    again = ingest([feed], crashed, chunk_size=4)
    assert again.ingested == 11 and again.duplicates == 12
    assert _corpus_lines(crashed.root) == _corpus_lines(whole.root)
    assert not crashed.validate()


def test_strict_writes_nothing_when_a_late_record_is_bad(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in _records(9)) + "{broken\n")
    corpus = Corpus(tmp_path / "corpus")
    report = ingest([feed], corpus, strict=True, chunk_size=2)
    assert report.ingested == 0 and report.rejected and not corpus.root.exists()


# Seven short texts in Western languages saved as windows-1252 / Latin-1: a statistical guesser garbles them.
SHORT_TEXTS = {
    "fr": "Le maire de Sévaré a annoncé mardi que l'école rouvrira après l'été, malgré les dégâts causés par "
          "les pluies. « Nous ferons de notre mieux », a-t-il déclaré à l'AFP.",
    "es": "El alcalde anunció que mañana se reabrirá el mercado. Según la policía, el incendio comenzó el "
          "martes por la noche en un almacén cercano al puerto; no hubo víctimas.",
    "it": "Il sindaco ha detto martedì che la città è pronta: «Però servono più fondi», ha aggiunto. La "
          "situazione resta difficile perché le strade sono ancora chiuse, disse all'AFP.",
    "pt": "O governo informou na terça-feira que a população das regiões afetadas receberá ajuda. A situação "
          "é crítica, disse o ministro à imprensa, e não há previsão de melhora.",
    "de": "Der Bürgermeister sagte am Dienstag, dass die Straßen wegen der Überschwemmungen gesperrt bleiben. "
          "Die Behörden rechnen mit größeren Schäden in den südlichen Vierteln.",
    "en": "The café owner said the naïve plan to reopen before the rains had failed – \u201cwe lost everything\u201d, "
          "she told reporters on Tuesday, adding that the co\u00f6perative would help.",
    "fr2": "À Gao, les élèves ont repris les cours lundi. Les enseignants réclament des salaires impayés depuis "
           "décembre ; le ministère promet une réponse d'ici à la fin du mois.",
}


@pytest.mark.parametrize("key", sorted(SHORT_TEXTS))
def test_short_western_single_byte_texts_decode_right(key: str) -> None:
    text = SHORT_TEXTS[key]
    data = text.encode("cp1252")
    assert 150 <= len(data) <= 300
    decoded = decode_bytes(data)
    assert decoded.text == text
    assert decoded.warning and "--encoding" in decoded.warning  # few clues: the user is told how to override


def test_encoding_option_and_weak_guess_warning_name_the_file(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    latin = tmp_path / "note.txt"
    latin.write_bytes(SHORT_TEXTS["es"].encode("cp1252"))
    result = cli("ingest", str(latin))
    assert result.exit_code == 0, result.output
    assert f"warning: {latin}: not UTF-8; read as windows-1252" in result.stderr
    cz = tmp_path / "cz.txt"
    cz_text = ("Starosta města v úterý oznámil, že škola bude po létě znovu otevřena, přestože déšť způsobil "
               "škody. Řekl, že udělají vše, co je v jejich silách, a požádal o trpělivost.")
    cz.write_bytes(cz_text.encode("cp1250"))
    result = cli("ingest", str(cz), "--encoding", "cp1250")
    assert result.exit_code == 0, result.output
    texts = [a.text for a in Corpus(workspace / "corpus")]
    assert any("Řekl" in t for t in texts) and any("mañana" in t for t in texts)
    result = cli("ingest", str(cz), "--encoding", "no-such-codec")
    assert result.exit_code == 1 and "--encoding no-such-codec: no such encoding" in result.stderr


def test_csv_unclosed_quote_is_reported_not_swallowed(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text(f'title,text\nOne,"{EN}"\nTwo,"{FR}\nThree,{EN} Again.\nFour,{EN} Later.\n')
    report = ingest([path], Corpus(tmp_path / "corpus"))
    assert report.ingested == 1
    assert [(r.path, r.line) for r in report.rejected] == [(str(path), 3)]
    assert "unclosed quote" in report.rejected[0].reason


def test_validate_prints_one_location_per_problem(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in _records(3)))
    assert cli("ingest", str(feed)).exit_code == 0
    shard = sorted((workspace / "corpus").glob("articles-*.jsonl"))[0]
    lines = shard.read_text().splitlines()
    lines[1] = lines[1][:40]
    shard.write_text("\n".join(lines) + "\n")
    result = cli("corpus", "validate")
    assert result.exit_code == 1
    assert f"{shard}:2: invalid JSON" in result.stderr and f"{shard}:0:" not in result.stderr


def test_language_from_the_text_and_comments_ignored() -> None:
    page = '<!DOCTYPE html><!--[if IE]><html lang="en"><![endif]--><html lang="fr"><head></head><body></body></html>'
    assert page_language(page) == "fr"
    assert page_language('<!--[if IE]><html lang="en"><![endif]--><html><body>x</body></html>') is None
    assert resolve_language(None, FR * 2) == ("fr", None)
    assert resolve_language(["en", "fr"], FR * 3) == ("fr", "en,fr")  # the page contradicts itself
    assert resolve_language("fr", FR * 3) == ("fr", None)
    both = '<html lang="en"><head><meta http-equiv="content-language" content="fr"></head></html>'
    assert page_languages(both) == ["en", "fr"]
    assert resolve_language(None, "Kidal") == (None, None)


def test_jsonl_without_language_gets_it_from_the_text(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": FR + " " + FR.replace("vendredi", "samedi")}) + "\n"
                    + json.dumps({"text": EN + " " + EN}) + "\n")
    corpus = Corpus(tmp_path / "corpus")
    ingest([feed], corpus)
    got = {a.language: a.meta.get("language_declared") for a in corpus}
    assert got == {"fr": None, "en": None}


def test_cli_start_up_imports_nothing_heavy() -> None:
    # (the cli package imports every command module, some of them numpy; these are the ones ingest needs)
    code = ("import sys, newsner.corpus.store, newsner.corpus.index, newsner.ingest.pipeline; "
            "print(sorted(m for m in ('datasketch', 'scipy', 'trafilatura', 'numpy', 'py3langid', "
            "'charset_normalizer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_progress_line_and_rate_for_logs(cli, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from newsner.cli import ingest as ingest_cli

    monkeypatch.setattr(ingest_cli, "_LOG_EVERY", 0.0)  # a line per chunk instead of one every 10 s
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in _records(6)))
    result = cli("ingest", str(feed), "--chunk", "2")
    assert result.exit_code == 0, result.output
    assert "ingest: 2 articles written" in result.stderr and "articles/s" in result.stderr
    assert "rate (articles/s)" in result.stdout


def test_reindex_and_stats_from_the_index(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feed = tmp_path / "feed.jsonl"
    records = _records(4)
    records.append({"text": records[0]["text"].replace("met on day 1", "met on day one") + " More soon.",
                    "title": "Copy"})
    feed.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert cli("ingest", str(feed)).exit_code == 0
    index = workspace / "corpus" / ".index.sqlite3"
    index.unlink()
    result = cli("corpus", "reindex")
    assert result.exit_code == 0 and "indexed 5 articles" in result.stdout and index.exists()
    result = cli("corpus", "stats")
    assert result.exit_code == 0 and "5 articles in 1 shard(s)" in result.stdout
    assert "near-duplicates: 1 in 1 cluster(s)" in result.stdout


def test_a_rebuild_of_an_out_of_date_index_is_announced(cli, workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in _records(3)))
    assert cli("ingest", str(feed)).exit_code == 0
    result = cli("corpus", "stats")
    assert result.exit_code == 0 and "note:" not in result.stderr  # an up-to-date index: nothing to say
    conn = sqlite3.connect(workspace / "corpus" / ".index.sqlite3")
    with conn:  # an index written by an earlier newsner
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'version'")
    conn.close()
    result = cli("corpus", "stats")
    assert result.exit_code == 0 and "3 articles in 1 shard(s)" in result.stdout
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "rebuilt it from 1 shard(s)" in notes[0] and "another newsner version" in notes[0]
    assert "note:" not in cli("corpus", "stats").stderr  # once
