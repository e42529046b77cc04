#!/usr/bin/env bash
# Browser-test tools (make test only): Debian's chromium, and axe-core from the npm registry.
# Playwright for Python is a dev dependency (make install) and drives /usr/bin/chromium; it never
# downloads a browser of its own. A second run only checks (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
    echo "browser: installing Debian's chromium (apt-get)"
    if [ "$(id -u)" != 0 ]; then
        echo "ERROR: chromium is missing and installing it needs root: sudo apt-get install chromium" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi
AXE=build/node/node_modules/axe-core/axe.min.js
if [ ! -f "$AXE" ]; then
    echo "browser: installing axe-core 4.11 (npm)"
    mkdir -p build/node
    npm install --silent --no-audit --no-fund --prefix build/node axe-core@4.11.1 >/dev/null
fi
[ -f "$AXE" ] || { echo "ERROR: axe-core did not install" >&2; exit 1; }
echo "browser: $(/usr/bin/chromium --version 2>/dev/null | head -1), axe-core $(node -p "require('./build/node/node_modules/axe-core/package.json').version")"
