#!/usr/bin/env bash
# The main job end to end on the shipped sample: set up, ingest the sample articles (and the seed article
# when ../shared is beside the checkout) into corpus/, and show the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
newsner() { .venv/bin/newsner "$@"; }

inputs=(corpus/raw)
[ -d ../shared/data/seed ] && inputs+=(../shared/data/seed)
newsner ingest "${inputs[@]}" --source sample
newsner corpus stats
