"""A quick development loop for the answer-level evaluation, without servers.

    .venv/bin/python -m tests.eval.offline [set1|set2|<id>,<id>] [--show]

Parses every user message once with the trained model (Rasa's Agent, cached in
build/eval/parse-cache.json per model), then plays the conversations through
traeningsguide.dialogue.respond directly, as the action does, and applies the same checks as
the live gate. It is a development aid: `make eval` (tests/test_eval.py, through the REST channel of
the running assistant) is the measurement that counts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from tests.eval import harness
from traeningsguide import dialogue
from traeningsguide.knowledge import knowledge

PROJECT = Path(__file__).resolve().parents[2]
MODEL = PROJECT / "models" / "traeningsguide.tar.gz"
CACHE = PROJECT / "build" / "eval" / "parse-cache.json"


def _model_key() -> str:
    return hashlib.sha256(MODEL.read_bytes()).hexdigest()[:16]


def parses(texts: set[str]) -> dict[str, dict[str, Any]]:
    key = _model_key()
    cache: dict[str, Any] = {}
    if CACHE.exists():
        cache = json.loads(CACHE.read_text(encoding="utf-8"))
    if cache.get("model") != key:
        cache = {"model": key, "parses": {}}
    missing = sorted(t for t in texts if t not in cache["parses"])
    if missing:
        from rasa.core.agent import Agent

        agent = Agent.load(str(MODEL))

        async def parse_all() -> None:
            for text in missing:
                result = await agent.parse_message(text)
                cache["parses"][text] = {"intent": result.get("intent"), "entities": result.get("entities"),
                                         "intent_ranking": result.get("intent_ranking")}
        asyncio.run(parse_all())
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
    return cache["parses"]


def play(conversation: harness.Conversation, parsed: dict[str, dict[str, Any]],
         checker: harness.Checker) -> harness.ConversationResult:
    kb = knowledge()
    state = dialogue.State()
    result = harness.ConversationResult(conversation)
    texts = [t.user for t in conversation.turns]
    if conversation.start_kommune:
        state = _turn(state, "/inform_kommune" + json.dumps({"kommune": conversation.start_kommune}), parsed, kb)[0]
    users: list[str] = []
    for turn, text in zip(conversation.turns, texts, strict=True):
        users.append(text)
        before = state
        state, messages, buttons = _turn(state, text, parsed, kb)
        problems = checker.check(conversation, turn, messages, buttons, users)
        if problems and WHY:
            problems += _why(before, state, text, parsed, kb)
        result.turns.append(harness.TurnResult(text, messages, buttons, problems))
    return result


WHY = "--why" in sys.argv


def _why(before: dialogue.State, after: dialogue.State, text: str, parsed: dict[str, dict[str, Any]],
         kb: Any) -> list[str]:
    """The NLU's reading, its topic priors and the best candidates as the answer ranks them (with the
    priors and the conversation's last topic), for reading a failure."""
    p = parsed[text]
    lines = [f"  intent {(p.get('intent') or {}).get('name')} {(p.get('intent') or {}).get('confidence', 0):.2f};"
             f" state kommune={after.kommune} service={after.service} topic={after.topic}"]
    mid = after.kommune or before.kommune
    if mid:
        priors = dialogue._priors(p.get("intent_ranking"), kb)
        top = sorted(priors.items(), key=lambda kv: -kv[1])[:2]
        lines.append("  priors " + ", ".join(f"{t} {v:.2f}" for t, v in top))
        answerer = dialogue._Answerer(kb, before, priors, before.english)
        ranked = answerer.ranked(kb.municipalities[mid], tuple(kb.municipalities[mid].services), text,
                                 before.topic)[1]
        for s in ranked[:4]:
            c = s.candidate
            what = c.fact.text[:70] if c.fact else c.contact.name if c.contact else "(not stated)"
            lines.append(f"  {s.score:.2f} own {s.own:.2f} topic {s.topic:.2f} {c.topic} {c.services}: {what}")
    return lines


def _turn(state: dialogue.State, text: str, parsed: dict[str, dict[str, Any]],
          kb: Any) -> tuple[Any, list[str], list[str]]:
    p = parsed[text]
    intent = (p.get("intent") or {}).get("name") or "nlu_fallback"
    entities: dict[str, list[str]] = {}
    for e in p.get("entities") or []:
        entities.setdefault(str(e["entity"]), []).append(str(e["value"]))
    turn = dialogue.respond(state, intent, entities, text, kb, ranking=p.get("intent_ranking"))
    messages = [m.text for m in turn.messages]
    buttons = [b.title for m in turn.messages for b in m.buttons]
    return turn.state, messages, buttons


def main(argv: list[str]) -> int:
    kb = knowledge()
    conversations = harness.all_conversations()
    selection = [a for a in argv if not a.startswith("--")]
    if selection:
        wanted = set(",".join(selection).split(","))
        conversations = [c for c in conversations if c.set in wanted or c.id in wanted]
    texts = {t.user for c in conversations for t in c.turns}
    texts |= {"/inform_kommune" + json.dumps({"kommune": c.start_kommune}) for c in conversations if c.start_kommune}
    parsed = parses(texts)
    checker = harness.Checker(kb)
    results = [play(c, parsed, checker) for c in conversations]
    summary = harness.summarise(results)
    print("\n".join(harness.report_lines(summary)))
    out = PROJECT / "build" / "eval" / "offline-failures.md"
    out.write_text(harness.failure_report(results), encoding="utf-8")
    if "--show" in argv:
        for r in results:
            print(f"## {r.conversation.id} {'PASS' if r.passed else 'FAIL'}")
            for t in r.turns:
                print(f"> {t.user}")
                for m in t.messages:
                    print("  | " + m.replace("\n", "\n  | "))
                if t.buttons:
                    print(f"  [{' | '.join(t.buttons)}]")
                for problem in t.problems:
                    print(f"  ✗ {problem}")
    print(f"failures: {out.relative_to(PROJECT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
