#!/usr/bin/env bash
# make cluster-test: Rasa's scale-out on one machine, with real servers on loopback.
#
# Installs (only if missing) Debian's redis-server, postgresql and nginx; starts PostgreSQL (tracker
# store), Redis (lock store), one action server, two Rasa replicas with deploy/endpoints.cluster.yml
# and nginx (deploy/nginx.conf) in front; then scripts/cluster_test.py sends 200 turns in 20
# conversations through nginx, with consecutive turns of a conversation on different replicas, then
# 40 in pairs sent at the same instant to both replicas (each pair must be processed one after the
# other: none may be lost from the tracker store), and checks every answer, its context and the
# replicas' logs. Everything runs on free ports with its
# data under build/cluster/ and is stopped and removed at the end, also on failure or Ctrl-C.
# Logs and the report stay in build/cluster/logs/. Exit status non-zero on any failure.
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
cd "$(dirname "$0")/.."
ROOT="$PWD"
DIR="$ROOT/build/cluster"
LOGS="$DIR/logs"
RASA=.venv/bin/rasa
PY=.venv/bin/python
MODEL=models/traeningsguide.tar.gz
started=$(date +%s.%N)

say() { echo "cluster-test: $*"; }
die() { echo "cluster-test: ERROR: $*" >&2; exit 1; }
elapsed() { $PY -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }

[ -x "$RASA" ] || die "no .venv: run make install"
[ -f "$MODEL" ] || die "no $MODEL: run make train"
mkdir -p build

# --- 1. Debian packages, only what is missing ---------------------------------------------------
pg_bin() { { ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true; } | sort -V | tail -n 1; }
missing=()
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: run as root or apt-get install ${missing[*]}"
    say "installing ${missing[*]} from Debian's packages"
    t=$(date +%s.%N)
    export DEBIAN_FRONTEND=noninteractive
    apt=(apt-get -q -y -o DPkg::Lock::Timeout=600 --no-install-recommends)
    # Package lists may be absent on a fresh machine; update only then or if the install fails.
    if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || ! "${apt[@]}" install "${missing[@]}" >"$ROOT/build/cluster-apt.log" 2>&1; then
        "${apt[@]}" update >>"$ROOT/build/cluster-apt.log" 2>&1 || die "apt-get update failed: see build/cluster-apt.log"
        "${apt[@]}" install "${missing[@]}" >>"$ROOT/build/cluster-apt.log" 2>&1 \
            || die "apt-get install ${missing[*]} failed: see build/cluster-apt.log"
    fi
    say "installed in $(elapsed "$t") s"
fi
PGBIN="$(pg_bin)"
id postgres >/dev/null 2>&1 || die "no postgres user (the postgresql package creates it)"

# --- 2. Clean state, free ports, secrets --------------------------------------------------------
pids=()
pg_started=0
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    set +e
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$pg_started" = 1 ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/pg/data" -m fast -w stop >/dev/null 2>&1
    fi
    rm -rf "$DIR/pg" "$DIR/redis" "$DIR/nginx"
    say "stopped everything and removed the data; logs in build/cluster/logs/ ($(elapsed "$started") s in all)"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -f "$DIR/pg/data/postmaster.pid" ]; then  # left over from a run that was killed hard
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
fi
rm -rf "$DIR"
mkdir -p "$LOGS" "$DIR/redis" "$DIR/nginx/logs" "$DIR/nginx/tmp"
read -r PG_PORT REDIS_PORT NGINX_PORT RASA1_PORT RASA2_PORT ACTION_PORT < <($PY - <<'EOF'
import socket
held = [socket.socket() for _ in range(6)]
for s in held:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in held))
EOF
)
PG_PASSWORD="$($PY -c 'import secrets; print(secrets.token_hex(16))')"
REDIS_PASSWORD="$($PY -c 'import secrets; print(secrets.token_hex(16))')"

wait_for() {  # wait_for <what> <pid> <seconds> <command...>: until the command succeeds
    local what=$1 pid=$2 seconds=$3; shift 3
    local deadline=$(( $(date +%s) + seconds ))
    until "$@" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || die "$what exited during start-up: see build/cluster/logs/"
        [ "$(date +%s)" -lt "$deadline" ] || die "$what did not come up in $seconds s: see build/cluster/logs/"
        sleep 0.5
    done
}
http_ok() { $PY -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1"; }

# --- 3. PostgreSQL (as the postgres user: it refuses to run as root) -----------------------------
t=$(date +%s.%N)
install -d -o postgres -g postgres -m 700 "$DIR/pg" "$DIR/pg/data" "$DIR/pg/run"
touch "$LOGS/postgresql.log" && chown postgres:postgres "$LOGS/postgresql.log"
runuser -u postgres -- "$PGBIN/initdb" -D "$DIR/pg/data" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 >"$LOGS/initdb.log" 2>&1 || die "initdb failed: see $LOGS/initdb.log"
pg_started=1
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/pg/data" -l "$LOGS/postgresql.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $DIR/pg/run" start >/dev/null \
    || die "PostgreSQL did not start: see $LOGS/postgresql.log"
runuser -u postgres -- "$PGBIN/psql" -q -v ON_ERROR_STOP=1 -h "$DIR/pg/run" -p "$PG_PORT" -d postgres \
    -c "CREATE ROLE traeningsguide LOGIN PASSWORD '$PG_PASSWORD'" \
    -c "CREATE DATABASE traeningsguide OWNER traeningsguide" >/dev/null
say "PostgreSQL $("$PGBIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$PG_PORT ($(elapsed "$t") s)"

# --- 4. Redis -------------------------------------------------------------------------------------
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR/redis" --save "" --appendonly no \
    --requirepass "$REDIS_PASSWORD" --logfile "$LOGS/redis.log" --daemonize no &
pids+=($!)
REDISCLI_AUTH="$REDIS_PASSWORD" wait_for Redis "${pids[-1]}" 30 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
say "Redis $(redis-server --version | awk '{print $3}' | tr -d 'v=') on 127.0.0.1:$REDIS_PORT"

# --- 5. One action server and two Rasa replicas ----------------------------------------------------
export TRACKER_STORE_URL="postgresql://traeningsguide:$PG_PASSWORD@127.0.0.1:$PG_PORT/traeningsguide"
export REDIS_HOST=127.0.0.1 REDIS_PORT REDIS_PASSWORD
export ACTION_ENDPOINT_URL="http://127.0.0.1:$ACTION_PORT/webhook"
# the replicas sweep for conversations past retention every 2 s here (hourly by default), so the test
# can see a conversation 31 days old deleted from PostgreSQL while they run
export TRAENINGSGUIDE_RETENTION_SWEEP_SECONDS=2
t=$(date +%s.%N)
"$RASA" run actions --actions actions --port "$ACTION_PORT" >"$LOGS/actions.log" 2>&1 &
pids+=($!); action_pid=$!
replica_pids=()
for port in "$RASA1_PORT" "$RASA2_PORT"; do
    "$RASA" run --model "$MODEL" --endpoints deploy/endpoints.cluster.yml --credentials credentials.yml \
        --port "$port" --cors "*" >"$LOGS/rasa-$port.log" 2>&1 &
    pids+=($!); replica_pids+=($!)
done
wait_for "the action server" "$action_pid" 120 http_ok "http://127.0.0.1:$ACTION_PORT/health"
wait_for "Rasa replica 1" "${replica_pids[0]}" 300 http_ok "http://127.0.0.1:$RASA1_PORT/"
wait_for "Rasa replica 2" "${replica_pids[1]}" 300 http_ok "http://127.0.0.1:$RASA2_PORT/"
say "action server on :$ACTION_PORT, Rasa replicas on :$RASA1_PORT and :$RASA2_PORT ($(elapsed "$t") s to start)"

# --- 6. nginx in front ------------------------------------------------------------------------------
$PY - "$DIR/nginx" "127.0.0.1:$NGINX_PORT" "$RASA1_PORT" "$RASA2_PORT" <<'EOF'
import json
import sys
from pathlib import Path
from channels.replies import request_error
prefix, listen, *ports = sys.argv[1:]
servers = "\n        ".join(f"server 127.0.0.1:{p};" for p in ports)
too_large = json.dumps({"error": request_error("error_too_large")}, ensure_ascii=False).replace("'", "\\'")
conf = Path("deploy/nginx.conf").read_text()
conf = conf.replace("@PREFIX@", prefix).replace("@LISTEN@", listen).replace("@SERVERS@", servers)
conf = conf.replace("@TOO_LARGE@", too_large)
Path(prefix, "nginx.conf").write_text(conf)
EOF
/usr/sbin/nginx -t -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" >"$LOGS/nginx-check.log" 2>&1 \
    || die "nginx rejected the configuration: $(cat "$LOGS/nginx-check.log")"
/usr/sbin/nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -g "daemon off;" >"$LOGS/nginx.log" 2>&1 &
pids+=($!)
wait_for nginx "${pids[-1]}" 30 http_ok "http://127.0.0.1:$NGINX_PORT/"
say "nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*nginx\///') on 127.0.0.1:$NGINX_PORT"

# --- 7. The conversations -----------------------------------------------------------------------------
rss() { ps -o rss= -p "$1" | awk '{printf "%d", $1 / 1024}'; }
status=0
$PY scripts/cluster_test.py --nginx "http://127.0.0.1:$NGINX_PORT" \
    --replica "127.0.0.1:$RASA1_PORT=$LOGS/rasa-$RASA1_PORT.log" \
    --replica "127.0.0.1:$RASA2_PORT=$LOGS/rasa-$RASA2_PORT.log" \
    --action-log "$LOGS/actions.log" --report "$LOGS/report.json" \
    --scan "$LOGS" --scan "$DIR/nginx/logs" || status=$?
say "RSS after the test: replica 1 $(rss "${replica_pids[0]}") MB, replica 2 $(rss "${replica_pids[1]}") MB, action server $(rss "$action_pid") MB"
[ "$status" -eq 0 ] && say "PASSED" || say "FAILED"
exit "$status"
