"""Answers from the knowledge base: a topic for a municipality (and a service), with sources.

Pure functions over the validated knowledge base. Every sentence comes from a municipality file
(facts) or from knowledge/texts.yml (the frame around them); nothing is composed from elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from traeningsguide import hours as hours_mod
from traeningsguide import names
from traeningsguide.knowledge import Contact, Fact, KnowledgeBase, Municipality, NotStated, knowledge
from traeningsguide.textnorm import format_phone

# When services differ, the deciding question is taken from the first kind in this order
# that separates them.
DECIDING_ORDER = ("rehab_after_hospital", "children", "work_rehab", "maintenance", "rehab")


class GuideInputError(ValueError):
    """Input the guide cannot answer for; ``message`` is Danish and safe to show a citizen."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class NextStep:
    contact: Contact
    text: str


@dataclass(frozen=True)
class ServicePart:
    """What the source says on a topic for one or more services that share the same facts."""

    service_ids: tuple[str, ...]
    service_names: tuple[str, ...]
    facts: tuple[Fact, ...]
    not_stated: NotStated | None
    text: str

    @property
    def stated(self) -> bool:
        return bool(self.facts)


@dataclass(frozen=True)
class Answer:
    municipality_id: str
    municipality_name: str
    topic: str
    service_ids: tuple[str, ...]  # the services the answer covers
    parts: tuple[ServicePart, ...]
    deciding_question: str | None
    text: str  # the answer itself, Danish
    source: str  # "Kilde: …"
    next_step: NextStep
    deciding_kind: str | None = None  # the service kind the deciding question asks about

    @property
    def stated(self) -> bool:
        """True when the source states something on the topic for at least one service."""
        return any(part.stated for part in self.parts)

    @property
    def facts(self) -> tuple[Fact, ...]:
        return tuple(fact for part in self.parts for fact in part.facts)

    @property
    def quotes(self) -> tuple[str, ...]:
        return tuple(fact.quote for fact in self.facts) + tuple(
            part.not_stated.quote for part in self.parts if part.not_stated and part.not_stated.quote
        )

    def render(self) -> str:
        """The whole reply a citizen reads: answer, source, next step."""
        return "\n\n".join(p for p in (self.text, self.source, self.next_step.text) if p)


# --------------------------------------------------------------------------------------------


def resolve_municipality(value: str, kb: KnowledgeBase | None = None) -> Municipality:
    """A covered municipality, or a GuideInputError with the Danish reply for the citizen."""
    kb = kb or knowledge()
    if value in kb.municipalities:
        return kb.municipalities[value]
    match = names.find_municipality(value, kb)
    texts = kb.texts["resolve"]
    if match and match.covered and match.id:
        return kb.municipalities[match.id]
    if match:
        raise GuideInputError(texts["not_covered"].format(name=match.name))
    raise GuideInputError(texts["unknown_municipality"].format(text=value[:80]))


def resolve_topic(value: str, kb: KnowledgeBase | None = None) -> str:
    kb = kb or knowledge()
    topic = names.topic_id(value, kb)
    if topic is None:
        raise GuideInputError(kb.texts["resolve"]["unknown_topic"].format(text=value))
    return topic


def _end(text: str, kb: KnowledgeBase) -> str:
    end = kb.texts["next_step"]["end"]
    return text if text.endswith(end) else text + end


def next_step(municipality: Municipality, contact: Contact, kb: KnowledgeBase | None = None,
              with_hours: bool = True, long_days: bool = False) -> NextStep:
    """The concrete next step: whom to contact, phone and (``with_hours``) hours where the source
    states them (``long_days``: weekdays written out)."""
    kb = kb or knowledge()
    t = kb.texts["next_step"]
    hours_text = hours_mod.describe(contact.hours, kb.texts, long=long_days) if with_hours else ""
    if contact.phone and hours_text:
        line = t["call_hours"].format(name=contact.name, phone=format_phone(contact.phone), hours=hours_text)
    elif contact.phone:
        line = t["call"].format(name=contact.name, phone=format_phone(contact.phone))
    else:
        line = t["no_phone"].format(name=contact.name, title=municipality.source_title)
    lines = [_end(line, kb)]
    if not contact.phone:  # no number to call: say where else to find them
        lines += where_else(contact, kb)
    return NextStep(contact, " ".join(lines))


def steps(municipality: Municipality, contacts: tuple[Contact, ...], kb: KnowledgeBase | None = None,
          with_hours: bool = True, long_days: bool = False) -> NextStep:
    """The next step for one contact, or, where services have different contacts and none is general,
    one line per contact naming the services it is for."""
    kb = kb or knowledge()
    if len(contacts) == 1:
        return next_step(municipality, contacts[0], kb, with_hours, long_days)
    lines = []
    for contact in contacts:
        served = [s.name for s in municipality.services.values() if s.contact == contact.id]
        step = next_step(municipality, contact, kb, with_hours, long_days).text
        lines.append(kb.texts["next_step"]["for_services"].format(services=" / ".join(served), step=step)
                     if served else step)
    return NextStep(contacts[0], " ".join(lines))


def main_contact_step(municipality: Municipality, kb: KnowledgeBase | None = None) -> str:
    """Whom to contact when the service is not known (an outage, the widget's fallback): the general
    contact (else each service's own), and, when that has no number, every unit the source gives one for."""
    kb = kb or knowledge()
    main = municipality.main_contacts()
    text = steps(municipality, main, kb).text
    if not all(c.phone for c in main):
        text = " ".join([text, *(next_step(municipality, c, kb, with_hours=False).text
                                 for c in municipality.contacts.values() if c.phone and c not in main)])
    return text


def where_else(contact: Contact, kb: KnowledgeBase) -> list[str]:
    """The contact's address and web page, where the source gives them."""
    t = kb.texts["next_step"]
    lines = []
    if contact.address:
        lines.append(_end(t["address"].format(address=contact.address.text), kb))
    if contact.web:
        lines.append(_end(t["web"].format(web=contact.web.text), kb))
    return lines


def _selected_services(municipality: Municipality, service: str | None,
                       kb: KnowledgeBase) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(service ids, kinds the municipality does not describe); all services when none is given.

    A service text that names no service at all is an input error, never a claim about the source.
    """
    if service is None or not service.strip():
        return tuple(municipality.services), ()
    service_ids, missing = names.services_for(municipality, service, kb)
    if not service_ids and not missing:
        raise GuideInputError(kb.texts["resolve"]["unknown_service"].format(text=service.strip()[:80]))
    return service_ids, missing


def _not_stated_for(municipality: Municipality, service_id: str, topic: str) -> NotStated | None:
    for entry in municipality.not_stated:
        if entry.topic == topic and service_id in entry.services:
            return entry
    return None


def _not_stated_sentence(municipality: Municipality, topic: str, kb: KnowledgeBase) -> str:
    return kb.texts["answer"]["not_stated"].format(title=municipality.source_title, missing=kb.topics[topic].missing)


def _part_text(municipality: Municipality, facts: tuple[Fact, ...], missing: NotStated | None,
               topic: str, kb: KnowledgeBase) -> str:
    if facts:
        return " ".join(fact.text for fact in facts)
    sentence = _not_stated_sentence(municipality, topic, kb)
    return f"{sentence} {missing.text}" if missing and missing.text else sentence


def _compose(municipality: Municipality, parts: list[ServicePart], topic: str, question: str | None,
             kb: KnowledgeBase) -> str:
    """One part: its text. Several: each service briefly, then the deciding question.

    When no service has a fact, the not-stated sentence is said once, with any per-service notes.
    """
    t = kb.texts["answer"]
    if len(parts) == 1:
        return parts[0].text
    notes = {id(p): p.not_stated.text for p in parts if p.not_stated and p.not_stated.text}
    if not any(p.stated for p in parts):
        lines = [_not_stated_sentence(municipality, topic, kb)]
        lines += [f"• {t['service_item'].format(service=' / '.join(p.service_names), text=notes[id(p)])}"
                  for p in parts if id(p) in notes]
        return "\n".join(lines)
    lines = [t["depends_on_service"]]
    for part in parts:
        text = part.text if part.stated else " ".join(filter(None, (t["not_stated_short"], notes.get(id(part)))))
        lines.append(f"• {t['service_item'].format(service=' / '.join(part.service_names), text=text)}")
    if question:
        lines.append(t["decide"].format(question=question))
    return "\n".join(lines)


def _deciding_kind(municipality: Municipality, parts: list[ServicePart]) -> str | None:
    """The first service kind (in DECIDING_ORDER) that some but not all parts cover."""
    if len(parts) < 2:
        return None
    kinds_per_part = [{k for sid in p.service_ids for k in municipality.services[sid].kinds} for p in parts]
    for kind in DECIDING_ORDER:
        holders = [kind in kinds for kinds in kinds_per_part]
        if any(holders) and not all(holders):
            return kind
    return None


def _part_contacts(municipality: Municipality, part: ServicePart) -> tuple[Contact, ...]:
    """Whom to contact about one part: the contact its facts name, else whom the file says to ask
    where it is silent, else the services' own contact(s), or the general one."""
    fact_contacts = {f.contact for f in part.facts if f.contact}
    if len(fact_contacts) == 1:
        return (municipality.contacts[fact_contacts.pop()],)
    if not part.stated and part.not_stated:
        return (municipality.contacts[part.not_stated.ask],)
    return municipality.main_contacts(part.service_ids) if len(
        {municipality.services[sid].contact for sid in part.service_ids}) > 1 else (
        municipality.contacts[municipality.services[part.service_ids[0]].contact],)


def _next_step_for(municipality: Municipality, parts: list[ServicePart], kb: KnowledgeBase) -> NextStep:
    """One next step when every part has the same contact, else one line per part."""
    contacts = [_part_contacts(municipality, p) for p in parts]
    if len({tuple(c.id for c in cs) for cs in contacts}) == 1:
        return steps(municipality, contacts[0], kb)
    item = kb.texts["answer"]["service_item"]
    lines = [f"• {item.format(service=' / '.join(p.service_names), text=steps(municipality, cs, kb).text)}"
             for p, cs in zip(parts, contacts, strict=False)]
    return NextStep(contacts[0][0], "\n".join(lines))


def answer(kommune: str, topic: str, service: str | None = None, kb: KnowledgeBase | None = None,
           *, exclude_kind: str | None = None, services: tuple[str, ...] | None = None) -> Answer:
    """What ``kommune``'s source says on ``topic``, for ``service`` or for each service.

    ``kommune``: id, name or any spelling; ``topic``: topic id or label; ``service``: a service id
    of the municipality, a service kind, free text ("efter sygehus"), or None for all services.
    ``exclude_kind`` leaves out the services of one kind (the citizen said no to its question);
    ``services`` (ids of the municipality's services) narrows the answer to them.
    When the facts differ between the services covered, each is answered briefly, followed by
    the question that decides which applies.
    """
    kb = kb or knowledge()
    municipality = resolve_municipality(kommune, kb)
    topic = resolve_topic(topic, kb)
    if topic == "contact":
        return contact_answer(municipality.id, service, kb=kb)
    service_ids, missing_kinds = _selected_services(municipality, service, kb)
    if services:
        service_ids = tuple(s for s in service_ids if s in services) or service_ids
    if exclude_kind and service is None:
        remaining = tuple(s for s in service_ids if exclude_kind not in municipality.services[s].kinds)
        service_ids = remaining or service_ids
    source = kb.texts["answer"]["source"].format(title=municipality.source_title)
    not_described = [
        kb.texts["answer"]["service_not_described"].format(
            title=municipality.source_title, service=kb.service_kinds[kind].label.lower())
        for kind in missing_kinds
    ]
    if not service_ids:
        return Answer(municipality.id, municipality.name, topic, (), (), None, " ".join(not_described), source,
                      steps(municipality, municipality.main_contacts(), kb))

    groups: dict[tuple, list[str]] = {}
    for sid in service_ids:
        facts = tuple(f for f in municipality.facts if f.topic == topic and sid in f.services)
        missing = None if facts else _not_stated_for(municipality, sid, topic)
        groups.setdefault((facts, missing), []).append(sid)
    parts = [
        ServicePart(tuple(sids), tuple(municipality.services[s].name for s in sids), facts, missing,
                    _part_text(municipality, facts, missing, topic, kb))
        for (facts, missing), sids in groups.items()
    ]
    stated = any(p.stated for p in parts)
    kind = _deciding_kind(municipality, parts) if stated else None
    question = kb.service_kinds[kind].question if kind else None
    text = "\n".join([_compose(municipality, parts, topic, question, kb), *not_described])
    return Answer(municipality.id, municipality.name, topic, service_ids, tuple(parts), question, text, source,
                  _next_step_for(municipality, parts, kb), kind)


def contacts_for(municipality: Municipality, service_ids: tuple[str, ...]) -> tuple[Contact, ...]:
    """The contacts relevant to some services: theirs, the ones their facts name, the default."""
    everything = set(service_ids) == set(municipality.services)
    general = [municipality.default_contact] if municipality.default_contact else []
    ids: list[str] = list(general) if everything else []
    for sid in service_ids:
        ids.append(municipality.services[sid].contact)
    ids.extend(f.contact for f in municipality.facts if f.contact and set(f.services) & set(service_ids))
    ids.extend(general)
    if everything:
        ids.extend(municipality.contacts)
    unique = list(dict.fromkeys(ids))
    return tuple(municipality.contacts[c] for c in unique)


def contact_line(municipality: Municipality, contact: Contact, kb: KnowledgeBase,
                 at: datetime | None = None, live_status: bool = True) -> str:
    """One contact in Danish: name, purpose, phone or 'not stated', hours and (with ``live_status``)
    whether it is open now; a static page leaves the status out and computes it in the browser."""
    c = kb.texts["contact"]
    bits = [c["line"].format(name=contact.name, purpose=contact.purpose.rstrip("."))]
    bits.append(c["phone"].format(phone=format_phone(contact.phone)) if contact.phone else c["no_phone"])
    hours_text = hours_mod.describe(contact.hours, kb.texts)
    if hours_text and live_status:
        bits.append(f"{kb.texts['cli']['hours']}: {hours_text} ({hours_mod.status(contact.hours, kb.texts, at)})")
    elif hours_text:
        bits.append(f"{kb.texts['cli']['hours']}: {hours_text}")
    elif contact.phone:
        bits.append(c["hours_not_stated"])
    if contact.address:
        bits.append(kb.texts["next_step"]["address"].format(address=contact.address.text))
    return ". ".join(b.rstrip(".") for b in bits) + "."


def contact_answer(kommune: str, service: str | None = None, at: datetime | None = None,
                   kb: KnowledgeBase | None = None, live_status: bool = True) -> Answer:
    """Whom to contact (phone, hours, address) for a municipality and optionally a service."""
    kb = kb or knowledge()
    municipality = resolve_municipality(kommune, kb)
    service_ids, _ = _selected_services(municipality, service, kb)
    service_ids = service_ids or tuple(municipality.services)  # a kind it lacks: all its contacts
    contacts = contacts_for(municipality, service_ids)
    text = "\n".join(f"• {contact_line(municipality, c, kb, at, live_status)}" for c in contacts)
    source = kb.texts["answer"]["source"].format(title=municipality.source_title)
    first = contacts[0]
    return Answer(municipality.id, municipality.name, "contact", service_ids, (), None, text, source,
                  next_step(municipality, first, kb))


def compare(topic: str, service: str | None = None, kb: KnowledgeBase | None = None) -> tuple[Answer, ...]:
    """One answer per municipality on the same topic (and service kind, if given)."""
    kb = kb or knowledge()
    topic = resolve_topic(topic, kb)
    return tuple(answer(mid, topic, service, kb) for mid in kb.municipalities)
