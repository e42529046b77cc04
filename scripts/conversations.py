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
import sys
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from traeningsguide.store import StoreError, events_table, safe_url, store_url  # noqa: E402
from traeningsguide.store import engine as _engine  # noqa: E402


def list_conversations(url: str) -> list[tuple[str, float | None, int]]:
    """(sender id, last event time as a Unix timestamp, user turns), most recent first."""
    engine = _engine(url)
    events = events_table(engine)
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
    events = events_table(engine)
    with engine.begin() as conn:
        return int(conn.execute(events.delete().where(events.c.sender_id == sender_id)).rowcount or 0)


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
    except StoreError as exc:  # no SQLite file there, no `events` table
        print(exc, file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as exc:  # unreachable database, wrong credentials, ...
        reason = str(getattr(exc, "orig", None) or exc).strip()
        print(f"cannot use {safe_url(url)}: {type(exc).__name__}: {reason}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, url: str) -> int:
    if args.command == "list":
        rows = list_conversations(url)
        print(f"{len(rows)} conversations in {safe_url(url)}")
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
        print(f"no conversation with sender id {args.sender!r} in {safe_url(url)}")
        return 1
    print(f"deleted {deleted} events of sender id {args.sender!r} from {safe_url(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
