#!/usr/bin/env bash
# Set up everything the tests need (project venv, doccano's own venv) and run them.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k ingest -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
