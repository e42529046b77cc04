"""Opening hours at the boundaries; 'not stated' where a source states none."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from traeningsguide import hours
from traeningsguide.knowledge import KnowledgeBase

# 2026-11-23 is a Monday.
MON, FRI, SAT, SUN = 23, 27, 28, 29


def _at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm)


@pytest.fixture()
def sundhedshuset(kb: KnowledgeBase):  # type: ignore[no-untyped-def]
    return kb.municipalities["hedensted"].contacts["sundhedshuset"].hours


@pytest.mark.parametrize("day,hh,mm,expected", [
    (MON, 7, 59, False), (MON, 8, 0, True), (MON, 11, 59, True), (MON, 12, 0, False), (MON, 12, 59, False),
    (MON, 13, 0, True), (MON, 13, 59, True), (MON, 14, 0, False),
    (26, 13, 30, True),  # Thursday afternoon
    (FRI, 8, 0, True), (FRI, 11, 59, True), (FRI, 12, 0, False), (FRI, 13, 30, False),
    (SAT, 10, 0, False), (SUN, 10, 0, False),
])
def test_open_at_boundaries(sundhedshuset, day: int, hh: int, mm: int, expected: bool) -> None:  # type: ignore[no-untyped-def]
    assert hours.is_open(sundhedshuset, _at(day, hh, mm)) is expected


@pytest.mark.parametrize("now,opens", [
    (_at(MON, 7, 0), _at(MON, 8, 0)),
    (_at(MON, 12, 0), _at(MON, 13, 0)),
    (_at(MON, 14, 0), _at(24, 8, 0)),
    (_at(FRI, 12, 0), datetime(2026, 11, 30, 8, 0)),  # Friday noon -> Monday 08:00
    (_at(SAT, 9, 0), datetime(2026, 11, 30, 8, 0)),
    (_at(MON, 8, 0), _at(MON, 13, 0)),  # open now: the next opening is the afternoon
])
def test_next_opening(sundhedshuset, now: datetime, opens: datetime) -> None:  # type: ignore[no-untyped-def]
    got = hours.next_opening(sundhedshuset, now)
    assert got is not None and got.replace(tzinfo=None) == opens


def test_aware_times_are_converted_to_danish_time(sundhedshuset) -> None:  # type: ignore[no-untyped-def]
    # 07:30 UTC on a winter Monday is 08:30 in Copenhagen: open.
    assert hours.is_open(sundhedshuset, datetime(2026, 11, 23, 7, 30, tzinfo=timezone.utc)) is True
    # In summer time (UTC+2) 06:30 UTC is 08:30 local.
    assert hours.is_open(sundhedshuset, datetime(2026, 6, 1, 6, 30, tzinfo=timezone.utc)) is True


def test_status_texts(kb: KnowledgeBase, sundhedshuset) -> None:  # type: ignore[no-untyped-def]
    assert hours.status(sundhedshuset, kb.texts, _at(MON, 9, 0)) == "Telefonen er åben nu (til kl. 12.00)"
    assert hours.status(sundhedshuset, kb.texts, _at(MON, 12, 30)) == "Telefonen er lukket nu. Åbner i dag kl. 13.00"
    assert hours.status(sundhedshuset, kb.texts, _at(MON, 15, 0)) == "Telefonen er lukket nu. Åbner i morgen kl. 08.00"
    assert hours.status(sundhedshuset, kb.texts, _at(FRI, 15, 0)) == "Telefonen er lukket nu. Åbner mandag kl. 08.00"


def test_description(kb: KnowledgeBase, sundhedshuset) -> None:  # type: ignore[no-untyped-def]
    assert hours.describe(sundhedshuset, kb.texts) == "man.–tors. kl. 08.00–12.00 og 13.00–14.00, fre. kl. 08.00–12.00"


def test_hours_not_stated_elsewhere(kb: KnowledgeBase) -> None:
    stated = [(mid, c.id) for mid, m in kb.municipalities.items() for c in m.contacts.values() if c.hours]
    assert stated == [("hedensted", "sundhedshuset")]
    for m in kb.municipalities.values():
        for contact in m.contacts.values():
            if contact.hours is None:
                assert hours.is_open(contact.hours, _at(MON, 9)) is None
                assert hours.next_opening(contact.hours, _at(MON, 9)) is None
                assert hours.status(contact.hours, kb.texts, _at(MON, 9)) == "Telefontid ikke oplyst"
