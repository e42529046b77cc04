"""channels.locks.AtomicRedisLockStore against a real Redis server (redis-server on a free port).

* It is a drop-in for ``type: redis``: created by Rasa from deploy/endpoints.cluster.yml, same keys
  and the same stored value as Rasa's RedisLockStore, and Rasa allows several Sanic workers with it.
* Each read-modify-write (issue a ticket, clean up, drop expired tickets) is atomic: another client
  writing the lock in the middle of one is injected deterministically, and the same injection shows
  what Rasa's RedisLockStore does (a ticket issued twice, a waiting ticket deleted).
* Several processes, each with several asyncio tasks and a Redis client of their own, hammer one
  conversation: no ticket is ever held twice, the lock is never held by two at once, no LockError.

Skipped, with the reason, if redis-server is not installed (``make test`` installs it:
scripts/install_redis.sh).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.core.utils import number_of_sanic_workers, read_endpoints_from_path

from channels.locks import AtomicRedisLockStore
from tests.conftest import PROJECT, free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
DB = 3  # not Rasa's default (1), to show that ``db`` is honoured

# Hammer sizes: processes x tasks per process x lock cycles per task (and tickets per process).
PROCESSES = 4
TASKS = 3
CYCLES = 25
TICKETS = 150


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A redis-server of our own on a free loopback port, without persistence; stopped at the end."""
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip(f"redis-server is not installed ({REDIS_SERVER} missing): "
                    "run scripts/install_redis.sh as root, or apt-get install redis-server")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir),
                                "--save", "", "--appendonly", "no", "--daemonize", "no",
                                "--logfile", str(workdir / "redis.log")])
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"redis-server did not start:\n{(workdir / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.05)
    try:
        yield port
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture()
def redis_client(redis_port: int) -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=redis_port, db=DB)
    client.flushdb()
    yield client
    client.close()


def make_store(cls: type[RedisLockStore], port: int) -> RedisLockStore:
    return cls(host="127.0.0.1", port=port, db=DB, key_prefix="test")


@pytest.fixture()
def conversation() -> str:
    return f"conversation-{uuid.uuid4().hex[:8]}"


# --- a drop-in for ``type: redis`` ---------------------------------------------------------------


def test_rasa_creates_it_from_the_cluster_endpoints(redis_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_STORE_URL", "postgresql://u:p@127.0.0.1:1/db")
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:1/webhook")
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(redis_port))
    monkeypatch.setenv("REDIS_PASSWORD", "")  # empty: no AUTH, as with ``type: redis``
    endpoints = read_endpoints_from_path(PROJECT / "deploy" / "endpoints.cluster.yml")
    assert endpoints.lock_store.type == "channels.locks.AtomicRedisLockStore"

    store = LockStore.create(endpoints.lock_store)
    assert type(store) is AtomicRedisLockStore
    assert store.key_prefix == "traeningsguide:lock:"  # Rasa's prefix handling, unchanged
    kwargs = store.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", redis_port, 1)
    ticket = store.issue_ticket("endpoint-check")
    assert ticket == 0
    raw = redis.Redis(host="127.0.0.1", port=redis_port, db=1).get("traeningsguide:lock:endpoint-check")
    assert raw is not None
    store.cleanup("endpoint-check", ticket)
    assert store.get_lock("endpoint-check") is None

    # One server with several Sanic workers: Rasa allows it with this lock store, as with ``redis``.
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(endpoints.lock_store) == 2
    assert number_of_sanic_workers(store) == 2


def test_same_keys_and_values_as_rasas_store(redis_port: int, redis_client: redis.Redis, conversation: str) -> None:
    rasa_store = make_store(RedisLockStore, redis_port)
    ours = make_store(AtomicRedisLockStore, redis_port)
    assert ours.key_prefix == rasa_store.key_prefix == "test:lock:"
    first = rasa_store.issue_ticket(conversation)
    second = ours.issue_ticket(conversation)  # reads what Rasa's store wrote, appends
    third = rasa_store.issue_ticket(conversation)  # and the other way round
    assert (first, second, third) == (0, 1, 2)
    assert redis_client.keys("*") == [f"test:lock:{conversation}".encode()]
    stored = ours.get_lock(conversation)
    assert stored is not None and [t.number for t in stored.tickets] == [0, 1, 2]
    assert redis_client.get(f"test:lock:{conversation}").decode() == stored.dumps()  # TicketLock.dumps
    ours.cleanup(conversation, 1)
    rasa_store.cleanup(conversation, 0)
    ours.cleanup(conversation, 2)
    assert redis_client.keys("*") == []


def test_lock_serves_tickets_in_order_and_expires_them(redis_port: int, conversation: str) -> None:
    asyncio.run(_serve_in_order(make_store(AtomicRedisLockStore, redis_port), conversation))


async def _serve_in_order(store: AtomicRedisLockStore, conversation: str) -> None:
    async with store.lock(conversation) as lock:
        assert lock.now_serving == 0
        assert store.issue_ticket(conversation) == 1
        assert store.get_lock(conversation).is_locked(1)
        store.finish_serving(conversation, 1)
    assert store.get_lock(conversation) is None  # deleted once no one waits
    # A ticket whose lifetime ran out is dropped while someone waits (Rasa's lifetimes).
    store.issue_ticket(conversation, lock_lifetime=0.2)
    started = time.monotonic()
    async with store.lock(conversation, wait_time_in_seconds=0.05) as lock:
        assert lock.now_serving == 1
    assert 0.15 < time.monotonic() - started < 5
    assert store.get_lock(conversation) is None


# --- a write by another client in the middle of a read-modify-write --------------------------------


def inject_once(monkeypatch: pytest.MonkeyPatch, method: str, action: Callable[[], Any]) -> list[Any]:
    """Make the next call of TicketLock.<method> first run ``action`` (another client's write).

    Both stores call it between reading the lock and writing it back, so this is exactly the
    interleaving of two replicas that receive a message of one conversation at the same instant.
    """
    original = getattr(TicketLock, method)
    state: dict[str, Any] = {"armed": True, "results": []}

    def wrapper(self: TicketLock, *args: Any, **kwargs: Any) -> Any:
        if state["armed"]:
            state["armed"] = False
            state["results"].append(action())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TicketLock, method, wrapper)
    return state["results"]


@pytest.mark.parametrize("cls", [AtomicRedisLockStore, RedisLockStore])
def test_issue_ticket_with_a_concurrent_issue(cls: type[RedisLockStore], redis_port: int, conversation: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store, other = make_store(cls, redis_port), make_store(cls, redis_port)
    injected = inject_once(monkeypatch, "issue_ticket", lambda: other.issue_ticket(conversation))
    mine = store.issue_ticket(conversation)
    theirs = injected[0]
    stored = [t.number for t in store.get_lock(conversation).tickets]
    if cls is AtomicRedisLockStore:
        assert (theirs, mine) == (0, 1)  # the transaction saw the other write and started again
        assert stored == [0, 1]
    else:  # Rasa's: both hold ticket 0, so both process the conversation at once
        assert (theirs, mine) == (0, 0)
        assert stored == [0]


@pytest.mark.parametrize("cls", [AtomicRedisLockStore, RedisLockStore])
def test_cleanup_with_a_concurrent_issue(cls: type[RedisLockStore], redis_port: int, conversation: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    store, other = make_store(cls, redis_port), make_store(cls, redis_port)
    holder = store.issue_ticket(conversation)
    injected = inject_once(monkeypatch, "remove_ticket_for", lambda: other.issue_ticket(conversation))
    store.cleanup(conversation, holder)  # the other replica takes a ticket in the middle
    waiting = injected[0]
    assert waiting == 1
    if cls is AtomicRedisLockStore:
        assert [t.number for t in store.get_lock(conversation).tickets] == [1]
        lock = asyncio.run(other._acquire_lock(conversation, waiting, 0.01))  # it gets its turn
        assert lock.now_serving == waiting
        other.cleanup(conversation, waiting)
        assert other.get_lock(conversation) is None
    else:  # Rasa's: the waiting ticket was written over and the lock deleted under it
        assert store.get_lock(conversation) is None
        with pytest.raises(LockError):
            asyncio.run(other._acquire_lock(conversation, waiting, 0.01))



@pytest.mark.parametrize("cls", [AtomicRedisLockStore, RedisLockStore])
def test_update_lock_with_a_concurrent_issue(cls: type[RedisLockStore], redis_port: int, conversation: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store, other = make_store(cls, redis_port), make_store(cls, redis_port)
    store.issue_ticket(conversation, lock_lifetime=-1)  # already expired
    injected = inject_once(monkeypatch, "remove_expired_tickets", lambda: other.issue_ticket(conversation))
    store.update_lock(conversation)  # a waiter drops expired tickets; the other takes one meanwhile
    assert injected == [0]
    stored = store.get_lock(conversation)
    if cls is AtomicRedisLockStore:
        assert [t.number for t in stored.tickets] == [0]
    else:  # Rasa's: the new ticket is written over
        assert list(stored.tickets) == []


def test_gives_up_with_a_lock_error_if_the_lock_never_stays_still(redis_port: int, conversation: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store, other = make_store(AtomicRedisLockStore, redis_port), make_store(RedisLockStore, redis_port)
    original = TicketLock.issue_ticket

    def always_interfere(self: TicketLock, lifetime: float) -> int:
        other.save_lock(TicketLock(conversation))  # a plain write between every read and write
        return original(self, lifetime)

    monkeypatch.setattr("channels.locks.MAX_ATTEMPTS", 5)
    monkeypatch.setattr(TicketLock, "issue_ticket", always_interfere)
    with pytest.raises(LockError, match="changed 5 times"):
        store.issue_ticket(conversation)


# --- several processes at once --------------------------------------------------------------------


def _lock_cycles(port: int, conversation: str, worker: int, start_at: float) -> dict[str, Any]:
    """One process: TASKS asyncio tasks, each with its own client, CYCLES times through ``lock()``."""

    async def task(number: int) -> dict[str, Any]:
        store = make_store(AtomicRedisLockStore, port)
        plain = redis.Redis(host="127.0.0.1", port=port, db=DB)
        name = f"{worker}.{number}"
        most = errors = 0
        for _ in range(CYCLES):
            try:
                async with store.lock(conversation, wait_time_in_seconds=0.002) as lock:
                    holders = plain.incr(f"holders:{conversation}")
                    most = max(most, holders)
                    plain.rpush(f"log:{conversation}", f"enter {name} {lock.now_serving}")
                    await asyncio.sleep(0.001)  # other tasks of this process run meanwhile
                    plain.rpush(f"log:{conversation}", f"leave {name} {lock.now_serving}")
                    plain.decr(f"holders:{conversation}")
            except LockError:
                errors += 1
            await asyncio.sleep(0)
        return {"most": most, "errors": errors}

    async def main() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(task(n) for n in range(TASKS))))

    time.sleep(max(0.0, start_at - time.time()))
    results = asyncio.run(main())
    return {"most": max(r["most"] for r in results), "errors": sum(r["errors"] for r in results)}


def _issue_and_clean_up(port: int, conversation: str, worker: int, start_at: float) -> dict[str, Any]:
    """One process: TICKETS times issue a ticket and clean it up again, as fast as it can."""
    store = make_store(AtomicRedisLockStore, port)
    plain = redis.Redis(host="127.0.0.1", port=port, db=DB)
    duplicates = 0
    time.sleep(max(0.0, start_at - time.time()))
    for _ in range(TICKETS):
        ticket = store.issue_ticket(conversation)
        # A live ticket is in the set from just after its issue until just before its clean-up; a
        # ticket number handed out while another holder still has it is a duplicate.
        if not plain.sadd(f"live:{conversation}", ticket):
            duplicates += 1
        plain.srem(f"live:{conversation}", ticket)
        store.cleanup(conversation, ticket)
    return {"duplicates": duplicates}


def _child(target: Callable[..., dict[str, Any]], queue: Any, *args: Any) -> None:
    try:
        queue.put(target(*args))
    except BaseException as error:  # report it instead of dying silently
        queue.put({"exception": repr(error)})


def run_processes(target: Callable[..., dict[str, Any]], port: int, conversation: str) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("fork")  # Linux; the children need nothing re-imported
    queue = context.Queue()
    start_at = time.time() + 0.5  # all processes start hammering at the same instant
    processes = [context.Process(target=_child, args=(target, queue, port, conversation, worker, start_at))
                 for worker in range(PROCESSES)]
    for process in processes:
        process.start()
    try:
        results = [queue.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert not [r for r in results if "exception" in r], results
    return results


def test_processes_never_hold_the_lock_twice(redis_port: int, redis_client: redis.Redis, conversation: str) -> None:
    results = run_processes(_lock_cycles, redis_port, conversation)
    assert sum(r["errors"] for r in results) == 0  # no LockError: no ticket lost, no lock deleted under a waiter
    assert max(r["most"] for r in results) == 1  # never two holders at once
    log = [entry.decode().split() for entry in redis_client.lrange(f"log:{conversation}", 0, -1)]
    assert len(log) == 2 * PROCESSES * TASKS * CYCLES
    for enter, leave in zip(log[::2], log[1::2], strict=True):  # every holder left before the next came in
        assert (enter[0], leave[0]) == ("enter", "leave")
        assert enter[1:] == leave[1:]
    assert redis_client.get(f"test:lock:{conversation}") is None  # the last one deleted the lock


def test_processes_never_get_the_same_ticket(redis_port: int, redis_client: redis.Redis, conversation: str) -> None:
    results = run_processes(_issue_and_clean_up, redis_port, conversation)
    assert sum(r["duplicates"] for r in results) == 0
    assert redis_client.scard(f"live:{conversation}") == 0
    assert redis_client.get(f"test:lock:{conversation}") is None  # no ticket left behind


def _issue_many(port: int, conversation: str, worker: int, start_at: float) -> dict[str, Any]:
    store = make_store(AtomicRedisLockStore, port)
    time.sleep(max(0.0, start_at - time.time()))
    return {"tickets": [store.issue_ticket(conversation) for _ in range(TICKETS)]}


def test_processes_issuing_at_once_get_distinct_consecutive_tickets(redis_port: int, redis_client: redis.Redis,
                                                                     conversation: str) -> None:
    results = run_processes(_issue_many, redis_port, conversation)
    tickets = [t for r in results for t in r["tickets"]]
    assert sorted(tickets) == list(range(PROCESSES * TICKETS))
    for r in results:  # each process's tickets in the order it got them
        assert r["tickets"] == sorted(r["tickets"])
    stored = make_store(AtomicRedisLockStore, redis_port).get_lock(conversation)
    assert [t.number for t in stored.tickets] == list(range(PROCESSES * TICKETS))  # none written over
