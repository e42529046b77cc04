"""The tracker store for one Rasa server: Rasa's SQL tracker store on a SQLite file, tuned.

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

from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.pool import QueuePool


def _wal(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SQLiteTrackerStore(SQLTrackerStore):
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
