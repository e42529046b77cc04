"""Loading and validating the knowledge base (knowledge/*.yml).

Everything the assistant says about a municipality is read from here. Loading checks every file
completely and raises one :class:`KnowledgeError` that names file, field and problem for each
defect, so a content owner can fix the file without reading a stack trace.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml

from traeningsguide.textnorm import (
    WORD_EDGE_AFTER,
    WORD_EDGE_BEFORE,
    any_spelling,
    loose,
    loose_letters,
    normalise_source,
    numbers_in,
    phone_digits,
    phones_in,
    unit_counts,
)

KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DERIVED_TOPICS = frozenset({"contact"})  # answered from the contacts, not from facts
ELIGIBILITY_RESULTS = frozenset({"applies", "excluded", "note"})
MIN_QUOTE_LENGTH = 12
GENERAL = "*"  # in a reader's section map: the parts of the source that back every service
MIN_UNCOVERED_LETTERS = 30  # an unplaced stretch with fewer letters is a heading or a bullet mark
NO_CONTACT = "none"  # default_contact where the source gives no contact for every service
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster, same result

# The Danish frame texts in texts.yml: section -> key -> the {placeholders} the code fills in
# (None: a list, checked separately). A missing key or an unknown placeholder is reported at load.
# the widget's texts (texts.yml web.widget_<key>; widget-config.json "texts" without the prefix)
WIDGET_TEXT_KEYS = ("launcher", "title", "close", "input_label", "send", "typing", "error", "no_reply",
                    "contact_prefix", "contact_general", "you", "bot", "intro", "new", "delete", "delete_confirm",
                    "deleted", "delete_error", "sources", "sources_intro", "feedback_question", "feedback_up",
                    "feedback_down", "feedback_comment", "feedback_send", "feedback_skip", "feedback_thanks")
TEXT_SCHEMA: dict[str, dict[str, frozenset[str] | None]] = {
    "answer": {"source": frozenset({"title"}), "not_stated": frozenset({"title", "missing"}),
               "hours_not_stated": frozenset({"title"}),
               "service_not_described": frozenset({"title", "service"}), "depends_on_service": frozenset(),
               "service_item": frozenset({"service", "text"}), "not_stated_short": frozenset(),
               "decide": frozenset({"question"}), "no_phone": frozenset({"title", "name"})},
    "next_step": {"call": frozenset({"name", "phone"}), "call_hours": frozenset({"name", "phone", "hours"}),
                  "no_phone": frozenset({"name", "title"}), "address": frozenset({"address"}),
                  "web": frozenset({"web"}), "end": frozenset()},
    "contact": {"line": frozenset({"name", "purpose"}), "phone": frozenset({"phone"}), "no_phone": frozenset(),
                "hours_not_stated": frozenset(), "open_now": frozenset({"until"}), "closed_now": frozenset({"when"}),
                "closed_no_next": frozenset(), "hours_unknown": frozenset(), "public_holidays": frozenset()},
    "hours": {"weekdays": None, "weekdays_short": None, "range": frozenset({"first", "last"}),
              "interval": frozenset({"start", "end"}), "day_hours": frozenset({"days", "spans"}),
              "join_intervals": frozenset(), "join_days": frozenset(), "today": frozenset({"time"}),
              "tomorrow": frozenset({"time"}), "other_day": frozenset({"weekday", "time"})},
    "eligibility": {"applies": frozenset({"service"}), "excluded": frozenset({"service"}),
                    "note": frozenset({"service"}), "none_applies": frozenset({"title"}),
                    "nothing_stated": frozenset({"title", "situation"}), "decided_by": frozenset()},
    "resolve": {"not_covered": frozenset({"name"}), "unknown_municipality": frozenset({"text"}),
                "unknown_topic": frozenset({"text"}), "unknown_situation": frozenset({"text"}),
                "unknown_service": frozenset({"text"})},
    "dialogue": {"ask_kommune": frozenset(), "which_topic": frozenset({"name"}), "help": frozenset(),
                 "rephrase": frozenset(), "out_of_scope": frozenset(), "contact_hint": frozenset({"step"}),
                 "situation_needs_more": frozenset(), "error": frozenset(), "main_topics": None,
                 "greet": frozenset(), "goodbye": frozenset(), "thanks": frozenset(), "bot_challenge": frozenset(),
                 "emergency": frozenset(), "unsure": frozenset(), "silent": frozenset({"title"}),
                 "acting_for_silent": frozenset({"title"}),
                 "more": frozenset({"topic"}), "button_yes": frozenset(), "button_no": frozenset(),
                 "compare_sources": frozenset({"titles"}), "compare_item": frozenset({"name", "text"}),
                 "feedback_thanks": frozenset()},
    "english": {"frame": frozenset(), "ask_kommune": frozenset(), "unsure": frozenset(), "silent": frozenset({"title"}),
                "acting_for_silent": frozenset({"title"}), "hours_not_stated": frozenset({"title"}),
                "not_stated": frozenset({"title"}), "emergency": frozenset(), "not_covered": frozenset({"name"}),
                "greet": frozenset(), "out_of_scope": frozenset(), "contact": frozenset(),
                "feedback_thanks": frozenset()},
    "cli": {key: frozenset() for key in (
        "municipality", "topic", "service", "answer", "next_step", "contact", "phone", "hours", "status",
        "address", "situation", "result", "result_applies", "result_excluded", "result_note", "facts",
        "not_stated", "services", "coverage", "knowledge_ok", "knowledge_uncovered", "uncovered",
        "topics_title", "no_situation", "input_error")},
    "channel": {"empty": frozenset(), "too_long": frozenset({"limit"}), "outage": frozenset(),
                "outage_contacts": frozenset(), "outage_contact_item": frozenset({"name", "step"}),
                "error_json": frozenset(), "error_content_type": frozenset(), "error_sender": frozenset({"limit"}),
                "error_message": frozenset(), "error_metadata": frozenset(), "error_sender_personal": frozenset(),
                "error_too_large": frozenset({"limit"}), "error_forget": frozenset()},
    "web": {
        **{key: frozenset() for key in (
            "lookup_title", "lookup_heading", "lookup_intro", "skip_to_table", "skip_to_main", "filter_label",
            "filter_hint", "compare_heading", "compare_label", "compare_choose", "matrix_heading", "caption",
            "table_region", "topic_column", "not_stated", "quotes", "next_step", "hours_title", "closed_now",
            "demo_title_none", "demo_heading_none", "back_to_index", "index_title", "index_heading", "index_intro",
            "index_demos", "index_demo_none", "index_lookup_heading", "index_lookup_link", "kommune_label",
            "kommune_all")},
        "kommune_contacts": frozenset({"name"}),
        "filter_count": frozenset({"count", "total"}), "compare_topic": frozenset({"topic"}),
        "open_now": frozenset({"until"}), "demo_title": frozenset({"name"}), "demo_heading": frozenset({"name"}),
        "demo_intro": frozenset({"name", "launcher"}), "demo_intro_none": frozenset({"launcher"}),
        "index_demo_link": frozenset({"name"}),
        **{f"widget_{key}": frozenset() for key in WIDGET_TEXT_KEYS},
    },
    "report": {
        **{key: frozenset() for key in (
            "title", "intro", "empty", "total", "kommune_all", "kommune_several", "kommune_unknown", "no_topic",
            "topic_situation", "all_services", "kind_fallback", "kind_unsure", "kind_outage", "kind_no_reply",
            "section_summary", "section_days", "section_topics", "section_rates", "section_gaps", "section_ratings",
            "section_downvotes", "section_outage_days", "section_outages", "column_section", "column_period",
            "column_day", "column_time", "column_kommune", "column_service", "column_topic", "column_kind",
            "column_conversations", "column_turns", "column_count", "column_share", "column_up", "column_down",
            "column_question", "column_examples", "column_comment", "bad_url")},
        "period_value": frozenset({"start", "end"}), "generated": frozenset({"time"}),
        "read": frozenset({"rows", "seconds"}), "missing_kind": frozenset({"kind"}), "written": frozenset({"path"}),
        "bad_date": frozenset({"value"}), "bad_period": frozenset({"start", "end"}), "missing": frozenset({"store"}),
        "no_events": frozenset({"store"}), "unreachable": frozenset({"store", "reason"}),
        "cannot_write": frozenset({"path", "reason"}),
    },
    "check_source": {"title": frozenset({"name", "path"}), "broken_quote": frozenset(), "used_by": frozenset(),
                     "new_passages": frozenset(), "all_found": frozenset({"total"}),
                     "broken_summary": frozenset({"broken", "total", "file"}), "new_summary": frozenset({"count"}),
                     "file_missing": frozenset({"path"}), "file_unreadable": frozenset({"path"}),
                     "not_text": frozenset({"path"}), "empty": frozenset({"path"}),
                     "load_problems": frozenset({"file"}), "load_summary": frozenset({"count", "file"})},
}


class KnowledgeError(Exception):
    """The knowledge base is broken; ``problems`` lists each defect as 'file: field: problem'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the knowledge base:\n" + "\n".join(f"- {p}" for p in problems)
        )


@dataclass(frozen=True)
class Quoted:
    """A piece of Danish text and the verbatim source passage that supports it."""

    text: str
    quote: str


@dataclass(frozen=True)
class OpeningHours:
    weekly: Mapping[int, tuple[tuple[time, time], ...]]  # weekday (0 = Monday) -> open intervals
    quote: str


@dataclass(frozen=True)
class Contact:
    id: str
    name: str
    purpose: str
    quote: str
    phone: str | None = None  # digits only
    hours: OpeningHours | None = None
    address: Quoted | None = None
    web: Quoted | None = None
    also_named: tuple[str, ...] = ()  # quotes where the source names the same unit for other services


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    kinds: tuple[str, ...]
    contact: str
    quote: str

    @property
    def short_name(self) -> str:
        """The name without its parenthesis (the law reference): for short lists in the chat."""
        return re.sub(r"\s*\([^)]*\)", "", self.name).strip() or self.name


@dataclass(frozen=True)
class Fact:
    topic: str
    services: tuple[str, ...]
    text: str
    quote: str
    contact: str | None = None
    asks: tuple[str, ...] = ()  # ways citizens ask for this fact (matching only; never shown)


@dataclass(frozen=True)
class NotStated:
    topic: str
    services: tuple[str, ...]
    ask: str
    text: str | None = None  # optional explanation, then backed by `quote`
    quote: str | None = None


@dataclass(frozen=True)
class EligibilityRule:
    situation: str
    service: str
    result: str  # applies | excluded | note
    text: str
    quote: str


@dataclass(frozen=True)
class Section:
    """A part of a municipality's source (normalised text, [start, end)) and the services it is about."""

    id: str
    services: tuple[str, ...]
    general: bool  # 'services: all': it backs every service
    start: int
    end: int


@dataclass(frozen=True)
class Municipality:
    id: str
    name: str
    short_name: str
    aliases: tuple[str, ...]
    source_file: str
    source_title: str
    default_contact: str | None  # the contact the source gives for every service; None where it gives none
    contacts: Mapping[str, Contact]
    services: Mapping[str, Service]
    facts: tuple[Fact, ...]
    not_stated: tuple[NotStated, ...]
    eligibility: tuple[EligibilityRule, ...]
    non_answers: tuple[Quoted, ...]  # source passages that answer no citizen question, with why
    ambiguous_aliases: tuple[str, ...] = ()  # spellings that are also everyday words ("koge")
    places: tuple[str, ...] = ()  # towns and areas in the municipality ("Tørring"): recognition only
    sections: tuple[Section, ...] = ()  # the parts of the source and their services, in source order

    def contact(self, contact_id: str | None) -> Contact:
        """A contact by id; without an id, the general contact (only where the source gives one)."""
        chosen = contact_id or self.default_contact
        if chosen is None:
            raise KeyError(f"{self.id}: the source names no contact for every service; use main_contacts()")
        return self.contacts[chosen]

    def main_contacts(self, service_ids: Iterable[str] | None = None) -> tuple[Contact, ...]:
        """Whom to contact when no one service is known: the contact the source gives for every
        service, else each service's own contact (never one service's contact for another's)."""
        if self.default_contact:
            return (self.contacts[self.default_contact],)
        sids = tuple(service_ids or ()) or tuple(self.services)
        return tuple(self.contacts[c] for c in dict.fromkeys(self.services[s].contact for s in sids))


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    missing: str
    intent: str | None = None
    asks: tuple[str, ...] = ()  # ways citizens ask about the topic (matching only; never shown)
    negated: bool = False  # asked with a negation ("hvem kan ikke få …"): a question without one is rarely about it


@dataclass(frozen=True)
class ServiceKind:
    id: str
    label: str
    law: str | None
    question: str
    keywords: tuple[str, ...]
    needs_hint: bool = False  # only in scope when the message or the conversation points to it
    question_en: str | None = None  # the deciding question in English


@dataclass(frozen=True)
class Situation:
    id: str
    label: str
    flag: str
    keywords: tuple[str, ...] = ()
    kind: str | None = None  # the service kind the situation points to, if any


@dataclass(frozen=True)
class Language:
    """How the guide reads a message (knowledge/language.yml), loosely folded (textnorm.loose)."""

    stop_words: frozenset[str] = frozenset()
    generic_words: frozenset[str] = frozenset()
    person_words: frozenset[str] = frozenset()
    question_words: frozenset[str] = frozenset()
    question_starts: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()
    lead_words: frozenset[str] = frozenset()
    joiners: frozenset[str] = frozenset()
    english_words: frozenset[str] = frozenset()
    danish_words: frozenset[str] = frozenset()
    topic_question_words: frozenset[str] = frozenset()
    emergency: tuple[re.Pattern[str], ...] = ()
    compare: tuple[re.Pattern[str], ...] = ()
    correction: tuple[re.Pattern[str], ...] = ()
    rejected: tuple[re.Pattern[str], ...] = ()
    followup: tuple[re.Pattern[str], ...] = ()
    on_behalf: tuple[re.Pattern[str], ...] = ()  # a question about someone else
    self_reference: tuple[re.Pattern[str], ...] = ()  # a question about oneself again
    off_topic: tuple[re.Pattern[str], ...] = ()  # subjects the guide never answers (weather, fines)
    asides: tuple[re.Pattern[str], ...] = ()  # a question about the guide beside the real one ("do you speak English?")
    acting_for: tuple[re.Pattern[str], ...] = ()  # the writer acting for the one who trains ("må jeg søge for hende")
    acting_for_words: frozenset[str] = frozenset()  # the words a fact about that uses ("pårørende")
    hours_words: frozenset[str] = frozenset()  # a question about opening or phone hours ("åbningstid")
    call_words: frozenset[str] = frozenset()  # a question about which number to call ("ringe", "tlf")
    negation_words: frozenset[str] = frozenset()  # "ikke", "not": a question asking what is not so
    modal_verbs: frozenset[str] = frozenset()  # "kan", "skal": open a question before a noun ("kan børnetræning …")
    clause_subjects: frozenset[str] = frozenset()  # "der", "dem": after a verb also in a plain clause ("og vente der")
    glossary: Mapping[str, str] = field(default_factory=dict)  # English word -> Danish words (matching only)
    rewrites: tuple[tuple[re.Pattern[str], str], ...] = ()  # phrase -> the word it stands for (matching only)


@dataclass(frozen=True)
class WordingRule:
    """keep: a quote saying one of ``when`` needs one of ``need`` in its text;
    added: a text saying one of ``when`` needs one of ``need`` in its quote."""

    name: str
    when: tuple[str, ...]
    need: tuple[str, ...]


@dataclass(frozen=True)
class Wording:
    """knowledge/wording.yml: how a citizen's text keeps its quote's meaning."""

    keep: tuple[WordingRule, ...] = ()
    added: tuple[WordingRule, ...] = ()
    excluding: tuple[str, ...] = ()


_WORD_CHARS = re.compile(r"[^\w]+")


def _plain(text: str) -> str:
    """Lower case, punctuation to spaces, padded: for matching the wording rules' words."""
    return " " + " ".join(_WORD_CHARS.sub(" ", normalise_source(text).lower()).split()) + " "


def says(text: str, phrases: Iterable[str]) -> bool:
    """Whether ``text`` says one of ``phrases`` (whole words; a phrase ending in "*" is a prefix)."""
    plain = _plain(text)
    for phrase in phrases:
        words = " ".join(_WORD_CHARS.sub(" ", phrase.lower()).split())
        if phrase.endswith("*") and f" {words}" in plain:
            return True
        if f" {words} " in plain:
            return True
    return False


def _load_wording(base: Path, problems: _Problems) -> Wording:
    file_name = "wording.yml"
    root = _read_yaml(base / file_name, problems)
    data = _mapping(root if root is not None else {}, file_name, problems)

    def words(value: Any, where: str) -> tuple[str, ...]:
        items = _list(value, where, problems)
        bad = [w for w in items if not isinstance(w, str) or not w.strip("* ")]
        if bad or not items:
            problems.add(where, f"must be a non-empty list of words, found {bad[:3] or items!r}")
        return tuple(str(w) for w in items if isinstance(w, str) and w.strip("* "))

    rules: dict[str, tuple[WordingRule, ...]] = {}
    for key, when, need in (("keep", "quote", "text"), ("added", "text", "unless")):
        found = []
        for i, raw in enumerate(_list(data.get(key), f"{file_name}: {key}", problems)):
            where = f"{file_name}: {key}[{i}]"
            raw = _mapping(raw, where, problems)
            name = _text(raw, "name", where, problems) or ""
            found.append(WordingRule(name, words(raw.get(when), f"{where}.{when}"),
                                     words(raw.get(need), f"{where}.{need}")))
        if not found:
            problems.add(f"{file_name}: {key}", "is missing or empty")
        rules[key] = tuple(found)
    excluding = words(data.get("excluding"), f"{file_name}: excluding")
    return Wording(rules["keep"], rules["added"], excluding)


@dataclass(frozen=True)
class OtherMunicipality:
    name: str
    aliases: tuple[str, ...]
    ambiguous: bool  # a common Danish word too ("Vejen"): only matched with "Kommune" or on its own


@dataclass(frozen=True)
class KnowledgeBase:
    topics: Mapping[str, Topic]
    service_kinds: Mapping[str, ServiceKind]
    situations: Mapping[str, Situation]
    texts: Mapping[str, Any]
    municipalities: Mapping[str, Municipality]
    others: tuple[OtherMunicipality, ...]
    sources: Mapping[str, str] = field(repr=False)  # file name -> normalised text
    language: Language = field(default_factory=Language, repr=False)
    wording: Wording = field(default_factory=Wording, repr=False)


# --------------------------------------------------------------------------------------------
# Reading helpers: each records a problem instead of raising, so one load reports everything.


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.items.append(f"{where}: {problem}")


def _read_yaml(path: Path, problems: _Problems) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_LOADER)
    except FileNotFoundError:
        problems.add(str(path), "file is missing")
    except UnicodeDecodeError as exc:
        problems.add(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        problems.add(str(path), f"not valid YAML at {where}: {getattr(exc, 'problem', exc)}")
    return None


def _mapping(value: Any, where: str, problems: _Problems) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    problems.add(where, f"must be a mapping (key: value), found {type(value).__name__}")
    return {}


def _list(value: Any, where: str, problems: _Problems) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    problems.add(where, f"must be a list, found {type(value).__name__}")
    return []


def _field(where: str, key: str) -> str:
    """'file: a.b' + key -> 'file: a.b.key'; 'file:' + key -> 'file: key'."""
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"


def _text(data: Mapping[str, Any], key: str, where: str, problems: _Problems, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            problems.add(_field(where, key), "is missing")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        problems.add(_field(where, key), "must be a non-empty text")
        return None
    return value.strip()


def _times_in(quote: str) -> set[tuple[int, int]]:
    """Clock times written in a quote: "kl. 08.00-12.00" -> {(8, 0), (12, 0)}."""
    return {(int(h), int(m)) for h, m in re.findall(r"(?<!\d)(\d{1,2})[.:](\d{2})(?!\d)", normalise_source(quote))}


def _days_in(quote: str, weekday_names: tuple[str, ...]) -> set[int]:
    """Weekdays a quote names, with ranges: "mandag-torsdag ... fredag" -> {0, 1, 2, 3, 4}."""
    text = normalise_source(quote).lower()
    pattern = "|".join(weekday_names)
    days: set[int] = set()
    for first, last in re.findall(rf"({pattern})\s*[-–]\s*({pattern})", text):
        days.update(range(weekday_names.index(first), weekday_names.index(last) + 1))
    days.update(weekday_names.index(name) for name in re.findall(pattern, text))
    return days


def _parse_interval(value: Any, where: str, problems: _Problems) -> tuple[time, time] | None:
    match = re.fullmatch(r"(\d{1,2})[:.](\d{2})-(\d{1,2})[:.](\d{2})", str(value).strip())
    if not match:
        problems.add(where, f"opening interval must look like 08:00-12:00, found {value!r}")
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        problems.add(where, f"not a valid time: {value!r}")
        return None
    if end <= start:
        problems.add(where, f"interval ends before it starts: {value!r}")
        return None
    return start, end


# --------------------------------------------------------------------------------------------
# Vocabulary files


def _root(base: Path, file_name: str, key: str, problems: _Problems) -> Any:
    """The value under ``key`` at the top of a vocabulary file (None, with a problem, if absent)."""
    root = _read_yaml(base / file_name, problems)
    return _mapping(root if root is not None else {}, file_name, problems).get(key)


def _vocabulary(base: Path, file_name: str, key: str, problems: _Problems) -> list[tuple[str, dict[str, Any], str]]:
    """(id, entry, where) for each entry of a vocabulary mapping such as topics.yml's ``topics``."""
    data = _mapping(_root(base, file_name, key, problems), f"{file_name}: {key}", problems)
    entries = []
    for entry_id, raw in data.items():
        where = f"{file_name}: {key}.{entry_id}"
        entries.append((str(entry_id), _mapping(raw, where, problems), where))
    return entries


def _load_topics(base: Path, problems: _Problems) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    for topic_id, raw, where in _vocabulary(base, "topics.yml", "topics", problems):
        label, missing = _text(raw, "label", where, problems), _text(raw, "missing", where, problems)
        intent = _text(raw, "intent", where, problems, required=False)
        asks = _phrasings(raw.get("asks"), f"{where}.asks", problems)
        negated = raw.get("negated", False)
        if not isinstance(negated, bool):
            problems.add(f"{where}.negated", "must be true or false")
            negated = False
        if label and missing:
            topics[topic_id] = Topic(topic_id, label, missing, intent, asks, negated)
    return topics


def _load_kinds(base: Path, problems: _Problems) -> dict[str, ServiceKind]:
    kinds: dict[str, ServiceKind] = {}
    for kind_id, raw, where in _vocabulary(base, "service_kinds.yml", "service_kinds", problems):
        label, question = _text(raw, "label", where, problems), _text(raw, "question", where, problems)
        keywords = tuple(str(k) for k in _list(raw.get("keywords"), f"{where}.keywords", problems))
        question_en = _text(raw, "question_en", where, problems, required=False)
        needs_hint = raw.get("needs_hint", False)
        if not isinstance(needs_hint, bool):
            problems.add(f"{where}.needs_hint", "must be true or false")
            needs_hint = False
        if label and question:
            kinds[kind_id] = ServiceKind(kind_id, label, raw.get("law"), question, keywords, needs_hint, question_en)
    return kinds


def _load_situations(base: Path, kinds: Mapping[str, ServiceKind], problems: _Problems) -> dict[str, Situation]:
    situations: dict[str, Situation] = {}
    for sid, raw, where in _vocabulary(base, "situations.yml", "situations", problems):
        label, flag = _text(raw, "label", where, problems), _text(raw, "flag", where, problems)
        keywords = tuple(str(k) for k in _list(raw.get("keywords"), f"{where}.keywords", problems))
        kind = _text(raw, "kind", where, problems, required=False)
        if kind and kind not in kinds:
            problems.add(f"{where}.kind", f"unknown service kind {kind!r} (known: {', '.join(kinds)})")
        if label and flag:
            situations[sid] = Situation(sid, label, flag, keywords, kind)
    return situations


def _phrasings(value: Any, where: str, problems: _Problems) -> tuple[str, ...]:
    """A list of citizen phrasings (``asks``): non-empty texts without a phone number."""
    items = []
    for i, item in enumerate(_list(value, where, problems)):
        if not isinstance(item, str) or not item.strip():
            problems.add(f"{where}[{i}]", "must be a non-empty text")
        elif phones_in(item):
            problems.add(f"{where}[{i}]", "a phrasing must not hold a phone number")
        elif not loose(item):
            problems.add(f"{where}[{i}]", f"has no words: {item!r}")
        else:
            items.append(item.strip())
    return tuple(items)


LANGUAGE_WORDS = ("stop_words", "generic_words", "person_words", "question_words", "question_starts", "subjects",
                  "lead_words", "joiners", "english_words", "danish_words", "topic_question_words", "acting_for_words",
                  "hours_words", "call_words", "negation_words", "modal_verbs", "clause_subjects")
LANGUAGE_PATTERNS = ("emergency", "compare", "correction", "rejected", "followup", "on_behalf", "self_reference",
                     "acting_for", "off_topic", "asides")


def _load_language(base: Path, problems: _Problems) -> Language:
    """knowledge/language.yml: word lists (loosely folded) and patterns (compiled, loosely folded)."""
    file_name = "language.yml"
    root = _read_yaml(base / file_name, problems)
    data = _mapping(root if root is not None else {}, file_name, problems)
    values: dict[str, Any] = {}
    for key in LANGUAGE_WORDS:
        words = _list(data.get(key), f"{file_name}: {key}", problems)
        if not words:
            problems.add(f"{file_name}: {key}", "is missing or empty")
        bad = [w for w in words if not isinstance(w, str) or not loose(w)]
        if bad:
            problems.add(f"{file_name}: {key}", f"must be words, found {bad[:3]!r}")
        values[key] = frozenset(loose(w) for w in words if isinstance(w, str) and loose(w))
    for key in LANGUAGE_PATTERNS:
        patterns = []
        raw_patterns = _list(data.get(key), f"{file_name}: {key}", problems)
        if not raw_patterns:
            problems.add(f"{file_name}: {key}", "is missing or empty")
        for i, pattern in enumerate(raw_patterns):
            if not isinstance(pattern, str) or not pattern.strip():
                problems.add(f"{file_name}: {key}[{i}]", "must be a non-empty text")
                continue
            try:
                patterns.append(re.compile(loose_letters(pattern), re.IGNORECASE))
            except re.error as exc:
                problems.add(f"{file_name}: {key}[{i}]", f"not a valid regular expression ({exc}): {pattern!r}")
        values[key] = tuple(patterns)
    glossary = _mapping(data.get("english_glossary") or {}, f"{file_name}: english_glossary", problems)
    values["glossary"] = {}
    for word, danish in glossary.items():
        if not isinstance(danish, str) or not loose(danish) or not loose(str(word)):
            problems.add(f"{file_name}: english_glossary.{word}", "must map an English word to Danish words")
        else:
            values["glossary"][loose(str(word))] = danish
    rewrites = _mapping(data.get("rewrites") or {}, f"{file_name}: rewrites", problems)
    pairs = []
    for phrase, word in sorted(rewrites.items(), key=lambda kv: -len(str(kv[0]))):
        if not loose(str(phrase)) or not isinstance(word, str):
            problems.add(f"{file_name}: rewrites.{phrase}", "must map a phrase to a word (or \"\")")
            continue
        pattern = WORD_EDGE_BEFORE + any_spelling(str(phrase)) + WORD_EDGE_AFTER
        pairs.append((re.compile(pattern, re.IGNORECASE), word))
    values["rewrites"] = tuple(pairs)
    for key in data:
        if key not in (*LANGUAGE_WORDS, *LANGUAGE_PATTERNS, "english_glossary", "rewrites"):
            known = ", ".join((*LANGUAGE_WORDS, *LANGUAGE_PATTERNS, "english_glossary", "rewrites"))
            problems.add(f"{file_name}: {key}", f"unknown key; use one of {known}")
    return Language(**values)


def _check_texts(texts: Mapping[str, Any], problems: _Problems) -> None:
    for section, keys in TEXT_SCHEMA.items():
        entries = _mapping(texts.get(section), f"texts.yml: {section}", problems)
        for key, allowed in keys.items():
            where = f"texts.yml: {section}.{key}"
            value = entries.get(key)
            if allowed is None:
                if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
                    problems.add(where, "must be a list of texts")
                elif section == "hours" and len(value) != 7:
                    problems.add(where, "must list the seven weekdays, Monday first")
            elif not isinstance(value, str):
                problems.add(where, "is missing" if value is None else "must be a text")
            else:
                try:
                    used = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
                except ValueError as exc:
                    problems.add(where, f"broken {{placeholder}}: {exc}")
                    continue
                unknown = used - allowed
                if unknown:
                    problems.add(where, f"unknown placeholder(s) {', '.join('{' + u + '}' for u in sorted(unknown))}; "
                                        f"allowed: {', '.join('{' + a + '}' for a in sorted(allowed)) or 'none'}")


def _load_others(base: Path, problems: _Problems) -> tuple[OtherMunicipality, ...]:
    file_name = "other_municipalities.yml"
    raw_list = _list(_root(base, file_name, "municipalities", problems), f"{file_name}: municipalities", problems)
    others = []
    for index, raw in enumerate(raw_list):
        where = f"{file_name}: municipalities[{index}]"
        if isinstance(raw, str):
            others.append(OtherMunicipality(raw, (), False))
            continue
        raw = _mapping(raw, where, problems)
        name = _text(raw, "name", where, problems)
        if name:
            aliases = tuple(str(a) for a in _list(raw.get("aliases"), f"{where}.aliases", problems))
            others.append(OtherMunicipality(name, aliases, bool(raw.get("ambiguous", False))))
    return tuple(others)


# --------------------------------------------------------------------------------------------
# Municipality files


class _MunicipalityReader:
    """Reads one municipality file, checking every quote against its source text."""

    def __init__(self, path: Path, kb_topics: Mapping[str, Topic], kinds: Mapping[str, ServiceKind],
                 situations: Mapping[str, Situation], sources: Mapping[str, str], problems: _Problems,
                 weekday_names: tuple[str, ...] = (), wording: Wording | None = None) -> None:
        self.path, self.topics, self.kinds, self.situations = path, kb_topics, kinds, situations
        self.wording = wording or Wording()
        self.sections: tuple[Section, ...] = ()
        self.backs: dict[str, bytearray] = {}  # service id (or GENERAL) -> 1 where a section of it lies
        self.weekday_names = weekday_names
        self.sources, self.problems = sources, problems
        self.file = f"municipalities/{path.name}"
        self.source_name = ""
        self.source_text = ""

    def where(self, field_path: str) -> str:
        return f"{self.file}: {field_path}"

    def quote(self, raw: Mapping[str, Any], field_path: str) -> str | None:
        quote = _text(raw, "quote", self.where(field_path), self.problems)
        if quote is None:
            return None
        normalised = normalise_source(quote)
        if len(normalised) < MIN_QUOTE_LENGTH:
            self.problems.add(self.where(f"{field_path}.quote"),
                              f"too short to prove anything (at least {MIN_QUOTE_LENGTH} characters): {quote!r}")
        elif self.source_text and normalised not in self.source_text:
            self.problems.add(self.where(f"{field_path}.quote"),
                              f"not found in {self.source_name}: {quote!r}")
        return quote

    def backed_text(self, raw: Mapping[str, Any], field_path: str) -> Quoted | None:
        text = _text(raw, "text", self.where(field_path), self.problems)
        quote = self.quote(raw, field_path)
        if text is None or quote is None:
            return None
        unbacked = numbers_in(text) - numbers_in(quote, words=True)
        if unbacked:
            self.problems.add(self.where(f"{field_path}.text"),
                              f"number(s) {', '.join(sorted(unbacked))} in the text are not in its quote")
        quoted_units = unit_counts(normalise_source(quote))
        for number, unit in sorted(unit_counts(text)):
            units = {u for n, u in quoted_units if n == number}
            if units and unit not in units:
                self.problems.add(self.where(f"{field_path}.text"),
                                  f"says '{number} {unit}' but the quote says '{number} {'/'.join(sorted(units))}' "
                                  "(working days, calendar days and days differ, and so do weeks and months)")
        return Quoted(text, quote)

    def read(self) -> Municipality | None:
        problems = self.problems
        data = _read_yaml(self.path, problems)
        if data is None:
            return None
        data = _mapping(data, self.file, problems)
        top = f"{self.file}:"
        mid = _text(data, "id", top, problems)
        if mid and mid != self.path.stem:
            problems.add(self.where("id"), f"must equal the file name {self.path.stem!r}, found {mid!r}")
        source = _mapping(data.get("source"), self.where("source"), problems)
        self.source_name = _text(source, "file", self.where("source"), problems) or ""
        if self.source_name:
            if self.source_name not in self.sources:
                problems.add(self.where("source.file"), f"no such source document: sources/{self.source_name}")
            else:
                self.source_text = self.sources[self.source_name]
        source_title = _text(source, "title", self.where("source"), problems)
        name = _text(data, "name", top, problems)
        short_name = _text(data, "short_name", top, problems)
        aliases = tuple(str(a) for a in _list(data.get("aliases"), self.where("aliases"), problems))
        ambiguous = tuple(str(a) for a in _list(data.get("ambiguous_aliases"), self.where("ambiguous_aliases"),
                                                problems))
        places = tuple(str(a) for a in _list(data.get("places"), self.where("places"), problems))

        contacts = self._contacts(data)
        default_contact = _text(data, "default_contact", top, problems)
        services = self._services(data, contacts)
        self.sections = self._sections(data, services)
        if default_contact == NO_CONTACT:
            default_contact = None  # the source names no contact for every service
        elif default_contact and default_contact not in contacts:
            problems.add(self.where("default_contact"), f"no contact with id {default_contact!r}")
        elif default_contact:
            self._contact_serves(contacts, default_contact, (GENERAL,), "default_contact")
        for i, service in enumerate(services.values()):
            self._placed(service.quote, (service.id,), f"services[{i}].quote")
            self._contact_serves(contacts, service.contact, (service.id,), f"services[{i}].contact")
        facts = self._facts(data, services, contacts)
        not_stated = self._not_stated(data, services, contacts, facts)
        eligibility = self._eligibility(data, services)
        non_answers = tuple(
            q for i, raw in enumerate(_list(data.get("non_answers"), self.where("non_answers"), problems))
            if (q := self.backed_text(_mapping(raw, self.where(f"non_answers[{i}]"), problems), f"non_answers[{i}]"))
        )
        self._check_phones(name or "", contacts, facts, not_stated, eligibility, non_answers)
        self._check_coverage(services, contacts, facts, not_stated, non_answers)
        if None in (mid, name, short_name, source_title) or "default_contact" not in data:
            return None
        return Municipality(
            id=mid, name=name, short_name=short_name, aliases=aliases, source_file=self.source_name,
            source_title=source_title, default_contact=default_contact, contacts=contacts, services=services,
            facts=facts, not_stated=not_stated, eligibility=eligibility, non_answers=non_answers,
            ambiguous_aliases=ambiguous, places=places, sections=self.sections,
        )

    # -- sections: which parts of the source are about which service ---------------------------

    def _spans(self, quote: str) -> list[tuple[int, int]]:
        needle = normalise_source(quote)
        text, spans, start = self.source_text, [], self.source_text.find(needle) if needle else -1
        while start != -1:
            spans.append((start, start + len(needle)))
            start = text.find(needle, start + 1)
        return spans

    def _sections(self, data: Mapping[str, Any], services: Mapping[str, Service]) -> tuple[Section, ...]:
        raws = _list(data.get("sections"), self.where("sections"), self.problems)
        if not raws:
            self.problems.add(self.where("sections"), "declare the parts of the source and the services each is "
                                                      "about (id, services, begins)")
            return ()
        text = self.source_text
        starts: list[tuple[int, str, tuple[str, ...], bool, str]] = []
        seen: set[str] = set()
        for i, raw in enumerate(raws):
            fp = f"sections[{i}]"
            raw = _mapping(raw, self.where(fp), self.problems)
            sid = _text(raw, "id", self.where(fp), self.problems)
            if sid in seen:
                self.problems.add(self.where(f"{fp}.id"), f"duplicate section id {sid!r}")
            seen.add(sid or "")
            general = raw.get("services") == "all"
            sids = self._service_ids(raw.get("services"), f"{fp}.services", services)
            begins = _text(raw, "begins", self.where(fp), self.problems)
            if not text or not begins or not sid:
                continue
            count = len(self._spans(begins))
            if count != 1:
                self.problems.add(self.where(f"{fp}.begins"), f"must occur exactly once in {self.source_name}, "
                                                              f"found {count} times: {begins!r}")
                continue
            starts.append((text.find(normalise_source(begins)), sid, sids, general, fp))
        for before, after in zip(starts, starts[1:], strict=False):
            if after[0] <= before[0]:
                self.problems.add(self.where(f"{after[4]}.begins"), "the sections must be listed in source order")
        starts.sort()
        if starts and text[: starts[0][0]].strip():
            self.problems.add(self.where(f"{starts[0][4]}.begins"),
                              f"the first section must begin where the source begins: {text[:40]!r}")
        sections = tuple(Section(sid, sids, general, start, starts[j + 1][0] if j + 1 < len(starts) else len(text))
                         for j, (start, sid, sids, general, _) in enumerate(starts))
        self.backs = {key: bytearray(len(text)) for key in (*services, GENERAL)}
        for sec in sections:
            for key in ((*services, GENERAL) if sec.general else sec.services):
                self.backs[key][sec.start : sec.end] = b"\x01" * (sec.end - sec.start)
        return sections

    def _lies_in(self, quote: str, key: str) -> bool:
        """Whether one occurrence of the quote lies wholly in sections of ``key`` (a service or GENERAL)."""
        backs = self.backs.get(key)
        return backs is None or any(0 not in backs[a:b] for a, b in self._spans(quote))

    def _section_names(self, quote: str) -> str:
        spans = self._spans(quote)
        names = [sec.id for sec in self.sections for a, b in spans[:1] if sec.start < b and a < sec.end]
        return ", ".join(names) or "no section"

    @staticmethod
    def _label(key: str) -> str:
        return "every service (a general section)" if key == GENERAL else repr(key)

    def _placed(self, quote: str | None, keys: Iterable[str], fp: str) -> None:
        """A quote must lie in a section of every service it is attached to."""
        if not self.sections or not quote or not self._spans(quote):
            return  # no sections (reported) or a quote not in the source (reported)
        for key in keys:
            if not self._lies_in(quote, key):
                self.problems.add(self.where(fp), f"the quote lies in no section of service {self._label(key)} "
                                                  f"(it is in section {self._section_names(quote)})")

    def _contact_serves(self, contacts: Mapping[str, Contact], cid: str | None, keys: Iterable[str], fp: str) -> None:
        """A contact named for a service must be one the source gives for that service (or for all)."""
        contact = contacts.get(cid or "")
        if not self.sections or contact is None or not self._spans(contact.quote):
            return
        for key in keys:
            if not any(self._lies_in(q, key) for q in (contact.quote, *contact.also_named)):
                where = self._section_names(contact.quote)
                self.problems.add(self.where(fp), f"contact {cid!r} is given in section {where}"
                                                  f", not for service {self._label(key)}; name the contact the source "
                                                  f"gives for it" + (", or 'none'" if key == GENERAL else ""))

    def _check_coverage(self, services: Mapping[str, Service], contacts: Mapping[str, Contact],
                        facts: Iterable[Fact], not_stated: Iterable[NotStated], non_answers: Iterable[Quoted]) -> None:
        """Every passage of a section is said, for each service of the section, by a fact or a not_stated
        entry of that service, or placed for all (a contact, a non-answer)."""
        if not self.sections:
            return
        n = len(self.source_text)
        said = {sid: bytearray(n) for sid in services}
        everyone = bytearray(n)

        def mark(marks: bytearray, quote: str | None) -> None:
            for a, b in self._spans(quote or ""):
                marks[a:b] = b"\x01" * (b - a)

        for item in (*facts, *not_stated):
            for sid in item.services:
                if sid in said:  # an unknown service id is reported where it is named
                    mark(said[sid], item.quote)
        for contact in contacts.values():
            for quote in (contact.quote, *contact.also_named,
                          *(p.quote for p in (contact.hours, contact.address, contact.web) if p)):
                mark(everyone, quote)
        for item in non_answers:
            mark(everyone, item.quote)
        for sec in self.sections:
            for sid in (services if sec.general else sec.services):
                if sid not in said:
                    continue
                marks = bytes(a | b for a, b in zip(said[sid][sec.start : sec.end], everyone[sec.start : sec.end],
                                                     strict=True))
                for gap in re.finditer(rb"\x00+", marks):
                    passage = self.source_text[sec.start + gap.start() : sec.start + gap.end()].strip()
                    if sum(ch.isalnum() for ch in passage) >= MIN_UNCOVERED_LETTERS:
                        self.problems.add(self.where(f"sections ({sec.id})"),
                                          f"no fact or not_stated entry of service {sid!r} says: {passage[:120]!r}")

    def _wording(self, text: str | None, quote: str | None, fp: str) -> None:
        """The text keeps its quote's hedges and rights, and adds no duty, promise or absolute."""
        if not text or not quote:
            return
        for rule in self.wording.keep:
            if says(quote, rule.when) and not says(text, rule.need):
                self.problems.add(self.where(f"{fp}.text"), f"drops the quote's {rule.name!r}: keep it "
                                                            f"(or one of: {', '.join(rule.need)})")
        for rule in self.wording.added:
            if says(text, rule.when) and not says(quote, rule.need):
                self.problems.add(self.where(f"{fp}.text"), f"says {rule.name!r}, which its quote does not: a duty, "
                                                            "promise or absolute the source does not state")

    def _contacts(self, data: Mapping[str, Any]) -> dict[str, Contact]:
        contacts: dict[str, Contact] = {}
        for i, raw in enumerate(_list(data.get("contacts"), self.where("contacts"), self.problems)):
            fp = f"contacts[{i}]"
            raw = _mapping(raw, self.where(fp), self.problems)
            cid = _text(raw, "id", self.where(fp), self.problems)
            name = _text(raw, "name", self.where(fp), self.problems)
            purpose = _text(raw, "purpose", self.where(fp), self.problems)
            quote = self.quote(raw, fp)
            phone = _text(raw, "phone", self.where(fp), self.problems, required=False)
            if phone is not None:
                digits = phone_digits(phone)
                if len(digits) != 8:
                    self.problems.add(self.where(f"{fp}.phone"), f"a Danish phone number has 8 digits, found {phone!r}")
                elif quote and digits not in phone_digits(normalise_source(quote)):
                    self.problems.add(self.where(f"{fp}.phone"), f"{phone!r} does not appear in the contact's quote")
                phone = digits
            hours = self._hours(raw.get("hours"), f"{fp}.hours") if raw.get("hours") is not None else None
            if hours is not None and phone is None:
                self.problems.add(self.where(f"{fp}.hours"), "hours are the times the contact can be phoned: "
                                                             "a contact without a phone has none")
            address = self._optional_quoted(raw, "address", fp)
            web = self._optional_quoted(raw, "web", fp)
            also = tuple(q for j, item in enumerate(_list(raw.get("also_named"), self.where(f"{fp}.also_named"),
                                                          self.problems))
                         if (q := self.quote({"quote": item}, f"{fp}.also_named[{j}]")))
            if cid in contacts:
                self.problems.add(self.where(f"{fp}.id"), f"duplicate contact id {cid!r}")
            if cid and name and purpose and quote:
                contacts[cid] = Contact(cid, name, purpose, quote, phone, hours, address, web, also)
        if not contacts:
            self.problems.add(self.where("contacts"), "at least one contact is needed (whom to ask)")
        return contacts

    def _optional_quoted(self, raw: Mapping[str, Any], key: str, fp: str) -> Quoted | None:
        if raw.get(key) is None:
            return None
        return self.backed_text(_mapping(raw[key], self.where(f"{fp}.{key}"), self.problems), f"{fp}.{key}")

    def _hours(self, raw: Any, fp: str) -> OpeningHours | None:
        raw = _mapping(raw, self.where(fp), self.problems)
        quote = self.quote(raw, fp)
        weekly: dict[int, tuple[tuple[time, time], ...]] = {}
        for key in raw:
            if key != "quote" and key not in WEEKDAYS:
                self.problems.add(self.where(f"{fp}.{key}"), f"unknown weekday; use one of {', '.join(WEEKDAYS)}")
        for day_index, day in enumerate(WEEKDAYS):
            intervals = []
            for j, value in enumerate(_list(raw.get(day), self.where(f"{fp}.{day}"), self.problems)):
                interval = _parse_interval(value, self.where(f"{fp}.{day}[{j}]"), self.problems)
                if interval:
                    intervals.append(interval)
                    if quote:
                        times = _times_in(quote)
                        for t in interval:
                            if (t.hour, t.minute) not in times:
                                self.problems.add(self.where(f"{fp}.{day}[{j}]"),
                                                  f"{t.strftime('%H.%M')} is not in the hours quote")
            if intervals:
                weekly[day_index] = tuple(sorted(intervals))
        if not weekly:
            self.problems.add(self.where(fp), "no opening intervals; leave 'hours' out if the source states none")
        if quote and weekly and self.weekday_names:
            named = _days_in(quote, self.weekday_names)
            if named and named != set(weekly):
                listed = ", ".join(WEEKDAYS[d] for d in sorted(weekly))
                said = ", ".join(WEEKDAYS[d] for d in sorted(named))
                self.problems.add(self.where(fp), f"hours are given for {listed}, but the quote names {said}")
        return OpeningHours(weekly, quote) if quote and weekly else None

    def _service_ids(self, raw: Any, fp: str, services: Mapping[str, Service]) -> tuple[str, ...]:
        if raw == "all":
            return tuple(services)
        ids = tuple(str(s) for s in _list(raw, self.where(fp), self.problems))
        if not ids:
            self.problems.add(self.where(fp), "name at least one service id, or 'all'")
        for sid in ids:
            if sid not in services:
                self.problems.add(self.where(fp), f"no service with id {sid!r} (known: {', '.join(services)})")
        return ids

    def _services(self, data: Mapping[str, Any], contacts: Mapping[str, Contact]) -> dict[str, Service]:
        services: dict[str, Service] = {}
        for i, raw in enumerate(_list(data.get("services"), self.where("services"), self.problems)):
            fp = f"services[{i}]"
            raw = _mapping(raw, self.where(fp), self.problems)
            sid = _text(raw, "id", self.where(fp), self.problems)
            name = _text(raw, "name", self.where(fp), self.problems)
            contact = _text(raw, "contact", self.where(fp), self.problems)
            if contact and contact not in contacts:
                self.problems.add(self.where(f"{fp}.contact"), f"no contact with id {contact!r}")
            kinds = tuple(str(k) for k in _list(raw.get("kinds"), self.where(f"{fp}.kinds"), self.problems))
            for kind in kinds:
                if kind not in self.kinds:
                    self.problems.add(self.where(f"{fp}.kinds"),
                                      f"unknown kind {kind!r} (known: {', '.join(self.kinds)})")
            if not kinds:
                self.problems.add(self.where(f"{fp}.kinds"), "name at least one kind")
            quote = self.quote(raw, fp)
            if sid in services:
                self.problems.add(self.where(f"{fp}.id"), f"duplicate service id {sid!r}")
            if sid and name and contact and quote and kinds:
                services[sid] = Service(sid, name, kinds, contact, quote)
        if not services:
            self.problems.add(self.where("services"), "at least one service is needed")
        return services

    def _topic(self, raw: Mapping[str, Any], fp: str) -> str | None:
        topic = _text(raw, "topic", self.where(fp), self.problems)
        if topic and topic not in self.topics:
            self.problems.add(self.where(f"{fp}.topic"), f"unknown topic {topic!r} (known: {', '.join(self.topics)})")
            return None
        if topic in DERIVED_TOPICS:
            self.problems.add(self.where(f"{fp}.topic"), f"{topic!r} is answered from 'contacts'; put it there")
            return None
        return topic

    def _contact_ref(self, raw: Mapping[str, Any], key: str, fp: str, contacts: Mapping[str, Contact],
                     required: bool) -> str | None:
        ref = _text(raw, key, self.where(fp), self.problems, required=required)
        if ref and ref not in contacts:
            self.problems.add(self.where(f"{fp}.{key}"), f"no contact with id {ref!r}")
        return ref

    def _facts(self, data: Mapping[str, Any], services: Mapping[str, Service],
               contacts: Mapping[str, Contact]) -> tuple[Fact, ...]:
        facts = []
        for i, raw in enumerate(_list(data.get("facts"), self.where("facts"), self.problems)):
            fp = f"facts[{i}]"
            raw = _mapping(raw, self.where(fp), self.problems)
            topic = self._topic(raw, fp)
            sids = self._service_ids(raw.get("services"), f"{fp}.services", services)
            backed = self.backed_text(raw, fp)
            contact = self._contact_ref(raw, "contact", fp, contacts, required=False)
            asks = _phrasings(raw.get("asks"), self.where(f"{fp}.asks"), self.problems)
            if sids and backed:
                self._placed(backed.quote, sids, f"{fp}.quote")
                self._wording(backed.text, backed.quote, fp)
                self._contact_serves(contacts, contact, sids, f"{fp}.contact")
            if topic and sids and backed:
                facts.append(Fact(topic, sids, backed.text, backed.quote, contact, asks))
        return tuple(facts)

    def _not_stated(self, data: Mapping[str, Any], services: Mapping[str, Service],
                    contacts: Mapping[str, Contact], facts: Iterable[Fact]) -> tuple[NotStated, ...]:
        stated = {(sid, f.topic) for f in facts for sid in f.services}
        entries = []
        for i, raw in enumerate(_list(data.get("not_stated"), self.where("not_stated"), self.problems)):
            fp = f"not_stated[{i}]"
            raw = _mapping(raw, self.where(fp), self.problems)
            topic = self._topic(raw, fp)
            ask = self._contact_ref(raw, "ask", fp, contacts, required=True)
            text = _text(raw, "text", self.where(fp), self.problems, required=False)
            if raw.get("services") == "all":
                # 'all' means every service that has no fact on this topic
                sids = tuple(s for s in services if (s, topic) not in stated)
            else:
                sids = self._service_ids(raw.get("services"), f"{fp}.services", services)
                for sid in sids:
                    if (sid, topic) in stated:
                        self.problems.add(self.where(fp), f"topic {topic!r} is marked not stated for {sid!r}, "
                                                          "but a fact states it")
            quote = None
            if text is not None:
                # an explanation is a statement too: it needs its source passage
                backed = self.backed_text(raw, fp)
                quote = backed.quote if backed else None
            elif "quote" in raw:
                self.problems.add(self.where(f"{fp}.quote"), "a quote without a 'text' it supports")
            self._contact_serves(contacts, ask, sids, f"{fp}.ask")
            if quote:
                self._placed(quote, sids, f"{fp}.quote")
                self._wording(text, quote, fp)
            if topic and ask and sids and (text is None or quote):
                entries.append(NotStated(topic, sids, ask, text, quote))
        covered = stated | {(sid, n.topic) for n in entries for sid in n.services}
        for sid in services:
            for topic in self.topics:
                if topic not in DERIVED_TOPICS and (sid, topic) not in covered:
                    self.problems.add(self.where("facts"), f"service {sid!r} has neither a fact nor a "
                                                           f"not_stated entry for topic {topic!r}")
        return tuple(entries)

    def _eligibility(self, data: Mapping[str, Any], services: Mapping[str, Service]) -> tuple[EligibilityRule, ...]:
        rules = []
        for i, raw in enumerate(_list(data.get("eligibility"), self.where("eligibility"), self.problems)):
            fp = f"eligibility[{i}]"
            raw = _mapping(raw, self.where(fp), self.problems)
            situation = _text(raw, "situation", self.where(fp), self.problems)
            if situation and situation not in self.situations:
                self.problems.add(self.where(f"{fp}.situation"),
                                  f"unknown situation {situation!r} (known: {', '.join(self.situations)})")
            service = _text(raw, "service", self.where(fp), self.problems)
            if service and service not in services:
                self.problems.add(self.where(f"{fp}.service"), f"no service with id {service!r}")
            result = _text(raw, "result", self.where(fp), self.problems)
            if result and result not in ELIGIBILITY_RESULTS:
                self.problems.add(self.where(f"{fp}.result"),
                                  f"must be one of {', '.join(sorted(ELIGIBILITY_RESULTS))}")
            backed = self.backed_text(raw, fp)
            if backed and service:
                self._placed(backed.quote, (service,), f"{fp}.quote")
                self._wording(backed.text, backed.quote, fp)
                if result == "excluded" and not says(backed.quote, self.wording.excluding):
                    self.problems.add(self.where(f"{fp}.result"), "'excluded' needs a quote that excludes (one of: "
                                      f"{', '.join(self.wording.excluding)}); where the source says nothing about "
                                      "the situation, leave the rule out")
            if situation and service and result and backed:
                rules.append(EligibilityRule(situation, service, result, backed.text, backed.quote))
        return tuple(rules)

    def _check_phones(self, name: str, contacts: Mapping[str, Contact], facts: Iterable[Fact],
                      not_stated: Iterable[NotStated], eligibility: Iterable[EligibilityRule],
                      non_answers: Iterable[Quoted]) -> None:
        """No text a citizen reads may carry a phone number that is not one of this municipality's."""
        own = {c.phone for c in contacts.values() if c.phone}
        texts = [(f"facts (topic {f.topic})", f.text) for f in facts]
        texts += [(f"not_stated (topic {n.topic})", n.text) for n in not_stated if n.text]
        texts += [(f"eligibility ({r.situation})", r.text) for r in eligibility]
        texts += [("non_answers", q.text) for q in non_answers]
        for c in contacts.values():
            texts += [(f"contacts ({c.id}).name", c.name), (f"contacts ({c.id}).purpose", c.purpose)]
            texts += [(f"contacts ({c.id}).{key}", part.text) for key, part in (("address", c.address),
                                                                                 ("web", c.web)) if part]
            unbacked = numbers_in(f"{c.name} {c.purpose}") - numbers_in(c.quote, words=True)
            if unbacked:
                self.problems.add(self.where(f"contacts ({c.id})"),
                                  f"number(s) {', '.join(sorted(unbacked))} in name or purpose are not in its quote")
        for where, text in texts:
            foreign = phones_in(text) - own
            if foreign:
                self.problems.add(self.where(where), f"phone number(s) {', '.join(sorted(foreign))} are not "
                                                     f"among {name}'s contacts")


# --------------------------------------------------------------------------------------------


def load_sources(base: Path, problems: _Problems | None = None) -> dict[str, str]:
    """Every source document under knowledge/sources, normalised for quote matching."""
    sources = {}
    for path in sorted((base / "sources").glob("*.txt")):
        try:
            sources[path.name] = normalise_source(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError as exc:
            if problems is None:
                raise
            problems.add(f"sources/{path.name}", f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8")
    return sources


def load_knowledge(base: Path | str = KNOWLEDGE_DIR) -> KnowledgeBase:
    """Load and validate the whole knowledge base; raise KnowledgeError listing every problem."""
    base = Path(base)
    problems = _Problems()
    if not base.is_dir():
        raise KnowledgeError([f"{base}: the knowledge folder does not exist"])
    sources = load_sources(base, problems)
    topics = _load_topics(base, problems)
    kinds = _load_kinds(base, problems)
    situations = _load_situations(base, kinds, problems)
    language = _load_language(base, problems)
    for name, text in sources.items():  # an off-topic subject a source speaks of would block its answers
        folded = loose(text)
        for pattern in language.off_topic:
            hit = pattern.search(folded)
            if hit:
                problems.add(f"language.yml: off_topic {pattern.pattern!r}",
                             f"matches {hit.group(0)!r} in sources/{name}: a source's subject is not off topic")
    wording = _load_wording(base, problems)
    texts_root = _read_yaml(base / "texts.yml", problems)
    texts = _mapping(texts_root if texts_root is not None else {}, "texts.yml", problems)
    _check_texts(texts, problems)
    hours_texts = texts.get("hours") if isinstance(texts.get("hours"), dict) else {}
    weekday_names = tuple(str(d).lower() for d in hours_texts.get("weekdays") or ())
    others = _load_others(base, problems)
    municipalities: dict[str, Municipality] = {}
    files = sorted((base / "municipalities").glob("*.yml"))
    if not files:
        problems.add(str(base / "municipalities"), "no municipality files (*.yml)")
    for path in files:
        municipality = _MunicipalityReader(path, topics, kinds, situations, sources, problems, weekday_names,
                                           wording).read()
        if municipality:
            municipalities[municipality.id] = municipality
    if problems.items:
        raise KnowledgeError(problems.items)
    return KnowledgeBase(topics, kinds, situations, texts, municipalities, others, sources, language, wording)


def knowledge(base: str | None = None) -> KnowledgeBase:
    """The validated knowledge base, loaded once per process.

    The folder is ``base``, else $TRAENINGSGUIDE_KNOWLEDGE, else the project's knowledge/.
    """
    return _cached_knowledge(base or os.environ.get("TRAENINGSGUIDE_KNOWLEDGE") or str(KNOWLEDGE_DIR))


@lru_cache(maxsize=4)
def _cached_knowledge(base: str) -> KnowledgeBase:
    return load_knowledge(base)


_Built = TypeVar("_Built")


def per_knowledge_base(build: Callable[[KnowledgeBase], _Built]) -> Callable[[KnowledgeBase], _Built]:
    """``build`` run once per knowledge base and its result kept for the process.

    Keyed by the object itself (a knowledge base is immutable once loaded); a knowledge base that was
    garbage-collected and whose id was reused is rebuilt, not served another's value.
    """
    built: dict[int, tuple[KnowledgeBase, _Built]] = {}

    def cached(kb: KnowledgeBase) -> _Built:
        hit = built.get(id(kb))
        if hit is not None and hit[0] is kb:
            return hit[1]
        value = build(kb)
        built[id(kb)] = (kb, value)
        return value

    cached.__name__ = build.__name__
    cached.__doc__ = build.__doc__
    return cached
