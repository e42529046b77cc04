"""NLU quality next to the speed figures: held-out report and k-fold cross-validation.

    .venv/bin/python scripts/nlu_report.py                       # held-out + 5-fold CV (~6 min)
    .venv/bin/python scripts/nlu_report.py --folds 0             # held-out only
    .venv/bin/python scripts/nlu_report.py --model M --config C  # another model / config (experiments)

Held-out (tests/nlu/heldout.yml, never trained on): per-intent precision/recall/F1, the most
frequent confusion pairs, entity F1, and the accuracy on the messages written without æ/ø/å
(ASCII spellings such as "koege", "genoptraening", "korsel"). Cross-validation: `rasa test nlu
--cross-validation` over the training data (data/nlu) with the given config.
Prints Markdown; `lines()` is used by scripts/bench.py to append it to bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent.parent
RASA = str(PROJECT / ".venv" / "bin" / "rasa")
HELDOUT = PROJECT / "tests" / "nlu" / "heldout.yml"
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\{[^}]*\}|\([^)]*\))")
_DANISH_LETTERS = re.compile(r"[æøåÆØÅ]")


def strip_annotations(text: str) -> str:
    """Rasa training-data text without its entity annotations: "[Køge](kommune)" -> "Køge"."""
    return _ANNOTATION.sub(r"\1", text).strip()


def heldout_messages(path: Path = HELDOUT) -> list[tuple[str, str]]:
    """(plain text, intent) for every held-out example."""
    result = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                result.append((strip_annotations(line[2:]), block["intent"]))
    return result


def _run(args: list[str], log: Path) -> str:
    log.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(args, cwd=PROJECT, capture_output=True, text=True,
                            env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({result.returncode}); see {log}")
    return result.stdout + result.stderr


def entity_report(folder: Path) -> dict:
    """The entity report of a `rasa test nlu` folder: the extractor's (CRFEntityExtractor), or a
    classifier's if no extractor reported; {} if there is none."""
    files = sorted(folder.glob("*Extractor_report.json")) or sorted(folder.glob("*Classifier_report.json"))
    return json.loads(files[0].read_text(encoding="utf-8")) if files else {}


def heldout_lines(model: Path, out: Path) -> list[str]:
    folder = out / "heldout"
    _run([RASA, "test", "nlu", "--model", str(model), "--nlu", str(HELDOUT), "--out", str(folder)],
         out / "heldout.log")
    intents = json.loads((folder / "intent_report.json").read_text(encoding="utf-8"))
    errors = json.loads((folder / "intent_errors.json").read_text(encoding="utf-8"))
    entities = entity_report(folder)

    lines = ["### NLU on the held-out set (tests/nlu/heldout.yml)", "",
             "| intent | precision | recall | F1 | n |", "|---|---:|---:|---:|---:|"]
    for name, row in sorted(intents.items()):
        if isinstance(row, dict) and "f1-score" in row and not name.endswith(" avg"):
            lines.append(f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1-score']:.3f} "
                         f"| {row['support']} |")
    macro = intents["macro avg"]["f1-score"]
    lines += ["", f"Intent macro-F1 **{macro:.3f}**, accuracy {intents['accuracy']:.3f} "
                  f"({len(errors)} of {intents['macro avg']['support']} wrong).", ""]

    pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in errors)
    if pairs:
        lines += ["Confusion pairs (gold -> predicted, count): "
                  + "; ".join(f"{g} -> {p} ({n})" for (g, p), n in pairs.most_common(10)), ""]

    rows = [(n, r) for n, r in sorted(entities.items())
            if isinstance(r, dict) and "f1-score" in r and not n.endswith(" avg") and n != "no_entity"]
    lines += ["| entity | precision | recall | F1 | n |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {n} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1-score']:.3f} | {r['support']} |"
              for n, r in rows]

    messages = heldout_messages()
    wrong = {e["text"].strip() for e in errors}
    ascii_only = [text for text, _ in messages if not _DANISH_LETTERS.search(text)]
    ascii_wrong = sum(1 for text in ascii_only if text in wrong)
    if ascii_only:
        lines += ["", f"Messages written without æ/ø/å: {len(ascii_only)} of {len(messages)}, intent accuracy "
                      f"**{1 - ascii_wrong / len(ascii_only):.3f}** ({ascii_wrong} wrong); with æ/ø/å: "
                      f"{len(messages) - len(ascii_only)}, accuracy "
                      f"{1 - (len(errors) - ascii_wrong) / max(1, len(messages) - len(ascii_only)):.3f}."]
    return lines + [""]


_CV_LINE = re.compile(r"(?P<what>Accuracy|F1-score|Precision): (?P<mean>[0-9.]+) \((?P<std>[0-9.]+)\)")


def cv_lines(config: Path, folds: int, out: Path) -> list[str]:
    folder = out / "cv"
    output = _run([RASA, "test", "nlu", "--nlu", "data/nlu", "--config", str(config), "--cross-validation",
                   "--folds", str(folds), "--out", str(folder)], out / "cv.log")
    # Rasa prints train and test blocks per evaluation ("Intent evaluation results", "Entity ...")
    lines = [f"### {folds}-fold cross-validation on data/nlu ({config.name})", "",
             "| evaluation | accuracy (sd) | F1 (sd) | precision (sd) |", "|---|---:|---:|---:|"]
    section = None
    figures: dict[str, dict[str, str]] = {}
    for raw in output.splitlines():
        text = raw.split(" - ", 1)[-1].strip() if " - " in raw else raw.strip()
        header = re.match(r"(Intent|Entity|Response Selection) evaluation results", text)
        if header:
            section = header.group(1)
            continue
        kind = re.match(r"(train|test) ", text)
        if kind and section:
            current = f"{section} ({kind.group(1)})"
        match = _CV_LINE.search(text)
        if match and section:
            figures.setdefault(current, {})[match["what"]] = f"{float(match['mean']):.3f} ({float(match['std']):.3f})"
    for name in ("Intent (test)", "Entity (test)", "Intent (train)", "Entity (train)"):
        if name in figures:
            f = figures[name]
            lines.append(f"| {name} | {f.get('Accuracy', '–')} | {f.get('F1-score', '–')} | "
                         f"{f.get('Precision', '–')} |")
    if len(lines) == 4:
        lines.append(f"| (no figures parsed; see {out / 'cv.log'}) | | | |")
    per_entity = entity_report(folder)
    if per_entity:
        rows = [(n, r) for n, r in sorted(per_entity.items())
                if isinstance(r, dict) and "f1-score" in r and not n.endswith(" avg") and n != "no_entity"]
        lines += ["", "Entities over all folds: " + ", ".join(f"{n} F1 {r['f1-score']:.3f}" for n, r in rows)]
    return lines + [""]


def lines(model: Path, config: Path, folds: int, out: Path) -> list[str]:
    result = heldout_lines(model, out)
    if folds > 1:
        result += cv_lines(config, folds, out)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=PROJECT / "models" / "traeningsguide.tar.gz")
    parser.add_argument("--config", type=Path, default=PROJECT / "config.yml")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: held-out only)")
    parser.add_argument("--out", type=Path, default=PROJECT / "build" / "nlu-report")
    args = parser.parse_args()
    print("\n".join(lines(args.model, args.config, args.folds, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
