"""Reading a message: its questions, its language, and what kind of message it is.

Pure functions over knowledge/language.yml; no Danish prose here. A long message is split into
sentences, a sentence with two questions ("hvad koster det, og kan jeg få kørsel?") into two, and
the questions are kept (at most MAX_QUESTIONS); the rest of a story is context, used by the
dialogue to find the municipality, the service and the situation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from traeningsguide import names
from traeningsguide.knowledge import KnowledgeBase, Language
from traeningsguide.textnorm import loose, loose_letters

MAX_QUESTIONS = 3
ALTERNATIVES = frozenset({"eller", "or"})  # a joiner that opens a second question only with a question word
ENGLISH_MIN = 2  # English words a message needs to be read as English
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+|\n+")
_LABEL = re.compile(r"^\s*[^\s:]+(?:\s+[^\s:]+){0,2}:\s+")  # "Holbæk: hvor tit …", "3 ting om træningen i Køge: …"
_LIST_SEPARATOR = re.compile(r"\s+[+&;/]\s+|\s*;\s*")  # a terse lookup: "varighed + tlf"


@dataclass(frozen=True)
class Reading:
    text: str
    questions: tuple[str, ...]  # the question(s) in the message; the whole text when it has none
    english: bool
    emergency: bool
    compare: bool
    correction: bool
    followup: bool
    on_behalf: bool = False  # about someone else ("min mor")
    about_self: bool = False  # about the writer again ("mig selv")
    off_topic: bool = False  # a subject the guide never answers ("vejret", "en parkeringsbøde")

    @property
    def several(self) -> bool:
        return len(self.questions) > 1


def _content_words(words: list[str], lang: Language) -> list[str]:
    i = 0
    while i < len(words) and (words[i] in lang.lead_words or words[i] in lang.joiners):
        i += 1
    return words[i:]


def _opens_question(words: list[str], lang: Language) -> bool:
    """A question word ("hvad", "hvornår"), or a verb before its subject ("kan jeg", "er der")."""
    words = _content_words(words, lang)
    if not words:
        return False
    if words[0] in lang.question_words:
        return True
    return words[0] in lang.question_starts and len(words) > 1 and words[1] in lang.subjects


def _verb_first(words: list[str], lang: Language) -> bool:
    """A verb before its subject ("foregår det", "koster det"): in a sentence that asks, a question. The
    first word is no subject and no function word ("med det …"), the second a subject that does not
    follow verbs in plain clauses too ("og vente der")."""
    words = _content_words(words, lang)
    return len(words) > 1 and words[0] not in lang.subjects and words[0] not in lang.stop_words \
        and words[1] in lang.subjects and words[1] not in lang.clause_subjects


def _split_sentence(sentence: str, lang: Language) -> list[str]:
    """Split a sentence where a second question starts: "hvad koster det, og kan jeg få kørsel"; in a
    sentence that ends with a question mark also "…, og foregår det på hold?"."""
    asks = sentence.endswith("?")
    tokens = sentence.split()
    folded = [loose(t) for t in tokens]
    parts: list[list[str]] = [[]]
    i = 0
    while i < len(tokens):
        current = parts[-1]
        joiner = folded[i] in lang.joiners
        after = folded[i + 1 :] if joiner else folded[i:]
        starts = (joiner or tokens[i - 1].endswith(",")) if i else False
        opens = _opens_question(after[:3], lang) or (asks and joiner and tokens[i - 1].endswith(",")
                                                     and _verb_first(after[:2], lang))
        if joiner and folded[i] in ALTERNATIVES and not (after and after[0] in lang.question_words):
            opens = False  # "… på hold, eller kan man træne alene?" is one question; "…, eller hvordan …?" two
        if current and len(current) >= 2 and starts and opens:
            parts.append([])
            if joiner:
                i += 1  # the joiner belongs to neither question
                continue
        parts[-1].append(tokens[i])
        i += 1
    return [" ".join(p).strip(" ,;-") for p in parts if p]


def split_questions(text: str, kb: KnowledgeBase) -> tuple[str, ...]:
    """The questions a message asks, in order (at most MAX_QUESTIONS); ``(text,)`` when it asks none."""
    lang = kb.language
    found: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        label = _LABEL.match(sentence)
        if label and not _opens_question(loose(sentence[: label.end()]).split(), lang):
            sentence = sentence[label.end():]  # a call-center label before the questions
        statement = sentence.strip().endswith(".")
        asks = sentence.strip().endswith("?")
        for i, part in enumerate(_split_sentence(sentence.strip(), lang)):
            words = loose(part).split()
            if i and statement and not part.endswith("?"):
                continue  # "…, hvor hun bare var faldet." is a clause of a statement, not a question
            # in a sentence that asks: "Kan børnetræning også være for unge …, og hvor hurtigt …?" (a modal
            # verb first), and "…, og foregår det på hold, og …?" (a part split off at a verb before its subject)
            content = _content_words(words, lang)
            verb_first = asks and len(words) >= 2 and (content[:1] and content[0] in lang.modal_verbs
                                                       or i > 0 and _verb_first(words, lang))
            if part.endswith("?") and words or len(words) >= 2 and _opens_question(words, lang) or verb_first:
                found.append(part)
    real = [q for q in found if not _any(lang.asides, q)]
    found = real or found  # "Do you speak English?" beside a real question is no question of its own
    if not found:  # no question at all: a terse lookup may still list several ("varighed + tlf")
        found = [p.strip() for p in _LIST_SEPARATOR.split(text.strip()) if loose(p)]
        found = found if len(found) > 1 else []
    return tuple(found[:MAX_QUESTIONS]) or (text.strip(),)


def without_rejected(text: str, kb: KnowledgeBase) -> str:
    """A correction without what it rejects: "nej ikke afbud, jeg vil søge" -> "jeg vil søge"."""
    for pattern in kb.language.rejected:
        folded = " ".join(loose_letters(text).split())  # punctuation kept: the rejected part ends at a comma
        match = pattern.search(folded)
        if match and match.end() < len(folded):
            # cut the original text after as many words as the match covered
            words = len(folded[: match.end()].split())
            rest = " ".join(text.split()[words:])
            if rest:
                return rest
    return text


def glossed(text: str, kb: KnowledgeBase) -> str:
    """An English question with the Danish words of its English words added (for matching only)."""
    extra = [kb.language.glossary[w] for w in loose(text).split() if w in kb.language.glossary]
    return f"{text} {' '.join(extra)}" if extra else text


def is_english(text: str, kb: KnowledgeBase) -> bool:
    """More English words than Danish function words (and at least ENGLISH_MIN): Danish names and
    words inside an English sentence ("genoptræningsplan") do not make it Danish."""
    words = loose(text).split()
    english = sum(w in kb.language.english_words for w in words)
    danish = sum(w in kb.language.danish_words for w in words)
    return english >= ENGLISH_MIN and english > danish


def _any(patterns: tuple[re.Pattern[str], ...], text: str) -> bool:
    folded = loose(text)
    return any(p.search(folded) for p in patterns)


def what_if(text: str, kb: KnowledgeBase) -> bool:
    """A question about what happens under a condition ("hvad sker der, hvis …", "what if …")."""
    words = loose(text).split()
    return "hvis" in words or "if" in words


def acting_for(text: str, kb: KnowledgeBase) -> bool:
    """The writer asks what they may do for the one who trains ("må jeg søge for hende?")."""
    return _any(kb.language.acting_for, text)


def read(text: str, kb: KnowledgeBase) -> Reading:
    lang = kb.language
    covered = {m.id for m in names.find_municipalities(text, kb) if m.covered}
    return Reading(
        text=text,
        questions=split_questions(text, kb),
        english=is_english(text, kb),
        emergency=_any(lang.emergency, text),
        compare=len(covered) > 1 or _any(lang.compare, text),
        correction=_any(lang.correction, text),
        followup=_any(lang.followup, text),
        on_behalf=_any(lang.on_behalf, text),
        about_self=_any(lang.self_reference, text),
        off_topic=_any(lang.off_topic, text),
    )
