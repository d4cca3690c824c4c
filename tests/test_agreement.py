"""Agreement: strict/overlap F1, κ/α over tokens, confusion, worst documents, and no score on zero documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from newsner.annotations import agreement_report, import_annotations
from newsner.workspace import Workspace

TEXT = "Fighters of the FLA entered Kidal on Monday, said Ahmed Ag."


def _span(word: str, label: str, text: str = TEXT, cut: int = 0) -> list:
    start = text.index(word)
    return [start, start + len(word) - cut, label]


def _layer(ws: Workspace, tmp_path: Path, name: str, docs: list[tuple[str, list]], *, confirmed: bool = True) -> None:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": spans}) + "\n" for t, spans in docs))
    import_annotations(ws, [path], fmt="doccano", annotator=name, status="confirmed" if confirmed else "unconfirmed")


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    return Workspace.at(workspace)


def test_two_annotators_on_one_unconfirmed_document_get_no_score_and_a_hint(ws: Workspace, tmp_path: Path,
                                                                          cli) -> None:  # type: ignore[no-untyped-def]
    _layer(ws, tmp_path, "alice", [(TEXT, [_span("Kidal", "LOCATION")])], confirmed=False)
    _layer(ws, tmp_path, "bob", [(TEXT, [_span("FLA", "ACTOR")])], confirmed=False)
    report = agreement_report(ws)
    (pair,) = report.pairs
    assert report.documents == 0 and pair.documents == 0
    assert pair.overall.f1 is None and pair.kappa is None and report.chance_corrected is None
    assert "--include-unconfirmed" in report.notes[0] and "1 document" in report.notes[0]
    out = cli("annotations", "agreement")
    assert out.exit_code == 0
    assert "1.000" not in out.stdout and "pass --include-unconfirmed" in out.stdout
    real = agreement_report(ws, include_unconfirmed=True)
    assert real.documents == 1 and real.pairs[0].overall.f1 == 0.0


def test_strict_overlap_kappa_confusion_and_worst_documents(ws: Workspace, tmp_path: Path) -> None:
    other = "Troops reached Gao and Menaka; the MSA welcomed them."
    _layer(ws, tmp_path, "alice", [
        (TEXT, [_span("FLA", "ACTOR"), _span("Kidal", "LOCATION"), _span("Ahmed Ag", "CLAIM_SOURCE")]),
        (other, [_span("Gao", "LOCATION", other), _span("Menaka", "LOCATION", other)])])
    _layer(ws, tmp_path, "bob", [
        # FLA same; "Kida" overlaps Kidal (overlap match only); Ahmed Ag labelled ACTOR instead.
        (TEXT, [_span("FLA", "ACTOR"), _span("Kidal", "LOCATION", cut=1), _span("Ahmed Ag", "ACTOR")]),
        (other, [_span("Gao", "LOCATION", other), _span("Menaka", "LOCATION", other)])])
    report = agreement_report(ws)
    (pair,) = report.pairs
    assert pair.documents == 2 and report.documents == 2
    assert (pair.overall.matched, pair.overall.a, pair.overall.b) == (3, 5, 5)  # FLA, Gao, Menaka
    assert pair.overlap.matched == 4  # + Kidal/Kida
    by_label = {la.label: la for la in pair.overlap_per_label}
    strict_location = {la.label: la for la in pair.per_label}["LOCATION"]
    assert by_label["LOCATION"].f1 == 1.0 and strict_location.f1 == pytest.approx(2 / 3)
    assert report.confusion[("CLAIM_SOURCE", "ACTOR")] == 1 and report.confusion[("ACTOR", "ACTOR")] == 1
    assert report.chance_corrected_method == "cohen_kappa" and report.chance_corrected == pair.kappa
    # Same figure as scikit-learn on the token tags written out by hand (Kidal vs Kida still tags token Kidal).
    tags_a = ["O"] * 3 + ["ACTOR"] + ["O"] + ["LOCATION"] + ["O"] * 4 + ["CLAIM_SOURCE"] * 2 + ["O"]
    tags_b = ["O"] * 3 + ["ACTOR"] + ["O"] + ["LOCATION"] + ["O"] * 4 + ["ACTOR"] * 2 + ["O"]
    tags_other = ["O", "O", "LOCATION", "O", "LOCATION", "O", "O", "O", "O", "O", "O"]
    assert pair.kappa == pytest.approx(cohen_kappa_score(tags_a + tags_other, tags_b + tags_other))
    (worst,) = report.most_disagreement  # the second document agrees fully
    assert worst.disputed == 4 and worst.agreed == 1 and worst.annotators == ["alice", "bob"]


def test_three_annotators_get_krippendorffs_alpha(ws: Workspace, tmp_path: Path) -> None:
    import krippendorff

    _layer(ws, tmp_path, "a", [(TEXT, [_span("Kidal", "LOCATION")])])
    _layer(ws, tmp_path, "b", [(TEXT, [_span("Kidal", "LOCATION")])])
    _layer(ws, tmp_path, "c", [(TEXT, [_span("Kidal", "ACTOR")])])
    report = agreement_report(ws)
    assert report.chance_corrected_method == "krippendorff_alpha" and len(report.pairs) == 3
    n = 13  # tokens of TEXT (the comma and the full stop are tokens); Kidal is token 5
    row = [0.0] * n
    rows = [list(row), list(row), list(row)]
    rows[0][5] = rows[1][5] = 2.0  # LOCATION's code ([O, *labels]: ACTOR 1, LOCATION 2)
    rows[2][5] = 1.0
    assert report.chance_corrected == pytest.approx(krippendorff.alpha(reliability_data=rows,
                                                                       level_of_measurement="nominal"))
