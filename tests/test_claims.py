"""The claims table: the annotated seed article gives its four claims with their four sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsner.annotations.store import AnnotationStore
from newsner.claims.table import COLUMNS, claims_of, conflicts, read_claims
from newsner.corpus.store import Corpus
from newsner.schema import AnnotationRecord, Article, Relation, Span

# (needle, label, context that makes the needle unique in the seed text)
SEED_SPANS = [
    ("Malian army", "ACTOR", '"The Malian army has retreated,"'),
    ("a local politician", "CLAIM_SOURCE", "a local politician told AFP, citing"),
    ("AFP", "CLAIM_SOURCE", "told AFP, citing"),
    ("at least 17 dead", "CASUALTY", "citing at least 17 dead"),
    ("A former UN mission worker", "CLAIM_SOURCE", "A former UN mission worker in Kidal said"),
    ("Kidal", "LOCATION", "worker in Kidal said"),
    ("At least 15", "CASUALTY", '"At least 15 Wagner'),
    ("Wagner", "ACTOR", "At least 15 Wagner fighters"),
    ("Tinzaouaten", "LOCATION", 'in what happened in Tinzaouaten."'),
    ("Mossa Ag Inzoma", "CLAIM_SOURCE", "Mossa Ag Inzoma, a member"),
    ("dozens and dozens", "CASUALTY", '"dozens and dozens" of'),
    ("Wagner", "ACTOR", '"dozens and dozens" of Wagner'),
    ("army", "CLAIM_SOURCE", "the army said, adding"),
    ("five terrorist targets", "CASUALTY", '"five terrorist targets had'),
]


def _find(text: str, needle: str, context: str) -> Span:
    at = text.index(context)
    assert text.count(context) == 1, context
    start = at + context.index(needle)
    return Span(start, start + len(needle), "", needle)


@pytest.fixture
def seed_ws(cli, workspace: Path, shared_data: Path):  # type: ignore[no-untyped-def]
    """A workspace with the seed article ingested; returns (workspace, article, spans by (needle, context))."""
    seed = next((shared_data / "seed").glob("*.txt"))
    result = cli("ingest", str(seed))
    assert result.exit_code == 0, result.output
    [article] = list(Corpus(workspace / "corpus"))
    spans = {}
    for needle, label, context in SEED_SPANS:
        s = _find(article.text, needle, context)
        spans[(needle, context)] = Span(s.start, s.end, label, needle)
    return workspace, article, spans


def _record(article: Article, spans: dict, links: list[tuple[str, str, str]] | None) -> AnnotationRecord:  # type: ignore[type-arg]
    """A gold record; links are (head needle, type, tail context) resolved to sorted span indices."""
    ordered = sorted(spans.values())
    by_text = {ctx: spans[(n, ctx)] for n, _, ctx in SEED_SPANS}
    rels = []
    for head_ctx, type_, tail_ctx in links or []:
        rels.append(Relation(ordered.index(by_text[head_ctx]), ordered.index(by_text[tail_ctx]), type_))
    return AnnotationRecord(article.id, article.text_sha256, "gold", spans=list(spans.values()),
                            status="confirmed", relations=rels)


LINKS = [
    ("citing at least 17 dead", "CLAIMED_BY", "a local politician told AFP, citing"),
    ('"At least 15 Wagner', "CLAIMED_BY", "A former UN mission worker in Kidal said"),
    ('"At least 15 Wagner', "VICTIM", "At least 15 Wagner fighters"),
    ('"At least 15 Wagner', "LOCATED_IN", 'in what happened in Tinzaouaten."'),
    ('"dozens and dozens" of', "CLAIMED_BY", "Mossa Ag Inzoma, a member"),
    ('"dozens and dozens" of', "VICTIM", '"dozens and dozens" of Wagner'),
    ('"five terrorist targets had', "CLAIMED_BY", "the army said, adding"),
]

EXPECTED = [  # text order: (casualty, source, min, max, approximate, unit)
    ("at least 17 dead", "a local politician", 17.0, None, False, None),
    ("At least 15", "A former UN mission worker", 15.0, None, False, "fighters"),
    ("dozens and dozens", "Mossa Ag Inzoma", 12.0, None, True, "fighters"),
    ("five terrorist targets", "army", 5.0, 5.0, False, "targets"),
]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_seed_claims_table_row_by_row(cli, seed_ws, suffix: str) -> None:  # type: ignore[no-untyped-def]
    ws, article, spans = seed_ws
    AnnotationStore(ws / "annotations").write_layer("gold", [_record(article, spans, LINKS)])
    out = ws / f"claims{suffix}"
    result = cli("export", "claims", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "4 claims from 1 articles (0 unattributed, 0 counts unparsed)" in result.stdout
    rows = read_claims(out)
    assert list(rows[0]) == list(COLUMNS)
    assert [(r["casualty"], r["source"], r["min"], r["max"], r["approximate"], r["unit"]) for r in rows] == EXPECTED
    assert all(r["doc_id"] == article.id and r["layer"] == "gold" and r["parsed"] for r in rows)
    assert all(r["title"] == "Mali Army, Russian Allies Suffer Heavy Losses in North – Local Sources" for r in rows)
    assert all(r["source_link"] == "relation" for r in rows)
    assert all(r["duplicate_of"] == article.duplicate_of for r in rows)  # to count one article per cluster
    if suffix == ".csv":  # whole figures as a spreadsheet user expects them: 5, not 5.0
        assert ",True,5,5," in out.read_text(encoding="utf-8") and ".0," not in out.read_text(encoding="utf-8")
    r17, r15, rdozens, rtargets = rows
    assert (r15["victim"], r15["actor"], r15["actor_link"]) == ("Wagner", "Wagner", "relation")
    assert (r15["location"], r15["location_link"]) == ("Tinzaouaten", "relation")
    assert (rdozens["victim"], rdozens["actor_link"]) == ("Wagner", "relation")
    # no relation for these: the nearest ACTOR / LOCATION of the sentence, flagged as such
    assert (r17["actor"], r17["actor_link"], r17["victim"]) == ("Malian army", "nearest", None)
    assert (r17["location"], r17["location_link"]) == (None, None)
    assert (rtargets["actor"], rtargets["location"]) == (None, None)
    assert [r["start"] for r in rows] == sorted(r["start"] for r in rows)
    assert all(article.text[r["start"]:r["end"]] == r["casualty"] for r in rows)


def test_seed_without_relations_gets_the_rules_sources_flagged(seed_ws) -> None:  # type: ignore[no-untyped-def]
    _, article, spans = seed_ws
    rows = claims_of(_record(article, spans, None), article)
    assert [(r.casualty, r.source, r.source_link) for r in rows] == [
        (c, s, "rule") for c, s, *_ in EXPECTED]
    assert [r.min for r in rows] == [e[2] for e in EXPECTED]


def test_a_count_the_annotator_left_unlinked_stays_unattributed(seed_ws) -> None:  # type: ignore[no-untyped-def]
    _, article, spans = seed_ws
    rows = claims_of(_record(article, spans, LINKS[1:]), article)  # the 17 dead have no CLAIMED_BY
    assert (rows[0].casualty, rows[0].source, rows[0].source_link) == ("at least 17 dead", None, None)
    assert rows[1].source == "A former UN mission worker"


def test_conflicting_claims_side_by_side(seed_ws) -> None:  # type: ignore[no-untyped-def]
    _, article, spans = seed_ws
    rows = claims_of(_record(article, spans, LINKS), article)
    [found] = list(conflicts(rows))
    assert found.doc_id == article.id and found.title == article.title
    assert [(c["source"], c["min"]) for c in found.claims] == [
        ("army", 5.0), ("Mossa Ag Inzoma", 12.0), ("A former UN mission worker", 15.0), ("a local politician", 17.0)]
    assert found.lowest == 5.0 and found.highest == 17.0 and len(found.sources) == 4
    # one source, or the same figure from two sources: nothing to report
    same = [r.to_dict() for r in rows[:1]] + [r.to_dict() | {"source": "AFP"} for r in rows[:1]]
    assert list(conflicts(same)) == []
    assert list(conflicts(rows[:1])) == []
    # streaming: articles are grouped by consecutive doc_id
    other = [r.to_dict() | {"doc_id": "zzz"} for r in rows]
    assert [c.doc_id for c in conflicts([*rows, *other])] == [article.id, "zzz"]


def test_claims_problems_are_reported_by_document(cli, seed_ws) -> None:  # type: ignore[no-untyped-def]
    ws, article, spans = seed_ws
    good = _record(article, spans, LINKS)
    stale = AnnotationRecord("0000000000000000", "0" * 64, "gold",
                             spans=[Span(0, 3, "CASUALTY", "Mal")], status="confirmed")
    AnnotationStore(ws / "annotations").write_layer("gold", [good, stale])
    out = ws / "claims.csv"
    result = cli("export", "claims", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "warning: document 0000000000000000 (gold): not in the corpus; its claims were left out" in result.stderr
    assert len(read_claims(out)) == 4
    # a record made on another version of the text is named, and left out
    edited = AnnotationRecord(article.id, "f" * 64, "gold", spans=good.spans, relations=good.relations)
    AnnotationStore(ws / "annotations").write_layer("alice", [edited])
    result = cli("export", "claims", "--out", str(out), "--layer", "alice")
    assert result.exit_code == 0, result.output
    assert f"document {article.id} (gold): the record was made on another version of the text" in result.stderr
    assert "0 claims from 0 articles" in result.stdout and read_claims(out) == []


def test_claims_cli_errors_are_one_line(cli, seed_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _, _ = seed_ws
    result = cli("export", "claims", "--out", str(ws / "claims.xlsx"))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "claims.xlsx: the claims table is written as .parquet or .csv" in result.stderr
    result = cli("export", "claims", "--out", str(ws / "claims.parquet"), "--layer", "bob")
    assert result.exit_code == 1 and "no annotation layer 'bob'" in result.stderr
    assert not (ws / "claims.parquet").exists()


def test_empty_layer_writes_a_table_with_its_columns(cli, seed_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _, _ = seed_ws
    AnnotationStore(ws / "annotations").write_layer("gold", [])
    out = ws / "claims.parquet"
    assert cli("export", "claims", "--out", str(out)).exit_code == 0
    import pyarrow.parquet as pq

    table = pq.read_table(out)
    assert table.num_rows == 0 and table.column_names == list(COLUMNS)


def test_an_empty_claims_table_says_why(cli, seed_ws) -> None:  # type: ignore[no-untyped-def]
    ws, article, _ = seed_ws
    AnnotationStore(ws / "annotations").write_layer(
        "gold", [AnnotationRecord(article.id, article.text_sha256, "gold", spans=[], status="confirmed")])
    result = cli("export", "claims", "--out", str(ws / "claims.csv"))
    assert result.exit_code == 0 and "0 claims from" in result.stdout
    assert "note: layer 'gold' has no CASUALTY span" in result.stderr


def test_no_gold_layer_names_the_layer_option(cli, seed_ws) -> None:  # type: ignore[no-untyped-def]
    """Without --layer and without a gold layer, the message says how to read the layers that exist."""
    ws, article, _ = seed_ws
    AnnotationStore(ws / "annotations").write_layer(
        "alice", [AnnotationRecord(article.id, article.text_sha256, "alice", spans=[], status="confirmed")])
    result = cli("export", "claims", "--out", str(ws / "claims.csv"))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert "no annotation layer 'gold'" in result.stderr and "--layer" in result.stderr
    assert "alice" in result.stderr and "adjudicate" in result.stderr
    assert not (ws / "claims.csv").exists()


def test_the_claims_table_says_how_a_count_was_read(seed_ws) -> None:  # type: ignore[no-untyped-def]
    """A count read as a sum of groups carries its note into the table (nothing left out silently)."""
    ws, _, _ = seed_ws
    text = "Two soldiers and a civilian were killed in Gao, the army said."
    art = Article.from_text(text, language="en")
    start = text.index("Two soldiers and a civilian")
    cas = Span(start, start + len("Two soldiers and a civilian"), "CASUALTY", "Two soldiers and a civilian")
    src = Span(text.index("the army"), text.index("the army") + 8, "CLAIM_SOURCE", "the army")
    rec = AnnotationRecord(art.id, art.text_sha256, "gold", [cas, src], "confirmed",
                           relations=[Relation(0, 1, "CLAIMED_BY")])
    [row] = claims_of(rec, art)
    assert (row.min, row.max, row.source) == (3.0, 3.0, "the army")
    assert row.count_note == "sum of 2 groups (2 soldiers + 1 civilian)"
