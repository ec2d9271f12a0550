#!/usr/bin/env bash
# `make run`: the import worker beside the development server, in one command. Ctrl-C (or
# the server stopping for any reason) stops both.
#   bash scripts/run-dev.sh [PYTHON] [ADDRESS:PORT]
set -euo pipefail
PY=${1:-.venv/bin/python}
ADDRESS=${2:-127.0.0.1:8000}

# Without the autoreloader: its child would outlive a `kill` of the parent.
"$PY" manage.py import_worker --no-reload &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT
"$PY" manage.py runserver "$ADDRESS"
