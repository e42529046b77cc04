"""Scale check of `python -m traeningsguide report` on PostgreSQL (not part of `make test`).

    .venv/bin/python scripts/report_scale.py                          # 100 000 conversations, own PostgreSQL
    .venv/bin/python scripts/report_scale.py --conversations 20000 --url postgresql://user:pass@host/db
    .venv/bin/python scripts/report_scale.py --compare-indexes        # also: which index serves the queries
    .venv/bin/python scripts/report_scale.py --conversations 0 --url postgresql://...   # a filled database as it is

Generates N conversations of realistic shape (3-5 turns; user, action, bot and slot events as Rasa stores
them, with the action's records: answers, "not stated" gaps, unsure replies, Rasa's fallback, outages,
ratings; 5 municipalities; spread over the last 30 days) straight into the `events` table of Rasa's
SQLTrackerStore: the table (and the project's index) is made by instantiating
channels.stores.PostgresTrackerStore once, then rows are bulk-loaded with COPY. Then it times the report
over the period and prints the rows read, the seconds and the EXPLAIN of the report's query.

--url names an existing PostgreSQL database (N conversations are added, nothing is cleaned up); without it a throwaway
cluster is started in a temporary directory (Debian's /usr/lib/postgresql/*/bin, as the postgres user when
run as root; unix socket only, fsync off) and removed at the end. Operator output, in English.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


# --------------------------------------------------------------------------------------------
# A throwaway PostgreSQL cluster (also used by tests/test_report.py)


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries on this machine (Debian's layout), or None."""
    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()]
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0) if found else None


class Postgres:
    """initdb + pg_ctl start in a fresh temporary directory; ``url(db)`` after ``createdb(db)``; ``stop()``
    stops it and removes the directory. Listens on a unix socket in that directory only (no TCP), trust
    authentication, fsync off: for tests and measurements, never for data that matters."""

    PORT = 5432  # the socket's name; the directory is private, so no other cluster shares it

    def __init__(self) -> None:
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise FileNotFoundError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin "
                                    "(apt-get install postgresql)")
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="traeningsguide-pg-"))
        self.data, self.run, self.log = self.root / "data", self.root / "run", self.root / "postgresql.log"
        self.as_root = os.geteuid() == 0  # initdb refuses root: run the cluster as the postgres user
        for path in (self.data, self.run):
            path.mkdir(mode=0o700)
        if self.as_root:
            for path in (self.root, self.data, self.run):
                shutil.chown(path, "postgres", "postgres")
        self.started = False
        try:
            self._pg("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--no-locale",
                     "--auth-local=trust", "--auth-host=reject")
            options = (f"-c listen_addresses='' -k {self.run} -p {self.PORT} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start")
            self.started = True
        except BaseException:
            self.stop()
            raise

    def _pg(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip()}\n{log}")

    def createdb(self, name: str) -> str:
        self._pg("createdb", "-h", str(self.run), "-p", str(self.PORT), "-U", "postgres", name)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@/{name}?host={self.run}&port={self.PORT}"

    def stop(self) -> None:
        if self.started:
            try:
                self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# Realistic conversations


def make_store(url: str) -> Any:
    """Rasa's table (and the project's index) in the database: channels.stores.PostgresTrackerStore."""
    from rasa.shared.core.domain import Domain

    from channels.stores import PostgresTrackerStore

    return PostgresTrackerStore(domain=Domain.load(str(PROJECT / "domain.yml")), host=url)


META = {"model_id": "214bd852f798481f8bec385e6decb8f1", "assistant_id": "traeningsguide"}
QUESTIONS = {
    "cost": ["hvad koster genoptræning i {k}?", "er det gratis at træne i {k}", "skal jeg selv betale for træning"],
    "transport": ["hvad koster kørsel til træning i {k}?", "kan jeg få kørsel til genoptræning", "kørsel {k}"],
    "application": ["hvordan søger jeg om træning i {k}?", "hvordan får jeg genoptræning"],
    "response_time": ["hvor lang tid går der før jeg får svar fra {k} kommune?", "hvornår hører jeg noget"],
    "what_to_bring": ["hvad skal jeg have med til træning i {k}?", "skal jeg have håndklæde med"],
    "cancellation": ["hvordan melder jeg afbud i {k}?", "jeg er syg i dag, hvem ringer jeg til"],
    "location": ["hvor foregår træningen i {k}?", "kan jeg træne hjemme"],
    "frequency": ["hvor mange gange kan jeg få genoptræning i {k}?", "hvor længe varer et forløb"],
    "eligibility": ["kan min mor få vedligeholdelsestræning i {k}?", "hvem kan få træning"],
    "contact": ["hvad er telefonnummeret til genoptræning i {k}", "hvem kan jeg ringe til"],
}
OTHER = {"small_talk": ["hej", "tak for hjælpen", "er du en robot?"], "out_of_scope": ["hvordan fornyer jeg mit pas?"],
         "fallback": ["xqzv blorp fnak", "??"], "unsure": ["hvad med det andet", "jamen altså"],
         "ask": ["hvad koster det?", "hvordan søger man"], "emergency": ["min far er faldet og kan ikke rejse sig"]}
ANSWER_TEXT = ("Genoptræning efter sygehusophold er gratis. Du skal selv betale for kørsel, medmindre du ikke kan "
               "befordre dig selv. Kørsel til og fra træning koster 50 kroner pr. dag, du er til træning. ") * 3
SOURCES = [{"title": "Kommunens kvalitetsstandard for genoptræning",
            "quotes": ["Du skal selv betale for kørsel. Kørsel til og fra træning koster 50 kroner pr. dag.",
                       "Genoptræning efter sygehusophold er gratis."]}]
# (kind, weight): what a turn gets
KINDS = [("answer", 56), ("not_stated", 10), ("unsure", 6), ("ask", 7), ("compare", 4), ("more", 3),
         ("small_talk", 6), ("out_of_scope", 2), ("fallback", 3), ("emergency", 0.5), ("error", 0.3),
         ("outage", 0.7), ("no_reply", 0.3)]
COMMENTS = ["mangler prisen", "svaret passede ikke til mit spørgsmål", "jeg vil gerne have et telefonnummer"]


class Generator:
    def __init__(self, seed: int) -> None:
        from traeningsguide.knowledge import knowledge

        self.rnd = random.Random(seed)
        self.kb = knowledge()
        self.kommuner = list(self.kb.municipalities)
        self.kinds = [k for k, _ in KINDS]
        self.weights = [w for _, w in KINDS]

    def _user(self, sender: str, ts: float, text: str, intent: str, entities: list[Any]) -> list[Any]:
        message_id = uuid.UUID(int=self.rnd.getrandbits(128)).hex
        ranking = [{"name": intent, "confidence": 0.93}] + [{"name": f"ask_{t}", "confidence": 0.007} for t in
                                                            list(QUESTIONS)[:9]]
        tokens = [[i, i + 4] for i in range(0, min(len(text), 60), 5)]
        parse = {"intent": {"name": intent, "confidence": 0.93}, "entities": entities, "text": text,
                 "message_id": message_id, "metadata": {}, "text_tokens": tokens, "intent_ranking": ranking}
        data = {"event": "user", "timestamp": ts, "metadata": META, "text": text, "parse_data": parse,
                "input_channel": "rest", "message_id": message_id}
        return [sender, "user", ts, intent, None, json.dumps(data)]

    @staticmethod
    def _event(sender: str, ts: float, type_name: str, action: str | None, **fields: Any) -> list[Any]:
        data = {"event": type_name, "timestamp": ts, "metadata": META, **fields}
        return [sender, type_name, ts, None, action, json.dumps(data)]

    def _bot(self, sender: str, ts: float, text: str, record: dict[str, Any] | None, last: bool,
             utter: str | None = None) -> list[Any]:
        meta = {**META, **({"traeningsguide": record} if record else {}), **({"utter_action": utter} if utter else {})}
        custom = {"sources": SOURCES, "answer": record["answer"]} if last and record and record.get("answer") else None
        data = {"event": "bot", "timestamp": ts, "metadata": meta, "text": text,
                "data": {"elements": None, "quick_replies": None, "buttons": None, "attachment": None, "image": None,
                         "custom": custom}}
        return [sender, "bot", ts, None, None, json.dumps(data)]

    def conversation(self, ts: float) -> list[list[Any]]:
        """The events of one conversation that starts at ``ts``, in order."""
        rnd = self.rnd
        sender = uuid.UUID(int=rnd.getrandbits(128)).hex
        kommune = rnd.choices(self.kommuner, weights=[3, 2, 2, 1, 1][: len(self.kommuner)])[0]
        name = self.kb.municipalities[kommune].short_name
        rows = [self._event(sender, ts, "action", "action_session_start", name="action_session_start"),
                self._event(sender, ts + 0.0001, "session_started", None),
                self._event(sender, ts + 0.0002, "action", "action_listen", name="action_listen")]
        known: str | None = None
        topic: str | None = None
        for number in range(rnd.randint(3, 5)):
            ts += rnd.uniform(15, 120)
            kind = rnd.choices(self.kinds, self.weights)[0]
            if kind in ("answer", "not_stated", "compare", "more", "ask"):
                topic = rnd.choice(list(QUESTIONS))
                text = rnd.choice(QUESTIONS[topic]).format(k=name)
                intent = f"ask_{topic}"
                if kind != "ask" and "{k}" in QUESTIONS[topic][0]:
                    known = kommune
            else:
                text = rnd.choice(OTHER.get(kind, OTHER["unsure"]))
                intent = "nlu_fallback" if kind in ("fallback", "unsure") else kind
            entities = [{"entity": "kommune", "value": kommune, "start": 0, "end": 4}] if known == kommune else []
            rows.append(self._user(sender, ts, text, intent, entities))
            if kind == "no_reply":
                continue
            t = ts + 0.05
            rows.append(self._event(sender, t, "user_featurization", None, use_text_for_featurization=False))
            if kind == "outage":
                rows.append(self._bot(sender, t + 10, "Beklager, Træningsguiden har en teknisk fejl.",
                                      {"kind": "outage", "kommune": known}, False))
                continue
            rows.append(self._event(sender, t, "action", "action_answer", name="action_answer", policy="RulePolicy"))
            if kind == "fallback" and rnd.random() < 0.5:
                rows.append(self._bot(sender, t + 0.01, "Det forstod jeg ikke helt.", None, True, "utter_default"))
            else:
                gaps = []
                if known and (kind == "not_stated" or (kind == "answer" and rnd.random() < 0.1)):
                    services = list(self.kb.municipalities[known].services)
                    gaps = [{"kommune": known, "topic": topic, "services": rnd.sample(services, 1),
                             "missing_kind": None}]
                answer = uuid.UUID(int=rnd.getrandbits(128)).hex[:16]
                record = {"answer": answer, "kind": kind, "kommune": known, "service": None, "topic": topic,
                          "compare": self.kommuner if kind == "compare" else [], "gaps": gaps}
                messages = 2 if kind == "unsure" else 1  # as the assistant sends them (the answer: one message)
                for i in range(messages):
                    rows.append(self._bot(sender, t + 0.01 * (i + 1), ANSWER_TEXT if i == 0 else "Kontakt kommunen.",
                                          record, i == messages - 1))
                slots = {"topic": topic, "question": text, **({"kommune": known} if number == 0 else {})}
                for slot, value in slots.items():
                    rows.append(self._event(sender, t + 0.05, "slot", slot, name=slot, value=value))
                if kind in ("answer", "not_stated", "compare") and known and rnd.random() < 0.12:
                    rating = "up" if rnd.random() < 0.65 else "down"
                    rows += self._rating(sender, ts + rnd.uniform(5, 14), answer, rating, None)
                    if rating == "down" and rnd.random() < 0.5:
                        rows += self._rating(sender, ts + 14.5, answer, rating, rnd.choice(COMMENTS))
            rows.append(self._event(sender, t + 0.06, "action", "action_listen", name="action_listen"))
        return rows

    def _rating(self, sender: str, ts: float, answer: str, rating: str, comment: str | None) -> list[list[Any]]:
        payload = {"answer": answer, "rating": rating, **({"comment": comment} if comment else {})}
        entities = [{"entity": k, "value": v, "start": 9, "end": 60, "extractor": "RegexMessageHandler"}
                    for k, v in payload.items()]
        return [self._user(sender, ts, "/feedback" + json.dumps(payload, ensure_ascii=False), "feedback", entities),
                self._bot(sender, ts + 0.02, "Tak for din vurdering.", {"answer": "x", "kind": "feedback"}, True)]


def _copy_line(row: list[Any]) -> str:
    """One row in COPY's text format (JSON never holds a raw tab or newline; its backslashes are doubled)."""
    return "\t".join("\\N" if v is None else str(v).replace("\\", "\\\\") for v in row) + "\n"


def generate(url: str, conversations: int, start: float, end: float, seed: int = 7, batch: int = 50_000) -> int:
    """COPY ``conversations`` conversations into the store's events table; how many rows.

    The rows go in in time order, as a running assistant appends them (conversations that overlap in time
    interleave), so the table's physical order follows ``timestamp`` as it does in production. The next
    batch is made while the database stores the last one."""
    import heapq
    from concurrent.futures import ThreadPoolExecutor

    import sqlalchemy as sa

    generator = Generator(seed)
    starts = sorted(generator.rnd.uniform(start, end - 900) for _ in range(conversations))
    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    rows = 0

    def copy(lines: list[str]) -> None:
        with raw.cursor() as cursor:
            cursor.copy_expert("COPY events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                               "FROM STDIN", io.StringIO("".join(lines)))
        raw.commit()

    waiting: list[tuple[float, int, str]] = []  # rows of conversations still going on, by time
    lines: list[str] = []
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for number, at in enumerate(starts):
                for row in generator.conversation(at):
                    heapq.heappush(waiting, (row[2], rows, _copy_line(row)))
                    rows += 1
                while waiting and waiting[0][0] < at:  # later conversations start later: these come first
                    lines.append(heapq.heappop(waiting)[2])
                if len(lines) >= batch or number == len(starts) - 1:
                    lines += [line for _, _, line in sorted(waiting)] if number == len(starts) - 1 else []
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(copy, lines)
                    lines = []
            if pending is not None:
                pending.result()
    finally:
        raw.close()
        engine.dispose()
    return rows


# --------------------------------------------------------------------------------------------
# Measuring


SWEEP = ("SELECT anon_1.sender_id FROM (SELECT events.sender_id AS sender_id FROM events GROUP BY events.sender_id "
         "HAVING max(events.timestamp) < {cutoff}) AS anon_1")  # channels.stores' sweep before the report's index
# the same conversations, found from their old events (a range of the timestamp index) less those with newer ones
# (channels.stores.RetentionMixin.sweep since the report's index)
SWEEP_BY_TIME = ("SELECT events.sender_id FROM events WHERE events.timestamp < {cutoff} AND NOT (EXISTS "
                 "(SELECT events_1.id FROM events AS events_1 WHERE events_1.sender_id = events.sender_id AND "
                 "events_1.timestamp >= {cutoff}))")
CANDIDATES = {  # name: the indexes besides Rasa's own (sender_id)
    "none": [],
    "timestamp": ["CREATE INDEX ix_cand ON events (timestamp)"],
    "type_name,timestamp": ["CREATE INDEX ix_cand ON events (type_name, timestamp)"],
    "sender_id,timestamp": ["CREATE INDEX ix_cand ON events (sender_id, timestamp)"],
    "timestamp + sender_id,timestamp": ["CREATE INDEX ix_cand ON events (timestamp)",
                                        "CREATE INDEX ix_cand2 ON events (sender_id, timestamp)"],
}


def report_sql(url: str, start: date, end: date) -> str:
    import sqlalchemy as sa

    from traeningsguide import report, store

    engine = store.engine(url)
    events = store.events_table(engine)
    query = report.events_query(events, "postgresql", report.stamp(start),
                                report.stamp(end + timedelta(days=1)) + report.GRACE_SECONDS)
    engine.dispose()
    return str(query.compile(dialect=sa.dialects.postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def explain(url: str, sql: str, cursor: bool = False) -> tuple[str, float]:
    """EXPLAIN (ANALYZE, BUFFERS) of a query: the plan and the execution time in ms. ``cursor``: as the report
    runs it, in a server-side cursor (PostgreSQL plans no parallel workers for one) with its work_mem."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if cursor:
                conn.execute(sa.text("SET LOCAL work_mem = '64MB'"))
                conn.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
            plan = "\n".join(r[0] for r in conn.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")))
    finally:
        engine.dispose()
    ms = next((float(line.split(":")[1].split()[0]) for line in plan.splitlines() if "Execution Time" in line), 0.0)
    return plan, ms


def index_names(url: str) -> list[tuple[str, str]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'"))
        names = [(r[0], r[1]) for r in rows]
    engine.dispose()
    return names


def compare_indexes(url: str, today: date) -> None:
    """EXPLAIN ANALYZE of the report's query (1, 7 and 30 days) and of the retention sweep with each candidate
    index besides Rasa's own (the best of two runs, warm), then the store's own indexes again."""
    import sqlalchemy as sa

    from channels.stores import INDEXES
    from traeningsguide import report

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    periods = {"1 day": (today - timedelta(days=3), today - timedelta(days=3)),
               "7 days": (today - timedelta(days=9), today - timedelta(days=3)),
               "30 days": (today - timedelta(days=29), today)}
    queries = {name: report_sql(url, *period) for name, period in periods.items()}  # run as in a cursor
    due = report.stamp(today - timedelta(days=29)) + 3600  # an hourly sweep: the oldest hour is due
    queries["sweep (group by)"] = SWEEP.format(cutoff=due)
    queries["sweep (by timestamp)"] = SWEEP_BY_TIME.format(cutoff=due)
    print("\nindex candidates besides Rasa's (sender_id): ms (EXPLAIN ANALYZE, best of 2; the report's query as in "
          "its cursor) and the scan used")
    print(f"{'candidate':32}" + "".join(f"{name:>24}" for name in queries))
    try:
        for name, statements in CANDIDATES.items():
            with engine.connect() as conn:
                for index in (*(n for n, _ in INDEXES), "ix_cand", "ix_cand2"):
                    conn.execute(sa.text(f"DROP INDEX IF EXISTS {index}"))
                for statement in statements:
                    conn.execute(sa.text(statement))
                conn.execute(sa.text("VACUUM ANALYZE events"))
            cells = []
            for query, sql in queries.items():
                runs = [explain(url, sql, cursor=query in periods) for _ in range(2)]
                plan, ms = min(runs, key=lambda run: run[1])
                cells.append(f"{ms:8.0f} {_scan(plan)}")
            print(f"{name:32}" + "".join(f"{cell:>24}" for cell in cells), flush=True)
    finally:
        with engine.connect() as conn:  # back to what the store makes
            for index in ("ix_cand", "ix_cand2"):
                conn.execute(sa.text(f"DROP INDEX IF EXISTS {index}"))
        engine.dispose()
        make_store(url).engine.dispose()


def _scan(plan: str) -> str:
    for line in plan.splitlines():
        for kind in ("Index Only Scan", "Bitmap Index Scan", "Index Scan", "Seq Scan"):
            if kind in line:
                return kind.replace(" Scan", "").replace("Index Only", "IndexOnly").replace("Bitmap Index", "Bitmap")
    return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--url", help="an existing PostgreSQL database to add to (default: a throwaway cluster)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--compare-indexes", action="store_true",
                        help="also EXPLAIN ANALYZE the report's query and the retention sweep per candidate index")
    args = parser.parse_args(argv)
    cluster = None
    try:
        if args.url:
            url = args.url
        else:
            cluster = Postgres()
            url = cluster.createdb("scale")
            print(f"throwaway PostgreSQL ({cluster.bin.parent.name}) in {cluster.root}")
        from traeningsguide import report

        today = datetime.now(timezone.utc).date()
        start_day = today - timedelta(days=args.days - 1)
        began = time.perf_counter()
        make_store(url).engine.dispose()
        rows = generate(url, args.conversations, report.stamp(start_day), time.time(), args.seed)
        generated = time.perf_counter() - began
        print(f"generated {args.conversations} conversations, {rows} events in {generated:.1f} s")
        began = time.perf_counter()
        import sqlalchemy as sa

        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("VACUUM ANALYZE events"))
            size = conn.execute(sa.text("SELECT pg_size_pretty(pg_total_relation_size('events'))")).scalar()
        engine.dispose()
        print(f"VACUUM ANALYZE in {time.perf_counter() - began:.1f} s; events table with indexes: {size}")
        for name, definition in index_names(url):
            print(f"  index {name}: {definition}")

        result = report.build(url, start_day, today)
        print(f"report over {start_day} to {today}: {result.rows} rows read, {result.conversations} conversations, "
              f"{result.turns} turns, {len(result.gaps)} gap groups, {len(result.downvotes)} thumbs down, "
              f"{len(result.outages)} outage turns in {result.seconds:.1f} s")
        from traeningsguide.knowledge import knowledge

        began = time.perf_counter()
        text = report.csv_text(result, knowledge())
        html = report.html_page(result, knowledge())
        print(f"laid out as CSV ({len(text) // 1024} kB) and HTML ({len(html) // 1024} kB) in "
              f"{time.perf_counter() - began:.1f} s")
        week = report.build(url, today - timedelta(days=6), today)
        print(f"report over the last 7 days: {week.rows} rows read in {week.seconds:.1f} s")

        for label, first in ((f"{args.days} days", start_day), ("7 days", today - timedelta(days=6)),
                             ("1 day", today - timedelta(days=1))):
            last = today - timedelta(days=1) if label == "1 day" else today
            plan, ms = explain(url, report_sql(url, first, last), cursor=True)
            print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the report's query, {label} ({first} to {last}), as in its "
                  f"cursor (no parallel workers):\n{plan}")
        if args.compare_indexes:
            compare_indexes(url, today)
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
