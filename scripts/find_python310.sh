#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter, or explain what to install and exit 1.
# Rasa Open Source 3.6 runs on Python 3.8-3.10 only; the machine default may be newer.
set -euo pipefail

is_310() { [ -x "$1" ] && [ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "3.10" ]; }

candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
if command -v pyenv >/dev/null 2>&1; then
    root="$(pyenv root 2>/dev/null || true)"
    for dir in "$root"/versions/3.10*; do
        [ -d "$dir" ] && candidates+=("$dir/bin/python3.10" "$dir/bin/python")
    done
fi
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*; do
    [ -d "$dir" ] && candidates+=("$dir/bin/python3.10")
done
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
candidates+=(/usr/bin/python3.10 /usr/local/bin/python3.10)

for candidate in "${candidates[@]}"; do
    if is_310 "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done

default_version="$(python3 --version 2>&1 || echo 'no python3')"
cat >&2 <<MSG
ERROR: Træningsguide needs Python 3.10, and none was found.
  Rasa Open Source 3.6 runs only on Python 3.8-3.10; this machine's default is: ${default_version}.
  Install Python 3.10 with one of:
    pyenv install 3.10          (then run 'make install' again)
    apt-get install python3.10 python3.10-venv
  or point to an existing interpreter:  PYTHON310=/path/to/python3.10 make install
MSG
exit 1
