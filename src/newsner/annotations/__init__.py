"""Annotation records: import from other formats, validation against the corpus, agreement, adjudication.

Layers live in annotations/<layer>.jsonl (`AnnotationStore`). Annotator layers are every layer except the
adjudicated ``gold`` and the derived ``majority``. One module per job:

- `importing`: doccano / CoNLL / re3d files → corpus articles + layer records (`import_annotations`).
- `validate`: every record against the corpus and the schema (`validate_annotations`).
- `agreement`: pairwise F1 (strict, overlap), κ/α over tokens, confusion, worst documents (`agreement_report`).
- `adjudicate`: automatic gold by span-level majority vote (`adjudicate`, `majority_vote`).
"""

from newsner.annotations.adjudicate import AdjudicationReport, VoteResult, adjudicate, majority_vote
from newsner.annotations.agreement import (
    AgreementReport,
    DocumentDisagreement,
    LabelAgreement,
    PairAgreement,
    agreement,
    agreement_report,
)
from newsner.annotations.importing import (
    ImportReport,
    detect_format,
    expand_inputs,
    import_annotations,
    parse_label_map,
)
from newsner.annotations.layers import DERIVED_LAYERS, MAJORITY, annotator_layers, load_layers, records_by_document
from newsner.annotations.validate import LayerCheck, validate_annotations

__all__ = [
    "DERIVED_LAYERS", "MAJORITY", "AdjudicationReport", "AgreementReport", "DocumentDisagreement", "ImportReport",
    "LabelAgreement", "LayerCheck", "PairAgreement", "VoteResult", "adjudicate", "agreement", "agreement_report",
    "annotator_layers", "detect_format", "expand_inputs", "import_annotations", "load_layers", "majority_vote",
    "parse_label_map", "records_by_document", "validate_annotations",
]
