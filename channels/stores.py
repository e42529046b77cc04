"""The tracker stores: Rasa's SQL tracker store on a SQLite file, tuned, and on PostgreSQL; both keep a
conversation only for the retention period and can forget one conversation on the citizen's request.

Retention: a conversation whose last event is older than TRAENINGSGUIDE_RETENTION_DAYS (default 30;
0 keeps everything) is deleted, every event of it, by a sweep that runs when the server has started and
then every TRAENINGSGUIDE_RETENTION_SWEEP_SECONDS (default 3600) while it runs (``start_retention``,
called by channels.guard). SQLite deletes with ``secure_delete`` (the freed pages are zeroed) and
checkpoints its -wal file afterwards, so the deleted text is not left in either file.

Configured in endpoints.yml (``type: channels.stores.SQLiteTrackerStore``, ``db: ${TRACKER_DB}``).
Same tables, same rows and same behaviour as ``type: SQL, dialect: sqlite``; two differences,
both found with a profiler under load (bench/README.md):

* Connections are kept in a pool. SQLAlchemy 1.4 gives a SQLite file a ``NullPool``, so every
  retrieve and every save opened the file anew (two connects per turn).
* Write-ahead logging with ``synchronous=NORMAL``: a commit appends to the -wal file instead of two
  fsyncs per commit, inside Rasa's event loop. A killed Rasa process (SIGKILL) loses nothing
  committed (tests/test_persistence.py); an operating-system crash or power cut can lose the last
  commits. Several servers use PostgreSQL instead (deploy/).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.pool import QueuePool

from traeningsguide.store import ROLLED

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 30.0
DEFAULT_SWEEP_SECONDS = 3600.0
DAY = 86400.0


def retention_days() -> float:
    """TRAENINGSGUIDE_RETENTION_DAYS (a number of days, decimals allowed; 0 or less keeps everything)."""
    raw = os.environ.get("TRAENINGSGUIDE_RETENTION_DAYS", "").strip()
    try:
        return float(raw) if raw else DEFAULT_RETENTION_DAYS
    except ValueError:
        logger.error("TRAENINGSGUIDE_RETENTION_DAYS=%r is not a number; using %s days.", raw, DEFAULT_RETENTION_DAYS)
        return DEFAULT_RETENTION_DAYS


def sweep_seconds() -> float:
    raw = os.environ.get("TRAENINGSGUIDE_RETENTION_SWEEP_SECONDS", "").strip()
    try:
        return max(1.0, float(raw)) if raw else DEFAULT_SWEEP_SECONDS
    except ValueError:
        return DEFAULT_SWEEP_SECONDS


class RetentionMixin:
    """Deleting conversations: past the retention period (a sweep), or one on request (``forget``)."""

    _sweeper: asyncio.Task[None] | None = None

    def _after_delete(self, session: Any) -> None:
        """Hook after a delete is committed (SQLite: checkpoint the -wal file)."""

    def sweep(self, now: float | None = None) -> int:
        """Delete every conversation whose last event is older than the retention period; how many."""
        days = retention_days()
        if days <= 0:
            return 0
        cutoff = (time.time() if now is None else now) - days * DAY
        events = self.SQLEvent  # type: ignore[attr-defined]
        newer = sa.orm.aliased(events)
        with self.session_scope() as session:  # type: ignore[attr-defined]
            # the conversations whose last event is older than the cutoff (max(timestamp) < cutoff per
            # sender), found from their old events: a range of the timestamp index (INDEXES), i.e. only
            # what became due since the last sweep, less those with a newer event (the sender_id index).
            # Not a GROUP BY over the whole table every hour; no DISTINCT, which would make SQLite scan
            # the sender_id index instead.
            recent = session.query(newer.id).filter(newer.sender_id == events.sender_id,
                                                    newer.timestamp >= cutoff).exists()
            old = session.query(events.sender_id).filter(events.timestamp < cutoff, ~recent)
            expired = list(dict.fromkeys(row[0] for row in old))
            for start in range(0, len(expired), 500):
                chunk = expired[start : start + 500]
                session.query(events).filter(events.sender_id.in_(chunk)).delete(synchronize_session=False)
            session.commit()
            if expired:
                self._after_delete(session)
        if expired:
            logger.info("Retention: deleted %d conversation(s) older than %s days.", len(expired), days)
        return len(expired)

    def forget(self, sender_id: str) -> int:
        """Delete every event of one conversation (the citizen's "Slet samtale"); how many events."""
        events = self.SQLEvent  # type: ignore[attr-defined]
        with self.session_scope() as session:  # type: ignore[attr-defined]
            count = session.query(events).filter(events.sender_id == sender_id).delete(synchronize_session=False)
            session.commit()
            if count:
                self._after_delete(session)
        return int(count or 0)

    def start_retention(self) -> None:
        """Sweep now and then every sweep_seconds() while the event loop runs (idempotent)."""
        if self._sweeper is not None and not self._sweeper.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._sweeper = loop.create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            try:
                self.sweep()
            except Exception:  # a database hiccup must not stop the sweeps (or the server)
                logger.exception("Retention sweep failed; trying again later.")
            await asyncio.sleep(sweep_seconds())


# The project's indexes on Rasa's ``events`` table, which Rasa indexes by sender_id only: name, columns.
# ``timestamp`` lets the report (traeningsguide.report) read only its period's rows and the retention sweep
# only the events that became due. One index serves both; (type_name, timestamp) is hardly faster for the
# report and no use to the sweep, (sender_id, timestamp) no use to the report (scripts/report_scale.py
# --compare-indexes measures them).
INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (("ix_events_timestamp", ("timestamp",)),)


class IndexMixin:
    """Creates INDEXES when the store starts, after Rasa has created its tables; idempotent (``IF NOT
    EXISTS``, the same SQL for SQLite and PostgreSQL). The first start on a large existing table builds the
    index once (PostgreSQL holds writes to the table meanwhile: seconds for a month of conversations). A
    failure (e.g. two replicas creating it at the same instant) is logged: the store works without it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.create_indexes()

    def create_indexes(self) -> None:
        engine: sa.engine.Engine = self.engine  # type: ignore[attr-defined]
        quote = engine.dialect.identifier_preparer.quote
        table = quote(self.SQLEvent.__tablename__)  # type: ignore[attr-defined]
        for name, columns in INDEXES:
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {table} "
                                         f"({', '.join(quote(c) for c in columns)})"))
            except sa.exc.SQLAlchemyError as exc:
                logger.warning("Could not create the index %s on the events table: %s", name, exc)


def _wal(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted conversations are zeroed, not left in free pages
    cursor.close()


DEFAULT_SESSION_EVENTS = 60


def session_events() -> int:
    """TRAENINGSGUIDE_SESSION_EVENTS: events a conversation session holds before it rolls (0: never)."""
    raw = os.environ.get("TRAENINGSGUIDE_SESSION_EVENTS", "").strip()
    try:
        value = int(raw) if raw else DEFAULT_SESSION_EVENTS
    except ValueError:
        logger.warning("TRAENINGSGUIDE_SESSION_EVENTS=%r is not a whole number; using %d", raw,
                       DEFAULT_SESSION_EVENTS)
        return DEFAULT_SESSION_EVENTS
    return max(value, 0)


class RollingSessionMixin:
    """A long conversation costs the same per turn as a short one.

    Rasa reads the whole current session from the store every turn, replays it for the policies,
    sends it to the action server and back (issue 14: 30 ms at turn 1, 578 ms at turn 300). The guide's
    dialogue needs only its state, which lives in slots. So when a turn ends (the last event is
    ``action_listen``) and the session holds more than TRAENINGSGUIDE_SESSION_EVENTS events, the store
    appends what Rasa itself appends when a session expires with ``carry_over_slots``: a
    ``session_started`` (marked as rolled in its metadata), one ``slot`` event per slot that is set, and
    ``action_listen``. Rasa then reads only from there. Nothing is deleted (retention and "Slet samtale"
    work on the whole conversation) and the citizen notices nothing: the pending question, "og i …?"
    and the deciding question all live in the slots, across replicas too (the store is shared).
    """

    async def save(self, tracker: DialogueStateTracker) -> None:
        limit = session_events()
        events = tracker.events
        if limit and len(events) > limit and isinstance(events[-1], ActionExecuted) \
                and events[-1].action_name == ACTION_LISTEN_NAME:
            # one timestamp for all: Rasa reads a session from its session_started on, by timestamp
            now = time.time()
            carried = [SlotSet(slot.name, slot.value, timestamp=now) for slot in tracker.slots.values()
                       if slot.value != slot.initial_value]
            for event in (SessionStarted(metadata={ROLLED: True}, timestamp=now), *carried,
                          ActionExecuted(ACTION_LISTEN_NAME, timestamp=now)):
                tracker.update(event)
        await super().save(tracker)  # type: ignore[misc]


_STORED = "_traeningsguide_stored"  # on a tracker: how many of its events the store holds


class StoredCountMixin:
    """A save appends the new events without asking the database how many it already has.

    Rasa's ``SQLTrackerStore.save`` counts the stored events of the conversation's session with a query
    (a sub-query for the last ``session_started``) on every save, to find which of the tracker's events
    are new: 11 % of the Rasa server's CPU time per turn in a py-spy profile (bench/README.md). A
    tracker this store read holds exactly the session's stored events, so the store notes their number
    on it when it reads it and after each save. When the store read nothing for a conversation, the new
    tracker Rasa then makes (``create_tracker``, through the ``FailSafeTrackerStore`` that wraps this
    store, so it is not made here) holds none stored: the store remembers that conversation until its
    first save. Any other tracker (a copy, the whole conversation of ``retrieve_full_tracker``) is
    counted as Rasa does.
    """

    _EMPTY_LIMIT = 10_000  # conversations remembered as read-but-empty (their first save follows at once)

    def _empty_senders(self) -> set[str]:
        if not hasattr(self, "_empty"):
            self._empty: set[str] = set()
        return self._empty

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)  # type: ignore[misc]
        if not fetch_events_from_all_sessions:
            empty = self._empty_senders()
            if tracker is not None:
                setattr(tracker, _STORED, len(tracker.events))
                empty.discard(sender_id)
            else:
                if len(empty) >= self._EMPTY_LIMIT:
                    empty.clear()  # then the next first saves are counted as Rasa does
                empty.add(sender_id)
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        stored = getattr(tracker, _STORED, None)
        if stored is None and tracker.sender_id in self._empty_senders():
            stored = 0
        if stored is None or stored > len(tracker.events):
            return super()._additional_events(session, tracker)  # type: ignore[misc]
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)  # type: ignore[misc]
        setattr(tracker, _STORED, len(tracker.events))
        self._empty_senders().discard(tracker.sender_id)


class PostgresTrackerStore(IndexMixin, RollingSessionMixin, RetentionMixin, StoredCountMixin, SQLTrackerStore):
    """Rasa's SQLTrackerStore (PostgreSQL in deploy/), with retention, ``forget``, rolling sessions and the
    report's index."""


class SQLiteTrackerStore(IndexMixin, RollingSessionMixin, RetentionMixin, StoredCountMixin, SQLTrackerStore):
    """Rasa's SQLTrackerStore on a SQLite file with pooled connections and write-ahead logging."""

    def __init__(self, domain: Domain | None = None, db: str = "rasa.db", event_broker: EventBroker | None = None,
                 host: str | None = None, **kwargs: Any) -> None:
        # ``host`` is the endpoint's ``url`` (None here); SQLite has no host.
        super().__init__(domain=domain, dialect="sqlite", db=db, event_broker=event_broker, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        # All tracker store calls run on Rasa's event loop thread; the pool hands a connection to one
        # session at a time, so sharing connections across threads is never needed.
        self.engine = sa.create_engine(url, poolclass=QueuePool, pool_size=2, max_overflow=4,
                                     connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _wal)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _after_delete(self, session: Any) -> None:
        session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
