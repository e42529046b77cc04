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


@dataclass(frozen=True)
class QuotedItem:
    """One quote and the item of the municipality file that rests on it."""

    field: str  # field path in the municipality file, e.g. "facts[3] (cost)"
    text: str  # what the item says (a fact's text, a contact's name, ...)
    quote: str


def quoted_items(municipality: Municipality) -> Iterator[QuotedItem]:
    """Every quote kept for a municipality, with the field it sits in.

    Indexes are those of the file: a loaded knowledge base kept every entry (a dropped one is a
    load error)."""
    for i, contact in enumerate(municipality.contacts.values()):
        fp = f"contacts[{i}]"
        yield QuotedItem(f"{fp} ({contact.id})", contact.name, contact.quote)
        for j, quote in enumerate(contact.also_named):
            yield QuotedItem(f"{fp}.also_named[{j}] ({contact.id})", contact.name, quote)
        for key, part in (("hours", contact.hours), ("address", contact.address), ("web", contact.web)):
            if part is not None:
                yield QuotedItem(f"{fp}.{key} ({contact.id})", getattr(part, "text", contact.name), part.quote)
    for i, service in enumerate(municipality.services.values()):
        yield QuotedItem(f"services[{i}] ({service.id})", service.name, service.quote)
    for i, fact in enumerate(municipality.facts):
        yield QuotedItem(f"facts[{i}] ({fact.topic})", fact.text, fact.quote)
    for i, rule in enumerate(municipality.eligibility):
        yield QuotedItem(f"eligibility[{i}] ({rule.situation})", rule.text, rule.quote)
    for i, non_answer in enumerate(municipality.non_answers):
        yield QuotedItem(f"non_answers[{i}]", non_answer.text, non_answer.quote)
    for i, entry in enumerate(municipality.not_stated):
        if entry.quote:
            yield QuotedItem(f"not_stated[{i}] ({entry.topic})", entry.text or "", entry.quote)


def all_quotes(municipality: Municipality) -> Iterator[str]:
    """Every quote kept for a municipality, wherever it sits in the file."""
    for item in quoted_items(municipality):
        yield item.quote


def coverage(kb: KnowledgeBase, municipality_id: str, text: str | None = None) -> Coverage:
    """How much of the municipality's source its quotes cover; of ``text`` instead when given
    (a new version of the source, before it replaces the stored one)."""
    municipality = kb.municipalities[municipality_id]
    source = kb.sources[municipality.source_file] if text is None else normalise_source(text)
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
