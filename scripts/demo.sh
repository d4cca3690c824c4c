#!/usr/bin/env bash
# The main job end to end on the shipped sample, in this checkout as the workspace:
#   set up → ingest the sample (and the seed article when ../shared is beside the checkout) → pattern
#   suggestions → local doccano up → push articles + suggestions → pull every annotator's layer →
#   export a Hugging Face dataset and spaCy DocBins → train a small baseline.
# Rerunning it is safe: every step is idempotent. The doccano server stays up for annotators at the end;
# stop it with `.venv/bin/newsner doccano down`.
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

newsner doccano status
echo
echo "Open the URL above and log in as 'admin' (password in .newsner/doccano/credentials.json, mode 0600) to see"
echo "project 'newsner' with the suggestions. Give each annotator an account of their own:"
echo "  NEWSNER_NEW_USER_PASSWORD=... .venv/bin/newsner doccano users add NAME --role annotator"
echo "(in the default one-layer-per-annotator project only the pushing account sees suggestions; push with"
echo " --collaborative to share them). Then: .venv/bin/newsner doccano pull && .venv/bin/newsner export hf --out exports/hf --layer NAME"
echo "Stop the server with: .venv/bin/newsner doccano down"
