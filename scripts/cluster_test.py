"""The conversations of `make cluster-test` (scripts/cluster_test.sh starts the servers).

20 conversations of 10 turns each go through nginx to two Rasa replicas. Turns are sent round by
round (turn k of every conversation, then turn k+1), one request at a time, and each round starts
one conversation later than the one before: with nginx's round robin over two replicas, consecutive
turns of every conversation then land on different replicas. This is checked from nginx's
X-Upstream header, not assumed. A second phase sends two messages of the same conversation at
once (40 more turns), so that the two replicas compete for the conversation's Redis lock.

Every turn must be answered (HTTP 200, a non-empty text that is neither the "rephrase" fallback nor
the error apology) in its conversation's context: the first question has no municipality, so the
bot asks; the municipality alone must answer the pending question; follow-ups without a
municipality must be answered for it ("Kilde: <its source>"); "og i <another>?" switches, and the
follow-ups after it must be answered for the new one. The expected sources come from the
knowledge base (traeningsguide.knowledge), not from copies here. After the first phase every turn
must be in the PostgreSQL tracker store (TRACKER_STORE_URL); after the second phase all 40 of its
turns too, and every conversation's turns stored one after the other (each turn's user message,
then its bot messages and action_listen, before the next user message: what the lock guarantees);
the Redis lock store (REDIS_HOST, REDIS_PORT, REDIS_PASSWORD) must have been used; the replicas' and
the action server's logs must show no lock errors, no tracebacks and no ERROR lines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from traeningsguide.knowledge import KnowledgeBase, knowledge  # noqa: E402

CONVERSATIONS = 20
TURNS = 10

# Follow-up questions that name no municipality (the conversation's context must supply it).
FOLLOW_UPS = (
    "hvad koster kørsel til træning?",
    "hvordan melder jeg afbud?",
    "hvor lang tid går der før jeg får svar?",
    "hvad skal jeg have med til træning?",
    "hvordan søger jeg om træning?",
    "hvor mange gange om ugen træner man?",
    "hvordan klager jeg over en afgørelse?",
    "hvor foregår træningen?",
    "hvem kan få genoptræning?",
    "hvem står for træningen?",
)
OPENERS = ("hvad koster genoptræning?", "hvordan søger man om vedligeholdelsestræning", "hvad koster træning?")

LOCK_ERROR = re.compile(r"LockError|could not acquire lock|lock\w*\W.*(error|exception|timed? ?out)", re.I)
LOG_PROBLEM = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b")


@dataclass
class Step:
    text: str
    expect: str  # "ask_kommune", or the id of the municipality whose source the answer must cite


@dataclass
class Conversation:
    sender: str
    steps: list[Step]
    upstreams: list[str] = field(default_factory=list)


@dataclass
class Result:
    conversation: int
    turn: int
    status: int
    upstream: str
    seconds: float
    text: str
    answered: bool = False
    in_context: bool = False
    problem: str = ""


def build_conversations(kb: KnowledgeBase) -> list[Conversation]:
    """20 scripts: ask without a municipality, give it, 4 follow-ups, switch, 3 follow-ups."""
    ids = sorted(kb.municipalities)
    conversations = []
    run = uuid.uuid4().hex[:8]
    for c in range(CONVERSATIONS):
        home = ids[c % len(ids)]
        other = ids[(c + 1 + c // len(ids)) % len(ids)]
        if other == home:
            other = ids[(c + 2) % len(ids)]
        follow = [FOLLOW_UPS[(c + i) % len(FOLLOW_UPS)] for i in range(7)]
        steps = [
            Step(OPENERS[c % len(OPENERS)], "ask_kommune"),
            Step(kb.municipalities[home].short_name, home),
            *(Step(text, home) for text in follow[:4]),
            Step(f"og i {kb.municipalities[other].short_name}?", other),
            *(Step(text, other) for text in follow[4:]),
        ]
        assert len(steps) == TURNS
        conversations.append(Conversation(f"cluster-{run}-{c:02d}", steps))
    return conversations


def post(url: str, sender: str, message: str) -> tuple[int, str, list[dict], float]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, upstream, raw = response.status, response.headers.get("X-Upstream", ""), response.read()
    except urllib.error.HTTPError as error:
        status, upstream, raw = error.code, error.headers.get("X-Upstream", ""), error.read()
    seconds = time.perf_counter() - start
    try:
        replies = json.loads(raw) if status == 200 else []
    except ValueError:
        replies = []
    return status, upstream, replies if isinstance(replies, list) else [], seconds


class Checker:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        dialogue = kb.texts["dialogue"]
        self.ask_kommune = dialogue["ask_kommune"]
        self.rephrase = dialogue["rephrase"]
        self.error = dialogue["error"]
        self.sources = {m.id: kb.texts["answer"]["source"].format(title=m.source_title)
                        for m in kb.municipalities.values()}
        # where a municipality's services answer differently, the deciding question comes first; it
        # names no source, but only a municipality with a service of that kind and another asks it
        self.deciding = {m.id: {kb.service_kinds[k].question for s in m.services.values() for k in s.kinds}
                         for m in kb.municipalities.values() if len(m.services) > 1}

    def check(self, result: Result, replies: list[dict], step: Step) -> None:
        text = "\n".join(r.get("text") or "" for r in replies)
        result.text = text
        if result.status != 200:
            result.problem = f"HTTP {result.status}"
        elif not text.strip():
            result.problem = "empty reply"
        elif self.rephrase in text:
            result.problem = "the rephrase fallback"
        elif self.error in text:
            result.problem = "the error apology (action server failed)"
        else:
            result.answered = True
        if not result.answered:
            return
        if step.expect == "ask_kommune":
            result.in_context = self.ask_kommune in text
        else:
            cited = {m for m, source in self.sources.items() if source in text}
            result.in_context = cited == {step.expect} or (
                not cited and text.strip() in self.deciding.get(step.expect, set()))
        if not result.in_context:
            result.problem = f"wrong context: expected {step.expect!r}"


def scan_logs(paths: list[Path]) -> tuple[list[str], list[str]]:
    lock_errors, problems = [], []
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            if LOCK_ERROR.search(line):
                lock_errors.append(f"{path.name}: {line.strip()}")
            elif LOG_PROBLEM.search(line):
                problems.append(f"{path.name}: {line.strip()}")
    return lock_errors, problems


def stored_user_turns(prefix: str) -> dict[str, int]:
    """User messages per conversation in the PostgreSQL tracker store the replicas share."""
    import sqlalchemy as sa

    engine = sa.create_engine(os.environ["TRACKER_STORE_URL"])
    try:
        with engine.connect() as db:
            rows = db.execute(sa.text("SELECT sender_id, count(*) FROM events WHERE type_name = 'user' "
                                      "AND sender_id LIKE :prefix GROUP BY sender_id"), {"prefix": prefix + "%"})
            return {sender: count for sender, count in rows}
    except sa.exc.SQLAlchemyError as error:  # no events table: the replicas did not use PostgreSQL
        print(f"PostgreSQL: {str(error).splitlines()[0]}", file=sys.stderr)
        return {}
    finally:
        engine.dispose()


def stored_events(prefix: str) -> dict[str, list[tuple[str, str]]]:
    """Per conversation, its events in the order stored: (type, user text or action name)."""
    import sqlalchemy as sa

    engine = sa.create_engine(os.environ["TRACKER_STORE_URL"])
    events: dict[str, list[tuple[str, str]]] = {}
    try:
        with engine.connect() as db:
            rows = db.execute(sa.text("SELECT sender_id, type_name, action_name, data FROM events "
                                      "WHERE sender_id LIKE :prefix ORDER BY id"), {"prefix": prefix + "%"})
            for sender, type_name, action_name, data in rows:
                detail = (json.loads(data).get("text") or "") if type_name == "user" else (action_name or "")
                events.setdefault(sender, []).append((type_name, detail))
    except sa.exc.SQLAlchemyError as error:
        print(f"PostgreSQL: {str(error).splitlines()[0]}", file=sys.stderr)
    finally:
        engine.dispose()
    return events


def turn_order_problems(events: list[tuple[str, str]], last_two: tuple[str, str]) -> list[str]:
    """What shows that a conversation's turns were not stored whole and one after the other.

    Every user message must be followed by the bot's messages and action_listen before the next
    user message; the last two user messages must be the pair sent at once (in either order). Two
    replicas processing the conversation at once break this: the SQL tracker store keeps only the
    events beyond what it already has, so one turn is lost or its events end up in pieces.
    """
    problems = []
    users = [i for i, (kind, _) in enumerate(events) if kind == "user"]
    if len(users) != TURNS + 2:
        problems.append(f"{len(users)} user turns stored, expected {TURNS + 2}")
    for n, (start, end) in enumerate(zip(users, users[1:] + [len(events)], strict=False)):
        turn = events[start:end]
        if not any(kind == "bot" for kind, _ in turn):
            problems.append(f"user turn {n} ({turn[0][1]!r}) has no bot message before the next user turn")
        if turn[-1] != ("action", "action_listen"):
            problems.append(f"user turn {n} ({turn[0][1]!r}) does not end with action_listen: {turn[-1]}")
    stored_pair = sorted(events[i][1] for i in users[-2:])
    if stored_pair != sorted(last_two):
        problems.append(f"the last two user turns are {stored_pair}, expected {sorted(last_two)}")
    return problems


def redis_lock_writes() -> int:
    """How often a lock was written to Redis (Rasa's RedisLockStore saves each lock with SET)."""
    import redis

    client = redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]),
                         password=os.environ.get("REDIS_PASSWORD") or None)
    return int(client.info("commandstats").get("cmdstat_set", {}).get("calls", 0))


def _post_raw(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def edge_checks(base: str, sender: str, prefix: str) -> list[str]:
    """Through nginx: a body over the size limit gets 413 with the Danish error, and "Slet samtale"
    (/webhooks/rest/forget) deletes one conversation from PostgreSQL and no other."""
    from channels.replies import request_error

    problems = []
    status, raw = _post_raw(base + "/webhooks/rest/webhook",
                            json.dumps({"sender": sender, "message": "x" * 20_000}).encode())
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        error = None
    print(f"size limit at nginx: a 20 kB body got {status} {error!r}")
    if status != 413 or error != request_error("error_too_large"):
        problems.append(f"a 20 kB body got {status} {raw[:200]!r}, not 413 with the Danish error")
    before = stored_user_turns(prefix)
    status, raw = _post_raw(base + "/webhooks/rest/forget", json.dumps({"sender": sender}).encode())
    after = stored_user_turns(prefix)
    print(f"Slet samtale through nginx: {status} {raw[:60]!r}; conversations stored {len(before)} -> {len(after)}")
    if status != 200 or sender in after or set(before) - {sender} != set(after):
        problems.append(f"forget {sender}: {status} {raw[:200]!r}; "
                        f"stored before {sorted(before)}, after {sorted(after)}")
    problems += retention_check(prefix)
    return problems


def retention_check(prefix: str) -> list[str]:
    """A conversation whose last event is 31 days old is deleted from PostgreSQL by the running replicas'
    sweep (every 2 s in this test, TRAENINGSGUIDE_RETENTION_SWEEP_SECONDS), and the others are kept."""
    import asyncio

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from channels.stores import PostgresTrackerStore

    old_sender = f"{prefix}retention-old"
    # written the way the replicas write (Rasa's SQL tracker store), with a last event 31 days old
    store = PostgresTrackerStore(domain=Domain.empty(), dialect="postgresql", host=os.environ["TRACKER_STORE_URL"])
    old = DialogueStateTracker.from_events(
        old_sender, [UserUttered("en gammel samtale", timestamp=time.time() - 31 * 86400)])
    try:
        asyncio.run(store.save(old))
        before = stored_user_turns(prefix)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and old_sender in stored_user_turns(prefix):
            time.sleep(0.5)
        after = stored_user_turns(prefix)
    finally:
        store.engine.dispose()
    print(f"retention in PostgreSQL: a 31-day-old conversation {'deleted' if old_sender not in after else 'KEPT'} "
          f"by the replicas' sweep; {len(after)} others kept")
    if old_sender in after or set(before) - {old_sender} != set(after):
        return [f"retention: before {sorted(before)}, after {sorted(after)}"]
    return []


# A message with personal data in the forms issue 12 found stored as typed, and the forms to search for.
PRIVATE_MESSAGE = ("min cpr er 170871/4431, skriv til jens.hansen@example.dk eller ring 21 43 65 87: "
                   "hvad koster kørsel til træning i Holbæk?")
PRIVATE_FORMS = ["170871/4431", "1708714431", "170871-4431", "170871 4431", "jens.hansen@example.dk", "jens.hansen",
                 "21 43 65 87", "21436587"]


def privacy_checks(url: str, folders: list[Path]) -> list[str]:
    """Through nginx to a replica: the message is answered, and neither PostgreSQL nor any log file in
    ``folders`` (the replicas', the action server's, nginx's access and error logs) holds its personal data."""
    import sqlalchemy as sa

    status, _, replies, _ = post(url, str(uuid.uuid4()), PRIVATE_MESSAGE)
    problems = [] if status == 200 and replies else [f"the private message got {status} {replies!r}"]
    time.sleep(1.0)  # let the servers flush their logs
    files = [p for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()]
    hits = {str(p): [f for f in PRIVATE_FORMS if f.encode() in p.read_bytes()] for p in files}
    problems += [f"{path} holds {found}" for path, found in hits.items() if found]
    engine = sa.create_engine(os.environ["TRACKER_STORE_URL"])
    try:
        with engine.connect() as db:
            for form in PRIVATE_FORMS:
                count = db.execute(sa.text("SELECT count(*) FROM events WHERE data LIKE :f"),
                                   {"f": f"%{form}%"}).scalar()
                if count:
                    problems.append(f"PostgreSQL holds {form!r} in {count} events")
    finally:
        engine.dispose()
    print(f"privacy through nginx: {len(files)} log files and PostgreSQL searched for {len(PRIVATE_FORMS)} forms: "
          f"{sum(len(v) for v in hits.values())} hits in files")
    return problems


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nginx", required=True, help="http://host:port of nginx")
    parser.add_argument("--replica", action="append", required=True,
                        help="host:port=log file of a Rasa replica (nginx's upstream address)")
    parser.add_argument("--action-log", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--scan", type=Path, action="append", default=[],
                        help="a folder whose files (every log: replicas, action server, nginx) must hold no "
                             "personal data sent")
    args = parser.parse_args()
    replicas = dict(item.split("=", 1) for item in args.replica)
    url = args.nginx.rstrip("/") + "/webhooks/rest/webhook"
    kb = knowledge()
    checker = Checker(kb)
    conversations = build_conversations(kb)
    failures: list[str] = []

    # Phase 1: 200 turns, round by round, consecutive turns of a conversation on different replicas.
    results: list[Result] = []
    wall = time.perf_counter()
    for k in range(TURNS):
        for i in range(CONVERSATIONS):
            c = (i + k) % CONVERSATIONS  # each round starts one conversation later
            conversation, step = conversations[c], conversations[c].steps[k]
            status, upstream, replies, seconds = post(url, conversation.sender, step.text)
            result = Result(c, k, status, upstream, seconds, "")
            checker.check(result, replies, step)
            conversation.upstreams.append(upstream)
            results.append(result)
    wall = time.perf_counter() - wall

    alternating = pairs = 0
    for conversation in conversations:
        for a, b in zip(conversation.upstreams, conversation.upstreams[1:], strict=False):
            pairs += 1
            alternating += a != b and a in replicas and b in replicas

    prefix = conversations[0].sender.rsplit("-", 1)[0] + "-"
    stored = stored_user_turns(prefix)
    complete = sum(stored.get(c.sender) == TURNS for c in conversations)

    # Phase 2: two messages of one conversation at the same time, for every conversation, one to
    # each replica. The lock store must make one replica wait for the other: with Rasa Open
    # Source's RedisLockStore, whose ticket updates are not atomic, both could go ahead and the SQL
    # tracker store then kept only one of the two turns (RasaHQ/rasa#9213); the lock store of
    # deploy/endpoints.cluster.yml (channels/locks.py) makes them atomic. A lost turn fails the test.
    concurrent: list[Result] = []
    split = 0
    pairs_sent: dict[str, tuple[str, str]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for c, conversation in enumerate(conversations):
            expect = conversation.steps[-1].expect
            texts = (FOLLOW_UPS[(c + 7) % len(FOLLOW_UPS)], FOLLOW_UPS[(c + 8) % len(FOLLOW_UPS)])
            pairs_sent[conversation.sender] = texts
            outcomes = list(pool.map(post, (url, url), (conversation.sender,) * 2, texts))
            for text, (status, upstream, replies, seconds) in zip(texts, outcomes, strict=True):
                result = Result(c, TURNS, status, upstream, seconds, "")
                checker.check(result, replies, Step(text, expect))
                concurrent.append(result)
            split += outcomes[0][1] != outcomes[1][1]

    after = stored_user_turns(prefix)
    lost = sum(max(0, stored.get(c.sender, 0) + 2 - after.get(c.sender, 0)) for c in conversations)
    events = stored_events(prefix)
    order_problems = {c.sender: turn_order_problems(events.get(c.sender, []), pairs_sent[c.sender])
                      for c in conversations}
    order_problems = {sender: problems for sender, problems in order_problems.items() if problems}
    lock_writes = redis_lock_writes()
    lock_waits = sum(r.seconds >= 0.9 for r in concurrent)
    lock_errors, log_problems = scan_logs([Path(p) for p in replicas.values()] + [args.action_log])

    # Figures.
    answered = sum(r.answered for r in results)
    in_context = sum(r.in_context for r in results)
    per_replica = {address: sum(r.upstream == address for r in results) for address in replicas}
    latencies = [r.seconds for r in results]
    print(f"phase 1: {len(results)} turns in {CONVERSATIONS} conversations through nginx in {wall:.1f} s")
    print(f"  answered: {answered}/{len(results)}; with the right context: {in_context}/{len(results)}")
    print("  per replica: " + ", ".join(f"{a}: {n}" for a, n in per_replica.items()))
    print(f"  consecutive turns of a conversation on different replicas: {alternating}/{pairs}")
    print(f"  latency per turn: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
          f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms, "
          f"mean {statistics.fmean(latencies) * 1000:.0f} ms")
    c_answered = sum(r.answered for r in concurrent)
    c_context = sum(r.in_context for r in concurrent)
    print(f"phase 2: {len(concurrent)} turns, two at a time in the same conversation: answered {c_answered}, "
          f"with the right context {c_context}; the pair split across replicas in {split}/{CONVERSATIONS}")
    print(f"  turns that waited about a second for the conversation's lock: {lock_waits}; "
          f"max {max(r.seconds for r in concurrent) * 1000:.0f} ms")
    print(f"  turns missing from the tracker store afterwards: {lost}/{len(concurrent)}; conversations whose "
          f"turns are not stored one after the other: {len(order_problems)}/{CONVERSATIONS}")
    print(f"PostgreSQL after phase 1: {complete}/{CONVERSATIONS} conversations with all their {TURNS} user turns "
          f"stored ({sum(stored.values())} user turns); Redis: {lock_writes} lock writes")
    print(f"logs: {len(lock_errors)} lock errors, {len(log_problems)} other ERROR lines or tracebacks")

    for r in results + concurrent:
        if r.problem:
            failures.append(f"conversation {r.conversation} turn {r.turn} via {r.upstream or '?'}: "
                            f"{r.problem}: {r.text[:200]!r}")
    if alternating != pairs:
        failures.append(f"only {alternating}/{pairs} consecutive turns changed replica")
    if any(n == 0 for n in per_replica.values()):
        failures.append(f"a replica answered no turn: {per_replica}")
    if complete != CONVERSATIONS:
        failures.append(f"PostgreSQL has not all turns: {stored}")
    if lost:
        failures.append(f"{lost} of the {len(concurrent)} simultaneous turns are missing from the tracker store: "
                        "two replicas processed a conversation at once")
    failures += [f"{sender}: {problem}" for sender, problems in order_problems.items() for problem in problems]
    if lock_writes < len(results) + len(concurrent):
        failures.append(f"only {lock_writes} lock writes in Redis for {len(results) + len(concurrent)} turns")
    failures += [f"lock error: {line}" for line in lock_errors]
    failures += [f"log: {line}" for line in log_problems]
    failures += edge_checks(args.nginx.rstrip("/"), conversations[0].sender, prefix)
    failures += privacy_checks(args.nginx.rstrip("/") + "/webhooks/rest/webhook", args.scan)

    report = {
        "turns": len(results), "answered": answered, "in_context": in_context, "per_replica": per_replica,
        "alternating_pairs": alternating, "pairs": pairs, "wall_seconds": round(wall, 2),
        "latency_ms": {"p50": round(percentile(latencies, 0.5) * 1000),
                       "p95": round(percentile(latencies, 0.95) * 1000), "max": round(max(latencies) * 1000)},
        "concurrent": {"turns": len(concurrent), "answered": c_answered, "in_context": c_context, "split": split,
                       "lock_waits": lock_waits},
        "stored_complete": complete, "stored_user_turns": sum(stored.values()), "redis_lock_writes": lock_writes,
        "concurrent_lost_from_store": lost, "turn_order_problems": order_problems,
        "lock_errors": lock_errors, "log_problems": log_problems, "failures": failures,
        "transcript": [{"conversation": r.conversation, "turn": r.turn, "upstream": r.upstream,
                        "ms": round(r.seconds * 1000), "problem": r.problem, "text": r.text[:300]}
                       for r in results + concurrent],
    }
    args.report.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    if failures:
        print(f"FAILED: {len(failures)} problems (all in {args.report}):", file=sys.stderr)
        for line in failures[:20]:
            print("  " + line, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
