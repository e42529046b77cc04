"""One turn of the conversation: what to answer, given the state, the intent, entities and text.

Pure Python with no Rasa imports: the Rasa action turns the tracker into a :class:`State`, calls
:func:`respond` and sends the messages; the same function is unit-tested directly. All Danish text
comes from the knowledge base (facts and knowledge/texts.yml).

Behaviour:
- a question naming a municipality is answered at once; without one, the guide asks which and
  answers the pending question when the municipality arrives;
- the municipality, the service kind and the topic are remembered, so "og i Rødovre?" repeats the
  last topic for Rødovre, and a new topic needs no municipality;
- a municipality the guide does not cover gets an honest "not covered" and nothing else;
- where services differ, the answer gives each briefly and asks the deciding question; "ja"/"nej"
  to it narrows the answer to the right service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from traeningsguide import answers, eligibility, names
from traeningsguide.knowledge import KnowledgeBase, Municipality, knowledge

SITUATION = "situation"  # pseudo-topic: the citizen described a situation (eligibility check)
TOPIC_INTENT_PREFIX = "ask_"


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Message:
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class State:
    """What the conversation remembers (Rasa slots of the same names)."""

    kommune: str | None = None  # id of a covered municipality
    service: str | None = None  # a service kind id
    topic: str | None = None  # the last or pending topic, or SITUATION
    pending: bool = False  # waiting for the municipality to answer ``topic``
    decide_kind: str | None = None  # the kind the last deciding question asked about
    situations: tuple[str, ...] = ()

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> State:
        """A state from slot values as Rasa stores them (lists for tuples, None for unset)."""
        return cls(
            kommune=slots.get("kommune") or None,
            service=slots.get("service") or None,
            topic=slots.get("topic") or None,
            pending=bool(slots.get("pending")),
            decide_kind=slots.get("decide_kind") or None,
            situations=tuple(slots.get("situations") or ()),
        )

    def as_slots(self) -> dict[str, Any]:
        values = asdict(self)
        values["situations"] = list(self.situations)
        return values


@dataclass(frozen=True)
class Turn:
    messages: tuple[Message, ...]
    state: State


def topics_for_intent(intent: str, kb: KnowledgeBase) -> tuple[str, ...]:
    """The topics an intent asks about (ask_eligibility -> eligibility and exclusions)."""
    return tuple(t.id for t in kb.topics.values() if t.intent == intent)


def kommune_buttons(kb: KnowledgeBase) -> tuple[Button, ...]:
    return tuple(
        Button(m.short_name, f'/inform_kommune{{"kommune":"{m.id}"}}')
        for m in sorted(kb.municipalities.values(), key=lambda m: m.short_name)
    )


def topic_buttons(kb: KnowledgeBase) -> tuple[Button, ...]:
    return tuple(
        Button(kb.topics[t].label, f"/{kb.topics[t].intent}") for t in kb.texts["dialogue"]["main_topics"]
    )


AMBIGUOUS = names.MunicipalityMatch("covered", "", None)  # several covered municipalities named


def _mentioned_municipality(values: Iterable[str], text: str, kb: KnowledgeBase) -> names.MunicipalityMatch | None:
    """The municipality a message is about: from the NLU's kommune entities, else from the text.

    One covered municipality wins over uncovered ones ("jeg bor i Aarhus, men min mor bor i Køge");
    two covered ones are ambiguous (AMBIGUOUS: ask which); only uncovered ones: the first of them.
    """
    matches: list[names.MunicipalityMatch] = []
    for value in values:
        if value in kb.municipalities:
            m = kb.municipalities[value]
            matches.append(names.MunicipalityMatch("covered", m.short_name, m.id, value))
        else:
            matches.extend(names.find_municipalities(value, kb))
    if not matches:
        matches = names.find_municipalities(text, kb)
    covered = {m.id: m for m in matches if m.covered}
    if len(covered) > 1:
        return AMBIGUOUS
    if covered:
        return next(iter(covered.values()))
    return matches[0] if matches else None


def _mentioned_kind(values: Iterable[str], text: str, kb: KnowledgeBase) -> str | None:
    for value in values:
        if value in kb.service_kinds:
            return value
        kinds = names.find_service_kinds(value, kb)
        if kinds:
            return kinds[0]
    kinds = names.find_service_kinds(text, kb)
    return kinds[0] if kinds else None


def _ask_kommune(state: State, kb: KnowledgeBase) -> Turn:
    return Turn((Message(kb.texts["dialogue"]["ask_kommune"], kommune_buttons(kb)),), replace(state, pending=True))


def _contact_hint(municipality: Municipality | None, kb: KnowledgeBase) -> tuple[Message, ...]:
    if municipality is None:
        return ()
    step = answers.next_step(municipality, municipality.contact(None), kb).text
    return (Message(kb.texts["dialogue"]["contact_hint"].format(step=step)),)


def _topic_reply(state: State, kb: KnowledgeBase, exclude_kind: str | None) -> tuple[str, str | None]:
    """The answer text for the state's topic (all topics its intent covers) and the deciding kind."""
    assert state.kommune and state.topic
    intent = kb.topics[state.topic].intent
    topics = topics_for_intent(intent, kb) if intent else (state.topic,)
    results = [answers.answer(state.kommune, t, state.service, kb, exclude_kind=exclude_kind) for t in topics]
    stated = [r for r in results if r.stated] or results[:1]
    first = stated[0]
    body = "\n\n".join(r.text for r in stated)
    return "\n\n".join((body, first.source, first.next_step.text)), first.deciding_kind


def respond(state: State, intent: str, entities: Mapping[str, Iterable[str]], text: str,
            kb: KnowledgeBase | None = None) -> Turn:
    """The bot's messages and the new state for one user turn."""
    kb = kb or knowledge()
    d = kb.texts["dialogue"]
    text = text[:names.MAX_TEXT]
    mention = _mentioned_municipality(entities.get("kommune", ()), text, kb)
    ambiguous = mention is AMBIGUOUS
    if ambiguous:
        mention = None
    if mention is not None and not mention.covered:
        return Turn((Message(kb.texts["resolve"]["not_covered"].format(name=mention.name)),), state)
    if mention is not None:
        state = replace(state, kommune=mention.id)
    kind = _mentioned_kind(entities.get("service", ()), text, kb)
    if kind:
        state = replace(state, service=kind)
    municipality = kb.municipalities.get(state.kommune) if state.kommune else None
    exclude_kind = None

    if intent.startswith(TOPIC_INTENT_PREFIX) and topics_for_intent(intent, kb):
        state = replace(state, topic=topics_for_intent(intent, kb)[0], situations=(), decide_kind=None)
    elif intent == "describe_situation":
        situations = tuple(names.find_situations(text, kb)) or state.situations
        if not situations:
            return Turn((Message(d["situation_needs_more"]),), state)
        state = replace(state, topic=SITUATION, situations=situations, decide_kind=None)
    elif intent in ("affirm", "deny") and state.decide_kind and state.topic:
        if intent == "affirm":
            state = replace(state, service=state.decide_kind)
        else:
            exclude_kind, state = state.decide_kind, replace(state, service=None)
        state = replace(state, decide_kind=None)
    elif intent == "inform_kommune" and state.topic:
        pass  # answer the pending or the last topic for this municipality
    elif intent == "nlu_fallback":
        return Turn((Message(d["rephrase"], topic_buttons(kb)), *_contact_hint(municipality, kb)), state)
    elif intent == "out_of_scope":
        return Turn((Message(d["out_of_scope"], topic_buttons(kb)),), state)
    else:  # a municipality on its own, or yes/no with nothing to decide
        if municipality is None:
            return _ask_kommune(state, kb)
        return Turn((Message(d["which_topic"].format(name=municipality.short_name), topic_buttons(kb)),), state)

    if municipality is None or ambiguous:
        return _ask_kommune(state, kb)
    if state.topic == SITUATION:
        result = eligibility.eligibility(municipality.id, state.situations, kb)
        return Turn((Message(result.render()),), replace(state, pending=False))
    text_out, deciding_kind = _topic_reply(state, kb, exclude_kind)
    return Turn((Message(text_out),), replace(state, pending=False, decide_kind=deciding_kind))


def error_turn(state: State, kb: KnowledgeBase | None = None) -> Turn:
    """What to say when something failed: an apology and, if known, the municipality's contact."""
    kb = kb or knowledge()
    municipality = kb.municipalities.get(state.kommune) if state.kommune else None
    return Turn((Message(kb.texts["dialogue"]["error"]), *_contact_hint(municipality, kb)), state)
