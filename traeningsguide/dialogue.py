"""One turn of the conversation: what to answer, given the state, the NLU's reading and the text.

Pure Python with no Rasa imports: the Rasa action turns the tracker into a :class:`State`, calls
:func:`respond` and sends the messages; the same function is unit-tested directly. All Danish text
comes from the knowledge base (facts and knowledge/texts.yml).

A turn:
1. An acute situation gets the guide's safety text (112) first.
2. The municipality, the service kind and the situation come from the message and the conversation
   (a story's context counts; a correction replaces the last choice).
3. The message's questions (up to three) are each answered by the facts that match them best
   (traeningsguide.retrieval), in their sourced wording, with one source line and one next step.
   A follow-up with little of its own ("og i Rødovre?", "og børnetræning?") is the last question
   again with the one thing changed.
4. Where the services of the municipality answer differently and nothing decides between them, the
   short deciding question comes first, with Ja/Nej buttons; the answer follows on "ja"/"nej".
5. Several municipalities ("hvilke kommuner …", "alle fem"): one short line each.
6. Nothing matches well: the guide says it is not sure, offers the nearest topics and the contact;
   where the source contains none of the question's specific words, it says the source is silent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from traeningsguide import answers, eligibility, names, questions, retrieval
from traeningsguide.knowledge import Contact, Fact, KnowledgeBase, Municipality, knowledge, per_knowledge_base
from traeningsguide.retrieval import CONTACT_TOPIC, Scored
from traeningsguide.textnorm import loose, phone_digits, phones_in

SITUATION = "situation"  # pseudo-topic: the citizen described a situation (eligibility check)
TOPIC_INTENT_PREFIX = "ask_"
MORE_INTENT = "ask_more"  # the "Mere om …" button: the rest of a topic
MORE_MAX_WORDS = 4  # typed, "fortæl mere" is short
ENGLISH_INTENTS = {"greet", "goodbye", "thanks", "bot_challenge", "affirm", "deny", "inform_kommune"}
SMALL_TALK = {"greet": "greet", "goodbye": "goodbye", "thanks": "thanks", "bot_challenge": "bot_challenge"}

# Scores (traeningsguide.retrieval) that decide how sure the guide is; tuned on tests/eval/set1.
SURE = 0.30  # at or above: answer
MAYBE = 0.17  # between MAYBE and SURE: answer when the question's words are in the source, else silent
MAX_LISTED = 2  # services that differ are listed briefly up to this many; more: the deciding question
MAX_LISTED_WORDS = 70  # … and while the list stays this short
MAX_LISTED_SHORT = 4  # short answers ("… er gratis.") are listed for up to this many services
SPECIFIC_MATCH = 0.3  # a fact matching the question's own words this well makes it a precise question …
SPECIFIC_SHARE = 0.5  # … and another service is listed only when its fact matches at least this share as well
# a contact question matching no unit's name this well gets the unit of the services asked about; a unit
# the source gives no number for, where it gives others one, is the answer only when named this clearly
SPECIFIC_CONTACT, NAMED_CONTACT = 0.15, 0.5
CONTEXT_WEIGHT = 0.9  # a question read with its story or the last question counts a little less …
SHORT_QUESTION_TERMS = 2  # … unless the question alone has this few words of its own
REPEAT = 0.85  # a follow-up: the fact that answered the last question, unless the follow-up alone asks for it
SECOND_FACT = 0.7  # a second fact of the same topic joins when its own match is this close to the first
MAX_ANSWER_WORDS = 45  # the second fact only when both together stay this short
OUT_OF_SCOPE_CONFIDENCE = 0.5
SMALL_TALK_CONFIDENCE, SMALL_TALK_WORDS = 0.85, 6  # "er du et menneske?" is small talk, "hej, hvad koster …?" not
SMALL_TALK_LONG_CONFIDENCE, SMALL_TALK_LONG_WORDS = 0.98, 12
SURE_INTENT = 0.8  # a follow-up without words of its own asks a new topic when its intent is this sure
TOPIC_INTENT_CONFIDENCE = 0.5  # a message without words of its own is answered by its intent from this confidence
CARRY_MAX_TERMS = 4  # a follow-up with at most this many words of its own is read with the last question


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Source:
    """What an answer rests on: the source's title and the verbatim quotes (shown on "Se kilden")."""

    title: str
    quotes: tuple[str, ...]


@dataclass(frozen=True)
class Message:
    text: str
    buttons: tuple[Button, ...] = ()
    sources: tuple[Source, ...] = ()  # for clients that show them; the text names the source anyway


@dataclass(frozen=True)
class State:
    """What the conversation remembers (Rasa slots of the same names)."""

    kommune: str | None = None  # id of a covered municipality
    service: str | None = None  # a service kind id
    topic: str | None = None  # the last or pending topic, or SITUATION
    pending: bool = False  # waiting for the municipality to answer ``question``
    decide_kind: str | None = None  # the kind the last deciding question asked about
    situations: tuple[str, ...] = ()
    question: str | None = None  # the last question (answered again on "ja"/"nej", "og i …?", corrections)
    excluded: tuple[str, ...] = ()  # service kinds the citizen said no to
    english: bool = False
    compare: tuple[str, ...] = ()  # the municipalities of the last comparison ("og hvis …?" compares again)
    on_behalf: bool = False  # an answer has said its facts are about someone else (said once)

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
            question=slots.get("question") or None,
            excluded=tuple(slots.get("excluded") or ()),
            english=bool(slots.get("english")),
            compare=tuple(slots.get("compare") or ()),
            on_behalf=bool(slots.get("on_behalf")),
        )

    def as_slots(self) -> dict[str, Any]:
        values = asdict(self)
        values["situations"] = list(self.situations)
        values["excluded"] = list(self.excluded)
        values["compare"] = list(self.compare)
        return values


# What kind of reply a turn gave (stored with the bot's messages; `python -m traeningsguide report` counts them)
ANSWER = "answer"  # sourced facts (perhaps with a part the source is silent on: see Turn.gaps)
NOT_STATED = "not_stated"  # only that the municipality's text does not say
UNSURE = "unsure"  # no fact matched well: the nearest topics and the contact
ASK = "ask"  # a question back: which municipality, which topic, the deciding question
COMPARE = "compare"  # one line per municipality
MORE = "more"  # the rest of a topic ("Mere om …")
CHAT = "small_talk"  # greetings, thanks, "er du en robot?"
OUT_OF_SCOPE = "out_of_scope"
NOT_COVERED = "not_covered"  # a municipality the guide does not cover
EMERGENCY = "emergency"  # the safety text alone
FALLBACK = "fallback"  # nothing to read (an empty message): the rephrase text
ERROR = "error"
FEEDBACK = "feedback"  # the citizen rated an answer: thanks, nothing else changes
# the replies a citizen can rate (the widget's thumbs): answers about a municipality, not questions back
RATED = frozenset({ANSWER, NOT_STATED, UNSURE, COMPARE, MORE, SITUATION})
OUTAGE = "outage"  # the channel's outage reply (channels.guard): the action server was down or too slow
RECORD_KEY = "traeningsguide"  # the stored bot messages' metadata key holding what the turn gave
FEEDBACK_INTENT = "feedback"  # sent by the widget's 👍/👎 (payload /feedback{"answer", "rating", "comment"})


@dataclass(frozen=True)
class Gap:
    """A question the municipality's text does not answer, as the answer said: the municipality, the
    topic (None: no topic of the text at all) and the services asked about, or the kind of service the
    text does not describe."""

    kommune: str
    topic: str | None
    services: tuple[str, ...] = ()
    missing_kind: str | None = None


@dataclass(frozen=True)
class Turn:
    messages: tuple[Message, ...]
    state: State
    kind: str = ANSWER
    gaps: tuple[Gap, ...] = ()
    topic: str | None = None  # the topic this turn answered (None: none; the state may keep an older one)


def topics_for_intent(intent: str, kb: KnowledgeBase) -> tuple[str, ...]:
    """The topics an intent asks about (ask_eligibility -> eligibility and exclusions)."""
    return tuple(t.id for t in kb.topics.values() if t.intent == intent)


def kommune_buttons(kb: KnowledgeBase) -> tuple[Button, ...]:
    return tuple(
        Button(m.short_name, f'/inform_kommune{{"kommune":"{m.id}"}}')
        for m in sorted(kb.municipalities.values(), key=lambda m: m.short_name)
    )


def topic_button(topic: str, kb: KnowledgeBase) -> Button:
    return Button(kb.topics[topic].label, f"/{kb.topics[topic].intent}")


def topic_buttons(kb: KnowledgeBase, topics: Iterable[str] | None = None) -> tuple[Button, ...]:
    return tuple(topic_button(t, kb) for t in (topics or kb.texts["dialogue"]["main_topics"]))


def more_button(topic: str, kb: KnowledgeBase) -> Button:
    label = kb.topics[topic].label
    title = kb.texts["dialogue"]["more"].format(topic=label[:1].lower() + label[1:])
    return Button(title, f'/{MORE_INTENT}{{"topic":"{topic}"}}')


def yes_no_buttons(kb: KnowledgeBase) -> tuple[Button, ...]:
    d = kb.texts["dialogue"]
    return (Button(d["button_yes"], "/affirm"), Button(d["button_no"], "/deny"))


AMBIGUOUS = names.MunicipalityMatch("covered", "", None)  # several covered municipalities named


def _mentioned_municipality(values: Iterable[str], text: str, kb: KnowledgeBase) -> names.MunicipalityMatch | None:
    """The municipality a message is about: from the NLU's kommune entities, else from the text.

    One covered municipality wins over uncovered ones ("jeg bor i Aarhus, men min mor bor i Køge");
    two covered ones are ambiguous (AMBIGUOUS); only uncovered ones: the first of them.
    """
    matches = _municipality_matches(values, text, kb)
    covered = {m.id: m for m in matches if m.covered}
    if len(covered) > 1:
        return AMBIGUOUS
    if covered:
        return next(iter(covered.values()))
    return matches[0] if matches else None


def _municipality_matches(values: Iterable[str], text: str, kb: KnowledgeBase) -> list[names.MunicipalityMatch]:
    matches: list[names.MunicipalityMatch] = []
    for value in values:
        if value in kb.municipalities:
            m = kb.municipalities[value]
            matches.append(names.MunicipalityMatch("covered", m.short_name, m.id, value))
        else:
            matches.extend(names.find_municipalities(value, kb))
    return matches + [m for m in names.find_municipalities(text, kb) if m not in matches]


def _mentioned_kind(values: Iterable[str], text: str, kb: KnowledgeBase) -> str | None:
    """The service kind a message points to: a named kind, else the kind of a situation it describes."""
    for value in values:
        if value in kb.service_kinds:
            return value
        kinds = names.find_service_kinds(value, kb)
        if kinds:
            return kinds[0]
    kinds = names.find_service_kinds(text, kb)
    if kinds:
        return kinds[0]
    for situation in names.find_situations(text, kb):
        kind = kb.situations[situation].kind
        if kind:
            return kind
    return None


# --------------------------------------------------------------------------------------------
# Answers for one municipality


@dataclass
class Part:
    """The answer to one question for one municipality."""

    lines: list[str]
    contacts: tuple[Contact, ...]  # one; or, where no contact is general, each service's own
    topic: str | None = None
    decide_kind: str | None = None  # the services differ: ask this kind's question first
    more: str | None = None  # the topic has more facts: offer "Mere om …"
    sure: bool = True
    facts: list[Fact] = field(default_factory=list)
    score: float = 1.0  # how well the best candidate matched
    quotes: list[str] = field(default_factory=list)  # the verbatim quotes the lines rest on
    about_others: bool = True  # the lines are facts about the one who trains (not the guide's own line)
    gaps: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)  # (topic, services) not stated


def _scope(m: Municipality, state: State, kb: KnowledgeBase) -> tuple[tuple[str, ...], str | None]:
    """(the municipality's services the question is about, a kind the citizen named that it lacks)."""
    if state.service:
        ids = tuple(s.id for s in m.services.values() if state.service in s.kinds)
        return (ids, None) if ids else ((), state.service)
    ids = tuple(s.id for s in m.services.values()
                if not any(kb.service_kinds[k].needs_hint for k in s.kinds)
                and not set(s.kinds) <= set(state.excluded))
    return ids or tuple(m.services), None


def _service_contacts(m: Municipality, service_ids: Iterable[str]) -> tuple[Contact, ...]:
    """The services' own contact when they share one, else the general contact, else each service's."""
    sids = tuple(service_ids)
    contacts = {m.services[s].contact for s in sids}
    return (m.contacts[contacts.pop()],) if len(contacts) == 1 else m.main_contacts(sids)


def _candidate_contacts(m: Municipality, s: Scored, scope: Iterable[str] = ()) -> tuple[Contact, ...]:
    """Whom to contact about one candidate: the contact it names, else its services' (those asked about)."""
    c = s.candidate
    if c.fact and c.fact.contact:
        return (m.contacts[c.fact.contact],)
    if c.not_stated:
        return (m.contacts[c.not_stated.ask],)
    if c.contact:
        return (c.contact,)
    asked = [sid for sid in c.services if sid in set(scope)]
    return _service_contacts(m, asked or c.services)


def _asked_first(lines: list[str], terms: Iterable[str]) -> list[str]:
    """Lines in the order the question asks for them ("adr?" puts the address first); stable otherwise."""
    asked = [t for t in terms if len(t) >= 3]

    def hits(line: str) -> int:
        words = loose(line).split()
        return sum(any(w.startswith(t) or (len(w) >= 5 and t.startswith(w)) for w in words) for t in asked)

    return sorted(lines, key=lambda line: -hits(line))


def _answer_line(m: Municipality, s: Scored, kb: KnowledgeBase, english: bool, terms: Iterable[str] = ()) -> str:
    c = s.candidate
    if c.fact:
        return c.fact.text
    if c.contact and not c.contact.phone:  # asked whom to call, and the source gives no number
        sentence = kb.texts["answer"]["no_phone"].format(title=m.source_title, name=c.contact.name)
        return " ".join([sentence, *answers.where_else(c.contact, kb)])
    if c.contact:  # whom to contact: phone, hours and, where the source gives it, the address (first if asked)
        step = answers.next_step(m, c.contact, kb, with_hours=True, long_days=True).text
        lines = _asked_first([step, *answers.where_else(c.contact, kb)], terms)
        return " ".join(lines[:2]) if c.contact.address or lines[0] != step else step
    assert c.not_stated
    if english:  # the frame in English, the municipality's own note (if any) in Danish
        sentence = kb.texts["english"]["not_stated"].format(title=m.source_title)
        return f"{sentence} {c.not_stated.text}" if c.not_stated.text else sentence
    sentence = kb.texts["answer"]["not_stated"].format(title=m.source_title, missing=kb.topics[c.topic].missing)
    return f"{sentence} {c.not_stated.text}" if c.not_stated.text else sentence


def _quote(s: Scored) -> str:
    """The verbatim quote a candidate's line rests on ("" for a not-stated entry: silence has none)."""
    c = s.candidate
    return c.fact.quote if c.fact else c.contact.quote if c.contact else ""


def _sources(m: Municipality, quotes: Iterable[str], contacts: Iterable[Contact] = ()) -> tuple[Source, ...]:
    """The answer's source: its facts' quotes, then those of the contacts its next step names."""
    kept = tuple(dict.fromkeys(q for q in (*quotes, *(c.quote for c in contacts)) if q))
    return (Source(m.source_title, kept),) if kept else ()


def _key(s: Scored) -> str:
    """What a candidate says: services with the same fact text or the same silence say the same."""
    c = s.candidate
    if c.fact:
        return "fact:" + c.fact.text
    if c.contact:
        return "contact:" + c.contact.id
    return f"not_stated:{c.topic}:{c.not_stated.text if c.not_stated else ''}"


def _deciding_kind(m: Municipality, groups: list[list[str]], state: State) -> str | None:
    kinds_per_group = [{k for sid in g for k in m.services[sid].kinds} for g in groups]
    for kind in answers.DECIDING_ORDER:
        if kind in state.excluded:
            continue
        holders = [kind in kinds for kinds in kinds_per_group]
        if any(holders) and not all(holders):
            return kind
    return None


class _Answerer:
    """Answers questions for a conversation state with one knowledge base's index."""

    def __init__(self, kb: KnowledgeBase, state: State, priors: Mapping[str, float], english: bool) -> None:
        self.kb, self.state, self.priors, self.english = kb, state, priors, english
        self.index = retrieval.index(kb)

    def ranked(self, m: Municipality, services: tuple[str, ...], text: str, last_topic: str | None,
               context: str | None = None, previous: str | None = None) -> tuple[retrieval.Query, list[Scored]]:
        """The candidates for a question; with ``context`` (the rest of a story, or the last question
        of a follow-up) each candidate keeps the better of its score for the question alone and
        for the question with its context (discounted by CONTEXT_WEIGHT). ``previous``: the last
        question of a follow-up; the fact that answered it counts less (REPEAT), unless the follow-up
        alone asks for it too: "og hvornår går træningen så i gang?" asks something new."""
        frame = _frame_terms(self.kb)
        q = self.index.query(text, frame, frame_alone=context is None)
        conditional = questions.what_if(text, self.kb)
        ranked = self.index.rank(q, m.id, services, priors=self.priors, last_topic=last_topic, conditional=conditional)
        if not context:
            return q, ranked
        wide = self.index.query(f"{text} {context}", frame)
        best = {id(s.candidate): s for s in ranked}
        for s in self.index.rank(wide, m.id, services, priors=self.priors, last_topic=last_topic,
                                 conditional=conditional):
            # a short question ("kan der være nogen, der følger ham?") leans on its story fully
            weight = 1.0 if len(q.terms) <= SHORT_QUESTION_TERMS else CONTEXT_WEIGHT
            discounted = replace(s, score=s.score * weight)
            if discounted.score > best[id(s.candidate)].score:
                best[id(s.candidate)] = discounted
        if previous and ranked:
            answered = self.index.rank(self.index.query(previous, frame), m.id, services, priors=self.priors)
            if answered and answered[0].candidate is not ranked[0].candidate:
                key = id(answered[0].candidate)
                best[key] = replace(best[key], score=best[key].score * REPEAT)
        merged = sorted(best.values(), key=lambda s: -s.score)
        return (wide if q.empty else q), merged

    def part(self, m: Municipality, text: str, *, context: str | None = None, last_topic: str | None = None,
             compare: bool = False, previous: str | None = None) -> Part:
        kb = self.kb
        services, lacking = _scope(m, self.state, kb)
        if lacking:
            line = kb.texts["answer"]["service_not_described"].format(
                title=m.source_title, service=kb.service_kinds[lacking].label.lower())
            return Part([line], m.main_contacts(), sure=True, gaps=[(None, ())])
        if self.english:
            text = questions.glossed(text, kb)
            context = questions.glossed(context, kb) if context else context
        acting = questions.acting_for(text, kb)
        if acting:  # "må jeg søge for hende?": matched with the words a fact about relatives uses
            text = f"{text} {' '.join(sorted(kb.language.acting_for_words))}"
        q, ranked = self.ranked(m, services, text, last_topic, context, previous)
        best = ranked[0] if ranked else None
        if acting and not (best and best.candidate.fact and
                           set(loose(best.candidate.fact.text).split()) & kb.language.acting_for_words):
            key = "english" if self.english else "dialogue"
            line = kb.texts[key]["acting_for_silent"].format(title=m.source_title)
            topic = best.candidate.topic if best else None
            return Part([line], _service_contacts(m, services), topic, about_others=False,
                        gaps=[(topic, services)])
        if best is None or best.score < MAYBE:
            return self._not_found(m, q, ranked, services)
        topic = best.candidate.topic
        per_service: dict[str, Scored] = {}
        for s in ranked:
            if s.candidate.topic != topic:
                continue
            for sid in s.candidate.services:
                if sid in services and sid not in per_service:
                    per_service[sid] = s
        groups: dict[str, list[str]] = {}
        chosen: dict[str, Scored] = {}
        for sid in services:
            if sid in per_service:
                key = _key(per_service[sid])
                groups.setdefault(key, []).append(sid)
                chosen.setdefault(key, per_service[sid])
        if len(groups) > 1:
            return self._differing(m, groups, chosen, services, topic, best, compare, ranked)
        return self._single(m, best, ranked, services, q)

    def _differing(self, m: Municipality, groups: dict[str, list[str]], chosen: dict[str, Scored],
                   services: tuple[str, ...], topic: str, best: Scored, compare: bool,
                   ranked: list[Scored]) -> Part:
        """The services answer differently: each briefly (labelled with its service), or, when that
        would be long, the deciding question first. Services the source is silent on for the topic
        get one short line; they never force the deciding question on their own."""
        kb = self.kb
        t = kb.texts["answer"]
        order = sorted(groups, key=lambda k: -chosen[k].score)  # the best match first
        if best.own >= SPECIFIC_MATCH:
            # a precise question ("må jeg træne i jeans?"): the services whose facts answer it, labelled;
            # a service whose facts on the topic do not match it is left out, not called silent
            order = [k for k in order if chosen[k].own >= SPECIFIC_SHARE * best.own] or order[:1]
        groups = {k: groups[k] for k in order}
        stated = {k: sids for k, sids in groups.items() if chosen[k].candidate.fact or chosen[k].candidate.contact}
        silent = [sid for k, sids in groups.items() if k not in stated for sid in sids]

        def label(sids: list[str]) -> str:
            return " / ".join(m.services[s].short_name for s in sids)

        lines = [t["service_item"].format(service=label(sids), text=_answer_line(m, chosen[k], kb, self.english))
                 for k, sids in stated.items()]
        quoted = [chosen[k] for k in stated]
        if len(stated) == 1:  # one service answers (the others are silent): its second fact too, as for one service
            (k, sids), = stated.items()
            second = _second_fact(chosen[k], ranked, tuple(sids))
            if second is not None:
                lines[0] = f"{lines[0]} {second.candidate.fact.text}"  # type: ignore[union-attr]
                quoted.append(second)
        if not stated:  # silent for every service, with different notes: the notes, once each
            lines = [_answer_line(m, chosen[k], kb, self.english) for k in groups]
        elif silent:
            lines.append(t["service_item"].format(service=label(silent), text=t["not_stated_short"]))
        words = sum(len(line.split()) for line in lines)
        if not compare and (len(stated) > MAX_LISTED or words > MAX_LISTED_WORDS) and not (
                len(stated) <= MAX_LISTED_SHORT and words <= MAX_LISTED_WORDS):
            kind = _deciding_kind(m, list(stated.values()) + ([silent] if silent else []), self.state)
            if kind:
                return Part([], _service_contacts(m, services), topic, decide_kind=kind)
        contacts = _candidate_contacts(m, chosen[next(iter(stated))], services) if len(stated) == 1 else \
            _service_contacts(m, services)
        gaps = [(topic, tuple(silent))] if silent else [] if stated else [(topic, tuple(services))]
        return Part(lines, contacts, topic, score=best.score, quotes=[_quote(x) for x in quoted], gaps=gaps)

    def _single(self, m: Municipality, best: Scored, ranked: list[Scored], services: tuple[str, ...],
                q: retrieval.Query) -> Part:
        part = self._single_part(m, best, ranked, services, q)
        hours_words = self.kb.language.hours_words
        if part.topic == CONTACT_TOPIC and any(t in hours_words or t.startswith(tuple(hours_words)) for t in q.terms) \
                and not any(c.hours for c in part.contacts):  # "hvornår har I åbent?": the source does not say
            key = "english" if self.english else "answer"
            part.lines.insert(0, self.kb.texts[key]["hours_not_stated"].format(title=m.source_title))
            part.gaps.append((CONTACT_TOPIC, services))
        return part

    def _single_part(self, m: Municipality, best: Scored, ranked: list[Scored], services: tuple[str, ...],
                     q: retrieval.Query) -> Part:
        kb = self.kb
        contact = best.candidate.contact
        phoned = any(c.phone for c in m.contacts.values())
        if contact and (best.own < SPECIFIC_CONTACT or phoned and not contact.phone and best.own < NAMED_CONTACT):
            # "hvornår har I åbent?": no unit named, so the unit of the services asked about; if the
            # source gives that unit no number, every number it does give, each with its unit
            scope = _service_contacts(m, services)
            if not any(c.phone for c in scope) and any(c.phone for c in m.contacts.values()):
                phoned_contacts = [c for c in m.contacts.values() if c.phone]
                lines = [answers.next_step(m, c, kb, long_days=True).text for c in phoned_contacts]
                return Part([" ".join(lines)], scope, CONTACT_TOPIC, score=best.score,
                            quotes=[c.quote for c in phoned_contacts])
            if len(scope) > 1:  # no unit for all the services asked about: each service's own
                text = answers.steps(m, scope, kb, long_days=True).text
                return Part([text], scope, CONTACT_TOPIC, score=best.score, quotes=[c.quote for c in scope])
            best = next((s for s in ranked if s.candidate.contact and s.candidate.contact.id == scope[0].id), best)
        lines = [_answer_line(m, best, kb, self.english, q.terms)]
        facts = [best.candidate.fact] if best.candidate.fact else []
        second = _second_fact(best, ranked[1:], services) if facts else None
        if second is not None:
            lines.append(second.candidate.fact.text)  # type: ignore[union-attr]
            facts.append(second.candidate.fact)  # type: ignore[arg-type]
        more = None
        if best.candidate.fact:
            shown = {f.text for f in facts}
            rest = {f.text for f in m.facts if f.topic == best.candidate.topic and set(f.services) & set(services)}
            if rest - shown:
                more = best.candidate.topic
        quotes = [f.quote for f in facts] or ([best.candidate.contact.quote] if best.candidate.contact else [])
        gaps = [(best.candidate.topic, tuple(s for s in best.candidate.services if s in services))] \
            if best.candidate.not_stated else []
        if best.candidate.contact and not best.candidate.contact.phone:  # "... oplyser ikke et telefonnummer"
            gaps.append((CONTACT_TOPIC, services))
        return Part([" ".join(lines)], _candidate_contacts(m, best, services), best.candidate.topic, more=more,
                    facts=facts, score=best.score, quotes=quotes, gaps=gaps)

    def _not_found(self, m: Municipality, q: retrieval.Query, ranked: list[Scored], services: tuple[str, ...]) -> Part:
        kb = self.kb
        contacts = _service_contacts(m, services)
        # silent only about something the guide can recognise as a question about training: a word
        # some municipality's text uses, or a training word; gibberish gets "not sure"
        recognised = any(self.index.known(t) for t in q.terms) or any(
            w in kb.language.generic_words for w in loose(q.text).split())
        # in English, a word the source lacks may only be English: that is no sign the source is silent
        if recognised and not self.english and self.index.unknown_terms(q, m.id):
            key = "english" if self.english else "dialogue"
            return Part([kb.texts[key]["silent"].format(title=m.source_title)], contacts, None, score=0.0,
                        gaps=[(None, services)])
        return Part([], contacts, None, sure=False, score=0.0)


def _second_fact(best: Scored, ranked: list[Scored], services: tuple[str, ...]) -> Scored | None:
    """The next fact of the best fact's topic for the same services, when it matches the question nearly
    as well and both together stay within MAX_ANSWER_WORDS."""
    fact = best.candidate.fact
    if fact is None or best.own <= 0:
        return None
    for s in ranked:
        other = s.candidate.fact
        if s is best or other is None or s.candidate.topic != best.candidate.topic or other.text == fact.text \
                or not set(s.candidate.services) >= set(best.candidate.services) & set(services):
            continue
        words = len(fact.text.split()) + len(other.text.split())
        return s if s.own >= SECOND_FACT * best.own and words <= MAX_ANSWER_WORDS else None
    return None


def _near_topics(ranked: list[Scored], count: int = 3) -> list[str]:
    topics: list[str] = []
    for s in ranked:
        if s.candidate.topic not in topics:
            topics.append(s.candidate.topic)
        if len(topics) == count:
            break
    return topics


# --------------------------------------------------------------------------------------------


def _priors(ranking: Iterable[Mapping[str, Any]] | None, kb: KnowledgeBase) -> dict[str, float]:
    """The NLU's confidence per topic (a topic gets its intent's confidence)."""
    priors: dict[str, float] = {}
    for item in ranking or ():
        name, confidence = item.get("name"), item.get("confidence")
        if not isinstance(name, str) or not isinstance(confidence, (int, float)):
            continue
        for topic in topics_for_intent(name, kb):
            priors[topic] = max(priors.get(topic, 0.0), float(confidence))
    return priors


def _content_terms(text: str, kb: KnowledgeBase) -> tuple[str, ...]:
    """The terms of a message that are not a municipality, a service kind or a situation."""
    ix = retrieval.index(kb)
    generic = kb.language.generic_words | kb.language.person_words
    return tuple(t for t in ix.terms(text) if t not in _frame_terms(kb) and t not in generic)


@per_knowledge_base
def _frame_terms(kb: KnowledgeBase) -> frozenset[str]:
    """The terms that only frame a question: municipalities, service kinds, situations, other places."""
    ix = retrieval.index(kb)
    phrases: list[str] = []
    for m in kb.municipalities.values():
        phrases += [m.name, m.short_name, m.id, *m.aliases]
    for kind in kb.service_kinds.values():
        phrases += kind.keywords
    for situation in kb.situations.values():
        if situation.kind:  # the others ("vederlagsfri fysioterapi") are what a question is about
            phrases += situation.keywords
    for other in kb.others:
        phrases += [other.name, *other.aliases]
    return frozenset(t for p in phrases for t in ix.terms(p))


def respond(state: State, intent: str, entities: Mapping[str, Iterable[str]], text: str,
            kb: KnowledgeBase | None = None, ranking: Iterable[Mapping[str, Any]] | None = None) -> Turn:
    """The bot's messages and the new state for one user turn.

    ``intent`` and ``entities`` are the NLU's reading (entity values grouped by entity name);
    ``ranking`` its intent ranking (``[{"name", "confidence"}]``), used as a prior on the topics.
    """
    kb = kb or knowledge()
    text = text[: names.MAX_TEXT].strip()
    if not text:
        return Turn((Message(kb.texts["dialogue"]["rephrase"], topic_buttons(kb)),), state, FALLBACK)
    if intent == FEEDBACK_INTENT:  # a rating of an answer (the widget's buttons): thanks; the conversation goes on
        return Turn((Message(kb.texts["english" if state.english else "dialogue"]["feedback_thanks"]),), state,
                    FEEDBACK)
    payload = text.startswith("/")
    reading = questions.read("" if payload else text, kb)
    english = reading.english or (state.english and not payload and not _looks_danish(text, kb))
    state = before = replace(state, english=english, on_behalf=state.on_behalf and not reading.about_self)
    t = kb.texts["english"] if english else kb.texts["dialogue"]
    opening: list[Message] = [Message(t["emergency"])] if reading.emergency else []
    if english and not payload and not (intent in ENGLISH_INTENTS and priors_confidence(ranking, intent) >= 0.7):
        intent, ranking = "nlu_fallback", ()  # the NLU is trained on Danish: its topic for English is noise
    if intent == MORE_INTENT and not payload and len(text.split()) > MORE_MAX_WORDS:
        intent = "nlu_fallback"  # "fortæl mere" asks for more; a longer message asks something of its own
    priors = _priors(ranking, kb)

    # where and which service: from the message, else kept from the conversation
    matches = [] if payload and intent != "inform_kommune" else _municipality_matches(
        entities.get("kommune", ()), text, kb)
    covered = list(dict.fromkeys(m.id for m in matches if m.covered and m.id))
    uncovered = [m for m in matches if not m.covered]
    if uncovered and not covered:
        key = "english" if english else "resolve"
        return Turn((*opening, Message(kb.texts[key]["not_covered"].format(name=uncovered[0].name))), state,
                    NOT_COVERED)
    kind = None if payload else _mentioned_kind(entities.get("service", ()), retrieval.index(kb).corrected(text), kb)
    if kind:
        state = replace(state, service=kind, excluded=tuple(k for k in state.excluded if k != kind))
    if len(covered) == 1:
        state = replace(state, kommune=covered[0])

    # an acute situation: the safety text, and an answer only to a question that has one
    if reading.emergency and (not state.kommune or not _asks_something(reading, text)):
        return Turn(tuple(opening), replace(state, decide_kind=None), EMERGENCY)
    confidence, words = priors_confidence(ranking, intent), len(text.split())
    # "er du en robot eller et rigtigt menneske?": a longer message is small talk only when the NLU is
    # all but certain and it names no training word
    short_and_sure = words <= SMALL_TALK_WORDS and confidence >= SMALL_TALK_CONFIDENCE or (
        words <= SMALL_TALK_LONG_WORDS and confidence >= SMALL_TALK_LONG_CONFIDENCE
        and not any(w in kb.language.generic_words for w in loose(text).split()))
    # "og hvem er det, der træner?": a follow-up with a question word of its own asks about the last answer
    asks_own = bool(before.question) and reading.followup and not covered and not kind and any(
        w in kb.language.topic_question_words for w in loose(text).split())
    if intent in SMALL_TALK and not asks_own and (short_and_sure or not _content_terms(text, kb)
                                 or _probe(state, text, kb, {}, rewrite=False, topics=True) < SURE):
        key = "greet" if english and intent == "greet" else SMALL_TALK[intent]
        return Turn((*opening, Message(t.get(key) or kb.texts["dialogue"][key])), state, CHAT)

    if reading.off_topic:
        reply = kb.texts["english"]["out_of_scope"] if english else kb.texts["dialogue"]["out_of_scope"]
        return Turn((*opening, Message(reply, topic_buttons(kb))), replace(state, decide_kind=None), OUT_OF_SCOPE)

    # the deciding question answered ("ja", "nej", or a sentence naming the kind)
    if before.decide_kind and (intent in ("affirm", "deny") or kind) and state.question:
        if not kind and intent == "affirm":
            state = replace(state, service=before.decide_kind)
        elif not kind:
            state = replace(state, service=None, excluded=(*state.excluded, before.decide_kind))
        return _answer(replace(state, decide_kind=None), state.question, kb, opening, priors, reading, reuse=True)
    if before.decide_kind and state.question and not covered and not _content_terms(text, kb) and not (
            topics_for_intent(intent, kb) and priors_confidence(ranking, intent) >= SURE_INTENT):
        # "det ved jeg ikke": the deciding question is not asked again; each service, briefly
        return _answer(replace(state, decide_kind=None), state.question, kb, opening, {}, reading, reuse=True,
                       listed=True)
    state = replace(state, decide_kind=None)

    if len(covered) > 1 or reading.compare and not (len(covered) == 1 and not _compare_words(text, kb)):
        # a comparison is about the kind of training it names, not one an earlier question named
        return _compare(replace(state, service=kind), text, covered, kb, opening, priors, english)
    if before.compare and not covered and (reading.followup or len(_content_terms(text, kb)) <= CARRY_MAX_TERMS):
        return _compare(replace(state, service=kind or before.service), text, [], kb, opening, priors,
                        english)  # "og hvis borgeren udebliver?"
    state = replace(state, compare=())
    if intent == MORE_INTENT:
        return _more(state, entities, kb, opening)
    if payload:
        topics = topics_for_intent(intent, kb)
        if topics:
            return _topic_overview(replace(state, topic=topics[0]), topics[0], kb, opening)
        if intent == "inform_kommune" and state.question:
            return _answer(state, state.question, kb, opening, {}, reading, reuse=True)
        return _which_topic(state, kb, opening) if state.kommune else _ask_kommune(state, kb, opening)

    if before.pending and covered and state.question and not _asks_something(reading, text):
        # "køge. jeg har været indlagt": the municipality (and situation) the pending question waited for
        return _answer(state, state.question, kb, opening, {}, reading, reuse=True)
    content = _content_terms(text, kb)
    if not content:
        # "og hvem er det, der træner ham?": no words of its own, but the NLU is sure of another topic
        new_topic = not covered and not kind and priors_confidence(ranking, intent) >= SURE_INTENT \
            and bool(topics_for_intent(intent, kb)) and state.topic not in topics_for_intent(intent, kb)
        if kind and not covered and before.topic == CONTACT_TOPIC:  # "og jobcentret?": that service's contact
            return _answer(state, text, kb, opening, {CONTACT_TOPIC: 1.0}, reading)
        if asks_own:
            return _answer(state, text, kb, opening, priors, reading, carry=True)
        if state.question and not new_topic and (covered or kind or intent == "inform_kommune" or reading.followup
                                                 or reading.correction):
            return _answer(state, state.question, kb, opening, priors, reading, reuse=True)
        if any(topics_for_intent(i, kb) and c >= TOPIC_INTENT_CONFIDENCE for i, c in _ranked_intents(ranking)):
            return _answer(state, text, kb, opening, priors, reading)  # "hvem kan få genoptræning?"
        if intent == "describe_situation" or names.find_situations(text, kb):
            return _situation(state, text, kb, opening)
        return _which_topic(state, kb, opening) if state.kommune else _ask_kommune(state, kb, opening)
    changed = (kind is not None and kind != before.service) or (bool(covered) and covered[0] != before.kommune)
    carry = bool(state.question) and (reading.followup or reading.correction or changed
                                      or len(content) <= CARRY_MAX_TERMS // 2)
    if not carry and _out_of_scope(state, text, intent, ranking, priors, kb):
        reply = kb.texts["english"]["out_of_scope"] if english else kb.texts["dialogue"]["out_of_scope"]
        return Turn((*opening, Message(reply, topic_buttons(kb))), state, OUT_OF_SCOPE)
    if reading.correction:  # the NLU read the rejected part too
        text, priors = questions.without_rejected(text, kb), {}
    return _answer(state, text, kb, opening, priors, reading, carry=carry)


def _out_of_scope(state: State, text: str, intent: str, ranking: Iterable[Mapping[str, Any]] | None,
                  priors: Mapping[str, float], kb: KnowledgeBase) -> bool:
    """Nothing about training: the NLU says out of scope and nothing matches well, or none of the
    message's words occurs anywhere in the knowledge base and it names no training word."""
    ix = retrieval.index(kb)
    said_out = intent == "out_of_scope" and priors_confidence(ranking, "out_of_scope") >= OUT_OF_SCOPE_CONFIDENCE
    terms = _content_terms(text, kb)
    domain = any(w in kb.language.generic_words for w in loose(text).split())
    # words the knowledge base has never seen: off-topic, unless the NLU could not read it at all
    # (gibberish is answered with "not sure" and the topics)
    unseen = bool(terms) and not domain and intent != "nlu_fallback" and all(not ix.known(t) for t in terms)
    if not said_out and not unseen:
        return False
    probe = _probe(state, text, kb, priors, topics=True)
    return probe < SURE if said_out else probe < MAYBE


def _asks_something(reading: questions.Reading, text: str) -> bool:
    """Whether a message has a question of its own (not only the whole text as a fallback)."""
    return reading.questions != (text.strip(),) or text.strip().endswith("?")


def _looks_danish(text: str, kb: KnowledgeBase) -> bool:
    """A short reply in a conversation held in English ("ja", "Køge") keeps English; Danish words switch back."""
    words = loose(text).split()
    return len(words) >= 3 and not questions.is_english(text, kb)


def _compare_words(text: str, kb: KnowledgeBase) -> bool:
    folded = loose(text)
    return any(p.search(folded) for p in kb.language.compare)


def _ranked_intents(ranking: Iterable[Mapping[str, Any]] | None) -> list[tuple[str, float]]:
    return [(str(i.get("name")), float(i["confidence"])) for i in ranking or ()
            if isinstance(i.get("confidence"), (int, float))]


def priors_confidence(ranking: Iterable[Mapping[str, Any]] | None, intent: str) -> float:
    for item in ranking or ():
        if item.get("name") == intent and isinstance(item.get("confidence"), (int, float)):
            return float(item["confidence"])
    return 0.0


def _probe(state: State, text: str, kb: KnowledgeBase, priors: Mapping[str, float], rewrite: bool = True,
           topics: bool = False) -> float:
    """How well a text's own words match any fact of the conversation's municipality (or of any):
    the evidence that it asks about training at all, for small talk and out-of-scope checks
    (small talk without the rewrites: "er du et menneske?" is not "tale med et menneske")."""
    ix = retrieval.index(kb)
    q = ix.query(text, rewrite=rewrite)
    ids = [state.kommune] if state.kommune else list(kb.municipalities)
    owns = [s.own for mid in ids for s in ix.rank(q, mid, kb.municipalities[mid].services, priors=priors)
            if s.candidate.fact]
    if topics and not q.empty:  # or a topic's phrasing by the text's own words ("adr?" is the contact topic's)
        owns.append(float(ix.topics.similarity(q).max()))
    return max(owns, default=0.0)


def _ask_kommune(state: State, kb: KnowledgeBase, opening: list[Message], question: str | None = None) -> Turn:
    text = kb.texts["english"]["ask_kommune"] if state.english else kb.texts["dialogue"]["ask_kommune"]
    new = replace(state, pending=True, question=question or state.question)
    return Turn((*opening, Message(text, kommune_buttons(kb))), new, ASK)


def _which_topic(state: State, kb: KnowledgeBase, opening: list[Message]) -> Turn:
    assert state.kommune
    name = kb.municipalities[state.kommune].short_name
    return Turn((*opening, Message(kb.texts["dialogue"]["which_topic"].format(name=name), topic_buttons(kb))), state,
                ASK)


def _situation(state: State, text: str, kb: KnowledgeBase, opening: list[Message]) -> Turn:
    situations = tuple(names.find_situations(text, kb)) or state.situations
    if not situations:
        return Turn((*opening, Message(kb.texts["dialogue"]["situation_needs_more"])), state, ASK)
    state = replace(state, topic=SITUATION, situations=situations)
    if not state.kommune:
        return _ask_kommune(state, kb, opening)
    result = eligibility.eligibility(state.kommune, situations, kb)
    # a situation the text says nothing about ("... siger ikke noget om situationen"): a gap in who can get what
    gaps = (Gap(state.kommune, "eligibility"),) if result.unknown else ()
    return Turn((*opening, Message(result.render())), replace(state, pending=False), SITUATION, gaps, SITUATION)


def _frame(m: Municipality, body: list[str], contacts: tuple[Contact, ...], kb: KnowledgeBase, english: bool,
           with_step: bool = True, on_behalf: bool = False) -> str:
    """The answer (for someone else: said once to be about the person who trains), the source line
    and the one next step."""
    t = kb.texts["english" if english else "dialogue"]
    parts = ([t["frame"]] if english else []) + ([t["on_behalf"]] if on_behalf else []) + ["\n".join(body)]
    parts.append(kb.texts["answer"]["source"].format(title=m.source_title))
    # the next step, unless the answer already gives the number of every unit it would name
    given = phones_in("\n".join(body)) if with_step else set()
    if with_step and not (contacts and all(c.phone and phone_digits(c.phone) in given for c in contacts)):
        parts.append(answers.steps(m, contacts, kb, with_hours=False).text)
    return "\n\n".join(parts)


def _answer(state: State, text: str, kb: KnowledgeBase, opening: list[Message], priors: Mapping[str, float],
            reading: questions.Reading, reuse: bool = False, carry: bool = False, listed: bool = False) -> Turn:
    """Answer the question(s) in ``text`` for the state's municipality (or ask which municipality).

    ``listed``: the services are listed briefly, never the deciding question (it was not answered).

    ``reuse``: ``text`` is the conversation's last question, asked again; ``carry``: ``text`` is a
    follow-up that changes one thing, read together with the last question.
    """
    if not state.kommune:
        return _ask_kommune(state, kb, opening, question=text)
    m = kb.municipalities[state.kommune]
    asked = questions.split_questions(text, kb)
    # the NLU reads the whole message: its intent is a prior for a single question only
    answerer = _Answerer(kb, state, priors if len(asked) == 1 else {}, state.english)
    last = state.topic if (reuse or reading.followup or reading.correction) and state.topic != SITUATION else None
    parts: list[Part] = []
    if len(asked) == 1:
        context = None if asked[0] == text else text
        if carry and state.question:
            context = state.question if context is None else f"{context} {state.question}"
        parts.append(answerer.part(m, asked[0], context=context, last_topic=last, compare=listed,
                                   previous=state.question if carry and not reuse else None))
    else:  # each question read with the story around them, not with the other questions
        story = text
        for question in asked:
            story = story.replace(question, " ")
        story = story if len(_content_terms(story, kb)) else ""
        for question in asked:
            parts.append(answerer.part(m, question, context=story or None, last_topic=last, compare=listed))
        parts = [p for p in parts if p.score >= MAYBE or p.decide_kind] or parts[:1]
    new = replace(state, pending=False, question=text if not reuse else state.question)
    deciding = next((p for p in parts if p.decide_kind), None)
    if deciding:
        kind = kb.service_kinds[deciding.decide_kind]  # type: ignore[index]
        question = kind.question_en if state.english and kind.question_en else kind.question
        new = replace(new, decide_kind=kind.id, topic=deciding.topic)
        return Turn((*opening, Message(question, yes_no_buttons(kb))), new, ASK)
    if not any(p.sure for p in parts):
        ranked = answerer.ranked(m, _scope(m, state, kb)[0] or tuple(m.services), text, None)[1]
        t = kb.texts["english"] if state.english else kb.texts["dialogue"]
        step = answers.steps(m, parts[0].contacts, kb).text
        return Turn((*opening, Message(f"{t['unsure']}", topic_buttons(kb, _near_topics(ranked))),
                     Message(kb.texts["dialogue"]["contact_hint"].format(step=step))), new, UNSURE)
    body: list[str] = []
    seen: set[str] = set()
    for p in parts:
        for line in p.lines:
            if line not in seen:
                seen.add(line)
                body.append(line)
    first = parts[0]
    is_contact = first.topic == CONTACT_TOPIC and len(parts) == 1
    # about someone else ("min mor"): said once in the conversation, before the first answer's facts
    about_other = not is_contact and not state.on_behalf and all(p.about_others for p in parts) and (
        reading.on_behalf or (reuse and questions.read(text, kb).on_behalf))
    reply = _frame(m, body, first.contacts, kb, state.english, with_step=not is_contact, on_behalf=about_other)
    if about_other:
        new = replace(new, on_behalf=True)
    buttons = tuple(more_button(t, kb) for t in dict.fromkeys(p.more for p in parts if p.more))[:2]
    topics = [p.topic for p in parts if p.topic]
    new = replace(new, topic=topics[0] if topics else state.topic)
    sources = _sources(m, (q for p in parts for q in p.quotes), () if is_contact else first.contacts)
    lacking = _scope(m, state, kb)[1]
    gaps = tuple(dict.fromkeys(Gap(m.id, topic, services, lacking if topic is None and not services else None)
                               for p in parts for topic, services in p.gaps))
    kind = NOT_STATED if gaps and not any(p.quotes for p in parts) else ANSWER
    return Turn((*opening, Message(reply, buttons, sources)), new, kind, gaps, topics[0] if topics else None)


def _topic_overview(state: State, topic: str, kb: KnowledgeBase, opening: list[Message]) -> Turn:
    """A topic button (``/ask_cost``): the topic's first fact for the services, with "Mere om …"."""
    label = kb.topics[topic].label
    state = replace(state, question=label)
    if not state.kommune:
        return _ask_kommune(state, kb, opening, question=label)
    return _answer(state, label, kb, opening, {topic: 1.0}, questions.read("", kb), reuse=True)


def _more(state: State, entities: Mapping[str, Iterable[str]], kb: KnowledgeBase, opening: list[Message]) -> Turn:
    """The rest of a topic on request: every fact of it for the conversation's service(s)."""
    topic = next((t for t in entities.get("topic", ()) if t in kb.topics), state.topic)
    if not state.kommune or not topic or topic == SITUATION:
        return _ask_kommune(state, kb, opening) if not state.kommune else _which_topic(state, kb, opening)
    m = kb.municipalities[state.kommune]
    services, _ = _scope(m, state, kb)
    result = answers.answer(m.id, topic, None, kb, services=services)
    sources = _sources(m, (f.quote for part in result.parts for f in part.facts))
    gaps = tuple(Gap(m.id, topic, part.service_ids) for part in result.parts if not part.stated)
    return Turn((*opening, Message(result.render(), sources=sources)), replace(state, topic=topic), MORE, gaps,
                topic)


def _compare(state: State, text: str, covered: list[str], kb: KnowledgeBase, opening: list[Message],
             priors: Mapping[str, float], english: bool) -> Turn:
    """One short line per municipality (the named ones, or all five).

    The topic is the one the question matches best across the municipalities; its answer per
    municipality comes from answers.compare, the function behind the lookup page's compare view, and
    is narrowed to the fact(s) that match the question, labelled with their service where services
    differ, or the honest "not stated".
    """
    ids = covered if len(covered) > 1 else list(state.compare) if state.compare and not covered else \
        list(kb.municipalities)
    ix = retrieval.index(kb)
    frame = _frame_terms(kb)
    q = ix.query(text, frame)
    if q.empty and state.question:
        q = ix.query(f"{text} {state.question}", frame)
    topic_sims = ix.topic_scores(q)
    totals: dict[str, float] = {}
    for mid in ids:
        m = kb.municipalities[mid]
        best: dict[str, float] = {}
        for s in ix.rank(q, mid, _scope(m, state, kb)[0] or tuple(m.services), priors=priors, topic_sims=topic_sims,
                         last_topic=state.topic if state.compare else None):
            best.setdefault(s.candidate.topic, s.score)
        for topic, score in best.items():
            totals[topic] = totals.get(topic, 0.0) + score
    new_state = replace(state, question=text, pending=False, compare=tuple(ids))
    if not totals or max(totals.values()) / len(ids) < MAYBE:
        t = kb.texts["english"] if english else kb.texts["dialogue"]
        return Turn((*opening, Message(t["unsure"], topic_buttons(kb))), new_state, UNSURE)
    topic = max(totals, key=lambda k: totals[k])
    d = kb.texts["dialogue"]
    by_municipality = {a.municipality_id: a for a in answers.compare(topic, state.service, kb)
                       if a.municipality_id in ids}
    lines, titles = [], []
    shown: list[Source] = []
    gaps: list[Gap] = []
    for mid in sorted(ids, key=lambda i: kb.municipalities[i].short_name):
        m = kb.municipalities[mid]
        body, silent = _compare_line(m, by_municipality[mid], q, topic, state, kb, english)
        gaps += [Gap(mid, t, services, kind) for t, services, kind in silent]
        lines.append(f"• {d['compare_item'].format(name=m.short_name, text=body)}")
        titles.append(m.source_title)
        # the quotes of the facts (and, for whom to call, the units) the line gives
        quotes = [f.quote for f in m.facts if f.text in body]
        quotes += [c.quote for c in m.contacts.values() if topic == CONTACT_TOPIC and c.name in body]
        shown += _sources(m, quotes)
    sources = d["compare_sources"].format(titles="; ".join(titles))
    parts = ([kb.texts["english"]["frame"]] if english else []) + ["\n".join(lines), sources]
    return Turn((*opening, Message("\n\n".join(parts), sources=tuple(shown))), replace(new_state, topic=topic),
                COMPARE, tuple(gaps), topic)


_Silent = list[tuple[str | None, tuple[str, ...], str | None]]  # (topic, services, kind not described)


def _compare_line(m: Municipality, answer: answers.Answer, q: retrieval.Query, topic: str, state: State,
                  kb: KnowledgeBase, english: bool) -> tuple[str, _Silent]:
    """One municipality's line: the matching fact of each of its services (briefly), or not stated;
    and what the line says the text is silent on."""
    t = kb.texts["answer"]
    services, lacking = _scope(m, state, kb)
    if lacking:  # the municipality's text does not describe the kind asked about: that, not "silent"
        return (t["service_not_described"].format(title=m.source_title,
                                                  service=kb.service_kinds[lacking].label.lower()),
                [(None, (), lacking)])
    if topic == CONTACT_TOPIC:  # every number the source gives, or that it gives none
        phones = [c for c in m.contacts.values() if c.phone]
        if not phones:
            return (t["no_phone"].format(title=m.source_title, name=" / ".join(c.name for c in m.main_contacts())),
                    [(topic, (), None)])
        return "; ".join(answers.next_step(m, c, kb, with_hours=False).text.rstrip(".") for c in phones) + ".", []
    scope = set(services or m.services)
    parts = [p for p in answer.parts if scope & set(p.service_ids)] or list(answer.parts)
    ix = retrieval.index(kb)
    score = {id(s.candidate.fact): s.own for s in ix.rank(q, m.id, tuple(scope)) if s.candidate.fact}
    lines = []
    for part in parts:
        if part.facts:
            best = max(part.facts, key=lambda f: score.get(id(f), 0.0))
            lines.append((part, best.text, score.get(id(best), 0.0)))
        else:
            lines.append((part, None, 0.0))
    stated = [x for x in lines if x[1]]
    if not stated:
        everything: _Silent = [(topic, tuple(s for p in parts for s in p.service_ids), None)]
        if english:
            return kb.texts["english"]["not_stated"].format(title=m.source_title), everything
        return t["not_stated"].format(title=m.source_title, missing=kb.topics[topic].missing), everything
    top = max(x[2] for x in stated)
    if top >= SPECIFIC_MATCH:  # a precise question: the services whose facts answer it
        stated = [x for x in stated if x[2] >= SPECIFIC_SHARE * top]
    silent = [s for p, text, _ in lines if not text for s in p.service_ids]
    said: dict[str, list[str]] = {}  # where services say the same, it is said once
    for p, text, _ in stated:
        said.setdefault(text, []).extend(p.service_ids)  # type: ignore[arg-type]
    if len(lines) == 1 or len(said) == 1 and not silent and len(lines) == len(stated):
        return stated[0][1], []  # type: ignore[return-value]
    shown = [t["service_item"].format(service=" / ".join(m.services[s].short_name for s in sids), text=text)
             for text, sids in said.items()]
    if silent:
        shown.append(t["service_item"].format(service=" / ".join(m.services[s].short_name for s in silent),
                                              text=t["not_stated_short"]))
    return " ".join(shown), [(topic, tuple(silent), None)] if silent else []


def error_turn(state: State, kb: KnowledgeBase | None = None) -> Turn:
    """What to say when something failed: an apology and, if known, the municipality's contact."""
    kb = kb or knowledge()
    municipality = kb.municipalities.get(state.kommune) if state.kommune else None
    hint: tuple[Message, ...] = ()
    if municipality is not None:
        hint = (Message(kb.texts["dialogue"]["contact_hint"].format(step=answers.main_contact_step(municipality, kb))),)
    return Turn((Message(kb.texts["dialogue"]["error"]), *hint), state, ERROR)
