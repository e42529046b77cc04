"""The tracker store's database, for the staff tools that read it outside Rasa (scripts/conversations.py
and ``python -m traeningsguide report``): which database (the one Rasa uses), an engine on it, its
``events`` table. No Rasa imports.

The store is the PostgreSQL (or other SQLAlchemy) database in TRACKER_STORE_URL if set (``postgres://``
is read as ``postgresql://``, as scripts/run.sh does), otherwise the SQLite file TRACKER_DB (default
build/tracker.db, relative to the project). ``read_only=True`` opens it so that nothing can be written:
SQLite through a ``mode=ro`` URI (a file that does not exist is never created), PostgreSQL in read-only
transactions (``default_transaction_read_only``).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote

import sqlalchemy as sa

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_TRACKER_DB = "build/tracker.db"
ROLLED = "traeningsguide_rolled"  # session_started metadata: a rolled session, not a new conversation (channels.stores)
POSTGRESQL_SCHEMA = "POSTGRESQL_SCHEMA"  # Rasa's variable for a schema other than public
CONNECT_TIMEOUT = 10  # seconds: an unreachable PostgreSQL fails instead of hanging

# why a store cannot be used (StoreError.problem)
MISSING = "missing"  # no SQLite file there
NO_EVENTS = "no_events"  # no `events` table (or not one of a tracker store)
UNREACHABLE = "unreachable"  # the database refused, did not answer, or failed
BAD_URL = "bad_url"  # not an SQLAlchemy URL


class StoreError(Exception):
    """The store cannot be used. ``problem`` is MISSING, NO_EVENTS, UNREACHABLE or BAD_URL; ``store`` names it (the
    SQLite path, or the URL with the password hidden); the message is in English, for operators."""

    def __init__(self, problem: str, store: str, message: str, reason: str = "") -> None:
        self.problem, self.store, self.reason = problem, store, reason
        super().__init__(message)


def store_url(explicit: str | None = None) -> str:
    """The SQLAlchemy URL of the store: --store, else TRACKER_STORE_URL, else sqlite:///TRACKER_DB."""
    if explicit:
        return explicit
    url = os.environ.get("TRACKER_STORE_URL", "").strip()
    if url:
        return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url  # as run.sh
    db = Path(os.environ.get("TRACKER_DB") or DEFAULT_TRACKER_DB)
    if not db.is_absolute():
        db = PROJECT / db
    return f"sqlite:///{db}"


def safe_url(url: str | sa.engine.URL) -> str:
    """The URL to show, with the password as ***."""
    try:
        return repr(sa.engine.make_url(url))
    except (sa.exc.ArgumentError, ValueError):
        return "<not a database URL>"


def engine(url: str, read_only: bool = False) -> sa.engine.Engine:
    """An engine on the store; a StoreError if an SQLite file is not there (SQLite would create it)."""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:  # the text is not echoed: it may hold a password
        raise StoreError(BAD_URL, safe_url(url), "not a database URL (e.g. postgresql://user:pass@host/db)",
                         type(exc).__name__) from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        path = Path(unquote(database[len("file:"):].split("?")[0]) if database.startswith("file:") else database)
        if not database or database == ":memory:" or not path.exists():  # do not let SQLite create a file
            raise StoreError(MISSING, str(path), f"no tracker store at {path} (set TRACKER_DB or TRACKER_STORE_URL)")
        if read_only:  # a URI filename opened mode=ro: SQLite can neither write nor create it
            parsed = sa.engine.URL.create(parsed.drivername, database="file:" + quote(str(path.resolve())),
                                          query={**parsed.query, "mode": "ro", "uri": "true"})
        return sa.create_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        options = []
        schema = os.environ.get(POSTGRESQL_SCHEMA, "").strip()
        if schema:
            options.append(f"-c search_path={schema}")  # as Rasa's SQLTrackerStore
        if read_only:
            options.append("-c default_transaction_read_only=on")
        connect_args: dict[str, object] = {"connect_timeout": CONNECT_TIMEOUT} if read_only else {}
        if options:
            connect_args["options"] = " ".join(options)
        return sa.create_engine(parsed, connect_args=connect_args)
    return sa.create_engine(parsed)


def events_table(engine: sa.engine.Engine) -> sa.Table:
    """The store's ``events`` table, as it is in the database; a StoreError if there is none."""
    try:
        return sa.Table("events", sa.MetaData(), autoload_with=engine)
    except sa.exc.NoSuchTableError:
        raise StoreError(NO_EVENTS, shown(engine.url), f"{engine.url!r} has no `events` table: is it Rasa's tracker "
                         "store?") from None


def shown(url: str | sa.engine.URL) -> str:
    """How a store is named to a person: an SQLite file by its path, a database by its URL without the password."""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return safe_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database:
        return unquote(database[len("file:"):]) if database.startswith("file:") else database
    return safe_url(parsed)
