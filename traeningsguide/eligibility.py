"""Which service fits a citizen's situation in a municipality, or why none does — with quotes.

The rules are data (``eligibility`` in each municipality file): a situation makes a service apply,
excludes it, or adds a note. A situation the source says nothing about is reported as such; the
guide never guesses. The municipality always makes the actual decision, so the result ends with
whom to contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from traeningsguide.answers import GuideInputError, NextStep, resolve_municipality, steps
from traeningsguide.knowledge import EligibilityRule, KnowledgeBase, knowledge


@dataclass(frozen=True)
class EligibilityResult:
    municipality_id: str
    situations: tuple[str, ...]
    services: tuple[str, ...]  # services that apply and are not excluded
    applies: tuple[EligibilityRule, ...]
    excluded: tuple[EligibilityRule, ...]
    notes: tuple[EligibilityRule, ...]
    unknown: tuple[str, ...]  # situations the source is silent on
    text: str
    source: str
    next_step: NextStep

    @property
    def rules(self) -> tuple[EligibilityRule, ...]:
        return self.applies + self.excluded + self.notes

    def render(self) -> str:
        return "\n\n".join((self.text, self.source, self.next_step.text))


def eligibility(kommune: str, situations: Iterable[str], kb: KnowledgeBase | None = None) -> EligibilityResult:
    """Match a set of situation ids against ``kommune``'s eligibility rules."""
    kb = kb or knowledge()
    municipality = resolve_municipality(kommune, kb)
    chosen = tuple(dict.fromkeys(situations))
    if not chosen:
        raise GuideInputError(kb.texts["cli"]["no_situation"])
    for situation in chosen:
        if situation not in kb.situations:
            raise GuideInputError(kb.texts["resolve"]["unknown_situation"].format(text=situation))
    rules = [r for r in municipality.eligibility if r.situation in chosen]
    applies = tuple(r for r in rules if r.result == "applies")
    excluded = tuple(r for r in rules if r.result == "excluded")
    notes = tuple(r for r in rules if r.result == "note")
    excluded_services = {r.service for r in excluded}
    services = tuple(dict.fromkeys(r.service for r in applies if r.service not in excluded_services))
    silent = tuple(s for s in chosen if not any(r.situation == s for r in rules))

    t = kb.texts["eligibility"]
    lines: list[str] = []
    for sid in services:
        lines.append(t["applies"].format(service=municipality.services[sid].name))
        lines.extend(f"• {r.text}" for r in applies if r.service == sid)
    for rule in excluded:
        lines.append(t["excluded"].format(service=municipality.services[rule.service].name))
        lines.append(f"• {rule.text}")
    for rule in notes:
        lines.append(f"{t['note'].format(service=municipality.services[rule.service].name)} {rule.text}")
    if not services and excluded_services >= set(municipality.services):
        lines.append(t["none_applies"].format(title=municipality.source_title))
    for sid in silent:
        situation = kb.situations[sid].label.lower()
        lines.append(t["nothing_stated"].format(title=municipality.source_title, situation=situation))

    contacts = (municipality.contacts[municipality.services[services[0]].contact],) if len(services) == 1 \
        else municipality.main_contacts(services)
    step = steps(municipality, contacts, kb)
    lines.append(t["decided_by"])
    text = "\n".join(lines)
    return EligibilityResult(
        municipality.id, chosen, services, applies, excluded, notes, silent, text,
        kb.texts["answer"]["source"].format(title=municipality.source_title), step,
    )
