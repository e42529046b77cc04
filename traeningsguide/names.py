"""Recognise municipalities, services and topics in free text or entity values."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from traeningsguide.knowledge import KnowledgeBase, Municipality, knowledge, per_knowledge_base
from traeningsguide.textnorm import fold, fold_variants

MAX_PHRASE_WORDS = 4
MAX_TEXT = 2000  # characters looked at; a longer message is cut (nothing a citizen writes needs more)
FUZZY_MIN_LENGTH = 6  # shorter words are too easily confused ("Køge" vs "kage")
FUZZY_CUTOFF = 0.85
SUFFIXES = ("kommune", "kommunes", "komune", "kommun")


@dataclass(frozen=True)
class MunicipalityMatch:
    """A municipality found in text: one the guide covers, or one it does not."""

    status: Literal["covered", "not_covered"]
    name: str  # display name: "Køge", "Aarhus"
    id: str | None = None  # the covered municipality's id, None for others
    matched: str = ""  # the folded words that matched

    @property
    def covered(self) -> bool:
        return self.status == "covered"


@dataclass(frozen=True)
class _Entry:
    status: Literal["covered", "not_covered"]
    name: str
    id: str | None
    ambiguous: bool

    @property
    def covered(self) -> bool:
        return self.status == "covered"


@per_knowledge_base
def _index(kb: KnowledgeBase) -> dict[str, _Entry]:
    """Folded spelling -> municipality, built once per knowledge base."""
    index: dict[str, _Entry] = {}

    def add(phrase: str, entry: _Entry, variants: bool) -> None:
        spellings = fold_variants(phrase) if variants else {fold(phrase)}
        for spelling in spellings:
            base = spelling
            for suffix in SUFFIXES:
                if base.endswith(" " + suffix):
                    base = base[: -len(suffix) - 1]
            forms = {base} | {f"{base} {suffix}" for suffix in SUFFIXES}
            for form in forms:
                # a name that is also a common word only counts with "kommune" after it
                plain_form = form == base
                stored = _Entry(entry.status, entry.name, entry.id, entry.ambiguous and plain_form)
                index.setdefault(form, stored)

    for m in kb.municipalities.values():
        entry = _Entry("covered", m.short_name, m.id, False)
        ambiguous = _Entry("covered", m.short_name, m.id, True)
        for phrase in (m.short_name, m.name, m.id, *m.aliases, *m.places):
            add(phrase, entry, variants=True)
        for phrase in m.ambiguous_aliases:  # also an everyday word ("koge" = to boil)
            for form in (fold(phrase), fold(phrase) + " kommune"):
                index[form] = ambiguous if form == fold(phrase) else entry
    for other in kb.others:
        entry = _Entry("not_covered", other.name, None, other.ambiguous)
        for phrase in (other.name, *other.aliases):
            # ASCII spellings ("Allerod") only for longer names: short ones collide with words
            add(phrase, entry, variants=len(fold(phrase)) >= FUZZY_MIN_LENGTH)
    return index


def _ngrams(words: list[str]) -> list[tuple[int, int, str]]:
    """All phrases of up to MAX_PHRASE_WORDS words, longest first, then left to right."""
    grams = []
    for size in range(min(MAX_PHRASE_WORDS, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            grams.append((start, start + size, " ".join(words[start : start + size])))
    return grams


def find_municipalities(text: str, kb: KnowledgeBase | None = None) -> list[MunicipalityMatch]:
    """Every municipality named in a text, in the order they appear, each once."""
    kb = kb or knowledge()
    index = _index(kb)
    words = fold(text[:MAX_TEXT]).split()
    whole = " ".join(words)
    taken = [False] * len(words)
    found: list[tuple[int, MunicipalityMatch]] = []
    for start, end, phrase in _ngrams(words):
        entry = index.get(phrase)
        if entry is None or any(taken[start:end]):
            continue
        if entry.ambiguous and phrase != whole:
            continue
        taken[start:end] = [True] * (end - start)
        found.append((start, MunicipalityMatch(entry.status, entry.name, entry.id, phrase)))
    if not found:
        found = _fuzzy(words, index)
    seen: set[str] = set()
    result = []
    for _, match in sorted(found, key=lambda item: item[0]):
        if match.name not in seen:
            seen.add(match.name)
            result.append(match)
    return result


def _fuzzy(words: list[str], index: dict[str, _Entry]) -> list[tuple[int, MunicipalityMatch]]:
    """Typos in a long single-word name ("Roskidle", "Hedenstedt")."""
    # only the five covered names: a typo of an uncovered name costs nothing, while fuzzy matching
    # against all 98 names turns everyday words into municipalities ("næste" -> Næstved)
    candidates = tuple(p for p, e in index.items() if " " not in p and len(p) >= FUZZY_MIN_LENGTH and e.covered)
    found = []
    for position, word in enumerate(words):
        if len(word) < FUZZY_MIN_LENGTH:
            continue
        close = _closest_name(word, candidates)
        if close:
            entry = index[close]
            found.append((position, MunicipalityMatch(entry.status, entry.name, entry.id, word)))
    return found


@lru_cache(maxsize=8192)
def _closest_name(word: str, candidates: tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=FUZZY_CUTOFF)
    return close[0] if close else None


def find_municipality(text: str, kb: KnowledgeBase | None = None) -> MunicipalityMatch | None:
    """The first municipality named in a text, or None."""
    matches = find_municipalities(text, kb)
    return matches[0] if matches else None


def municipality(value: str, kb: KnowledgeBase | None = None) -> Municipality | None:
    """A covered municipality from an id, an entity value or free text; None if none is named."""
    kb = kb or knowledge()
    if value in kb.municipalities:
        return kb.municipalities[value]
    match = find_municipality(value, kb)
    if match and match.covered and match.id:
        return kb.municipalities[match.id]
    return None


_ENDINGS = r"(?:en|et|er|e|n|s|ne|erne|ene|ens|ets)?"  # a keyword in an inflected form: "børnetræningen"
LONG_KEYWORD = 10


def match_keywords(text: str, keywords: Mapping[str, Iterable[str]]) -> list[str]:
    """Ids whose keywords occur in a text, in order of appearance; a longer keyword beats the words
    inside it ("ikke været indlagt" is not "indlagt"). A keyword's last word may carry a Danish
    inflection ending ("børnetræningen", "vedligeholdelsestræningen")."""
    folded = f" {fold(text[:MAX_TEXT])} "
    hits: list[tuple[int, int, int, str]] = []  # (start, end, keyword length, id)
    for item_id, words in keywords.items():
        for keyword in words:
            compiled = _keyword_pattern(keyword)
            if compiled is None:
                continue
            pattern, length = compiled
            for match in pattern.finditer(folded):
                hits.append((match.start(), match.end(), length, item_id))
    hits.sort(key=lambda h: (-h[2], h[0]))
    claimed = bytearray(len(folded))
    found: list[tuple[int, str]] = []
    for start, end, _, item_id in hits:
        if any(claimed[start:end]):
            continue
        claimed[start:end] = b"\x01" * (end - start)
        found.append((start, item_id))
    ordered: list[str] = []
    for _, item_id in sorted(found):
        if item_id not in ordered:
            ordered.append(item_id)
    return ordered


@lru_cache(maxsize=4096)
def _keyword_pattern(keyword: str) -> tuple[re.Pattern[str], int] | None:
    """The compiled pattern of a keyword and the keyword's length (the longer keyword wins)."""
    needle = fold(keyword)
    if not needle:
        return None
    # a long one-word keyword also begins longer words ("vedligehold" in "vedligeholdelses")
    tail = r"[a-z]*" if len(needle) >= LONG_KEYWORD and " " not in needle else _ENDINGS
    return re.compile(rf"(?<= ){re.escape(needle)}{tail}(?= )"), len(needle)


def find_service_kinds(text: str, kb: KnowledgeBase | None = None) -> list[str]:
    """Service kinds a text points to by their keywords ("genoptræningsplan" -> rehab_after_hospital)."""
    kb = kb or knowledge()
    return match_keywords(text, {k.id: k.keywords for k in kb.service_kinds.values()})


def find_situations(text: str, kb: KnowledgeBase | None = None) -> list[str]:
    """Situations a text describes ("min mor er faldet og har ikke været indlagt" -> not_hospitalised)."""
    kb = kb or knowledge()
    return match_keywords(text, {s.id: s.keywords for s in kb.situations.values()})


def services_for(
    municipality: Municipality, value: str, kb: KnowledgeBase | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(service ids of the municipality, kinds named that the municipality does not describe).

    ``value`` may be a service id (of this or another municipality), a service kind id, or free
    text. Both empty: nothing in ``value`` names a service.
    """
    kb = kb or knowledge()
    key = value.strip().lower()
    if key in municipality.services:
        return (key,), ()
    if key in kb.service_kinds:
        kinds = [key]
    else:
        # another municipality's service id ("after_hospital" asked of Holbæk) means its kinds
        other_ids = {sid: s.kinds for m in kb.municipalities.values() for sid, s in m.services.items()}
        kinds = list(other_ids[key]) if key in other_ids else find_service_kinds(value, kb)
    service_ids: list[str] = []
    missing: list[str] = []
    for kind in kinds:
        matching = [s.id for s in municipality.services.values() if kind in s.kinds]
        if matching:
            service_ids.extend(s for s in matching if s not in service_ids)
        else:
            missing.append(kind)
    return tuple(service_ids), tuple(missing)


def topic_id(value: str, kb: KnowledgeBase | None = None) -> str | None:
    """A topic from its id or its Danish label, spelt loosely ("pris", "Hvem kan få det")."""
    kb = kb or knowledge()
    if value in kb.topics:
        return value
    folded = fold(value)
    for topic in kb.topics.values():
        if folded in (fold(topic.id), fold(topic.label)):
            return topic.id
    return None
