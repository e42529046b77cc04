#!/usr/bin/env bash
# Rasa's own tests on the trained model: the end-to-end test stories (fail on any prediction
# error) and the NLU held-out gate (intent macro-F1 >= 0.90, kommune entity F1 >= 0.95).
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
MODEL=models/traeningsguide.tar.gz
quiet() { grep --line-buffered -v -e "Warning" -e "warn(" -e "declare_namespace" -e "pkg_resources" -e "^  " -e "xla_computation" ; }

echo "== End-to-end test stories (tests/test_stories.yml)"
set +e
.venv/bin/rasa test core --e2e --model "$MODEL" --stories tests/test_stories.yml --out build/stories \
    --fail-on-prediction-errors 2>&1 | quiet
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
    echo "ERROR: test stories failed (exit $status); mispredicted stories: build/stories/failed_test_stories.yml" >&2
    cat build/stories/failed_test_stories.yml >&2 2>/dev/null || true
    exit "$status"
fi
grep -h -E "Correct:|Accuracy|F1-Score" build/stories/*.txt 2>/dev/null | head -5 || true

echo "== NLU held-out set (tests/nlu/heldout.yml, never trained on)"
rm -rf build/nlu-heldout  # no report of an earlier pipeline may be read by the gate
set +e
.venv/bin/rasa test nlu --model "$MODEL" --nlu tests/nlu/heldout.yml --out build/nlu-heldout 2>&1 | quiet >/dev/null
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "ERROR: rasa test nlu failed (exit $status)" >&2; exit "$status"; }
.venv/bin/python scripts/nlu_gate.py build/nlu-heldout
