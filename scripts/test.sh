#!/usr/bin/env bash
# Set up everything the tests need (project venv, doccano's own venv, the system Chromium) and run them.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k ingest -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
# playwright drives the system's Chromium (tests/test_report_browser.py); it must never fetch a browser itself.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# The tests run Ray Data in local mode (ingest/pre-annotate --engine ray) and fine-tune a tiny transformer built on
# the spot (train --engine transformers): the optional `ray` and `transformers` extras are installed.
NEWSNER_EXTRAS=dev,ray,transformers bash scripts/setup.sh
# doccano 1.8.4 cannot share newsner's venv (see notes/doccano.md): it gets its own, built on the first run
# (1-2 minutes) and reused afterwards. The session fixture in tests/fixtures/doccano.py runs the server from it.
export NEWSNER_DOCCANO_VENV="${NEWSNER_DOCCANO_VENV:-$PWD/.newsner/venv-doccano}"
.venv/bin/newsner doccano install
# The report's browser test needs Chromium from the system's packages. CI runs as root on a clean Debian
# machine: install it there. Elsewhere say how; without it the test skips locally and fails under CI=true.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing chromium (system package) for the report's browser test" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test: chromium not found; the report's browser test will skip (install it: sudo apt-get install chromium)" >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
