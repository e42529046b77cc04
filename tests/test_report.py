"""The municipality's report (`python -m traeningsguide report`) over a real tracker store.

Conversations are stored through Rasa's own API (channels.stores' SQLite and PostgreSQL stores, the
events the assistant writes: user messages, the action's bot records, ratings, Rasa's fallback,
outages, rolled and new sessions) with CPR numbers typed in several forms; the report must count them
exactly, the same on both databases, never show a personal number, and never write to the store.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("rasa")
import sqlalchemy as sa  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import (  # noqa: E402
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

from channels import stores  # noqa: E402
from scripts.report_scale import Postgres, postgres_bin  # noqa: E402
from traeningsguide import report, store  # noqa: E402
from traeningsguide.cli import main  # noqa: E402

from .conftest import PROJECT  # noqa: E402

DAY0, DAY1, DAY2, DAY3, DAY4 = (date(2026, 11, d) for d in range(1, 6))
PERIOD = ["--from", DAY1.isoformat(), "--to", DAY3.isoformat()]
CPR_FORMS = ("170871-4431", "1708714431", "17 08 71 44 31", "cpr.nr.:170871-4431")


def _at(day: date, clock: str) -> float:
    hour, minute, *second = (int(x) for x in clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, second[0] if second else 0,
                    tzinfo=timezone.utc).timestamp()


class Conversation:
    """Events of one sender as the assistant stores them, each a few seconds after the one before."""

    def __init__(self, sender: str, day: date, clock: str) -> None:
        self.sender, self.now = sender, _at(day, clock)
        self.events: list[Event] = [ActionExecuted("action_session_start", timestamp=self.now),
                                    SessionStarted(timestamp=self.now),
                                    ActionExecuted("action_listen", timestamp=self.now)]

    def _tick(self, at: float | None = None) -> float:
        self.now = at if at is not None else self.now + 5
        return self.now

    def user(self, text: str, intent: str = "ask_cost", at: float | None = None,
             entities: list[dict[str, Any]] | None = None) -> Conversation:
        parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or [], "text": text}
        self.events.append(UserUttered(text, intent=parse["intent"], entities=parse["entities"], parse_data=parse,
                                       timestamp=self._tick(at), input_channel="rest"))
        return self

    def bot(self, kind: str, kommune: str | None, topic: str | None = None, answer: str | None = None,
            gaps: list[tuple[str, str | None, list[str]]] = (), compare: list[str] = (),  # type: ignore[assignment]
            messages: int = 1, at: float | None = None) -> Conversation:
        record = {"answer": answer, "kind": kind, "kommune": kommune, "service": None, "topic": topic,
                  "compare": list(compare), "gaps": [{"kommune": k, "topic": t, "services": s, "missing_kind": None}
                                                     for k, t, s in gaps]}
        at = self._tick(at)
        for i in range(messages):
            self.events.append(BotUttered(f"svar {i}", {"custom": {"answer": answer}} if i == messages - 1 else {},
                                          metadata={"traeningsguide": record}, timestamp=at + i * 0.001))
        self.events.append(ActionExecuted("action_listen", timestamp=at + 0.01))
        return self

    def rasa_reply(self, utter_action: str) -> Conversation:
        self.events.append(BotUttered("Det forstod jeg ikke helt.", {}, metadata={"utter_action": utter_action},
                                      timestamp=self._tick()))
        return self

    def outage(self, kommune: str | None) -> Conversation:
        self.events.append(BotUttered("Beklager, teknisk fejl.", {},
                                      metadata={"traeningsguide": {"kind": "outage", "kommune": kommune}},
                                      timestamp=self._tick()))
        return self

    def rate(self, answer: str | None, rating: str, comment: str | None = None,
             at: float | None = None) -> Conversation:
        payload = {k: v for k, v in (("answer", answer), ("rating", rating), ("comment", comment)) if v}
        entities = [{"entity": k, "value": v} for k, v in payload.items()]
        self.user("/feedback" + json.dumps(payload, ensure_ascii=False), "feedback", at=at, entities=entities)
        return self.bot("feedback", None, answer=f"fb{len(self.events)}")

    def slot(self, name: str, value: Any) -> Conversation:
        self.events.append(SlotSet(name, value, timestamp=self._tick()))
        return self

    def session(self, rolled: bool = False, at: float | None = None) -> Conversation:
        self.events.append(SessionStarted(metadata={"traeningsguide_rolled": True} if rolled else None,
                                          timestamp=self._tick(at)))
        return self


GAP_BRING = [("koege", "what_to_bring", ["after_hospital"])]


def conversations() -> list[Conversation]:
    koege1 = (Conversation("koege-1", DAY1, "10:00")
              .user(f"hvad koster kørsel i Køge? mit cpr er {CPR_FORMS[0]}", "ask_transport")
              .bot("answer", "koege", "transport", "K1", messages=2)
              .rate("K1", "down")  # the widget: the thumbs first, then perhaps a comment
              .rate("K1", "down", f"mangler prisen, cpr {CPR_FORMS[1]}")
              .user("skal jeg have håndklæde med?", "ask_what_to_bring")
              .bot("not_stated", "koege", "what_to_bring", "K2",
                   gaps=[("koege", "what_to_bring", ["after_hospital", "assessed"])])
              .user("xqzv blorp", "nlu_fallback").rasa_reply("utter_default"))
    koege2 = (Conversation("koege-2", DAY1, "12:00")
              .user(f"hvad skal jeg have med til træning i Køge? {CPR_FORMS[2]}", "ask_what_to_bring")
              .bot("not_stated", "koege", "what_to_bring", "K3", GAP_BRING)
              .user("skal jeg have sko med").bot("not_stated", "koege", "what_to_bring", "K4", GAP_BRING)
              .user("omklædning?").bot("not_stated", "koege", "what_to_bring", "K5", GAP_BRING)
              .user("hvad med bad").bot("not_stated", "koege", "what_to_bring", "K6", GAP_BRING)
              .rate(None, "up"))  # no answer id: the last rated answer (K6)
    holbaek = (Conversation("holbaek-1", DAY2, "09:00")
               .user(f"hvad koster træning i Holbæk, {CPR_FORMS[3]}")
               .bot("answer", "holbaek", "cost", "H1", messages=3)
               .user("jamen altså [/]", "nlu_fallback").bot("unsure", "holbaek", "cost", "H2")
               .user("hvor foregår det? <script>alert(1)</script>", "ask_location")  # no reply at all
               .user("hallo?", "greet").outage("holbaek")
               .rate("H1", "up")
               .rate("H2", "down", "forstod mig ikke"))
    several = (Conversation("several-1", DAY2, "15:00")
               .user("hvad koster det i alle kommuner")
               .bot("compare", None, "cost", "C1", compare=["hedensted", "holbaek", "koege", "roedovre", "roskilde"],
                    gaps=[("roskilde", "cost", ["after_hospital"]), ("roedovre", "cost", ["rehab", "after_hospital"])])
               .rate("C1", "up")
               .session(rolled=True).slot("question", "hvad koster det i alle kommuner")  # a rolled session
               .user("og i Rødovre?").bot("answer", "roedovre", "cost", "C2")
               .session(at=_at(DAY3, "08:00"))  # a new session the next day: a new conversation
               .user("/ask_cost").bot("answer", "roedovre", "cost", "C3", gaps=[("roedovre", "cost", ["rehab"])])
               .slot("question", "Pris")
               .user("hallo").outage(None))  # the outage reply knows no municipality: the last known one
    edge = (Conversation("edge-1", DAY0, "23:59")
            .user("før perioden", "ask_transport").bot("answer", "koege", "transport", "E0")
            .rate("E0", "down", f"gammel {CPR_FORMS[0]}", at=_at(DAY1, "00:00:30"))  # the answer: before the period
            .user("sidste spørgsmål i Roskilde", "ask_contact", at=_at(DAY3, "23:59:50"))
            .bot("answer", "roskilde", "contact", "E1", at=_at(DAY4, "00:00:05"))  # answered just after the end
            .user("efter perioden", at=_at(DAY4, "10:00")).bot("answer", "roskilde", "cost", "E2"))
    return [koege1, koege2, holbaek, several, edge]


def seed(tracker_store: Any) -> None:
    domain = tracker_store.domain
    for conversation in conversations():
        tracker = DialogueStateTracker(conversation.sender, domain.slots)
        for event in conversation.events:
            tracker.update(event)
        asyncio.run(tracker_store.save(tracker))


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT / "domain.yml"))


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory, domain: Domain) -> str:
    db = tmp_path_factory.mktemp("report") / "t.db"
    sqlite_store = stores.SQLiteTrackerStore(domain=domain, db=str(db))
    seed(sqlite_store)
    sqlite_store.engine.dispose()
    return f"sqlite:///{db}"


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set, but there are no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    with Postgres() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def postgres_url(postgres: Postgres, domain: Domain) -> str:
    url = postgres.createdb("report")
    pg_store = stores.PostgresTrackerStore(domain=domain, host=url)
    seed(pg_store)
    pg_store.engine.dispose()
    return url


def build(url: str, kommune: str | None = None) -> report.Report:
    return report.build(url, DAY1, DAY3, kommune)


def _cli(*args: str) -> Any:
    return CliRunner(env={"COLUMNS": "250"}).invoke(main, ["report", *args])


# --------------------------------------------------------------------------------------------
# The numbers


def test_conversations_and_turns_per_municipality_and_day(sqlite_url: str) -> None:
    r = build(sqlite_url)
    assert [(d.day, d.kommune, d.conversations, d.turns) for d in r.days] == [
        (DAY1, "koege", 2, 7),
        (DAY2, "holbaek", 1, 4), (DAY2, "roedovre", 1, 1), (DAY2, "several", 1, 1),
        (DAY3, "roedovre", 1, 2), (DAY3, "roskilde", 1, 1),
    ]
    # ratings are not turns; a rolled session is the same conversation, a new session a new one
    assert (r.conversations, r.turns) == (6, 16)
    assert [(t.topic, t.turns) for t in r.topics] == [("what_to_bring", 5), ("cost", 4), ("contact", 1),
                                                      ("transport", 1)]


def test_fallback_and_unsure_rates(sqlite_url: str) -> None:
    r = build(sqlite_url)
    rates = {x.kommune: (x.turns, x.fallbacks, x.unsure) for x in r.rates}
    assert rates == {"koege": (7, 1, 0), "holbaek": (4, 0, 1), "roedovre": (3, 0, 0), "roskilde": (1, 0, 0),
                     "several": (1, 0, 0)}
    koege = next(x for x in r.rates if x.kommune == "koege")
    assert round(koege.fallback_rate, 3) == 0.143 and (r.fallbacks, r.unsure) == (1, 1)


def test_the_gaps_citizens_hit(sqlite_url: str) -> None:
    r = build(sqlite_url)
    assert [(g.kommune, g.service, g.topic, g.count, g.examples) for g in r.gaps] == [
        ("koege", "after_hospital", "what_to_bring", 5,
         ("skal jeg have håndklæde med?", "hvad skal jeg have med til træning i Køge? ## ## ## ## ##",
          "skal jeg have sko med")),  # at most three examples
        ("roedovre", "rehab", "cost", 2, ("hvad koster det i alle kommuner", "Pris")),  # a button: what it asked
        ("koege", "assessed", "what_to_bring", 1, ("skal jeg have håndklæde med?",)),
        ("roedovre", "after_hospital", "cost", 1, ("hvad koster det i alle kommuner",)),
        ("roskilde", "after_hospital", "cost", 1, ("hvad koster det i alle kommuner",)),
    ]


def test_ratings_merged_per_answer_with_the_comment(sqlite_url: str) -> None:
    r = build(sqlite_url)
    assert [(x.kommune, x.topic, x.up, x.down) for x in r.ratings] == [
        ("holbaek", None, 0, 1), ("holbaek", "cost", 1, 0), ("koege", "transport", 0, 1),
        ("koege", "what_to_bring", 1, 0), ("several", "cost", 1, 0), ("unknown", None, 0, 1)]
    assert [(d.kommune, d.topic, d.question, d.comment) for d in r.downvotes] == [
        ("unknown", None, None, "gammel ######-####"),  # rates an answer from before the period
        ("koege", "transport", "hvad koster kørsel i Køge? mit cpr er ######-####", "mangler prisen, cpr ##########"),
        ("holbaek", None, "jamen altså [/]", "forstod mig ikke"),
    ]


def test_outages(sqlite_url: str) -> None:
    r = build(sqlite_url)
    assert [(d.day, d.outage_replies, d.no_reply) for d in r.outage_days] == [(DAY2, 1, 1), (DAY3, 1, 0)]
    assert [(o.kommune, o.kind, o.question) for o in r.outages] == [
        ("holbaek", "no_reply", "hvor foregår det? <script>alert(1)</script>"), ("holbaek", "outage", "hallo?"),
        ("roedovre", "outage", "hallo")]


def test_one_municipality(sqlite_url: str) -> None:
    r = build(sqlite_url, "roedovre")
    assert (r.conversations, r.turns) == (2, 3)
    assert [(g.service, g.count) for g in r.gaps] == [("rehab", 2), ("after_hospital", 1)]
    assert r.ratings == () and [o.kind for o in r.outages] == ["outage"]


# --------------------------------------------------------------------------------------------
# Output: terminal, CSV, HTML; no personal number anywhere


def _no_personal_numbers(text: str) -> None:
    assert "170871" not in text and "4431" not in text
    squeezed = re.sub(r"(?<=\d)[\s\-.:/_]+(?=\d)", "", text)  # the digit runs with their separators removed
    assert "1708714431" not in squeezed and "170871" not in squeezed


def test_terminal_csv_and_html(sqlite_url: str, tmp_path: Path) -> None:
    result = _cli("--store", sqlite_url, *PERIOD)
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in ("Køge", "Hvad skal du have med", "Genoptræning efter sygehusophold", "Flere kommuner",
                     "mangler prisen, cpr ##########", "jamen altså [/]", "Intet svar", "14,3"):
        assert expected in out, expected
    _no_personal_numbers(out)

    csv_path, html_path = tmp_path / "rapport.csv", tmp_path / "rapport.html"
    result = _cli("--store", sqlite_url, *PERIOD, "--csv", str(csv_path), "--html", str(html_path))
    assert result.exit_code == 0, result.output
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[:2] == ["Afsnit", "Periode"]
    gaps = [dict(zip(header, row, strict=True)) for row in rows if row[0].startswith("Det, kommunens tekst")]
    assert gaps[0]["Kommune"] == "Køge" and gaps[0]["Antal"] == "5" and gaps[0]["Emne"] == "Hvad skal du have med"
    assert gaps[0]["Eksempler på spørgsmål"].count(" | ") == 2
    downs = [dict(zip(header, row, strict=True)) for row in rows if row[0].startswith("Svar, der ikke hjalp")]
    assert {d["Kommentar"] for d in downs} == {"gammel ######-####", "mangler prisen, cpr ##########",
                                               "forstod mig ikke"}
    _no_personal_numbers(raw.decode("utf-8-sig"))

    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="da">' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page  # escaped
    assert "Genoptræning efter sygehusophold" in page and "<td class=\"number\">5</td>" in page
    _no_personal_numbers(page)


# --------------------------------------------------------------------------------------------
# Read-only


def test_the_report_does_not_write_to_the_store(sqlite_url: str, tmp_path: Path) -> None:
    db = Path(sqlite_url[len("sqlite:///"):])
    before = (db.read_bytes(), db.stat().st_mtime_ns)
    build(sqlite_url)
    assert _cli("--store", sqlite_url, *PERIOD).exit_code == 0
    assert (db.read_bytes(), db.stat().st_mtime_ns) == before
    with pytest.raises(sa.exc.OperationalError, match="readonly"):  # the engine cannot write at all
        with store.engine(sqlite_url, read_only=True).begin() as conn:
            conn.execute(sa.text("DELETE FROM events"))
    missing = tmp_path / "none" / "tracker.db"
    result = _cli("--store", f"sqlite:///{missing}")
    assert result.exit_code == 2 and "findes ikke" in result.output
    assert not missing.exists() and not missing.parent.exists()


def test_the_store_creates_the_timestamp_index(sqlite_url: str) -> None:
    db = sqlite_url[len("sqlite:///"):]
    with sqlite3.connect(db) as conn:
        indexes = {row[1]: row for row in conn.execute("PRAGMA index_list(events)")}
        plan = " ".join(str(r) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM events WHERE timestamp >= ? AND timestamp < ?", (0, 1)))
    assert "ix_events_timestamp" in indexes and "ix_events_timestamp" in plan


# --------------------------------------------------------------------------------------------
# Bad input: a Danish message and exit 2, never a traceback


@pytest.mark.parametrize("args,message", [
    (["--kommune", "aarhus"], "Aarhus Kommune er ikke med"),
    (["--from", "2026-13-01"], "Datoen »2026-13-01« kan ikke læses"),
    (["--to", "i går"], "Datoen »i går« kan ikke læses"),
    (["--from", "2026-11-05", "--to", "2026-11-01"], "Perioden begynder 2026-11-05"),
])
def test_bad_input(sqlite_url: str, args: list[str], message: str) -> None:
    result = _cli("--store", sqlite_url, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_bad_stores(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER)")
    for args, message in (
        (["--store", f"sqlite:///{other}"], "ingen tabel »events«"),
        (["--store", "postgresql://nobody@127.0.0.1:1/none"], "kan ikke læses"),
        (["--store", "ikke en url"], "skal være en database-URL"),
    ):
        result = _cli(*args)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    result = CliRunner(env={"COLUMNS": "250", "TRACKER_STORE_URL": "", "TRACKER_DB": str(tmp_path / "nope.db")}
                       ).invoke(main, ["report"])
    assert result.exit_code == 2 and "findes ikke" in result.output and not (tmp_path / "nope.db").exists()


def test_a_file_that_cannot_be_written(sqlite_url: str, tmp_path: Path) -> None:
    result = _cli("--store", sqlite_url, "--csv", str(tmp_path / "no" / "such" / "dir.csv"))
    assert result.exit_code == 2 and "kan ikke skrives" in result.output


# --------------------------------------------------------------------------------------------
# PostgreSQL: the same conversations, the same report, the index, read-only


def test_postgresql_gives_the_same_report(postgres_url: str, sqlite_url: str) -> None:
    on_postgres, on_sqlite = build(postgres_url), build(sqlite_url)
    assert replace(on_postgres, seconds=0.0) == replace(on_sqlite, seconds=0.0)
    assert on_postgres.turns == 16 and on_postgres.gaps[0].count == 5
    result = _cli("--store", postgres_url, *PERIOD, "--kommune", "Rødovre")
    assert result.exit_code == 0, result.output
    assert "Genoptræning af funktionsnedsættelser" in result.output
    _no_personal_numbers(result.output)


def test_postgresql_index_and_read_only(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        indexes = {name: definition for name, definition in conn.execute(
            sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events'"))}
        conn.execute(sa.text("SET enable_seqscan = off"))  # a tiny table: show that the index can serve the period
        plan = " ".join(r[0] for r in conn.execute(sa.text(
            "EXPLAIN SELECT id FROM events WHERE timestamp >= 0 AND timestamp < 1")))
    engine.dispose()
    assert '("timestamp")' in indexes["ix_events_timestamp"] and "ix_events_timestamp" in plan
    # the store starting again (another replica, a restart) finds the index and leaves it
    stores.PostgresTrackerStore(domain=Domain.empty(), host=postgres_url).engine.dispose()
    with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
        with store.engine(postgres_url, read_only=True).begin() as conn:
            conn.execute(sa.text("DELETE FROM events"))


def test_a_widget_opened_on_a_municipalitys_page_without_a_question_is_no_conversation(
        tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "visits.db"
    store = stores.SQLiteTrackerStore(domain=domain, db=str(db))
    visit = '/inform_kommune{"kommune": "koege"}'
    for conversation in (
            Conversation("visit-only", DAY1, "09:00").user(visit, "inform_kommune").bot("ask", "koege"),
            Conversation("visit-then-question", DAY1, "10:00").user(visit, "inform_kommune").bot("ask", "koege")
            .user("hvad koster kørsel?", "ask_transport").bot("answer", "koege", "transport", "V1"),
            # naming the municipality when asked for it is a turn of the conversation
            Conversation("asked-for-it", DAY1, "11:00").user("hvad koster kørsel?", "ask_transport").bot("ask", None)
            .user(visit, "inform_kommune").bot("answer", "koege", "transport", "V2")):
        tracker = DialogueStateTracker(conversation.sender, domain.slots)
        for event in conversation.events:
            tracker.update(event)
        asyncio.run(store.save(tracker))
    store.engine.dispose()
    r = report.build(f"sqlite:///{db}", DAY1, DAY1)
    assert (r.conversations, r.turns) == (2, 3)
    # the first question of "asked-for-it" came before its municipality was known
    assert [(d.kommune, d.conversations, d.turns) for d in r.days] == [("koege", 2, 2), ("unknown", 1, 1)]
