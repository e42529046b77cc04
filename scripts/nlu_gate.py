"""Gate the NLU on the held-out set: print the per-intent table, fail below the thresholds.

    python scripts/nlu_gate.py build/nlu-heldout   # the --out folder of `rasa test nlu`

Intent macro-F1 must be >= 0.90 and the `kommune` entity F1 >= 0.95.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nlu_report import entity_report

MIN_INTENT_MACRO_F1 = 0.90
MIN_KOMMUNE_F1 = 0.95


def main(report_dir: Path) -> int:
    intents = json.loads((report_dir / "intent_report.json").read_text(encoding="utf-8"))
    entities = entity_report(report_dir)
    if not entities:
        print(f"no entity report in {report_dir}", file=sys.stderr)
        return 1

    print(f"{'intent':<22} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}  confused with")
    for name, row in sorted(intents.items()):
        if not isinstance(row, dict) or "f1-score" not in row or name.endswith(" avg"):
            continue
        confused = ", ".join(f"{k} ({v})" for k, v in (row.get("confused_with") or {}).items())
        print(f"{name:<22} {row['precision']:>6.3f} {row['recall']:>6.3f} {row['f1-score']:>6.3f} "
              f"{row['support']:>4}  {confused}")
    macro = intents["macro avg"]["f1-score"]
    accuracy = intents.get("accuracy")
    print(f"\nintent macro-F1 {macro:.3f} (gate {MIN_INTENT_MACRO_F1}), accuracy {accuracy:.3f}")
    print(f"\n{'entity':<10} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}")
    for name, row in sorted(entities.items()):
        if isinstance(row, dict) and "f1-score" in row and not name.endswith(" avg"):
            print(f"{name:<10} {row['precision']:>6.3f} {row['recall']:>6.3f} {row['f1-score']:>6.3f} "
                  f"{row['support']:>4}")
    kommune = entities.get("kommune", {}).get("f1-score", 0.0)
    print(f"\nkommune entity F1 {kommune:.3f} (gate {MIN_KOMMUNE_F1})")
    failed = []
    if macro < MIN_INTENT_MACRO_F1:
        failed.append(f"intent macro-F1 {macro:.3f} < {MIN_INTENT_MACRO_F1}")
    if kommune < MIN_KOMMUNE_F1:
        failed.append(f"kommune entity F1 {kommune:.3f} < {MIN_KOMMUNE_F1}")
    if failed:
        print("NLU GATE FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    print("NLU gate passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/nlu-heldout")))
