"""The blind conversation sets (tests/eval) are kept apart from everything the guide learns from."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import PROJECT
from tests.eval import harness
from traeningsguide.knowledge import KnowledgeBase
from traeningsguide.textnorm import loose

MIN_SHARED_WORDS = 4  # a citizen phrasing of this many words inside a test message could be copied from it
MIN_MESSAGE_WORDS = 3  # "Køge", "hejsa": one- and two-word messages say nothing about copying


def _training_examples() -> set[str]:
    examples: set[str] = set()
    for path in (PROJECT / "data" / "nlu").glob("*.yml"):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in (item.get("examples") or "").splitlines():
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", lambda m: m.group(1) or m.group(2),
                              line.strip().removeprefix("- "))
                if text:
                    examples.add(loose(text))
    return examples


def _eval_messages() -> set[str]:
    return {loose(t.user) for c in harness.all_conversations() for t in c.turns}


def test_no_test_message_is_a_training_example() -> None:
    overlap = {m for m in _eval_messages() & _training_examples() if len(m.split()) >= MIN_MESSAGE_WORDS}
    assert overlap == set()


def test_no_test_message_is_in_the_held_out_nlu_set() -> None:
    held_out = yaml.safe_load((PROJECT / "tests" / "nlu" / "heldout.yml").read_text(encoding="utf-8"))
    lines = {loose(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip().removeprefix("- ")))
             for item in held_out["nlu"] for line in (item.get("examples") or "").splitlines()}
    assert _eval_messages() & lines == set()


def test_no_citizen_phrasing_in_the_knowledge_base_is_copied_from_a_test_message(kb: KnowledgeBase) -> None:
    phrasings = {loose(a) for t in kb.topics.values() for a in t.asks}
    phrasings |= {loose(a) for m in kb.municipalities.values() for f in m.facts for a in f.asks}
    long_ones = {p for p in phrasings if len(p.split()) >= MIN_SHARED_WORDS}
    messages = [f" {m} " for m in _eval_messages()]
    copied = sorted(p for p in long_ones if any(f" {p} " in m for m in messages))
    assert copied == []


@pytest.mark.parametrize("pattern", ["{NOT_STATED}", "{ASK_KOMMUNE}", "{EMERGENCY}", "{UNSURE}"])
def test_every_macro_expands_to_a_valid_expression(pattern: str) -> None:
    re.compile(harness.expand(pattern))


def test_the_checks_can_fail(kb: KnowledgeBase) -> None:
    """A check that cannot fail proves nothing: each kind of check rejects a wrong reply."""
    conversation = harness.Conversation("x", "set0", "simple", "holbaek", ())
    checker = harness.Checker(kb)
    turn = harness.Turn("hvad koster kørsel", must=("50 kr(oner)?",), must_not=("{ASK_KOMMUNE}",),
                        first=("50 kr",))
    good = "Kørsel koster 50 kroner pr. dag.\n\nKilde: Holbæk Kommunes kvalitetsstandard for genoptræning"
    assert checker.check(conversation, turn, [good], [], ["hvad koster kørsel"]) == []
    assert checker.check(conversation, turn, ["Hvilken kommune gælder det?"], [], ["x"])  # must and must_not
    padded = "x" * harness.OPENING + " 50 kr"
    assert any(p.startswith("first:") for p in checker.check(conversation, turn, [padded], [], ["x"]))
    foreign = checker.check(conversation, harness.Turn("x", must=("kørsel",)), ["kørsel: ring 56 67 26 26"], [], ["x"])
    assert any("phone" in p for p in foreign)  # a Køge number in a Holbæk conversation
    invented = checker.check(conversation, harness.Turn("x", must=("kørsel",)), ["kørsel koster 75 kr."], [], ["x"])
    assert any("kroner" in p for p in invented)
    assert checker.check(conversation, turn, [], [], ["x"]) == ["no reply"]


def test_not_stated_does_not_pass_on_the_footer_alone() -> None:
    for footer in ("Kontakt Holbæk Kommune. Kilden oplyser intet telefonnummer.",
                   "Kontakt Holbæk Kommune. Kilden oplyser ikke et telefonnummer."):  # the footer's older wording
        assert not re.search(harness.expand("{NOT_STATED}"), footer, re.IGNORECASE)
    assert re.search(harness.expand("{NOT_STATED}"), "Holbæk Kommunes kvalitetsstandard oplyser ikke, hvad …",
                     re.IGNORECASE)
