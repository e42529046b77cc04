#!/usr/bin/env bash
# rasa data validate, failing on any warning except the explained ones below.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" SQLALCHEMY_SILENCE_UBER_WARNING=1
# Explained warnings:
#  - utter_default: sent by Rasa's own action_default_fallback (RulePolicy core fallback), not by a rule.
#  - utter_error: sent by action_answer when even its error reply cannot be built (actions/actions.py).
#  - feedback: only the chat's rating buttons send it, as a /feedback{...} payload; with no NLU examples
#    no typed message is ever read as a rating.
allowed="The utterance 'utter_default' is not used|The utterance 'utter_error' is not used|The intent 'feedback' is listed in the domain file, but is not found in the NLU training data"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
.venv/bin/rasa data validate --domain domain.yml --data data --config config.yml >"$log" 2>&1
status=$?
set -e
# data problems come as UserWarnings or as rasa log lines at level WARNING/ERROR
warnings="$(grep -E "UserWarning|^[0-9-]+ [0-9:]+ +(WARNING|ERROR) " "$log" | grep -v -E "$allowed" || true)"
grep -E "rasa.validator" "$log" || true
if [ "$status" -ne 0 ] || [ -n "$warnings" ]; then
    cat "$log" >&2
    echo "ERROR: rasa data validate: exit $status; unexplained warnings:" >&2
    echo "$warnings" >&2
    exit 1
fi
echo "validate: rasa data validate passed (3 explained warnings: utter_default, utter_error, feedback)"
