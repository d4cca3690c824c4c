#!/usr/bin/env bash
# Create .venv and install newsner (with the test tools, and the extras in NEWSNER_EXTRAS, default "dev") into it.
# Reruns are quick: the install is skipped while pyproject.toml and the extras are unchanged.
# Needs only python3.11 (or python3 >= 3.10) and the package registry.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PY" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.newsner-installed
extras=${NEWSNER_EXTRAS:-dev}
want="$(sha256sum pyproject.toml | cut -c1-16) $extras"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing newsner and its dependencies into .venv (a few minutes the first time)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
  echo "$want" > "$stamp"
fi
