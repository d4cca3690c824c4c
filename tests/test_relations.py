"""The relation rule, the doccano shapes (UTF-16, checked against spans) and the dataset column."""

from __future__ import annotations

import pytest

from newsner.export.relations import hf_relations, hf_relations_feature
from newsner.formats.doccano_relations import from_doccano, to_doccano
from newsner.model.relations import suggest_relations, with_suggested_relations
from newsner.schema import (
    AnnotationRecord,
    Relation,
    Span,
    default_label_schema_path,
    load_label_schema,
    relation_problems,
    text_sha256,
)
from newsner.text.sentences import sentences

SCHEMA = load_label_schema(default_label_schema_path())


def spans_of(text: str, marks: list[tuple[str, str]]) -> list[Span]:
    """Spans by string search (the nth occurrence with 'text#n')."""
    out, cursor = [], 0
    for needle, label in marks:
        start = text.index(needle, cursor)
        out.append(Span(start, start + len(needle), label, needle))
        cursor = start + 1
    return out


def named(text: str, spans: list[Span], rels: list[Relation]) -> set[tuple[str, str, str]]:
    ordered = sorted(spans)
    return {(ordered[r.head].text, r.type, ordered[r.tail].text) for r in rels}


def test_sentences_keep_a_quote_with_its_attribution() -> None:
    text = ('"The army has retreated," a local politician told AFP, citing at least 17 dead. '
            'Fighting in the U.S. sector went on.\nA new paragraph')
    parts = [text[s:e] for s, e in sentences(text)]
    assert parts == ['"The army has retreated," a local politician told AFP, citing at least 17 dead.',
                     "Fighting in the U.S. sector went on.", "A new paragraph"]


def test_claimed_by_prefers_the_attributed_source_of_the_same_sentence() -> None:
    text = ("A former UN worker in Kidal said: \"At least 15 Wagner fighters were killed\" adding that the CSP "
            "rebels took the lead. The army said five terrorist targets were hit, AFP noted.")
    spans = spans_of(text, [("A former UN worker", "CLAIM_SOURCE"), ("Kidal", "LOCATION"),
                            ("At least 15", "CASUALTY"), ("Wagner", "ACTOR"), ("CSP", "ACTOR"),
                            ("army", "CLAIM_SOURCE"), ("five terrorist targets", "CASUALTY"), ("AFP", "CLAIM_SOURCE")])
    rels = suggest_relations(text, spans, schema=SCHEMA)
    assert named(text, spans, rels) == {
        ("At least 15", "CLAIMED_BY", "A former UN worker"),
        ("At least 15", "VICTIM", "Wagner"),
        # Kidal describes the source ("a worker in Kidal"): not where the 15 died
        ("five terrorist targets", "CLAIMED_BY", "army"),  # "army said": cued and nearest
    }
    rec = AnnotationRecord("d", text_sha256(text), "suggest", spans=spans, relations=rels)
    assert relation_problems(rec, SCHEMA) == []


def test_according_to_perpetrator_location_and_unattributed() -> None:
    text = ("According to the mayor, 12 civilians were killed by the militia in Gao. "
            "Dozens died in Menaka.")
    spans = spans_of(text, [("the mayor", "CLAIM_SOURCE"), ("12 civilians", "CASUALTY"), ("militia", "ACTOR"),
                            ("Gao", "LOCATION"), ("Dozens", "CASUALTY"), ("Menaka", "LOCATION")])
    rels = suggest_relations(text, spans)
    assert named(text, spans, rels) == {
        ("12 civilians", "CLAIMED_BY", "the mayor"), ("12 civilians", "PERPETRATOR", "militia"),
        ("12 civilians", "LOCATED_IN", "Gao"), ("Dozens", "LOCATED_IN", "Menaka"),
    }
    # no source in its sentence: no CLAIMED_BY is invented for "Dozens"
    only = suggest_relations(text, spans, types=["CLAIMED_BY"])
    assert named(text, spans, only) == {("12 civilians", "CLAIMED_BY", "the mayor")}


def test_with_suggested_relations_keeps_the_annotators_links() -> None:
    text = "AFP and a local politician said at least 17 dead."
    spans = spans_of(text, [("AFP", "CLAIM_SOURCE"), ("a local politician", "CLAIM_SOURCE"),
                            ("at least 17 dead", "CASUALTY")])
    human = Relation(2, 0, "CLAIMED_BY")  # the annotator chose AFP
    rec = AnnotationRecord("d", text_sha256(text), "alice", spans=spans, relations=[human])
    out = with_suggested_relations(rec, text, schema=SCHEMA)
    assert out.relations == [human] and rec.relations == [human]
    fresh = with_suggested_relations(AnnotationRecord("d", text_sha256(text), "a", spans=spans), text)
    assert named(text, spans, fresh.relations) == {("at least 17 dead", "CLAIMED_BY", "a local politician")}


def _emoji_record() -> tuple[str, AnnotationRecord]:
    text = "🇲🇱🔥 A spokesman said dozens and dozens died in Kidal."
    spans = spans_of(text, [("A spokesman", "CLAIM_SOURCE"), ("dozens and dozens", "CASUALTY"),
                            ("Kidal", "LOCATION")])
    rels = [Relation(1, 0, "CLAIMED_BY"), Relation(1, 2, "LOCATED_IN")]
    return text, AnnotationRecord("d", text_sha256(text), "alice", spans=spans, relations=rels)


def test_to_doccano_uses_utf16_offsets_and_span_indices_as_ids() -> None:
    text, rec = _emoji_record()
    line = to_doccano(rec, text)
    ents = {e["label"]: e for e in line["entities"]}
    # three astral code points before the spans (two regional indicators + fire) → +3 UTF-16 units
    assert ents["CLAIM_SOURCE"]["start_offset"] == text.index("A spokesman") + 3
    assert ents["CASUALTY"]["end_offset"] == text.index(" died") + 3
    assert line["relations"] == [{"id": 0, "from_id": 1, "to_id": 0, "type": "CLAIMED_BY"},
                                 {"id": 1, "from_id": 1, "to_id": 2, "type": "LOCATED_IN"}]
    # and back: the same spans and relations
    back = from_doccano({"text": text, **line}, text)
    assert back.problems == [] and back.spans == rec.sorted_spans() and back.relations == rec.relations


def test_from_doccano_reports_a_relation_whose_span_was_deleted() -> None:
    text, rec = _emoji_record()
    line = to_doccano(rec, text)
    # doccano ids are arbitrary numbers; the annotator deleted the Kidal span but the relation came along
    for ent in line["entities"]:
        ent["id"] += 100
    for rel in line["relations"]:
        rel["from_id"] += 100
        rel["to_id"] += 100
    line["entities"] = [e for e in line["entities"] if e["label"] != "LOCATION"]
    line["relations"].append({"id": 9, "from_id": 101, "type": "CLAIMED_BY"})
    back = from_doccano(line, text, where="alice.jsonl:3 (document d)")
    assert back.relations == [Relation(1, 0, "CLAIMED_BY")]
    assert [s.label for s in back.spans] == ["CLAIM_SOURCE", "CASUALTY"]
    assert len(back.problems) == 2
    assert back.problems[0].startswith("alice.jsonl:3 (document d): relation 1 LOCATED_IN points at entity 102")
    assert "not kept" in back.problems[0] and "None" in back.problems[1]


def test_from_doccano_reports_entities_that_do_not_fit() -> None:
    text, _ = _emoji_record()
    line = {"entities": [{"id": 1, "label": "CASUALTY", "start_offset": 1, "end_offset": 5},  # splits a flag
                         {"id": 2, "label": "LOCATION", "start_offset": 0, "end_offset": 999},
                         {"id": 3, "label": "ACTOR"},
                         {"id": 4, "label": "ACTOR", "start_offset": 7, "end_offset": 8},
                         {"id": 4, "label": "ACTOR", "start_offset": 9, "end_offset": 10}],
            "relations": [{"id": 0, "from_id": 1, "to_id": 4, "type": "VICTIM"}, "junk"]}
    back = from_doccano(line, text, where="doc d")
    assert [s.start for s in back.spans] == [4]
    text_ = "\n".join(back.problems)
    assert "splits a character" in text_ and "outside the text" in text_ and "malformed" in text_
    assert "appears twice" in text_ and "points at entity 1" in text_ and "relation 1 is malformed" in text_
    assert back.relations == []


def test_hf_relations_column_value_and_feature() -> None:
    text, rec = _emoji_record()
    assert hf_relations(rec) == [{"head": 1, "tail": 0, "type": "CLAIMED_BY"},
                                 {"head": 1, "tail": 2, "type": "LOCATED_IN"}]
    ids = hf_relations(rec, SCHEMA)
    assert [r["type"] for r in ids] == [SCHEMA.relation_names.index("CLAIMED_BY"),
                                        SCHEMA.relation_names.index("LOCATED_IN")]
    feature = hf_relations_feature(SCHEMA)
    import datasets

    ds = datasets.Dataset.from_dict({"relations": [ids, []]},
                                    features=datasets.Features({"relations": feature}))
    assert ds.features["relations"].feature["type"].names == SCHEMA.relation_names
    assert ds[0]["relations"][0] == {"head": 1, "tail": 0, "type": 0}


@pytest.mark.parametrize("label", ["ACTOR", "LOCATION", "CLAIM_SOURCE"])
def test_only_casualties_get_suggestions(label: str) -> None:
    text = "A spokesman said Wagner left Kidal."
    spans = spans_of(text, [("A spokesman", "CLAIM_SOURCE"), ("Wagner", label), ("Kidal", "LOCATION")])
    assert suggest_relations(text, spans) == []


def test_speaker_beats_the_agency_it_told() -> None:
    text = '"The army has retreated," a local politician told AFP, citing at least 17 dead in a provisional toll.'
    spans = spans_of(text, [("a local politician", "CLAIM_SOURCE"), ("AFP", "CLAIM_SOURCE"),
                            ("at least 17 dead", "CASUALTY")])
    assert named(text, spans, suggest_relations(text, spans)) == {
        ("at least 17 dead", "CLAIMED_BY", "a local politician")}  # AFP is nearer but only relays
    text2 = "Five civilians died, said Mohamed Ramadane, a spokesman, while AFP could not confirm."
    spans2 = spans_of(text2, [("Five civilians", "CASUALTY"), ("Mohamed Ramadane", "CLAIM_SOURCE"),
                              ("AFP", "CLAIM_SOURCE")])
    assert named(text2, spans2, suggest_relations(text2, spans2)) == {
        ("Five civilians", "CLAIMED_BY", "Mohamed Ramadane")}


def test_sentence_ends_after_an_acronym_but_not_after_an_initial() -> None:
    text = 'He told AFP. Col. Goita and A. Ag said "Yes." Then 12 died! "Next," he said.\n\nEnd'
    assert [text[s:e] for s, e in sentences(text)] == [
        "He told AFP.", 'Col. Goita and A. Ag said "Yes."', "Then 12 died!", '"Next," he said.', "End"]


def test_relation_keys_compare_layers_whose_indices_differ() -> None:
    from newsner.annotations.relations import relation_keys
    from newsner.formats.doccano_relations import doccano_relation_types

    text, alice = _emoji_record()
    extra = Span(0, 2, "ACTOR", text[0:2])  # bob has one more span first: every index shifts by one
    bob = AnnotationRecord("d", alice.text_sha256, "bob", spans=[extra, *alice.spans],
                           relations=[Relation(2, 1, "CLAIMED_BY"), Relation(2, 3, "VICTIM")])
    a, b = relation_keys(alice), relation_keys(bob)
    assert len(a & b) == 1 and a & b == {((text.index("dozens"), text.index(" died"), "CASUALTY"), "CLAIMED_BY",
                                          (text.index("A spokesman"), text.index(" said"), "CLAIM_SOURCE"))}
    assert [t["text"] for t in doccano_relation_types(SCHEMA)] == SCHEMA.relation_names
    assert doccano_relation_types(SCHEMA)[0]["background_color"] == SCHEMA.relations[0].color
