"""Relations in agreement (F1 per relation type) and adjudication (majority vote on relation keys)."""

from __future__ import annotations

from pathlib import Path

from newsner.annotations import adjudicate, agreement_report, majority_vote
from newsner.annotations.store import AnnotationStore
from newsner.corpus.store import Corpus
from newsner.schema import AnnotationRecord, Article, Relation, Span
from newsner.workspace import Workspace

TEXT = "At least 17 dead, a rebel spokesman said in Kidal. Five died in Gao, the army said."


def _span(words: str, label: str) -> Span:
    start = TEXT.index(words)
    return Span(start, start + len(words), label, words)


CAS, SRC = _span("At least 17 dead", "CASUALTY"), _span("a rebel spokesman", "CLAIM_SOURCE")
KIDAL = _span("Kidal", "LOCATION")
FIVE, ARMY, GAO = _span("Five died", "CASUALTY"), _span("the army", "CLAIM_SOURCE"), _span("Gao", "LOCATION")
ARTICLE = Article.from_text(TEXT, language="en")


def _record(layer: str, spans: list[Span], rels: list[tuple[Span, str, Span]]) -> AnnotationRecord:
    ordered = sorted(spans)
    relations = [Relation(ordered.index(h), ordered.index(t), kind) for h, kind, t in rels]
    return AnnotationRecord(ARTICLE.id, ARTICLE.text_sha256, layer, ordered, "confirmed", relations=relations)


ALL = [CAS, SRC, KIDAL, FIVE, ARMY, GAO]
ALICE = _record("alice", ALL, [(CAS, "CLAIMED_BY", SRC), (CAS, "LOCATED_IN", KIDAL), (FIVE, "CLAIMED_BY", ARMY),
                               (FIVE, "LOCATED_IN", GAO)])
BOB = _record("bob", ALL, [(CAS, "CLAIMED_BY", SRC), (FIVE, "CLAIMED_BY", ARMY), (FIVE, "LOCATED_IN", KIDAL)])
# carol did not mark "Gao": her LOCATED_IN to Kidal agrees with bob's, alice's to Gao has one vote
CAROL = _record("carol", [CAS, SRC, KIDAL, FIVE, ARMY], [(CAS, "CLAIMED_BY", SRC), (FIVE, "LOCATED_IN", KIDAL),
                                                         (CAS, "LOCATED_IN", KIDAL)])


def _ws(workspace: Path, *records: AnnotationRecord) -> Workspace:
    ws = Workspace.at(workspace)
    with Corpus(ws.corpus_dir).lock():
        Corpus(ws.corpus_dir).append([ARTICLE])
    store = AnnotationStore(ws.annotations_dir)
    for rec in records:
        store.write_layer(rec.annotator, [rec])
    return ws


def test_agreement_counts_relations_per_type(workspace: Path) -> None:
    report = agreement_report(_ws(workspace, ALICE, BOB))
    (pair,) = report.pairs
    assert report.has_relations
    by_type = {la.label: (la.matched, la.a, la.b) for la in pair.relations_per_type}
    assert by_type == {"CLAIMED_BY": (2, 2, 2), "LOCATED_IN": (0, 2, 1)}
    assert pair.relations is not None and pair.relations.f1 == 2 * 2 / (4 + 3)
    assert pair.overall.f1 == 1.0  # the spans agree fully; only the relations differ


def test_agreement_without_relations_shows_none(workspace: Path) -> None:
    plain = [AnnotationRecord(r.doc_id, r.text_sha256, r.annotator, r.spans, "confirmed") for r in (ALICE, BOB)]
    report = agreement_report(_ws(workspace, *plain))
    assert not report.has_relations and report.pairs[0].relations is None


def test_cli_agreement_prints_the_relation_table(cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    _ws(workspace, ALICE, BOB)
    out = cli("annotations", "agreement").output
    assert "relations per type" in out and "LOCATED_IN" in out and "0.000" in out


def test_majority_vote_keeps_relations_whose_spans_survive() -> None:
    vote = majority_vote([ALICE, BOB, CAROL], label_order=["ACTOR", "LOCATION", "CASUALTY", "CLAIM_SOURCE"])
    spans = vote.spans
    got = sorted((spans[r.head].text, r.type, spans[r.tail].text) for r in vote.relations)
    assert got == [("At least 17 dead", "CLAIMED_BY", "a rebel spokesman"),
                   ("At least 17 dead", "LOCATED_IN", "Kidal"), ("Five died", "CLAIMED_BY", "the army"),
                   ("Five died", "LOCATED_IN", "Kidal")]
    assert [(k[1], k[2][2], v) for k, v in vote.relations_below_threshold] == [("LOCATED_IN", "LOCATION", 1)]


def test_majority_vote_reports_a_winning_relation_whose_span_lost() -> None:
    # Both link "Five died" to "Gao", but both also marked the longer "in Gao", which wins the overlap.
    in_gao = _span("in Gao", "LOCATION")
    a = _record("a", [FIVE, GAO, in_gao], [(FIVE, "LOCATED_IN", GAO)])
    b = _record("b", [FIVE, GAO, in_gao], [(FIVE, "LOCATED_IN", GAO)])
    vote = majority_vote([a, b], label_order=["LOCATION", "CASUALTY"])
    assert GAO not in vote.spans and not vote.relations
    assert [(k[1], k[2]) for k in vote.relations_span_lost] == [("LOCATED_IN", (GAO.start, GAO.end, "LOCATION"))]


def test_adjudicate_writes_relations_into_gold(workspace: Path) -> None:
    ws = _ws(workspace, ALICE, BOB, CAROL)
    report = adjudicate(ws)
    assert report.relations == 4 and report.relations_below_threshold == 1
    (gold,) = AnnotationStore(ws.annotations_dir).read("gold")
    spans = gold.sorted_spans()
    assert ("Five died", "LOCATED_IN", "Kidal") in {(spans[r.head].text, r.type, spans[r.tail].text)
                                                    for r in gold.relations}
    assert any("relation LOCATED_IN" in d and "1 of 3 votes" in d for d in report.disagreements)
