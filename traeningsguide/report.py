"""The municipality's report over the real tracker store: `python -m traeningsguide report`.

Reads Rasa's ``events`` table (traeningsguide.store, read-only) for a period and computes, per
municipality and day, what citizens asked and what they got: conversations and turns, the topics
answered, the share of fallbacks and of "not sure" replies, the gaps in the municipality's text that
citizens hit (what the answers said the text is silent on, with masked example questions), the ratings
(thumbs up/down per topic, each thumbs down with its question and comment) and the outages.

What it reads (written by actions/actions.py ``record()`` and channels/guard.py):

* a ``user`` event is a turn, unless it is a rating (intent ``feedback``, ``/feedback{"answer", "rating",
  "comment"}``); its municipality is the one of the bot record answering it, else the conversation's
  last known one, else UNKNOWN; a comparison counts for SEVERAL;
* a ``bot`` event carries the turn's record in ``metadata.traeningsguide`` (the same record on every
  message of the turn); Rasa's own fallback message has ``metadata.utter_action`` ``utter_default``
  (counted as a fallback), its error message ``utter_error`` (an error); an outage reply has kind
  ``outage``; a turn with no bot event before the next user event got no reply (an outage too);
* a ``session_started`` event starts a new conversation, unless it is a rolled session
  (``traeningsguide_rolled``, channels/stores.py), which goes on with the same one;
* the ``question`` slot (when a turn ended): what a button press (a ``/payload`` text) asked.

The widget sends a thumbs down first and then perhaps a second rating of the same answer with a
comment: ratings are merged by answer id (the last rating wins, a comment is kept). A rating without
an answer id rates the last rated answer before it in the conversation. A rating of an answer given
before the period counts with the conversation's last known municipality and no topic.

Every user text and comment is masked again (traeningsguide.privacy): the store may hold rows from
before the channel guard masked them. One query reads the period's user, bot and session events
(``timestamp`` is indexed, channels/stores.py), of them only the metadata of bot and session events and
the ratings (extracted by the database), streamed in the order of the conversations; the texts of the
few questions the report shows (examples, thumbs down, outages) are read afterwards by id, in the same
read-only transaction. Pure: no printing, no Rasa; ``sections`` lays the report out for the terminal,
the CSV file and the HTML page.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from traeningsguide import dialogue, store
from traeningsguide.knowledge import KnowledgeBase
from traeningsguide.privacy import mask_personal_numbers

SEVERAL = "several"  # a comparison of several municipalities
UNKNOWN = "unknown"  # no municipality known in the conversation
NO_REPLY = "no_reply"  # a turn without any bot message (the outage kind of a turn that got nothing)
DEFAULT_DAYS = 30
EXAMPLES = 3  # masked example questions per gap
EXAMPLE_CANDIDATES = 10  # turns kept per gap to find EXAMPLES different questions among
GRACE_SECONDS = 60.0  # a turn asked just before the period's end may be answered just after it
BATCH = 5000  # rows fetched at a time
FEEDBACK_PREFIX = "/" + dialogue.FEEDBACK_INTENT
QUESTION_SLOT = "question"
OPENING_INTENT = "inform_kommune"  # the widget's start on a municipality's page: /inform_kommune{"kommune": ...}
RATINGS = ("up", "down")
# the replies that answered a topic (their record's topic is the topic asked; other kinds keep an old one)
ANSWERED = frozenset({dialogue.ANSWER, dialogue.NOT_STATED, dialogue.COMPARE, dialogue.MORE, dialogue.SITUATION})
RASA_UTTERANCES = {"utter_default": dialogue.FALLBACK, "utter_error": dialogue.ERROR}
TYPES = ("user", "bot", "session_started")
NEEDED_COLUMNS = ("id", "sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
_EPOCH = date(1970, 1, 1)


# --------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class DayRow:
    day: date
    kommune: str  # a municipality id, SEVERAL or UNKNOWN
    conversations: int
    turns: int


@dataclass(frozen=True)
class TopicRow:
    topic: str
    turns: int


@dataclass(frozen=True)
class RateRow:
    kommune: str
    turns: int
    fallbacks: int
    unsure: int

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.turns if self.turns else 0.0

    @property
    def unsure_rate(self) -> float:
        return self.unsure / self.turns if self.turns else 0.0


@dataclass(frozen=True)
class GapRow:
    """Answers that said the municipality's text is silent: on a topic (None: on the question at all),
    for a service of the municipality (None: for the services asked about together), or that the text
    does not describe a kind of service (``missing_kind``). A gap naming two services counts for each."""

    kommune: str
    service: str | None
    missing_kind: str | None
    topic: str | None
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class RatingRow:
    kommune: str
    topic: str | None
    up: int
    down: int


@dataclass(frozen=True)
class Downvote:
    at: float
    kommune: str
    topic: str | None
    question: str | None
    comment: str | None


@dataclass(frozen=True)
class OutageDay:
    day: date
    outage_replies: int  # the outage reply was sent (channels.guard)
    no_reply: int  # nothing at all was sent


@dataclass(frozen=True)
class OutageTurn:
    at: float
    kommune: str
    kind: str  # dialogue.OUTAGE or NO_REPLY
    question: str | None


@dataclass(frozen=True)
class Report:
    start: date  # the period, both days included (UTC)
    end: date
    kommune: str | None  # the one municipality reported on, or None for all
    rows: int  # events read
    seconds: float
    conversations: int
    turns: int
    days: tuple[DayRow, ...]
    topics: tuple[TopicRow, ...]
    rates: tuple[RateRow, ...]
    gaps: tuple[GapRow, ...]
    ratings: tuple[RatingRow, ...]
    downvotes: tuple[Downvote, ...]
    outage_days: tuple[OutageDay, ...]
    outages: tuple[OutageTurn, ...]

    @property
    def fallbacks(self) -> int:
        return sum(r.fallbacks for r in self.rates)

    @property
    def unsure(self) -> int:
        return sum(r.unsure for r in self.rates)


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last DEFAULT_DAYS days, today (UTC) included."""
    end = today or datetime.now(timezone.utc).date()
    return end - timedelta(days=DEFAULT_DAYS - 1), end


def stamp(day: date) -> float:
    """The Unix time at the start of a day (UTC)."""
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


# --------------------------------------------------------------------------------------------
# Reading the store

Ask = tuple[str, int, int]  # a turn's question: (sender id, its user event's id, the id its turn ends before)
END = 1 << 62  # the end of a conversation's rows


def _json_field(dialect: str, data: sa.ColumnElement[Any], name: str) -> sa.ColumnElement[Any]:
    """A top-level field of the event's JSON, extracted by the database: a string as text, an object as JSON."""
    if dialect == "postgresql":
        return sa.func.json_extract_path_text(sa.cast(data, sa.JSON), sa.literal(name, sa.Text))
    return sa.func.json_extract(data, f'$."{name}"')


def events_query(events: sa.Table, dialect: str, start: float, end: float) -> sa.sql.Select:
    """The report's main query: the period's user, bot and session events in conversation order, with
    ``a``: the metadata of a bot or session event (the turn's record), the whole event of a rating, and
    nothing of other user events (their texts are read afterwards, only for the few questions shown)."""
    c = events.c
    a = sa.case((c.type_name != "user", _json_field(dialect, c.data, "metadata")),
                (c.intent_name == dialogue.FEEDBACK_INTENT, c.data), else_=sa.null())
    return (sa.select(c.sender_id, c.id, c.type_name, c.timestamp, c.intent_name, a.label("a"))
            .where(c.timestamp >= start, c.timestamp < end, c.type_name.in_(TYPES))
            .order_by(c.sender_id, c.id))


def _texts_query(events: sa.Table, dialect: str, ids: list[int]) -> sa.sql.Select:
    return sa.select(events.c.id, _json_field(dialect, events.c.data, "text")).where(events.c.id.in_(ids))


def _question_query(events: sa.Table, dialect: str, sender: str, before: int) -> sa.sql.Select:
    """The ``question`` slot as it was when a turn ended: what a button press asked."""
    c = events.c
    return (sa.select(_json_field(dialect, c.data, "value"))
            .where(c.sender_id == sender, c.type_name == "slot", c.action_name == QUESTION_SLOT, c.id < before)
            .order_by(c.id.desc()).limit(1))


def _lookup(conn: sa.engine.Connection, events: sa.Table, dialect: str, asks: set[Ask]) -> dict[Ask, str | None]:
    """The masked question of each turn: its text, or for a button (a ``/payload``) the question slot."""
    ids = sorted({ask[1] for ask in asks})
    texts: dict[int, Any] = {}
    for first in range(0, len(ids), 500):
        texts.update(conn.execute(_texts_query(events, dialect, ids[first:first + 500])).all())
    found: dict[Ask, str | None] = {}
    for ask in asks:
        text = texts.get(ask[1])
        if isinstance(text, str) and text.startswith("/"):
            value = conn.execute(_question_query(events, dialect, ask[0], ask[2])).scalar()
            text = value if isinstance(value, str) and value else text
        found[ask] = _masked(text)
    return found


def build(url: str, start: date, end: date, kommune: str | None = None) -> Report:
    """The report over the store at ``url`` (traeningsguide.store.store_url) for the days ``start`` to
    ``end`` (UTC, both included), for one municipality id or all; a store.StoreError if it cannot be read."""
    began = time.perf_counter()
    engine = store.engine(url, read_only=True)
    collecting = gc.isenabled()
    gc.disable()  # a million short-lived objects, no cycles: the collector only slows the pass down (15 %)
    try:
        events = store.events_table(engine)
        missing = [name for name in NEEDED_COLUMNS if name not in events.c]
        if missing:
            raise store.StoreError(store.NO_EVENTS, store.shown(engine.url),
                                   f"the events table lacks {', '.join(missing)}: is it Rasa's tracker store?")
        dialect = engine.dialect.name
        query = events_query(events, dialect, stamp(start), stamp(end + timedelta(days=1)) + GRACE_SECONDS)
        with engine.connect() as conn, conn.begin():
            if dialect == "postgresql":  # one snapshot for both queries; the sort by conversation in memory
                conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
                conn.execute(sa.text("SET LOCAL work_mem = '64MB'"))
            result = conn.execution_options(stream_results=True, max_row_buffer=BATCH).execute(query)
            totals = compute((row for rows in result.partitions(BATCH) for row in rows), end, kommune)
            asks = _lookup(conn, events, dialect, totals.asks())
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise store.StoreError(store.UNREACHABLE, store.shown(url), f"cannot read {store.shown(url)}: {reason}",
                               reason) from None
    finally:
        engine.dispose()
        if collecting:
            gc.enable()
    return totals.report(start, end, asks, time.perf_counter() - began)


# --------------------------------------------------------------------------------------------
# Computing


def _masked(text: Any) -> str | None:
    return mask_personal_numbers(text) if isinstance(text, str) else None


_DECODER = json.JSONDecoder()


def _loads(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return _DECODER.raw_decode(text)[0]  # what the databases give starts with the value: no wrapper needed
    except ValueError:
        try:
            return json.loads(text)
        except ValueError:
            return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _record(metadata: Any) -> dict[str, Any]:
    """A bot message's record (actions.actions.record), checked: every value of the type the report expects.
    Rasa's own messages have none: their ``utter_action`` says what they were."""
    meta = metadata if isinstance(metadata, dict) else {}
    raw = meta.get(dialogue.RECORD_KEY)
    if not isinstance(raw, dict):
        return {"kind": RASA_UTTERANCES.get(str(meta.get("utter_action"))), "kommune": None, "answer": None,
                "topic": None, "compare": False, "gaps": ()}
    gaps = []
    for gap in raw.get("gaps") if isinstance(raw.get("gaps"), list) else ():
        if isinstance(gap, dict) and _text(gap.get("kommune")):
            services = gap.get("services") if isinstance(gap.get("services"), list) else []
            gaps.append((gap["kommune"], _text(gap.get("topic")), tuple(s for s in services if _text(s)),
                         _text(gap.get("missing_kind"))))
    return {"kind": _text(raw.get("kind")), "kommune": _text(raw.get("kommune")), "answer": _text(raw.get("answer")),
            "topic": _text(raw.get("topic")), "compare": bool(raw.get("compare")), "gaps": tuple(gaps)}


def _rating_fields(event: Any) -> dict[str, str]:
    """answer/rating/comment of a rating event: its entities, else the JSON after /feedback in its text."""
    event = event if isinstance(event, dict) else {}
    parse = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
    values: dict[str, str] = {}
    for entity in parse.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") in ("answer", "rating", "comment") \
                and isinstance(entity.get("value"), str):
            values.setdefault(entity["entity"], entity["value"])
    text = event.get("text")
    if not values.get("rating") and isinstance(text, str) and text.startswith(FEEDBACK_PREFIX):
        payload = _loads(text[len(FEEDBACK_PREFIX):])
        if isinstance(payload, dict):
            values = {k: v for k, v in payload.items() if k in ("answer", "rating", "comment") and isinstance(v, str)}
    return values


_Target = tuple[str, str | None, Ask | None]  # what a rating rates: the answer's municipality, topic, question


@dataclass
class _Rating:
    target: _Target
    rating: str
    comment: str | None
    at: float


class _Turn:
    __slots__ = ("conversation", "at", "user_id", "records", "opening")

    def __init__(self, conversation: int, at: float, user_id: int, opening: bool = False) -> None:
        self.conversation, self.at, self.user_id = conversation, at, user_id
        # the conversation's first message only names the municipality (the widget sends it, unseen, when it
        # opens on a municipality's page): answered with "what would you like to know?", it is a visit, no question
        self.opening = opening
        self.records: dict[str, dict[str, Any]] = {}  # by answer id (or kind), in order


GapKey = tuple[str, str | None, str | None, str | None]  # kommune, service, missing kind, topic


@dataclass
class _Totals:
    """Everything counted over the rows; questions as Ask references, read at the end."""

    kommune: str | None
    rows: int = 0
    turns: Counter[tuple[date, str]] = field(default_factory=Counter)
    conversations: dict[tuple[date, str], set[int]] = field(default_factory=lambda: defaultdict(set))
    topics: Counter[str] = field(default_factory=Counter)
    fallbacks: Counter[str] = field(default_factory=Counter)
    unsure: Counter[str] = field(default_factory=Counter)
    gaps: Counter[GapKey] = field(default_factory=Counter)
    examples: dict[GapKey, list[Ask]] = field(default_factory=lambda: defaultdict(list))
    ratings: dict[tuple[str, str | None], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    downvotes: list[tuple[float, str, str | None, Ask | None, str | None]] = field(default_factory=list)
    outage_days: dict[date, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    outages: list[tuple[float, str, str, Ask]] = field(default_factory=list)
    days: dict[int, date] = field(default_factory=dict)

    def wants(self, kommune: str) -> bool:
        return self.kommune is None or kommune == self.kommune

    def asks(self) -> set[Ask]:
        """The turns whose question the report shows."""
        wanted = {ask for asks in self.examples.values() for ask in asks}
        wanted.update(d[3] for d in self.downvotes if d[3] is not None)
        wanted.update(o[3] for o in self.outages)
        return wanted

    def report(self, start: date, end: date, asks: Mapping[Ask, str | None], seconds: float = 0.0) -> Report:
        def examples(key: GapKey) -> tuple[str, ...]:
            texts = (asks.get(ask) for ask in self.examples[key])
            return tuple(dict.fromkeys(text for text in texts if text))[:EXAMPLES]

        days = tuple(DayRow(day, k, len(self.conversations[(day, k)]), n) for (day, k), n in
                     sorted(self.turns.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))))
        topics = tuple(TopicRow(topic, n) for topic, n in sorted(self.topics.items(), key=lambda kv: (-kv[1], kv[0])))
        per_kommune: Counter[str] = Counter()
        for (_, k), n in self.turns.items():
            per_kommune[k] += n
        rates = tuple(RateRow(k, n, self.fallbacks[k], self.unsure[k])
                      for k, n in sorted(per_kommune.items(), key=lambda kv: _order(kv[0])))
        gaps = tuple(GapRow(*key, n, examples(key)) for key, n in sorted(
            self.gaps.items(), key=lambda kv: (-kv[1], *(str(part) for part in kv[0]))))
        ratings = tuple(RatingRow(k, topic, up, down) for (k, topic), (up, down) in sorted(
            self.ratings.items(), key=lambda kv: (_order(kv[0][0]), str(kv[0][1]))))
        downvotes = tuple(Downvote(at, k, topic, asks.get(ask) if ask else None, comment)
                          for at, k, topic, ask, comment in sorted(self.downvotes, key=lambda d: d[0]))
        outage_days = tuple(OutageDay(day, a, b) for day, (a, b) in sorted(self.outage_days.items()))
        outages = tuple(OutageTurn(at, k, kind, asks.get(ask)) for at, k, kind, ask in
                        sorted(self.outages, key=lambda o: o[0]))
        conversations = len(set().union(*self.conversations.values()))
        return Report(start, end, self.kommune, self.rows, seconds, conversations, sum(self.turns.values()),
                      days, topics, rates, gaps, ratings, downvotes, outage_days, outages)


class _Conversation:
    """One sender's rows, in order: turns, their records, ratings."""

    def __init__(self, sender: str, totals: _Totals, next_id: Iterator[int]) -> None:
        self.sender, self.totals, self.next_id = sender, totals, next_id
        self.conversation = next(next_id)
        self.kommune: str | None = None  # the last known municipality
        self.turn: _Turn | None = None
        self.answers: dict[str, _Target] = {}
        self.last_rated: tuple[str, _Target] | None = None
        self.ratings: dict[str, _Rating] = {}
        self.metadata: tuple[Any, dict[str, Any]] = (None, {})  # the last bot metadata, parsed
        self.asked = False  # a user turn has come in this conversation

    def user(self, row_id: int, at: float, intent: str | None, event: Any) -> None:
        self.close(row_id)
        if intent == dialogue.FEEDBACK_INTENT:
            self.rating(at, _loads(event))
        else:
            self.turn = _Turn(self.conversation, at, row_id, intent == OPENING_INTENT and not self.asked)
            self.asked = True

    def bot(self, metadata: Any) -> None:
        if metadata == self.metadata[0]:  # the turn's next message: the same record (or a new turn's first)
            if self.turn is None or self.turn.records:
                return
        else:
            self.metadata = (metadata, _record(_loads(metadata) if isinstance(metadata, str) else metadata))
        record = self.metadata[1]
        if record["kommune"]:
            self.kommune = record["kommune"]
        if self.turn is not None:
            self.turn.records.setdefault(str(record["answer"] or record["kind"]), record)

    def session(self, row_id: int, metadata: Any) -> None:
        meta = _loads(metadata) if isinstance(metadata, str) and store.ROLLED in metadata else None
        if isinstance(meta, dict) and meta.get(store.ROLLED) in (True, 1, "true"):
            return  # a rolled session: the same conversation goes on
        self.close(row_id)
        self.conversation = next(self.next_id)
        self.asked = False

    def rating(self, at: float, event: Any) -> None:
        fields = _rating_fields(event)
        rating = fields.get("rating")
        if rating not in RATINGS:
            return
        answer = fields.get("answer") or ""
        target = self.answers.get(answer)
        if target is None and not answer and self.last_rated:
            answer, target = self.last_rated
        if target is None:  # an answer before the period
            target = (self.kommune or UNKNOWN, None, None)
        key = answer or f"@{at}"
        comment = _masked(fields.get("comment") or "") or None
        before = self.ratings.get(key)
        self.ratings[key] = _Rating(target, rating, comment or (before.comment if before else None), at)

    def close(self, end: int) -> None:
        """The open turn is over (``end``: the id of the row after it): count it."""
        turn = self.turn
        if turn is None:
            return
        self.turn = None
        t = self.totals
        ask = (self.sender, turn.user_id, end)
        records = turn.records
        if len(records) == 1:  # almost always: one record per turn
            record: dict[str, Any] | None = next(iter(records.values()))
            kind = record["kind"]  # type: ignore[index]
        elif records:
            record = next((r for r in records.values() if r["kind"] != dialogue.OUTAGE), None)
            kind = dialogue.OUTAGE if any(r["kind"] == dialogue.OUTAGE for r in records.values()) \
                else record["kind"]  # type: ignore[index]
        else:
            record, kind = None, NO_REPLY
        if record is None:
            kommune = self.kommune or UNKNOWN
        elif kind == dialogue.COMPARE or record["compare"]:
            kommune = SEVERAL
        else:
            kommune = record["kommune"] or self.kommune or UNKNOWN
        wanted = t.kommune
        for rec in records.values():
            for gap_kommune, gap_topic, services, missing_kind in rec["gaps"]:
                if wanted and gap_kommune != wanted:
                    continue
                for service in dict.fromkeys(services or (None,)):
                    key = (gap_kommune, service, missing_kind, gap_topic)
                    t.gaps[key] += 1
                    if len(t.examples[key]) < EXAMPLE_CANDIDATES:
                        t.examples[key].append(ask)
        topic = record["topic"] if record is not None and kind in ANSWERED else None
        answer = record["answer"] if record is not None else None
        if answer:
            target = (kommune, topic, ask)
            self.answers[answer] = target
            if kind in dialogue.RATED and kommune != UNKNOWN:
                self.last_rated = (answer, target)
        if wanted and kommune != wanted:
            return
        if turn.opening and kind == dialogue.ASK:
            return  # a visit: no conversation, no question
        index = int(turn.at // 86400)
        day = t.days.get(index) or t.days.setdefault(index, _EPOCH + timedelta(days=index))
        key2 = (day, kommune)
        t.turns[key2] += 1
        t.conversations[key2].add(turn.conversation)
        if topic:
            t.topics[topic] += 1
        if kind == dialogue.FALLBACK:
            t.fallbacks[kommune] += 1
        elif kind == dialogue.UNSURE:
            t.unsure[kommune] += 1
        elif kind == dialogue.OUTAGE or kind == NO_REPLY:
            t.outage_days[day][0 if kind == dialogue.OUTAGE else 1] += 1
            t.outages.append((turn.at, kommune, kind, ask))

    def end(self) -> None:
        self.close(END)
        t = self.totals
        for rating in self.ratings.values():
            kommune, topic, ask = rating.target
            if not t.wants(kommune):
                continue
            t.ratings[(kommune, topic)][RATINGS.index(rating.rating)] += 1
            if rating.rating == "down":
                t.downvotes.append((rating.at, kommune, topic, ask, rating.comment))


def compute(rows: Iterable[Sequence[Any]], end: date, kommune: str | None = None) -> _Totals:
    """Count rows of ``events_query`` (sender_id, id, type_name, timestamp, intent_name, a), in conversation
    order; rows after the period's ``end`` only answer its last turns."""
    totals = _Totals(kommune)
    end_ts = stamp(end + timedelta(days=1))
    ids = iter(range(1, END))
    sender: object = object()
    conv: _Conversation | None = None
    past_end = False
    count = 0
    for sender_id, row_id, type_name, ts, intent, a in rows:
        count += 1
        if sender_id != sender:
            if conv is not None:
                conv.end()
            sender, conv, past_end = sender_id, _Conversation(sender_id, totals, ids), False
        assert conv is not None
        if past_end or (ts is not None and ts >= end_ts):  # after the period: only the open turn's replies
            if type_name == "bot" and not past_end:
                conv.bot(a)
            else:
                past_end = True
                conv.close(row_id)
            continue
        if type_name == "user":
            conv.user(row_id, ts or 0.0, intent, a)
        elif type_name == "bot":
            conv.bot(a)
        elif type_name == "session_started":
            conv.session(row_id, a)
    if conv is not None:
        conv.end()
    totals.rows = count
    return totals


def _order(kommune: str) -> tuple[int, str]:
    return ({SEVERAL: 1, UNKNOWN: 2}.get(kommune, 0), kommune)


# --------------------------------------------------------------------------------------------
# Layout: the same sections for the terminal, the CSV file and the HTML page

Cell = str | tuple[str, ...]
# every column a section can have (the CSV file has all of them, after ``section``)
COLUMNS = ("period", "day", "time", "kommune", "service", "topic", "kind", "conversations", "turns", "count", "share",
           "up", "down", "question", "examples", "comment")
NUMBERS = frozenset({"conversations", "turns", "count", "share", "up", "down"})


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    columns: tuple[str, ...]  # keys of COLUMNS
    rows: tuple[Mapping[str, Cell], ...]


class _Labels:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb, self.t = kb, kb.texts["report"]

    def kommune(self, kommune: str | None) -> str:
        if kommune is None:
            return self.t["kommune_all"]
        if kommune in self.kb.municipalities:
            return self.kb.municipalities[kommune].short_name
        return self.t.get(f"kommune_{kommune}", kommune)

    def topic(self, topic: str | None) -> str:
        if topic is None:
            return self.t["no_topic"]
        if topic == dialogue.SITUATION:
            return self.t["topic_situation"]
        return self.kb.topics[topic].label if topic in self.kb.topics else topic

    def service(self, kommune: str, service: str | None, missing_kind: str | None) -> str:
        if service:
            municipality = self.kb.municipalities.get(kommune)
            return municipality.services[service].name if municipality and service in municipality.services \
                else service
        if missing_kind:
            kind = self.kb.service_kinds.get(missing_kind)
            return self.t["missing_kind"].format(kind=kind.label if kind else missing_kind)
        return self.t["all_services"]

    def kind(self, kind: str) -> str:
        return self.t[f"kind_{kind}"]


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M")


def share(part: int, whole: int) -> str:
    """A share in percent, Danish style: 12,5."""
    return f"{100 * part / whole:.1f}".replace(".", ",") if whole else "0,0"


def sections(report: Report, kb: KnowledgeBase) -> list[Section]:
    """The report as titled tables of texts (Danish labels from texts.yml ``report``)."""
    lab = _Labels(kb)
    t = lab.t
    period = t["period_value"].format(start=report.start.isoformat(), end=report.end.isoformat())
    out = [Section("summary", t["section_summary"], ("period", "kommune", "conversations", "turns"), (
        {"period": period, "kommune": lab.kommune(report.kommune), "conversations": str(report.conversations),
         "turns": str(report.turns)},))]
    out.append(Section("days", t["section_days"], ("day", "kommune", "conversations", "turns"), tuple(
        {"day": r.day.isoformat(), "kommune": lab.kommune(r.kommune), "conversations": str(r.conversations),
         "turns": str(r.turns)} for r in report.days)))
    out.append(Section("topics", t["section_topics"], ("topic", "turns"), tuple(
        {"topic": lab.topic(r.topic), "turns": str(r.turns)} for r in report.topics)))
    rates: list[Mapping[str, Cell]] = []
    for r in (*report.rates, RateRow("", report.turns, report.fallbacks, report.unsure)):
        name = lab.kommune(r.kommune) if r.kommune else t["total"]
        for kind, n in ((dialogue.FALLBACK, r.fallbacks), (dialogue.UNSURE, r.unsure)):
            rates.append({"kommune": name, "kind": lab.kind(kind), "turns": str(r.turns), "count": str(n),
                          "share": share(n, r.turns)})
    out.append(Section("rates", t["section_rates"], ("kommune", "kind", "turns", "count", "share"),
                       tuple(rates) if report.rates else ()))
    out.append(Section("gaps", t["section_gaps"], ("kommune", "service", "topic", "count", "examples"), tuple(
        {"kommune": lab.kommune(g.kommune), "service": lab.service(g.kommune, g.service, g.missing_kind),
         "topic": lab.topic(g.topic), "count": str(g.count), "examples": g.examples} for g in report.gaps)))
    out.append(Section("ratings", t["section_ratings"], ("kommune", "topic", "up", "down"), tuple(
        {"kommune": lab.kommune(r.kommune), "topic": lab.topic(r.topic), "up": str(r.up), "down": str(r.down)}
        for r in report.ratings)))
    out.append(Section("downvotes", t["section_downvotes"], ("time", "kommune", "topic", "question", "comment"), tuple(
        {"time": _time(d.at), "kommune": lab.kommune(d.kommune), "topic": lab.topic(d.topic),
         "question": d.question or "", "comment": d.comment or ""} for d in report.downvotes)))
    out.append(Section("outage_days", t["section_outage_days"], ("day", "kind", "count"), tuple(
        {"day": d.day.isoformat(), "kind": lab.kind(kind), "count": str(n)} for d in report.outage_days
        for kind, n in ((dialogue.OUTAGE, d.outage_replies), (NO_REPLY, d.no_reply)) if n)))
    out.append(Section("outages", t["section_outages"], ("time", "kommune", "kind", "question"), tuple(
        {"time": _time(o.at), "kommune": lab.kommune(o.kommune), "kind": lab.kind(o.kind), "question": o.question or ""}
        for o in report.outages)))
    return out


def _flat(cell: Cell, separator: str) -> str:
    return separator.join(cell) if isinstance(cell, tuple) else cell


CITIZEN_COLUMNS = ("question", "examples", "comment")  # what citizens wrote


def _inert(text: str) -> str:
    """A citizen's text as a spreadsheet shows it, never as a formula ("=HYPERLINK(...)")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(report: Report, kb: KnowledgeBase) -> str:
    """One CSV table for a spreadsheet: a row per line of every section, the section in the first column.
    Semicolons and decimal commas, as a Danish Excel reads a CSV file; write it with a BOM (utf-8-sig)."""
    t = kb.texts["report"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([t["column_section"], *(t[f"column_{key}"] for key in COLUMNS)])
    for section in sections(report, kb):
        for row in section.rows:
            writer.writerow([section.title, *(_inert(_flat(row.get(key, ""), " | ")) if key in CITIZEN_COLUMNS
                                              else _flat(row.get(key, ""), " | ") for key in COLUMNS)])
    return buffer.getvalue()


def html_page(report: Report, kb: KnowledgeBase) -> str:
    """One self-contained HTML page (web/templates/report.html; every text escaped by Jinja2)."""
    import markupsafe

    from traeningsguide import web

    t = kb.texts["report"]
    lab = _Labels(kb)
    period = t["period_value"].format(start=report.start.isoformat(), end=report.end.isoformat())
    return web._templates().get_template("report.html").render(
        t=t, sections=sections(report, kb), period=period, kommune=lab.kommune(report.kommune),
        generated=_time(time.time()), numbers=NUMBERS, base_css=markupsafe.Markup(web.BASE_CSS))
