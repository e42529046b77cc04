"""Retention and "Slet samtale" in the tracker store (channels.stores), on a real SQLite file: old
conversations are deleted by the sweep, one conversation on request, and the deleted text is left
neither in the database file nor in its -wal file."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

pytest.importorskip("rasa")
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

from channels import stores  # noqa: E402

DAY = 86400.0


def _store(tmp_path: Path) -> stores.SQLiteTrackerStore:
    return stores.SQLiteTrackerStore(domain=Domain.empty(), db=str(tmp_path / "tracker.db"))


def _save(store: stores.SQLiteTrackerStore, sender: str, *turns: tuple[str, float]) -> None:
    tracker = DialogueStateTracker.from_events(sender, [UserUttered(text, timestamp=at) for text, at in turns])
    asyncio.run(store.save(tracker))


def _files(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("tracker.db*"))


def test_the_sweep_deletes_conversations_older_than_the_retention_period(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAENINGSGUIDE_RETENTION_DAYS", raising=False)  # the default: 30 days
    store = _store(tmp_path)
    now = time.time()
    _save(store, "old", ("gammel samtale om kørsel i Køge", now - 31 * DAY))
    _save(store, "recent", ("ny samtale om kørsel i Holbæk", now - 29 * DAY))
    # a conversation that began long ago but went on yesterday is kept, all of it
    _save(store, "ongoing", ("begyndte for længe siden", now - 40 * DAY), ("og fortsatte i går", now - 1 * DAY))
    assert store.sweep(now) == 1
    keys = set(asyncio.run(store.keys()))
    assert keys == {"recent", "ongoing"}
    assert len(asyncio.run(store.retrieve("ongoing")).events) == 2
    assert b"gammel samtale" not in _files(tmp_path)  # zeroed (secure_delete) and checkpointed out of the -wal
    assert b"ny samtale" in _files(tmp_path)


def test_the_retention_period_is_configurable_and_zero_keeps_everything(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path)
    now = time.time()
    _save(store, "a", ("tre uger gammel", now - 22 * DAY))
    _save(store, "b", ("to uger gammel", now - 14 * DAY))
    monkeypatch.setenv("TRAENINGSGUIDE_RETENTION_DAYS", "0")
    assert store.sweep(now) == 0
    monkeypatch.setenv("TRAENINGSGUIDE_RETENTION_DAYS", "21")  # the Norwegian municipal bot's period
    assert store.sweep(now) == 1
    assert set(asyncio.run(store.keys())) == {"b"}


def test_the_sweep_runs_by_itself_while_the_event_loop_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAENINGSGUIDE_RETENTION_DAYS", "30")
    monkeypatch.setenv("TRAENINGSGUIDE_RETENTION_SWEEP_SECONDS", "1")
    store = _store(tmp_path)

    async def run() -> set[str]:
        store.start_retention()
        store.start_retention()  # idempotent: one sweeper
        old = DialogueStateTracker.from_events("old", [UserUttered("gammel", timestamp=time.time() - 31 * DAY)])
        await store.save(old)  # saved after the first sweep: the next one (1 s later) deletes it
        await asyncio.sleep(1.5)
        assert store._sweeper is not None
        store._sweeper.cancel()
        return set(await store.keys())

    assert asyncio.run(run()) == set()


def test_forget_deletes_one_conversation_only(tmp_path: Path) -> None:
    store = _store(tmp_path)
    now = time.time()
    _save(store, "mine", ("min samtale om træning", now))
    _save(store, "theirs", ("en andens samtale", now))
    assert store.forget("mine") == 1
    assert store.forget("mine") == 0  # nothing left
    assert set(asyncio.run(store.keys())) == {"theirs"}
    assert b"min samtale" not in _files(tmp_path)
