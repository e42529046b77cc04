"""The NLU data: the held-out set is never trained on; the generated name file is current."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from .conftest import PROJECT


def _examples(path) -> set[str]:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = set()
    for item in data.get("nlu", []):
        if "intent" in item:
            for line in item["examples"].splitlines():
                text = re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", line.strip()[2:])
                out.add(re.sub(r"\W+", " ", text.lower()).strip())
    return out


def test_the_held_out_set_is_never_in_the_training_data() -> None:
    training = set().union(*(_examples(p) for p in (PROJECT / "data" / "nlu").glob("*.yml")))
    held_out = _examples(PROJECT / "tests" / "nlu" / "heldout.yml")
    assert len(held_out) >= 150
    assert held_out & training == set()


def test_every_intent_has_enough_training_examples() -> None:
    counts: dict[str, int] = {}
    for path in (PROJECT / "data" / "nlu").glob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in item:
                counts[item["intent"]] = counts.get(item["intent"], 0) + len(item["examples"].splitlines())
    topic_intents = {t["intent"] for t in yaml.safe_load((PROJECT / "knowledge" / "topics.yml").read_text(
        encoding="utf-8"))["topics"].values()}
    assert len(topic_intents) == 18 and topic_intents <= set(counts)
    assert min(counts[i] for i in topic_intents) >= 30, counts
    assert counts["ask_more"] >= 20  # "fortæl mere": typed as well as sent by the "Mere om …" button


def test_the_generated_kommune_names_are_current() -> None:
    result = subprocess.run([sys.executable, "scripts/gen_nlu_from_knowledge.py", "--check"], cwd=PROJECT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
