"""Opening hours: is a contact open at a given time, and when does it open next.

Only hours a source states are known (Hedensted's Sundhedshuset); everywhere else the answer is
``None`` — "not stated" — never a guess. Public holidays are not stated by any source, so they
are not modelled; the rendered text says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from traeningsguide.knowledge import OpeningHours

LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")


def local(at: datetime | None = None) -> datetime:
    """A time in Danish local time; a naive time is taken to be local already."""
    if at is None:
        return datetime.now(LOCAL_ZONE)
    if at.tzinfo is None:
        return at.replace(tzinfo=LOCAL_ZONE)
    return at.astimezone(LOCAL_ZONE)


def open_until(hours: OpeningHours | None, at: datetime | None = None) -> time | None:
    """The closing time of the interval open at ``at``, or None when closed or not stated.

    An interval includes its opening minute and excludes its closing minute (08:00–12:00 is
    open at 08:00 and at 11:59, closed at 12:00).
    """
    if hours is None:
        return None
    now = local(at)
    for start, end in hours.weekly.get(now.weekday(), ()):
        if start <= now.time() < end:
            return end
    return None


def is_open(hours: OpeningHours | None, at: datetime | None = None) -> bool | None:
    """True/False when the source states hours; None when it does not."""
    if hours is None:
        return None
    return open_until(hours, at) is not None


def next_opening(hours: OpeningHours | None, at: datetime | None = None) -> datetime | None:
    """The next moment after ``at`` at which the contact opens; None when hours are not stated."""
    if hours is None or not hours.weekly:
        return None
    now = local(at)
    for days_ahead in range(8):
        day = (now + timedelta(days=days_ahead)).date()
        for start, _ in hours.weekly.get(day.weekday(), ()):
            candidate = datetime.combine(day, start, tzinfo=LOCAL_ZONE)
            if candidate > now:
                return candidate
    return None


def _clock(value: time) -> str:
    return value.strftime("%H.%M")


def describe(hours: OpeningHours | None, texts: Mapping[str, Any], long: bool = False) -> str | None:
    """Danish summary of weekly hours: "man.–tors. kl. 08.00–12.00 og 13.00–14.00, fre. kl. 08.00–12.00"
    (with ``long`` the weekdays written out: "mandag–torsdag …, fredag …")."""
    if hours is None:
        return None
    t = texts["hours"]
    groups: list[tuple[int, int, tuple[tuple[time, time], ...]]] = []
    for day in range(7):
        intervals = hours.weekly.get(day)
        if not intervals:
            continue
        if groups and groups[-1][2] == intervals and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, intervals)
        else:
            groups.append((day, day, intervals))
    parts = []
    names = t["weekdays"] if long else t["weekdays_short"]
    for first, last, intervals in groups:
        days = names[first]
        if last != first:
            days = t["range"].format(first=names[first], last=names[last])
        spans = t["join_intervals"].join(
            t["interval"].format(start=_clock(s), end=_clock(e)) for s, e in intervals
        )
        parts.append(t["day_hours"].format(days=days, spans=spans))
    return t["join_days"].join(parts)


def describe_opening(moment: datetime, at: datetime | None, texts: Mapping[str, Any]) -> str:
    """Danish "i dag kl. 13.00" / "i morgen kl. 08.00" / "mandag kl. 08.00"."""
    t = texts["hours"]
    now = local(at)
    clock = _clock(moment.time())
    delta = (moment.date() - now.date()).days
    if delta == 0:
        return t["today"].format(time=clock)
    if delta == 1:
        return t["tomorrow"].format(time=clock)
    return t["other_day"].format(weekday=t["weekdays"][moment.weekday()], time=clock)


def status(hours: OpeningHours | None, texts: Mapping[str, Any], at: datetime | None = None) -> str:
    """Danish "open now / closed, opens …" or "hours not stated"."""
    c = texts["contact"]
    if hours is None:
        return c["hours_unknown"]
    until = open_until(hours, at)
    if until is not None:
        return c["open_now"].format(until=_clock(until))
    opening = next_opening(hours, at)
    if opening is None:
        return c["closed_no_next"]
    return c["closed_now"].format(when=describe_opening(opening, at, texts))
