"""Check one municipality file in isolation and show which source passages no quote covers.

    python scripts/kb_report.py koege

Content owners and developers use it while editing a file; `make test` runs the full checks.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from traeningsguide.coverage import coverage  # noqa: E402
from traeningsguide.knowledge import KNOWLEDGE_DIR, KnowledgeError, load_knowledge  # noqa: E402


def main(municipality_id: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "knowledge"
        shutil.copytree(KNOWLEDGE_DIR, base, ignore=shutil.ignore_patterns("municipalities"))
        (base / "municipalities").mkdir()
        shutil.copy(KNOWLEDGE_DIR / "municipalities" / f"{municipality_id}.yml", base / "municipalities")
        try:
            kb = load_knowledge(base)
        except KnowledgeError as exc:
            print(exc)
            return 1
    m = kb.municipalities[municipality_id]
    cov = coverage(kb, municipality_id)
    print(f"{m.name}: {len(m.facts)} facts, {len(m.not_stated)} not-stated entries, "
          f"{len(m.eligibility)} eligibility rules, {len(m.contacts)} contacts, {len(m.services)} services")
    print(f"source coverage: {cov.percent:.1f}% of letters; {len(cov.uncovered)} uncovered passage(s)")
    for passage in cov.uncovered:
        print("  UNCOVERED:", passage)
    return 0 if not cov.uncovered else 1


if __name__ == "__main__":
    known = sorted(p.stem for p in (KNOWLEDGE_DIR / "municipalities").glob("*.yml"))
    if len(sys.argv) != 2 or sys.argv[1] not in known:
        print(f"usage: python scripts/kb_report.py <municipality>   (one of: {', '.join(known)})", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
