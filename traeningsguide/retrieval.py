"""Which facts answer a question: a municipality's facts, not-stated entries and contacts, ranked.

The index is built once per knowledge base (:func:`index`, at the action server's start-up); a
question then costs one tokenisation and a few sparse dot products. A question is compared with

- each fact's own words (its text, its quote and its optional ``asks``), and
- each topic's phrasings (``asks`` in knowledge/topics.yml, and the topic label),

as TF-IDF vectors of lemmas (the Danish lookup lemmatizer of the project's spaCy pipeline, from
spacy-lookups-data) and of character n-grams (typos, spellings without æ/ø/å, compounds), both
loosely folded (textnorm.loose). The NLU's intent ranking is a prior on the topics, not a gate.
"""

from __future__ import annotations

import difflib
import gzip
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from traeningsguide.knowledge import Contact, Fact, KnowledgeBase, Municipality, NotStated
from traeningsguide.textnorm import loose, phones_in

CONTACT_TOPIC = "contact"
_WORD = re.compile(r"[0-9a-zæøåéüöä§]+")

# How a candidate's score is made (tuned on tests/eval/set1; README "How it works").
W_OWN = 0.55  # the candidate's own words (a fact's text, quote and asks; a contact's name and purpose)
W_TOPIC = 0.40  # the topic's phrasings
W_PRIOR = 0.25  # the NLU's confidence in the topic's intent
W_LAST = 0.10  # a follow-up: the conversation's last topic
CONTACT_EVIDENCE = 0.3  # a contact competes fully only when the question is about whom to contact
CONTACT_DISCOUNT = 0.5
W_PHONE = 0.15  # a question about whom to call: a fact that gives a phone number, times the contact topic's match
NOT_STATED_OWN = 0.45  # a not-stated entry has no words of its own: its topic's phrasings, discounted
NOT_STATED_POWER = 2  # … and its weaker matches count less still
CHAR_SHARE = 0.5  # character n-grams against lemmas in a cosine similarity
COVERAGE_SHARE = 0.5  # in a candidate's own-words similarity: the share of the question's weight it covers
MIN_PREFIX = 4  # a question word matches a longer word it begins ("telefon" in "telefonkonsultation")
TYPO_MIN_LENGTH = 5  # shorter unknown words are not corrected ("app" is not "apps")
TYPO_CUTOFF = 0.8  # how alike a typo and its correction must be (difflib's ratio)
MIN_HEAD = 5  # … or ends, a compound's head ("træning" in "holdtræning")


def _lemma_table_path() -> Path:
    import spacy_lookups_data  # the same table the Danish pipeline in build/spacy-da uses

    return Path(spacy_lookups_data.__file__).resolve().parent / "data" / "da_lemma_lookup.json.gz"


@dataclass(frozen=True)
class Candidate:
    """Something that can answer a question: a fact, a not-stated entry, or a contact."""

    municipality: str
    topic: str
    services: tuple[str, ...]
    fact: Fact | None = None
    not_stated: NotStated | None = None
    contact: Contact | None = None

    @property
    def kind(self) -> str:
        return "fact" if self.fact else "not_stated" if self.not_stated else "contact"


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    own: float  # similarity to the candidate's own words
    topic: float  # similarity to its topic's phrasings


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[str, ...]  # loosely folded lemmas without stop words
    word: object  # sparse row vectors
    char: object
    topical: Query | None = None  # the same without the generic words, for matching the topics

    @property
    def empty(self) -> bool:
        return not self.terms


class _Documents:
    """A set of short documents and how much of a question each one holds.

    Two measures, blended: the cosine of TF-IDF vectors (lemmas and character n-grams), which favours
    a document that says little besides the question's words; and the share of the question's
    word weight (IDF) the document contains, which does not punish a long fact or a long question.
    """

    def __init__(self, joined: list[str], word_vec: TfidfVectorizer, char_vec: TfidfVectorizer,
                 idf: Mapping[str, float], mean_idf: float) -> None:
        self.word = word_vec.transform(joined)
        self.char = char_vec.transform(joined)
        self.idf, self.mean_idf = idf, mean_idf
        self.rows_with: dict[str, list[int]] = {}
        for row, doc in enumerate(joined):
            for term in set(doc.split()):
                self.rows_with.setdefault(term, []).append(row)
        self.by_prefix: dict[str, list[str]] = {}
        self.by_suffix: dict[str, list[str]] = {}
        for term in self.rows_with:
            self.by_prefix.setdefault(term[:MIN_PREFIX], []).append(term)
            self.by_suffix.setdefault(term[-MIN_HEAD:], []).append(term)
        self.size = len(joined)

    def _matching_words(self, term: str) -> list[str]:
        """Words a question word stands for: itself, a compound it begins or ends ("telefon" in
        "telefonkonsultation", "plan" … "genoptræningsplan"), or a shorter word that begins it
        (at least MIN_PREFIX + 1 letters: "kørsel" in "kørselsordning")."""
        if len(term) < MIN_PREFIX:
            return [term] if term in self.rows_with else []
        words = [w for w in self.by_prefix.get(term[:MIN_PREFIX], ())
                 if w == term or w.startswith(term) or (len(w) > MIN_PREFIX and term.startswith(w))]
        if len(term) >= MIN_HEAD:
            words += [w for w in self.by_suffix.get(term[-MIN_HEAD:], ()) if w.endswith(term) and w not in words]
        return words

    def coverage(self, q: Query) -> np.ndarray:
        covered = np.zeros(self.size)
        total = 0.0
        for term in dict.fromkeys(q.terms):
            weight = float(self.idf.get(term, self.mean_idf))
            total += weight
            rows: set[int] = set()
            for word in self._matching_words(term):
                rows.update(self.rows_with[word])
            if rows:
                covered[list(rows)] += weight
        return covered / total if total else covered

    def similarity(self, q: Query) -> np.ndarray:
        if q.empty:
            return np.zeros(self.size)
        w = (self.word @ q.word.T).toarray().ravel()  # type: ignore[attr-defined,operator]
        c = (self.char @ q.char.T).toarray().ravel()  # type: ignore[attr-defined,operator]
        cosine = (1 - CHAR_SHARE) * w + CHAR_SHARE * c
        return (1 - COVERAGE_SHARE) * cosine + COVERAGE_SHARE * self.coverage(q)


class Index:
    """The matching index of one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        # words in nearly every question about training match everything, and a municipality's name
        # says where, not what: left out like stop words
        self.stop = kb.language.stop_words | _place_words(kb)
        self.lemmas = self._lemma_table(kb)
        self.candidates: dict[str, list[Candidate]] = {}
        docs: list[str] = []
        self.own_owner: list[tuple[str, int]] = []  # (municipality id, candidate index) per document
        for m in kb.municipalities.values():
            cands = self._candidates(m)
            self.candidates[m.id] = cands
            for i, c in enumerate(cands):
                for doc in self._own_docs(c):
                    docs.append(doc)
                    self.own_owner.append((m.id, i))
        topic_docs: list[str] = []
        self.topic_owner: list[str] = []
        for topic in kb.topics.values():
            for phrase in (topic.label, *topic.asks):
                topic_docs.append(phrase)
                self.topic_owner.append(topic.id)
        self._vocabulary(docs + topic_docs)
        self.generic = frozenset(loose(w) for w in kb.language.generic_words)
        corpus = [self._joined(d) for d in docs] + [self._joined(d, drop=self.generic) for d in topic_docs]
        self.word_vec = TfidfVectorizer(analyzer=str.split, sublinear_tf=True, norm="l2")
        self.char_vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, norm="l2")
        self.word_vec.fit(corpus)
        self.char_vec.fit(corpus)
        idf = dict(zip(self.word_vec.get_feature_names_out(), self.word_vec.idf_, strict=True))
        mean_idf = float(np.mean(self.word_vec.idf_))
        self.own = _Documents(corpus[: len(docs)], self.word_vec, self.char_vec, idf, mean_idf)
        self.topics = _Documents(corpus[len(docs):], self.word_vec, self.char_vec, idf, mean_idf)
        self._rows: dict[str, list[tuple[int, int]]] = {}
        for row, (mid, i) in enumerate(self.own_owner):
            self._rows.setdefault(mid, []).append((row, i))
        self.source_words = {mid: set(loose(kb.sources[m.source_file]).split())
                             for mid, m in kb.municipalities.items()}

    # -- building ---------------------------------------------------------------------------

    def _lemma_table(self, kb: KnowledgeBase) -> dict[str, str]:
        """form -> lemma for the forms whose lemma occurs in the knowledge base (the full table has
        553 000 forms; a form whose lemma is nowhere in the knowledge base cannot match anything)."""
        with gzip.open(_lemma_table_path(), "rt", encoding="utf-8") as handle:
            table: dict[str, str] = json.load(handle)
        words: set[str] = set()
        for text in _knowledge_texts(kb):
            words.update(_WORD.findall(text.lower()))
        wanted = {table.get(w, w) for w in words}
        return {form: lemma for form, lemma in table.items() if lemma in wanted and form != lemma}

    def _vocabulary(self, texts: list[str]) -> None:
        """Every word of the knowledge base, loosely folded -> its term (what typos are corrected to)."""
        vocabulary: dict[str, str] = {}
        for text in texts:
            for word in _WORD.findall(text.lower()):
                folded = loose(word)
                if folded and folded not in self.stop and folded not in vocabulary:
                    vocabulary[folded] = loose(self.lemmas.get(word, word))
        self.by_initial: dict[str, list[str]] = {}
        for word in vocabulary:
            if len(word) >= TYPO_MIN_LENGTH - 2:
                self.by_initial.setdefault(word[0], []).append(word)
        self.vocabulary = vocabulary

    @staticmethod
    def _candidates(m: Municipality) -> list[Candidate]:
        cands = [Candidate(m.id, f.topic, f.services, fact=f) for f in m.facts]
        cands += [Candidate(m.id, n.topic, n.services, not_stated=n) for n in m.not_stated]
        cands += [Candidate(m.id, CONTACT_TOPIC, tuple(m.services), contact=c) for c in m.contacts.values()]
        return cands

    def _own_docs(self, c: Candidate) -> list[str]:
        if c.fact:
            return [f"{c.fact.text} {c.fact.quote}", *c.fact.asks]
        if c.contact:
            return [f"{c.contact.name} {c.contact.purpose}"]
        topic = self.kb.topics[c.topic]
        return [topic.label, *topic.asks]

    # -- questions --------------------------------------------------------------------------

    def terms(self, text: str) -> tuple[str, ...]:
        """Loosely folded lemmas of a text, without stop words and municipality names (a function
        word is dropped before lemmatizing too: the table maps "med" to "mede"). A word the knowledge
        base does not know is read as the closest word it does know, if one is close ("kotser")."""
        out = []
        for word in _WORD.findall(text.lower()):
            folded = loose(word)
            if folded in self.stop:
                continue
            if word in self.lemmas:
                term = loose(self.lemmas[word])
            elif folded in self.vocabulary or not hasattr(self, "vocabulary"):
                term = self.vocabulary.get(folded, folded) if hasattr(self, "vocabulary") else folded
            else:
                term = self._closest(folded)
            if term and term not in self.stop and (len(term) > 1 or term.isdigit()):
                out.append(term)
        return tuple(out)

    def corrected(self, text: str) -> str:
        """The text with each unknown word replaced by the closest knowledge-base word (loosely
        folded), for finding service and situation keywords in a message with typos."""
        words = []
        for word in text.split():
            core = _WORD.fullmatch(loose(word))
            if core and word.lower() not in self.lemmas and core.group(0) not in self.vocabulary \
                    and core.group(0) not in self.stop and len(core.group(0)) >= TYPO_MIN_LENGTH:
                close = difflib.get_close_matches(core.group(0), [w for w in self.by_initial.get(core.group(0)[0], ())
                                                                  if abs(len(w) - len(core.group(0))) <= 2],
                                                  n=1, cutoff=TYPO_CUTOFF)
                words.append(close[0] if close else word)
            else:
                words.append(word)
        return " ".join(words)

    def _closest(self, folded: str) -> str:
        """A typo's knowledge-base word: same first letter, similar length, similar letters."""
        if len(folded) < TYPO_MIN_LENGTH or folded.isdigit():
            return folded
        candidates = [w for w in self.by_initial.get(folded[0], ()) if abs(len(w) - len(folded)) <= 2]
        close = difflib.get_close_matches(folded, candidates, n=1, cutoff=TYPO_CUTOFF)
        return self.vocabulary[close[0]] if close else folded

    def _joined(self, text: str, drop: frozenset[str] = frozenset()) -> str:
        return " ".join(t for t in self.terms(text) if t not in drop)

    def query(self, text: str, frame: frozenset[str] = frozenset(), frame_alone: bool = True) -> Query:
        """A question's vectors. ``frame``: words that only say who or which service the question is
        about ("genoptræningsplan", "min mor"); they are left out when other words remain (or always,
        without ``frame_alone``: a follow-up naming only a service asks the last question again)."""
        for pattern, word in self.kb.language.rewrites:
            text = pattern.sub(f" {word} ", text)
        terms = self.terms(text)
        content = tuple(t for t in terms if t not in frame)
        kept = content or (terms if frame_alone else ())
        joined = " ".join(kept)
        # a topic is not matched by "træning" or "genoptræning" alone
        topical = " ".join(t for t in kept if t not in self.generic)
        return Query(text, tuple(joined.split()), self.word_vec.transform([joined]), self.char_vec.transform([joined]),
                     Query(text, tuple(topical.split()), self.word_vec.transform([topical]),
                           self.char_vec.transform([topical])))

    def topic_scores(self, q: Query) -> dict[str, float]:
        """Each topic's best similarity over its phrasings."""
        best = dict.fromkeys(self.kb.topics, 0.0)
        for owner, sim in zip(self.topic_owner, self.topics.similarity(q.topical or q), strict=True):
            best[owner] = max(best[owner], float(sim))
        return best

    def rank(self, q: Query, municipality: str, services: Iterable[str], *,
             priors: Mapping[str, float] | None = None, last_topic: str | None = None,
             topic_sims: Mapping[str, float] | None = None) -> list[Scored]:
        """The municipality's candidates for ``services``, best first."""
        scope = set(services)
        priors = priors or {}
        topic_sims = topic_sims if topic_sims is not None else self.topic_scores(q)
        cands = self.candidates[municipality]
        own = np.zeros(len(cands))
        sims = self.own.similarity(q)
        for row, i in self._rows[municipality]:
            own[i] = max(own[i], float(sims[row]))
        scored = []
        for i, c in enumerate(cands):
            if not scope & set(c.services):
                continue
            t = topic_sims.get(c.topic, 0.0)
            mine = t ** NOT_STATED_POWER * NOT_STATED_OWN if c.not_stated else own[i]  # silence: on a clear topic
            if c.contact and max(t, priors.get(CONTACT_TOPIC, 0.0)) < CONTACT_EVIDENCE:
                mine *= CONTACT_DISCOUNT  # a unit's name in a question about something else
            score = W_OWN * mine + W_TOPIC * t + W_PRIOR * priors.get(c.topic, 0.0)
            if last_topic and c.topic == last_topic:
                score += W_LAST
            if c.fact and phones_in(c.fact.text):
                score += W_PHONE * topic_sims.get(CONTACT_TOPIC, 0.0)
            scored.append(Scored(c, score, float(mine), t))
        scored.sort(key=lambda s: -s.score)
        return scored

    def known(self, term: str) -> bool:
        """Whether a word (or a word it begins or ends) occurs anywhere in the knowledge base."""
        return bool(self.own._matching_words(term) or self.topics._matching_words(term))

    def unknown_terms(self, q: Query, municipality: str) -> tuple[str, ...]:
        """The question's specific words that the municipality's source text does not contain at all
        (nor a longer word starting with them): what the source is verifiably silent about."""
        lang = self.kb.language
        words = self.source_words[municipality]
        missing = []
        for term in q.terms:
            if term in lang.person_words or term.isdigit() or len(term) < 4:
                continue
            stem = term[: max(4, len(term) - 3)]
            if not any(w.startswith(stem) for w in words):
                missing.append(term)
        return tuple(missing)


def _place_words(kb: KnowledgeBase) -> frozenset[str]:
    words: set[str] = set()
    for m in kb.municipalities.values():
        for name in (m.name, m.short_name, m.id, *m.aliases, *m.ambiguous_aliases, *m.places):
            words.update(loose(name).split())
    for other in kb.others:
        for name in (other.name, *other.aliases):
            words.update(loose(name).split())
    return frozenset(words)


def _knowledge_texts(kb: KnowledgeBase) -> Iterable[str]:
    for m in kb.municipalities.values():
        for f in m.facts:
            yield f.text
            yield f.quote
            yield from f.asks
        for c in m.contacts.values():
            yield c.name
            yield c.purpose
    for t in kb.topics.values():
        yield t.label
        yield from t.asks


_INDEXES: dict[int, tuple[KnowledgeBase, Index]] = {}


def index(kb: KnowledgeBase) -> Index:
    """The index of a knowledge base, built on first use and kept for the process."""
    cached = _INDEXES.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    built = Index(kb)
    _INDEXES[id(kb)] = (kb, built)
    return built
