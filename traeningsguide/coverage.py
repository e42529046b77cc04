"""How much of each source document the knowledge base has placed.

Every quote (facts, contacts, services, eligibility, non-answers) marks the characters of the
normalised source it was taken from. What no quote marks is a passage the assistant cannot say:
either it is missing from the knowledge base, or it belongs in ``non_answers`` with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from traeningsguide.knowledge import KnowledgeBase, Municipality
from traeningsguide.textnorm import normalise_source

# An uncovered stretch with fewer letters than this is a heading or a bullet mark, not a fact.
MIN_UNCOVERED_LETTERS = 30


@dataclass(frozen=True)
class Coverage:
    municipality: str
    source_file: str
    letters: int
    covered_letters: int
    uncovered: tuple[str, ...]  # passages of at least MIN_UNCOVERED_LETTERS letters no quote covers

    @property
    def percent(self) -> float:
        return 100.0 * self.covered_letters / self.letters if self.letters else 100.0


def all_quotes(municipality: Municipality) -> Iterator[str]:
    """Every quote kept for a municipality, wherever it sits in the file."""
    for contact in municipality.contacts.values():
        yield contact.quote
        yield from contact.also_named
        for part in (contact.hours, contact.address, contact.web):
            if part is not None:
                yield part.quote
    for service in municipality.services.values():
        yield service.quote
    for item in (*municipality.facts, *municipality.eligibility, *municipality.non_answers):
        yield item.quote
    for entry in municipality.not_stated:
        if entry.quote:
            yield entry.quote


def coverage(kb: KnowledgeBase, municipality_id: str) -> Coverage:
    municipality = kb.municipalities[municipality_id]
    source = kb.sources[municipality.source_file]
    covered = bytearray(len(source))
    for quote in all_quotes(municipality):
        needle = normalise_source(quote)
        start = source.find(needle)
        while start != -1:
            covered[start : start + len(needle)] = b"\x01" * len(needle)
            start = source.find(needle, start + 1)
    is_letter = [ch.isalnum() for ch in source]
    letters = sum(is_letter)
    covered_letters = sum(1 for i, flag in enumerate(is_letter) if flag and covered[i])
    uncovered = []
    for match in re.finditer(r"\x00+", covered.decode("latin-1")):
        passage = source[match.start() : match.end()]
        if sum(ch.isalnum() for ch in passage) >= MIN_UNCOVERED_LETTERS:
            uncovered.append(passage.strip())
    return Coverage(municipality_id, municipality.source_file, letters, covered_letters, tuple(uncovered))
