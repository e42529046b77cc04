#!/usr/bin/env bash
# redis-server for make test (tests/test_locks.py starts its own on a free loopback port): Debian's
# package, installed only if missing (apt-get, as root). A second run only checks (milliseconds).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null; then
    echo "redis: installing Debian's redis-server (apt-get)"
    if [ "$(id -u)" != 0 ]; then
        echo "ERROR: redis-server is missing and installing it needs root: sudo apt-get install redis-server" >&2
        exit 1
    fi
    mkdir -p build
    export DEBIAN_FRONTEND=noninteractive
    apt=(apt-get -q -y -o DPkg::Lock::Timeout=600 --no-install-recommends)
    # Package lists may be absent on a fresh machine; update only then or if the install fails.
    if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || ! "${apt[@]}" install redis-server >build/redis-apt.log 2>&1; then
        "${apt[@]}" update >>build/redis-apt.log 2>&1 || { echo "ERROR: apt-get update failed: see build/redis-apt.log" >&2; exit 1; }
        "${apt[@]}" install redis-server >>build/redis-apt.log 2>&1 \
            || { echo "ERROR: apt-get install redis-server failed: see build/redis-apt.log" >&2; exit 1; }
    fi
fi
echo "redis: $(redis-server --version | awk '{print $3}' | tr -d 'v=')"
