"""Rasa's Redis lock store with atomic ticket updates, for several Rasa replicas or Sanic workers.

Configured in deploy/endpoints.cluster.yml (``type: channels.locks.AtomicRedisLockStore``) with the
same keys as ``type: redis`` (``url``, ``port``, ``db``, ``username``, ``password``, ``use_ssl``,
``ssl_certfile``, ``ssl_keyfile``, ``ssl_ca_certs``, ``key_prefix``, ``socket_timeout``), the same
Redis keys (``<key_prefix>:lock:<conversation id>``) and the same JSON value (``TicketLock.dumps``).

Why: Rasa Open Source's ``RedisLockStore`` changes a conversation's lock by reading it, changing it
in Python and writing it back (``issue_ticket``: get, issue, set; ``cleanup``: get, remove the
ticket, set, get, delete; ``update_lock``: get, drop expired tickets, set). Two processes that do
this at the same instant overwrite each other: both get ticket 0 and process the same conversation
at once (the SQL tracker store then keeps only one of the two turns), or a ticket that was just
issued is written over or deleted with the lock (RasaHQ/rasa#9213). ``make cluster-test`` showed it
in 4-8 of 20 pairs of simultaneous messages.

Here each of these read-modify-writes is one optimistic Redis transaction: WATCH the key, read the
lock, change it with Rasa's own ``TicketLock`` code, and write it back (SET, or DEL when no ticket is
left) in MULTI/EXEC; if another client changed the key in between, EXEC fails and the step starts
again from a fresh read. Ticket numbers, lifetimes (``TICKET_LOCK_LIFETIME``), the wait loop of
``LockStore.lock`` and the errors (``LockError``) stay Rasa's.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import WatchError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A transaction only fails when another client changed the same conversation's lock in between, so
# some client always gets through; give up (LockError) only after this many attempts in a row.
MAX_ATTEMPTS = 200


class _Delete:
    """Marker: the change wants the lock deleted."""


DELETE = _Delete()


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose ticket issue, ticket removal and expiry clean-up are atomic."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        # Rasa creates custom lock stores as ``cls(endpoint_config=...)``; ``type: redis`` is created
        # as ``RedisLockStore(host=endpoint_config.url, **endpoint_config.kwargs)``: the same here.
        if endpoint_config is not None:
            kwargs = {**endpoint_config.kwargs, **kwargs}
            kwargs.setdefault("host", endpoint_config.url or "localhost")
        super().__init__(**kwargs)

    # --- the atomic step -------------------------------------------------------------------------

    def _transaction(self, conversation_id: str,
                     change: Callable[[TicketLock | None], tuple[TicketLock | _Delete | None, T]]) -> T:
        """Read the lock, apply ``change`` and write what it returns, all or nothing.

        ``change`` gets the stored lock (None if there is none) and returns ``(write, result)``:
        ``write`` is a lock to SET, ``DELETE`` to DEL the key, or None to leave it as it is.
        """
        key = self.key_prefix + conversation_id
        for attempt in range(MAX_ATTEMPTS):
            with self.red.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)  # EXEC below fails if anyone writes the key after this
                    serialised = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(serialised)) if serialised else None
                    write, result = change(lock)
                    if write is None:
                        return result  # nothing to write: the read alone is consistent
                    pipe.multi()
                    if isinstance(write, _Delete):
                        pipe.delete(key)
                    else:
                        pipe.set(key, write.dumps())
                    pipe.execute()
                    return result
                except WatchError:
                    # Another client changed this conversation's lock: start again from a fresh read.
                    # Retry at once at first, then back off a little (at most a few ms).
                    if attempt >= 3:
                        time.sleep(random.uniform(0, 0.0005 * min(attempt, 10)))
        raise LockError(f"Lock for conversation '{conversation_id}' changed {MAX_ATTEMPTS} times while "
                        f"updating it.")

    # --- Rasa's read-modify-writes, made atomic ---------------------------------------------------

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue a new ticket (see ``LockStore.issue_ticket``), creating the lock if there is none."""
        logger.debug(f"Issuing ticket for conversation '{conversation_id}'.")

        def change(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._transaction(conversation_id, change)
        except Exception as e:  # as Rasa's: every failure to issue a ticket is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket ``ticket_number`` (and expired tickets) from the lock and save it."""

        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return lock, None

        self._transaction(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket ``ticket_number``; delete the lock if then no one is waiting.

        Rasa does this in three steps (save without the ticket, check for waiters, delete), so a
        ticket issued in between was deleted with the lock; here it is one step.
        """

        def change(lock: TicketLock | None) -> tuple[TicketLock | _Delete | None, bool]:
            if lock is None:
                return None, False
            lock.remove_ticket_for(ticket_number)  # also drops expired tickets, as in Rasa
            if lock.is_someone_waiting():
                return lock, False
            return DELETE, True

        deleted = self._transaction(conversation_id, change)
        if deleted:
            self._log_deletion(conversation_id, True)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets from the lock (called while waiting for it); write only if any expired."""

        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            before = len(lock.tickets)
            lock.remove_expired_tickets()
            return (lock if len(lock.tickets) != before else None), None

        self._transaction(conversation_id, change)
