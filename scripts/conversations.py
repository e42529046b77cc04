"""Staff tool for the stored conversations: list them, or delete one (a citizen's request).

    .venv/bin/python scripts/conversations.py list              # sender ids, last activity, turns
    .venv/bin/python scripts/conversations.py forget <sender>   # delete every event of one sender
    make forget SENDER=<sender>

The store is the one Rasa uses (endpoints.yml): the PostgreSQL (or other SQLAlchemy) database in
TRACKER_STORE_URL if set, e.g. postgresql://user:pass@127.0.0.1:5432/rasa, otherwise the SQLite
file TRACKER_DB (default build/tracker.db). `--store URL` names another database, e.g. the SQL
event broker's (its `events` table also has a `sender_id` column). Operator output, in English.

Rasa's SQL tracker store reads the conversation from the database on every message, so a deleted
conversation is gone for the running server too: the sender's next message starts a new one.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_TRACKER_DB = "build/tracker.db"


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


def _engine(url: str) -> sa.engine.Engine:
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not path.exists():  # do not let SQLite create an empty file somewhere
            raise SystemExit(f"no tracker store at {path} (set TRACKER_DB or TRACKER_STORE_URL)")
    return sa.create_engine(url)


def _events(engine: sa.engine.Engine) -> sa.Table:
    try:
        return sa.Table("events", sa.MetaData(), autoload_with=engine)
    except sa.exc.NoSuchTableError:
        raise SystemExit(f"{engine.url!r} has no `events` table: is it Rasa's tracker store?") from None


def list_conversations(url: str) -> list[tuple[str, float | None, int]]:
    """(sender id, last event time as a Unix timestamp, user turns), most recent first."""
    engine = _engine(url)
    events = _events(engine)
    if "timestamp" not in events.c or "type_name" not in events.c:
        raise SystemExit("`list` needs a tracker store table (timestamp, type_name); `forget` works on any")
    turns = sa.func.sum(sa.case((events.c.type_name == "user", 1), else_=0))
    last = sa.func.max(events.c.timestamp)
    query = sa.select(events.c.sender_id, last, turns).group_by(events.c.sender_id).order_by(last.desc())
    with engine.connect() as conn:
        return [(sender, stamp, int(count or 0)) for sender, stamp, count in conn.execute(query)]


def forget(url: str, sender_id: str) -> int:
    """Delete every event of ``sender_id``; returns how many were deleted."""
    engine = _engine(url)
    events = _events(engine)
    with engine.begin() as conn:
        return int(conn.execute(events.delete().where(events.c.sender_id == sender_id)).rowcount or 0)


def _safe_url(url: str) -> str:
    return repr(sa.engine.make_url(url))  # the password shown as ***


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", help="SQLAlchemy URL (default: TRACKER_STORE_URL, else sqlite:///TRACKER_DB)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="sender ids with last activity (UTC) and number of user turns")
    forget_parser = commands.add_parser("forget", help="delete every event of one sender id")
    forget_parser.add_argument("sender", help="the sender id (the widget keeps it in localStorage)")
    args = parser.parse_args(argv)
    url = store_url(args.store)
    try:
        return _run(args, url)
    except sa.exc.SQLAlchemyError as exc:  # unreachable database, wrong credentials, ...
        reason = str(getattr(exc, "orig", None) or exc).strip()
        print(f"cannot use {_safe_url(url)}: {type(exc).__name__}: {reason}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, url: str) -> int:
    if args.command == "list":
        rows = list_conversations(url)
        print(f"{len(rows)} conversations in {_safe_url(url)}")
        for sender, stamp, turns in rows:
            when = (datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                    if stamp is not None else "-")
            print(f"{sender}\t{when}\t{turns} turns")
        return 0

    if not args.sender.strip():
        print("the sender id is empty", file=sys.stderr)
        return 2
    deleted = forget(url, args.sender)
    if deleted == 0:
        print(f"no conversation with sender id {args.sender!r} in {_safe_url(url)}")
        return 1
    print(f"deleted {deleted} events of sender id {args.sender!r} from {_safe_url(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
