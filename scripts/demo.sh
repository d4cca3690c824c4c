#!/usr/bin/env bash
# The main job end to end on the shipped sample, in this checkout as the workspace:
#   set up → ingest the sample (and the seed article when ../shared is beside the checkout) → pattern
#   suggestions → local doccano up → push articles + suggestions → pull every annotator's layer →
#   export a Hugging Face dataset and spaCy DocBins → train a small baseline → serve its suggestions (model +
#   patterns) on 127.0.0.1 → point doccano's auto-labeling at it → a second annotator triggers auto-labeling as
#   the web UI does → pull: that annotator's own layer holds the suggestions.
# Rerunning it is safe: every step is idempotent. The doccano server stays up for annotators at the end;
# stop it with `.venv/bin/newsner doccano down` (and the model server with `.venv/bin/newsner serve down`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NEWSNER_DOCCANO_VENV=${NEWSNER_DOCCANO_VENV:-$PWD/.newsner/venv-doccano}
newsner() { echo "+ newsner $*" >&2; .venv/bin/newsner "$@"; }

inputs=(corpus/raw)
[ -d ../shared/data/seed ] && inputs+=(../shared/data/seed)
newsner ingest "${inputs[@]}"
newsner corpus stats
newsner pre-annotate

newsner doccano install
newsner doccano up
newsner doccano push --with-annotations annotations/suggestions/patterns.jsonl
newsner doccano pull

# Nobody has confirmed anything yet, so the demo exports the admin layer (the pushed suggestions) as it is.
newsner export hf --out exports/hf --layer admin --include-unconfirmed
newsner export spacy --out exports/spacy --layer admin --include-unconfirmed
newsner train --data exports/spacy --max-steps 200
newsner report --out exports/report.html

# Model in the loop: suggestions in every annotator's own layer through doccano's auto-labeling.
newsner serve up --model models/baseline/model-best --patterns annotations/patterns/conflict.jsonl
newsner serve status
newsner doccano push --auto-label
# A user that does not exist yet (a rerun cannot log in as an earlier run's user: passwords are never kept).
ANNOTATOR=$(.venv/bin/python - "${NEWSNER_DEMO_ANNOTATOR:-annotator2}" <<'PY'
import secrets, sys

from newsner.doccano.config import connect
from newsner.workspace import Workspace

name = sys.argv[1]
with connect(Workspace.at(".")) as admin:
    while admin.find_user(name) is not None:
        name = f"{sys.argv[1]}-{secrets.token_hex(2)}"
print(name)
PY
)
# A random password, only in this shell's environment: never printed, never written to a file.
NEWSNER_NEW_USER_PASSWORD=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(18))')
export NEWSNER_NEW_USER_PASSWORD
newsner doccano users add "$ANNOTATOR" --role annotator
# The annotator opens every document with auto-labeling on, as in doccano's editor (a person, not a newsner step).
echo "+ as $ANNOTATOR: scripts/annotator_opens.py (what doccano's editor asks when auto-labeling is on)" >&2
NEWSNER_ANNOTATOR_PASSWORD=$NEWSNER_NEW_USER_PASSWORD .venv/bin/python scripts/annotator_opens.py "$ANNOTATOR"
unset NEWSNER_NEW_USER_PASSWORD
newsner doccano pull
suggested=$(.venv/bin/python -c 'import json, sys; print(sum(len(json.loads(l)["spans"]) for l in open(sys.argv[1])))' \
  "annotations/$ANNOTATOR.jsonl")
echo "$ANNOTATOR's own layer (annotations/$ANNOTATOR.jsonl) holds $suggested suggested span(s) from newsner serve"
[ "$suggested" -gt 0 ]

newsner doccano status
echo
echo "Open the URL above and log in as 'admin' (password in .newsner/doccano/credentials.json, mode 0600) to see"
echo "project 'newsner' with the suggestions. Give each annotator an account of their own:"
echo "  NEWSNER_NEW_USER_PASSWORD=... .venv/bin/newsner doccano users add NAME --role annotator"
echo "(in the default one-layer-per-annotator project only the pushing account sees suggestions; push with"
echo " --collaborative to share them). Then: .venv/bin/newsner doccano pull && .venv/bin/newsner export hf --out exports/hf --layer NAME"
echo "Annotators get suggestions in their own layer by switching auto-labeling on in the editor (newsner serve"
echo "must run). Stop the servers with: .venv/bin/newsner serve down && .venv/bin/newsner doccano down"
