#!/usr/bin/env bash
# Resolve pyproject.toml's dependencies afresh in a scratch venv and write constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY310="$(bash scripts/find_python310.sh)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY310" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --upgrade pip setuptools wheel
"$tmp/venv/bin/python" -m pip install --quiet '.[dev]'
"$tmp/venv/bin/python" -m pip check
{
    echo "# Exact versions of everything make install puts in .venv (pip constraints: pip install -c)."
    echo "# Made from a resolved install of pyproject.toml on Python 3.10; regenerate with: make lock"
    "$tmp/venv/bin/python" -m pip freeze --exclude traeningsguide
} > "$tmp/constraints.txt"
mv "$tmp/constraints.txt" constraints.txt  # only a complete freeze replaces the old file
echo "lock: wrote constraints.txt ($(grep -vc '^#' constraints.txt) packages)"
