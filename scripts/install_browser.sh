#!/usr/bin/env bash
# Browser-test tools (make test only): Debian's chromium, and axe-core and rasa-webchat from the npm registry.
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
# rasa-webchat (botfront's widget, the most used open-source Rasa web widget): its one-file bundle, for
# the browser test that holds a conversation through it over socket.io (no dependencies installed)
WEBCHAT=build/node/rasa-webchat/lib/index.js
if [ ! -f "$WEBCHAT" ]; then
    echo "browser: fetching rasa-webchat 1.0.1 (npm pack)"
    mkdir -p build/node/pack
    (cd build/node/pack && npm pack --silent rasa-webchat@1.0.1 >/dev/null)
    tar -xzf build/node/pack/rasa-webchat-1.0.1.tgz -C build/node
    mv build/node/package build/node/rasa-webchat
fi
[ -f "$WEBCHAT" ] || { echo "ERROR: rasa-webchat did not install" >&2; exit 1; }
echo "browser: $(/usr/bin/chromium --version 2>/dev/null | head -1), axe-core $(node -p "require('./build/node/node_modules/axe-core/package.json').version"), rasa-webchat $(node -p "require('./build/node/rasa-webchat/package.json').version")"
