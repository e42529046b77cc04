#!/usr/bin/env bash
# make run / make shell: train if needed, start the action server and Rasa; Ctrl-C stops both.
#   RASA_PORT (default 5005), ACTION_PORT (default 5055), WEB_PORT (default 8000) override the ports;
#   TRACKER_DB (default build/tracker.db) is the SQLite file that keeps the conversations;
#   TRACKER_STORE_URL=postgresql://user:pass@host:port/db keeps them in PostgreSQL instead
#   (deploy/endpoints.postgres.yml);
#   REDIS_HOST (REDIS_PORT, REDIS_PASSWORD) adds a Redis lock store, which Rasa needs to run more
#   than one process: SANIC_WORKERS=2 REDIS_HOST=127.0.0.1 make run (deploy/endpoints.workers.yml,
#   or deploy/endpoints.cluster.yml together with TRACKER_STORE_URL).
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"  # hide TensorFlow start-up chatter
cd "$(dirname "$0")/.."

MODE="${1:-server}"           # server | shell
RASA_PORT="${RASA_PORT:-5005}"
ACTION_PORT="${ACTION_PORT:-5055}"
WEB_PORT="${WEB_PORT:-8000}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://localhost:${ACTION_PORT}/webhook}"
export TRACKER_DB="${TRACKER_DB:-build/tracker.db}"
mkdir -p "$(dirname "$TRACKER_DB")"
ENDPOINTS=endpoints.yml
if [ -n "${TRACKER_STORE_URL:-}" ]; then
    export TRACKER_STORE_URL="${TRACKER_STORE_URL/#postgres:\/\//postgresql://}"  # SQLAlchemy's name
    ENDPOINTS=deploy/endpoints.postgres.yml
    echo "Conversations are kept in PostgreSQL (TRACKER_STORE_URL)"
fi
if [ -n "${REDIS_HOST:-}" ]; then
    export REDIS_PORT="${REDIS_PORT:-6379}" REDIS_PASSWORD="${REDIS_PASSWORD:-}"
    if [ -n "${TRACKER_STORE_URL:-}" ]; then ENDPOINTS=deploy/endpoints.cluster.yml; else ENDPOINTS=deploy/endpoints.workers.yml; fi
    echo "Redis lock store at ${REDIS_HOST}:${REDIS_PORT}; Rasa workers: ${SANIC_WORKERS:-1} (SANIC_WORKERS)"
fi
RASA=.venv/bin/rasa
MODEL=models/traeningsguide.tar.gz

# Fail fast: a broken knowledge base (knowledge/, or TRAENINGSGUIDE_KNOWLEDGE) stops here with the
# validation error ('file: field: problem'), before anything is trained or started.
.venv/bin/python -c '
import sys
from traeningsguide.knowledge import KnowledgeError, knowledge
try:
    knowledge()
except KnowledgeError as exc:
    sys.exit(f"The knowledge base is broken; nothing was started.\n{exc}")
'

bash scripts/train.sh

pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup INT TERM EXIT

echo "Starting the action server on port $ACTION_PORT"
"$RASA" run actions --port "$ACTION_PORT" --actions actions &
pids+=($!)

if [ "$MODE" != "shell" ]; then
    .venv/bin/python scripts/build_web.py build/web --server "http://localhost:${RASA_PORT}" >/dev/null
    .venv/bin/python scripts/serve_web.py build/web --port "$WEB_PORT" &
    pids+=($!)
    echo "Demo pages and the call-center lookup page: http://localhost:${WEB_PORT}/"
fi

if [ "$MODE" = "shell" ]; then
    "$RASA" shell --model "$MODEL" --endpoints "$ENDPOINTS" --port "$RASA_PORT"
else
    echo "Starting Rasa on port $RASA_PORT: REST at http://localhost:${RASA_PORT}/webhooks/rest/webhook, socket.io at /socket.io"
    "$RASA" run --model "$MODEL" --port "$RASA_PORT" --cors "*" \
        --credentials credentials.yml --endpoints "$ENDPOINTS" &
    pids+=($!)
    wait -n "${pids[@]}"
fi
