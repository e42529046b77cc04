"""The tracker store's save (channels.stores.StoredCountMixin) stores exactly what Rasa's own
SQLTrackerStore stores, turn by turn and across a rolled session, without counting the stored events
with a query on every save."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest

pytest.importorskip("rasa")
import sqlalchemy as sa  # noqa: E402
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered  # noqa: E402

from channels import stores  # noqa: E402

DOMAIN = Domain.from_dict({"slots": {"kommune": {"type": "text", "mappings": [{"type": "custom"}]}},
                           "intents": ["greet"]})


def _rows(db: Path, sender: str) -> list[tuple[str, str]]:
    """(type, data without its timestamp) of a conversation's stored events, in order."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,))
        return [(t, json.dumps({k: v for k, v in json.loads(d).items() if k != "timestamp"})) for t, d in rows]


def _turn(store: SQLTrackerStore | FailSafeTrackerStore, sender: str, number: int) -> None:
    """One turn as Rasa's processor runs it: read the tracker, add the turn's events, save it (through
    the FailSafeTrackerStore that Rasa wraps every tracker store in)."""
    tracker = asyncio.run(store.get_or_create_tracker(sender))
    at = time.time()  # Rasa reads a session from its session_started on, by timestamp
    for event in (UserUttered(f"spørgsmål {number}", timestamp=at),
                  ActionExecuted("action_answer", timestamp=at + 0.1),
                  BotUttered(f"svar {number}", timestamp=at + 0.2),
                  SlotSet("kommune", f"k{number}", timestamp=at + 0.3),
                  ActionExecuted("action_listen", timestamp=at + 0.4)):
        tracker.update(event)
    asyncio.run(store.save(tracker))


def _stock(db: Path) -> SQLTrackerStore:
    return SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))


def _ours(db: Path) -> stores.SQLiteTrackerStore:
    return stores.SQLiteTrackerStore(domain=DOMAIN, db=str(db))


def _statements(store: SQLTrackerStore) -> list[str]:
    seen: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: seen.append(statement.lower()))
    return seen


@pytest.mark.parametrize("session_events", ["0", "12"])  # never rolled; rolled every two turns or so
def test_turn_by_turn_the_store_holds_what_rasas_store_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             session_events: str) -> None:
    monkeypatch.setenv("TRAENINGSGUIDE_SESSION_EVENTS", session_events)
    ours, stock = _ours(tmp_path / "ours.db"), _stock(tmp_path / "stock.db")
    statements = _statements(ours)
    wrapped = FailSafeTrackerStore(ours)  # as Rasa runs it
    for number in range(8):
        _turn(wrapped, "a", number)
        _turn(stock, "a", number)
    mine = _rows(tmp_path / "ours.db", "a")
    users = [d for t, d in mine if t == "user"]
    assert len(users) == 8 and len(set(users)) == 8  # every turn once
    if session_events == "0":  # the same rows as Rasa's own store
        assert mine == _rows(tmp_path / "stock.db", "a")
    else:  # the same turns, plus the rolls' session_started, slot and action_listen events
        assert [r for r in mine if r[0] == "user"] == [r for r in _rows(tmp_path / "stock.db", "a") if r[0] == "user"]
        assert sum(t == "session_started" for t, _ in mine) >= 2
    # no save counted the stored events, not even the new conversation's first
    assert not [s for s in statements if "count(" in s]


def test_a_tracker_the_store_did_not_read_is_counted_as_rasa_counts(tmp_path: Path) -> None:
    store = _ours(tmp_path / "t.db")
    _turn(store, "b", 0)
    # a tracker built elsewhere (not read from the store) that repeats the stored events and adds one
    copy = asyncio.run(store.retrieve("b")).copy()  # a copy carries no note of what is stored
    copy.update(UserUttered("ny besked", timestamp=2000.0))
    asyncio.run(store.save(copy))
    asyncio.run(store.save(copy))  # saved twice: nothing new the second time
    stored = [t for t, _ in _rows(tmp_path / "t.db", "b")]
    assert stored == ["action", "user", "action", "bot", "slot", "action", "user"]
