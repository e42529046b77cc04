#!/usr/bin/env bash
# make install: a Python 3.10 virtualenv in .venv with the pinned packages, and the Danish spaCy
# pipeline in build/spacy-da. A second run only checks the stamp (seconds).
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"  # hide TensorFlow start-up chatter
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.install-stamp"
PIPELINE=build/spacy-da
want="$(cat pyproject.toml constraints.txt scripts/install.sh scripts/build_spacy_da.py | sha256sum | cut -d' ' -f1)"

# Quick path: same inputs as the last full install, and the venv really works (its Python 3.10
# starts and finds the packages; tens of milliseconds). Anything else falls through to a full install.
quick_check='import sys, importlib.util as u
ok = sys.version_info[:2] == (3, 10) and all(u.find_spec(m) for m in ("rasa", "rasa_sdk", "spacy", "traeningsguide", "pytest", "yaml"))
sys.exit(0 if ok else 1)'
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -f "$PIPELINE/meta.json" ] && [ -x "$VENV/bin/ruff" ] \
   && "$VENV/bin/python" -c "$quick_check" 2>/dev/null; then
    echo "install: up to date (.venv on $("$VENV/bin/python" --version), spaCy pipeline in $PIPELINE)"
    exit 0
fi

echo "[1/4] Looking for Python 3.10"
PY310="$(bash scripts/find_python310.sh)"
echo "      using $PY310 ($("$PY310" --version))"

if [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -c 'import sys; print(sys.version_info[:2] == (3, 10))')" != "True" ]; then
    echo "      .venv has another Python; recreating it"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "[2/4] Creating $VENV"
    "$PY310" -m venv "$VENV"
else
    echo "[2/4] Reusing $VENV"
fi

echo "[3/4] Installing pinned packages (Rasa 3.6.21, spaCy 3.4.4, ...); the first run takes a few minutes"
"$VENV/bin/python" -m pip install --quiet --upgrade pip  # setuptools/wheel come pinned from constraints.txt
set +e
"$VENV/bin/python" -m pip install --progress-bar on -c constraints.txt -e '.[dev]' 2>&1 \
    | grep --line-buffered -v -e "^WARNING: Location 'file:" -e "^  DEPRECATION: " -e "^Requirement already satisfied"
pip_status=${PIPESTATUS[0]}
set -e
if [ "$pip_status" -ne 0 ]; then
    echo "ERROR: pip install failed (exit $pip_status); see the messages above." >&2
    exit "$pip_status"
fi
"$VENV/bin/python" -m pip check >/dev/null || { "$VENV/bin/python" -m pip check; exit 1; }
import_log="$(mktemp)"
"$VENV/bin/python" -c 'import rasa, rasa_sdk, spacy; print("      rasa", rasa.__version__, "| rasa-sdk", rasa_sdk.__version__, "| spacy", spacy.__version__)' \
    2>"$import_log" || { cat "$import_log" >&2; echo "ERROR: the installed packages do not import (above)." >&2; exit 1; }
rm -f "$import_log"

echo "[4/4] Building the Danish spaCy pipeline in $PIPELINE"
"$VENV/bin/python" scripts/build_spacy_da.py "$PIPELINE"

echo "$want" > "$STAMP"
echo "install: done"
