"""The answer-level evaluation: blind-written conversations sent through the REST channel.

Each conversation (tests/eval/set*/*.yml, format in tests/eval/README.md) is a list of turns with
must / must-not / first patterns on the text a citizen reads. The harness sends every turn to a
running assistant, checks the reply, adds the checks every turn gets (no phone number from another
municipality's text, no amount in kroner that no source contains, no outage reply, no silence) and
reports pass rates per set, class and municipality and the words per bot message.
"""

from __future__ import annotations

import json
import re
import statistics
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from traeningsguide import names
from traeningsguide.knowledge import KnowledgeBase
from traeningsguide.textnorm import phones_in

EVAL_DIR = Path(__file__).resolve().parent
OPENING = 200  # characters of the reply that `first` patterns must match in
CLASSES = ("simple", "specific", "story", "multi", "compare", "english", "colloquial", "followup", "correction",
           "what_if", "emergency", "relative", "callcenter", "typo", "silent", "other")
KOMMUNE_VALUES = ("roskilde", "hedensted", "holbaek", "roedovre", "koege", "several", "none")

# What the writers' macros stand for. Written from the brief's specification of the guide's
# behaviour; each is deliberately narrow: {NOT_STATED} does not match the next step's "Kilden oplyser
# intet telefonnummer" (before 2026-12-03 "Kilden oplyser ikke et telefonnummer": the footer of every
# answer for a contact without a phone), so an answer passes it only by saying, in its own text, that
# the source is silent.
MACROS: dict[str, str] = {
    "NOT_STATED": r"(?:(?<!Kilden )oplyser ikke|står der ikke|siger ikke|nævner ikke|beskriver ikke|skriver ikke noget"
                  r"|does not say|doesn't say)",
    "ASK_KOMMUNE": r"(?:hvilken kommune|which municipality)",
    "EMERGENCY": r"(?<!\d)112(?!\d)",
    "UNSURE": r"(?:ikke (?:helt )?sikker på|forstod jeg ikke|not sure|did not understand|didn't understand)",
    "NOT_COVERED": r"(?:er ikke med|dækker ikke|not covered|does not cover)",
    "ENGLISH": r"(?:in Danish)",
}
_MACRO = re.compile(r"\{([A-Z_]+)(?::([^}]*))?\}")
_KRONER = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.]\d{3})*(?:,\d+)?)\s*(?:kr\b\.?|kroner)", re.IGNORECASE)
GLOBAL_MUST_NOT = {"outage reply": r"teknisk fejl", "error reply": r"der gik noget galt"}


def expand(pattern: str) -> str:
    """A writer's pattern with its macros replaced by regular expressions."""
    def one(match: re.Match[str]) -> str:
        name, arg = match.group(1), match.group(2)
        if name == "PHONE":
            digits = re.sub(r"\D", "", arg or "")
            if len(digits) != 8:
                raise ValueError(f"{{PHONE:{arg}}} needs 8 digits")
            return r"(?<!\d)" + r"[ .\-]?".join(digits) + r"(?!\d)"
        if name not in MACROS:
            raise ValueError(f"unknown macro {{{name}}}")
        return MACROS[name]
    return _MACRO.sub(one, pattern)


@dataclass(frozen=True)
class Turn:
    user: str
    must: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()
    first: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversation:
    id: str
    set: str  # the folder: set1, set2, ...
    cls: str
    kommune: str
    turns: tuple[Turn, ...]
    start_kommune: str | None = None
    voice: str = ""
    note: str = ""


class EvalFormatError(ValueError):
    pass


def load(paths: Iterable[Path]) -> list[Conversation]:
    """Every conversation of the given files, checked for form (ids, classes, patterns that compile)."""
    conversations: list[Conversation] = []
    seen: set[str] = set()
    for path in sorted(paths):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["conversations"]:
            cid = str(raw["id"])
            where = f"{path.name}: {cid}"
            if cid in seen:
                raise EvalFormatError(f"{where}: duplicate id")
            seen.add(cid)
            if raw["class"] not in CLASSES:
                raise EvalFormatError(f"{where}: unknown class {raw['class']!r}")
            if raw["kommune"] not in KOMMUNE_VALUES:
                raise EvalFormatError(f"{where}: unknown kommune {raw['kommune']!r}")
            turns = []
            for i, t in enumerate(raw["turns"]):
                turn = Turn(str(t["user"]), tuple(t.get("must") or ()), tuple(t.get("must_not") or ()),
                            tuple(t.get("first") or ()))
                for p in (*turn.must, *turn.must_not, *turn.first):
                    try:
                        re.compile(expand(p))
                    except (re.error, ValueError) as exc:
                        raise EvalFormatError(f"{where}: turns[{i}]: pattern {p!r}: {exc}") from None
                turns.append(turn)
            conversations.append(Conversation(cid, path.parent.name, raw["class"], raw["kommune"], tuple(turns),
                                              raw.get("start_kommune"), str(raw.get("voice") or ""),
                                              str(raw.get("note") or "")))
    return conversations


def all_conversations() -> list[Conversation]:
    return load(EVAL_DIR.glob("set*/*.yml"))


# --------------------------------------------------------------------------------------------


@dataclass
class TurnResult:
    user: str
    messages: list[str]
    buttons: list[str]
    problems: list[str]

    @property
    def text(self) -> str:
        return "\n".join([*self.messages, *self.buttons])


@dataclass
class ConversationResult:
    conversation: Conversation
    turns: list[TurnResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(not t.problems for t in self.turns)


class Checker:
    """The checks of one turn: the writer's patterns and the checks every turn gets."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.phones = {mid: phones_in(kb.sources[m.source_file]) for mid, m in kb.municipalities.items()}
        self.amounts = {a for text in kb.sources.values() for a in _amounts(text)}

    def allowed_phones(self, conversation: Conversation, users_so_far: Sequence[str]) -> set[str]:
        if conversation.kommune in ("several", "none"):
            ids = set(self.phones)
        else:
            ids = {conversation.kommune}
            if conversation.start_kommune:
                ids.add(conversation.start_kommune)
            for text in users_so_far:
                ids.update(m.id for m in names.find_municipalities(text, self.kb) if m.covered and m.id)
        return set().union(*(self.phones[i] for i in ids))

    def check(self, conversation: Conversation, turn: Turn, messages: list[str], buttons: list[str],
              users_so_far: Sequence[str]) -> list[str]:
        text = "\n".join([*messages, *buttons])
        problems: list[str] = []
        if not messages or not any(m.strip() for m in messages):
            return ["no reply"]
        for p in turn.first:
            if not re.search(expand(p), text[:OPENING], re.IGNORECASE):
                problems.append(f"first: {p}")
        for p in turn.must:
            if not re.search(expand(p), text, re.IGNORECASE):
                problems.append(f"must: {p}")
        for p in turn.must_not:
            if re.search(expand(p), text, re.IGNORECASE):
                problems.append(f"must_not: {p}")
        for label, p in GLOBAL_MUST_NOT.items():
            if re.search(p, text, re.IGNORECASE):
                problems.append(f"global: {label}")
        foreign = phones_in(text) - self.allowed_phones(conversation, users_so_far)
        if foreign:
            problems.append(f"global: phone number(s) not in this conversation's sources: {', '.join(sorted(foreign))}")
        invented = _amounts(text) - self.amounts
        if invented:
            problems.append(f"global: amount(s) in kroner in no source: {', '.join(sorted(invented))}")
        return problems


def _amounts(text: str) -> set[str]:
    return {m.group(1).replace(".", "") for m in _KRONER.finditer(text)}


def post(url: str, sender: str, message: str, timeout: float = 60) -> list[dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def run_conversation(url: str, conversation: Conversation, checker: Checker, run_id: str) -> ConversationResult:
    result = ConversationResult(conversation)
    sender = f"eval-{run_id}-{conversation.id}"
    if conversation.start_kommune:  # what the widget sends when it opens on a municipality's page
        post(url, sender, "/inform_kommune" + json.dumps({"kommune": conversation.start_kommune}))
    users: list[str] = []
    for turn in conversation.turns:
        users.append(turn.user)
        try:
            replies = post(url, sender, turn.user)
        except OSError as exc:
            result.turns.append(TurnResult(turn.user, [], [], [f"request failed: {exc}"]))
            continue
        messages = [r["text"] for r in replies if r.get("text")]
        buttons = [b.get("title", "") for r in replies for b in r.get("buttons") or ()]
        result.turns.append(TurnResult(turn.user, messages, buttons,
                                       checker.check(conversation, turn, messages, buttons, users)))
    return result


def run(url: str, conversations: Sequence[Conversation], kb: KnowledgeBase, run_id: str,
        workers: int = 4) -> list[ConversationResult]:
    checker = Checker(kb)
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda c: run_conversation(url, c, checker, run_id), conversations))


# --------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return float(ordered[index])


@dataclass
class Summary:
    total: int
    passed: int
    by: dict[str, dict[str, tuple[int, int]]]  # dimension -> value -> (passed, total)
    words_per_message: list[int]
    words_per_turn: list[int]

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def words(self) -> dict[str, float]:
        return {"message_median": statistics.median(self.words_per_message or [0]),
                "message_p90": percentile(self.words_per_message, 0.9),
                "turn_median": statistics.median(self.words_per_turn or [0]),
                "turn_p90": percentile(self.words_per_turn, 0.9)}


def summarise(results: Sequence[ConversationResult]) -> Summary:
    by: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    per_message, per_turn = [], []
    for r in results:
        c = r.conversation
        for dim, value in (("set", c.set), ("class", c.cls), ("kommune", c.kommune)):
            by[dim][value][0] += r.passed
            by[dim][value][1] += 1
        for t in r.turns:
            words = [len(m.split()) for m in t.messages]
            per_message.extend(words)
            if words:
                per_turn.append(sum(words))
    frozen = {dim: {v: (p, n) for v, (p, n) in sorted(values.items())} for dim, values in by.items()}
    return Summary(len(results), sum(r.passed for r in results), frozen, per_message, per_turn)


def report_lines(summary: Summary) -> list[str]:
    lines = [f"Answer-level evaluation: {summary.passed}/{summary.total} conversations passed "
             f"({100 * summary.rate:.1f} %)"]
    for dim in ("set", "class", "kommune"):
        cells = [f"{v} {p}/{n}" for v, (p, n) in summary.by.get(dim, {}).items()]
        lines.append(f"  by {dim}: " + ", ".join(cells))
    w = summary.words()
    lines.append(f"  words per bot message: median {w['message_median']:.0f}, 90th percentile {w['message_p90']:.0f} "
                 f"({len(summary.words_per_message)} messages); per turn (all messages of a reply): median "
                 f"{w['turn_median']:.0f}, 90th percentile {w['turn_p90']:.0f}")
    return lines


def failure_report(results: Sequence[ConversationResult]) -> str:
    """Every failed conversation with the replies and what failed, for reading by hand."""
    out: list[str] = []
    for r in results:
        if r.passed:
            continue
        c = r.conversation
        out.append(f"## {c.id} ({c.set}, {c.cls}, {c.kommune})")
        if c.note:
            out.append(f"note: {c.note}")
        for t in r.turns:
            out.append(f"> {t.user}")
            out.extend(f"  | {line}" for m in t.messages for line in m.splitlines())
            if t.buttons:
                out.append(f"  [{' | '.join(t.buttons)}]")
            out.extend(f"  ✗ {p}" for p in t.problems)
        out.append("")
    return "\n".join(out)


def to_json(results: Sequence[ConversationResult], summary: Summary) -> dict[str, Any]:
    return {
        "passed": summary.passed, "total": summary.total, "rate": summary.rate, "words": summary.words(),
        "by": {dim: {v: list(pn) for v, pn in values.items()} for dim, values in summary.by.items()},
        "conversations": {r.conversation.id: {"passed": r.passed,
                                              "problems": [p for t in r.turns for p in t.problems]}
                          for r in results},
    }


def class_counts(conversations: Iterable[Conversation]) -> Counter[str]:
    return Counter(c.cls for c in conversations)
