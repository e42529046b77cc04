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
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from traeningsguide.knowledge import Contact, Fact, KnowledgeBase, Municipality, NotStated, per_knowledge_base
from traeningsguide.textnorm import WORD, loose, phones_in

CONTACT_TOPIC = "contact"
CONDITION_WORDS = frozenset({"hvis", "safremt"})  # a fact stating a rule with a condition (loosely folded)
_WORD = WORD

# How a candidate's score is made (tuned on tests/eval/set1; README "How it works").
W_OWN = 0.65  # the candidate's own words (a fact's text, quote and asks; a contact's name and purpose)
W_TOPIC = 0.40  # the topic's phrasings
W_PRIOR = 0.25  # the NLU's confidence in the topic's intent
W_LAST = 0.10  # a follow-up: the conversation's last topic
CONTACT_EVIDENCE = 0.3  # a contact competes fully only when the question is about whom to contact
CONTACT_DISCOUNT = 0.5
W_IF = 0.05  # a "what if" question ("hvad hvis …", "og hvis …"): a fact that states a rule with a condition
W_PHONE = 0.15  # a question about whom to call: a fact that gives a phone number, times the contact topic's match
CALL_MATCH = 0.6  # … taken to be at least this when the question names a call word ("hvilket nummer", "ringe")
W_PLACE = 0.10  # a question naming a town ("jeg bor i Juelsminde"): a fact that names it (place names are
# otherwise left out of matching, like the municipalities' names: they say where, not what)
NEGATED = 0.85  # a negated topic's candidates, for a question without a negation word
NOT_STATED_OWN = 0.45  # a not-stated entry has no words of its own: its topic's phrasings, discounted
NOT_STATED_POWER = 2  # … and its weaker matches count less still
NOT_STATED_TOP = 0.95  # … and it answers only a question whose best topic match is (nearly) its topic
CHAR_SHARE = 0.5  # character n-grams against lemmas in a cosine similarity
CHAR_MIN, CHAR_MAX = 3, 5  # n-gram lengths
COVERAGE_SHARE = 0.5  # in a candidate's own-words similarity: the share of the question's weight it covers
MIN_PREFIX = 4  # a question word matches a longer word it begins ("telefon" in "telefonkonsultation")
MIN_LEMMA_LENGTH = 4  # the table's lemmas of short words are unreliable ("tit" -> "titte", "med" -> "mede")
QUERY_CACHE = 2048  # questions kept vectorised (a turn asks for the same text several times)
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
    word: Mapping[int, float]  # TF-IDF vectors: feature -> weight (l2-normalised)
    char: Mapping[int, float]
    topical: Query | None = None  # the same without the generic words, for matching the topics
    full: Query | None = None  # the same with the frame words, for matching a unit's name ("visitationen")

    @property
    def empty(self) -> bool:
        return not self.terms


def char_grams(terms: Iterable[str]) -> list[str]:
    """Character n-grams inside word boundaries, as scikit-learn's ``char_wb`` makes them."""
    grams = []
    for term in terms:
        padded = f" {term} "
        for n in range(CHAR_MIN, CHAR_MAX + 1):
            if len(padded) <= n:  # a word shorter than n is one n-gram, as scikit-learn makes it
                grams.append(padded)
                continue
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


class _Tfidf:
    """TF-IDF as scikit-learn's TfidfVectorizer(sublinear_tf=True, smooth_idf=True, norm="l2") computes it,
    without its per-call overhead: a question is weighted in microseconds, not milliseconds."""

    def __init__(self, documents: list[list[str]]) -> None:
        df: dict[str, int] = {}
        for features in documents:
            for f in set(features):
                df[f] = df.get(f, 0) + 1
        n = len(documents)
        self.index = {f: i for i, f in enumerate(sorted(df))}
        self.idf = np.array([math.log((1 + n) / (1 + df[f])) + 1 for f in sorted(df)])

    def vector(self, features: Iterable[str]) -> dict[int, float]:
        counts: dict[int, int] = {}
        for f in features:
            i = self.index.get(f)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        weights = {i: (1 + math.log(c)) * float(self.idf[i]) for i, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {i: w / norm for i, w in weights.items()} if norm else {}


class _Documents:
    """A set of short documents and how much of a question each one holds.

    Two measures, blended: the cosine of TF-IDF vectors (lemmas and character n-grams), which favours
    a document that says little besides the question's words; and the share of the question's
    word weight (IDF) the document contains, which does not punish a long fact or a long question.
    Both are computed through inverted indexes (feature -> documents).
    """

    def __init__(self, joined: list[str], words: _Tfidf, chars: _Tfidf, idf: Mapping[str, float],
                 mean_idf: float) -> None:
        self.idf, self.mean_idf = idf, mean_idf
        self.size = len(joined)
        self.word_postings = self._postings([words.vector(d.split()) for d in joined])
        self.char_postings = self._postings([chars.vector(char_grams(d.split())) for d in joined])
        self.rows_with: dict[str, list[int]] = {}
        for row, doc in enumerate(joined):
            for term in set(doc.split()):
                self.rows_with.setdefault(term, []).append(row)
        self.by_prefix: dict[str, list[str]] = {}
        self.by_suffix: dict[str, list[str]] = {}
        for term in self.rows_with:
            self.by_prefix.setdefault(term[:MIN_PREFIX], []).append(term)
            self.by_suffix.setdefault(term[-MIN_HEAD:], []).append(term)

    @staticmethod
    def _postings(vectors: list[dict[int, float]]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        rows: dict[int, list[tuple[int, float]]] = {}
        for row, vector in enumerate(vectors):
            for feature, weight in vector.items():
                rows.setdefault(feature, []).append((row, weight))
        return {f: (np.array([r for r, _ in items]), np.array([w for _, w in items])) for f, items in rows.items()}

    def _cosine(self, vector: Mapping[int, float], postings: Mapping[int, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        sims = np.zeros(self.size)
        for feature, weight in vector.items():
            hit = postings.get(feature)
            if hit is not None:
                sims[hit[0]] += weight * hit[1]
        return sims

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
        if not words:  # an inflected form the lemma table does not know: "toilettet" -> "toilet" (toiletbesøg)
            base = _stem(term)
            base = base[:-1] if len(base) > MIN_PREFIX and base[-1] == base[-2] and base[-1] not in "aeiouy" \
                else base
            if base != term and len(base) >= MIN_PREFIX + 1:
                words = [w for w in self.by_prefix.get(base[:MIN_PREFIX], ()) if w.startswith(base)]
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
        cosine = (1 - CHAR_SHARE) * self._cosine(q.word, self.word_postings) + \
            CHAR_SHARE * self._cosine(q.char, self.char_postings)
        return (1 - COVERAGE_SHARE) * cosine + COVERAGE_SHARE * self.coverage(q)


class Index:
    """The matching index of one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        # words in nearly every question about training match everything, and a municipality's name
        # says where, not what: left out like stop words
        self.stop = kb.language.stop_words | _place_words(kb)
        self.lemmas = self._lemma_table(kb)
        self._queries: dict[tuple[str, frozenset[str], bool, bool], Query] = {}
        self._sims: dict[tuple[str, str, tuple[str, ...]], object] = {}  # per question: similarities
        self._typos: dict[str, str] = {}  # a typo -> its term
        self._typo_words: dict[str, str] = {}  # a typo -> the knowledge-base word it was read as
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
        # "hvornår", "hvor", "hvem" say much about the topic: kept when matching topics
        self.question_words = kb.language.topic_question_words
        corpus = [self._joined(d) for d in docs] + [self._joined(d, drop=self.generic, keep=self.question_words)
                                                    for d in topic_docs]
        self.words = _Tfidf([d.split() for d in corpus])
        self.chars = _Tfidf([char_grams(d.split()) for d in corpus])
        idf = {f: float(self.words.idf[i]) for f, i in self.words.index.items()}
        mean_idf = float(np.mean(self.words.idf))
        self.own = _Documents(corpus[: len(docs)], self.words, self.chars, idf, mean_idf)
        self.topics = _Documents(corpus[len(docs):], self.words, self.chars, idf, mean_idf)
        self._rows: dict[str, list[tuple[int, int]]] = {}
        for row, (mid, i) in enumerate(self.own_owner):
            self._rows.setdefault(mid, []).append((row, i))
        self.source_words = {mid: set(loose(kb.sources[m.source_file]).split())
                             for mid, m in kb.municipalities.items()}
        topic_ids = list(kb.topics)
        self._topic_rows = np.array([topic_ids.index(t) for t in self.topic_owner], dtype=int)
        self._candidate_arrays()

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
        # every Danish word form, as spelt, as hashes (4 MB instead of a set of 553 000 strings): a real
        # word the knowledge base does not use is not a typo ("afmelding" is not "afdeling")
        self._danish = np.unique(np.fromiter((hash(w) for pair in table.items() for w in pair), dtype=np.int64))
        return {form: lemma for form, lemma in table.items() if lemma in wanted and form != lemma}

    def _vocabulary(self, texts: list[str]) -> None:
        """Every word of the knowledge base, loosely folded -> its term (what typos are corrected to)."""
        vocabulary: dict[str, str] = {}
        for text in texts:
            for word in _WORD.findall(text.lower()):
                folded = loose(word)
                if folded and folded not in self.stop and folded not in vocabulary:
                    lemma = self.lemmas.get(word, word) if len(word) >= MIN_LEMMA_LENGTH else word
                    vocabulary[folded] = loose(lemma)
        # a noun in -er whose definite form drops the e ("jobcenter", "jobcentret", "jobcenteret"): one term
        for word in list(vocabulary):
            for ending, base in (("eret", "er"), ("erets", "er"), ("rets", "er"), ("ret", "er")):
                stem = word[: -len(ending)]
                if word.endswith(ending) and len(stem) >= MIN_PREFIX and stem + base in vocabulary:
                    vocabulary[word] = vocabulary[stem + base]
                    break
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
        if c.contact:  # its name and purpose, and its address and web lines as a citizen reads them
            t = self.kb.texts["next_step"]
            where = [t["address"].format(address=c.contact.address.text)] if c.contact.address else []
            where += [t["web"].format(web=c.contact.web.text)] if c.contact.web else []
            return [" ".join([c.contact.name, c.contact.purpose, *where])]
        topic = self.kb.topics[c.topic]
        return [topic.label, *topic.asks]

    # -- questions --------------------------------------------------------------------------

    def terms(self, text: str, keep: frozenset[str] = frozenset()) -> tuple[str, ...]:
        """Loosely folded lemmas of a text, without stop words and municipality names (a function
        word is dropped before lemmatizing too: the table maps "med" to "mede"). A word the knowledge
        base does not know is read as the closest word it does know, if one is close ("kotser").
        ``keep``: stop words to keep (the question words, when a question is matched to a topic)."""
        out = []
        for word in _WORD.findall(text.lower()):
            folded = loose(word)
            if folded in keep:
                out.append(folded)
                continue
            if folded in self.stop:
                continue
            if word in self.lemmas and len(word) >= MIN_LEMMA_LENGTH:
                term = loose(self.lemmas[word])
            elif folded in self.vocabulary or not hasattr(self, "vocabulary"):
                term = self.vocabulary.get(folded, folded) if hasattr(self, "vocabulary") else folded
            else:
                term = self._closest(folded, word)
            if term and term not in self.stop and (len(term) > 1 or term.isdigit()):
                out.append(term)
        return tuple(out)

    def corrected(self, text: str) -> str:
        """The text with each unknown word replaced by the closest knowledge-base word (loosely
        folded), for finding service and situation keywords in a message with typos."""
        words = []
        for word in text.split():
            core = _WORD.fullmatch(loose(word))
            folded = core.group(0) if core else ""
            if core and word.lower() not in self.lemmas and folded not in self.vocabulary \
                    and folded not in self.stop and len(folded) >= TYPO_MIN_LENGTH:
                self._closest(folded, word.lower().strip(".,;:!?()\"'"))
                words.append(self._typo_words.get(folded, word))
            else:
                words.append(word)
        return " ".join(words)

    def _closest(self, folded: str, word: str = "") -> str:
        """A typo's knowledge-base word: same first letter, similar length, similar letters. ``word``
        (as typed, lower case): a real Danish word is kept, unless a knowledge-base word is one letter
        more or less ("sydom" is "sygdom")."""
        if len(folded) < TYPO_MIN_LENGTH or folded.isdigit():
            return folded
        if word and self.is_danish_word(word) and not self._one_letter_from_vocabulary(folded):
            return folded
        if folded in self._typos:
            return self._typos[folded]
        self._typos[folded] = self._closest_uncached(folded)
        return self._typos[folded]

    def is_danish_word(self, word: str) -> bool:
        """Whether a word (lower case, as spelt) is a form in the Danish lemma table."""
        i = int(np.searchsorted(self._danish, hash(word)))
        return i < len(self._danish) and int(self._danish[i]) == hash(word)

    def _one_letter_from_vocabulary(self, folded: str) -> bool:
        if not hasattr(self, "_deletions"):
            self._deletions = {w[:i] + w[i + 1:] for w in self.vocabulary for i in range(len(w))}
        return folded in self._deletions or any(folded[:i] + folded[i + 1:] in self.vocabulary
                                                for i in range(len(folded)))

    def _closest_uncached(self, folded: str) -> str:
        candidates = [w for w in self.by_initial.get(folded[0], ()) if abs(len(w) - len(folded)) <= 2]
        close = difflib.get_close_matches(folded, candidates, n=1, cutoff=TYPO_CUTOFF)
        if close:
            self._typo_words[folded] = close[0]
        return self.vocabulary[close[0]] if close else folded

    def _rewritten(self, text: str) -> str:
        """A question with the phrases of knowledge/language.yml's ``rewrites`` replaced ("i gang" ->
        "opstart"). Only questions: applied to the facts as well it lost more matches than it made
        (tests/eval set1: 224 -> 214 conversations)."""
        for pattern, word in self.kb.language.rewrites:
            text = pattern.sub(f" {word} ", text)
        return text

    def _joined(self, text: str, drop: frozenset[str] = frozenset(), keep: frozenset[str] = frozenset()) -> str:
        return " ".join(t for t in self.terms(text, keep) if t not in drop)

    def query(self, text: str, frame: frozenset[str] = frozenset(), frame_alone: bool = True,
              rewrite: bool = True) -> Query:
        key = (text, frame, frame_alone, rewrite)
        cached = self._queries.get(key)
        if cached is None:
            if len(self._queries) >= QUERY_CACHE:
                self._queries.clear()
            cached = self._queries[key] = self._query(text, frame, frame_alone, rewrite)
        return cached

    def _query(self, text: str, frame: frozenset[str], frame_alone: bool, rewrite: bool) -> Query:
        """A question's vectors. ``frame``: words that only say who or which service the question is
        about ("genoptræningsplan", "min mor"); they are left out when other words remain (or always,
        without ``frame_alone``: a follow-up naming only a service asks the last question again)."""
        rewritten = self._rewritten(self.corrected(text)) if rewrite else text  # "kotser" is "koster" first
        terms = self.terms(rewritten)
        content = tuple(t for t in terms if t not in frame and _stem(t) not in frame)
        kept = content or (terms if frame_alone else ())
        # a topic is not matched by "træning" alone, and its question words count ("hvornår …")
        asked = tuple(t for t in self.terms(rewritten, self.question_words) if t in self.question_words)
        topical = tuple(t for t in kept if t not in self.generic) + (asked if kept else ())
        full = None
        if tuple(kept) != terms:
            full = Query(text, terms, self.words.vector(terms), self.chars.vector(char_grams(terms)))
        return Query(text, tuple(kept), self.words.vector(kept), self.chars.vector(char_grams(kept)),
                     Query(text, topical, self.words.vector(topical), self.chars.vector(char_grams(topical))), full)

    def topic_scores(self, q: Query) -> dict[str, float]:
        """Each topic's best similarity over its phrasings."""
        key = ("topics", q.text, q.terms)
        if key not in self._sims:
            best = np.zeros(len(self.kb.topics))
            np.maximum.at(best, self._topic_rows, self.topics.similarity(q.topical or q))
            self._sims[key] = dict(zip(self.kb.topics, best.tolist(), strict=True))
        return self._sims[key]  # type: ignore[return-value]

    def _own_similarity(self, q: Query) -> np.ndarray:
        key = ("own", q.text, q.terms)
        if key not in self._sims:
            if len(self._sims) >= QUERY_CACHE:
                self._sims.clear()
            self._sims[key] = self.own.similarity(q)
        return self._sims[key]  # type: ignore[return-value]

    def rank(self, q: Query, municipality: str, services: Iterable[str], *,
             priors: Mapping[str, float] | None = None, last_topic: str | None = None,
             topic_sims: Mapping[str, float] | None = None, conditional: bool = False) -> list[Scored]:
        """The municipality's candidates for ``services``, best first."""
        priors = priors or {}
        topic_sims = topic_sims if topic_sims is not None else self.topic_scores(q)
        arrays = self._arrays[municipality]
        cands = self.candidates[municipality]
        own = np.zeros(len(cands))
        rows, owners = arrays["rows"], arrays["owners"]
        np.maximum.at(own, owners, self._own_similarity(q)[rows])
        if q.full is not None:  # a unit is matched by its name even where the name is also a service word
            named = np.zeros(len(cands))
            np.maximum.at(named, owners, self._own_similarity(q.full)[rows])
            own = np.where(arrays["contact"], np.maximum(own, named), own)
        topics = list(self.kb.topics)
        t = np.array([topic_sims.get(topic, 0.0) for topic in topics])[arrays["topic"]]
        prior = np.array([priors.get(topic, 0.0) for topic in topics])[arrays["topic"]]
        # a not-stated entry has no words of its own: its topic's phrasings, on a clear topic only
        # … and only on the topic the question matches best: a neighbouring topic's silence answers nothing
        top = max(topic_sims.values(), default=0.0)
        silence = t ** NOT_STATED_POWER * NOT_STATED_OWN * (t >= NOT_STATED_TOP * top)
        mine = np.where(arrays["not_stated"], silence, own)
        if max(topic_sims.get(CONTACT_TOPIC, 0.0), priors.get(CONTACT_TOPIC, 0.0)) < CONTACT_EVIDENCE:
            mine = np.where(arrays["contact"], mine * CONTACT_DISCOUNT, mine)  # a unit's name, asked about else
        score = W_OWN * mine + W_TOPIC * t + W_PRIOR * prior
        if last_topic in self.kb.topics:
            score = score + W_LAST * (arrays["topic"] == topics.index(last_topic))
        folded = f" {loose(q.text)} "
        asked = set(folded.split())
        calls = topic_sims.get(CONTACT_TOPIC, 0.0)
        if self.kb.language.call_words & asked:
            calls = max(calls, CALL_MATCH)
        score = score + W_PHONE * calls * arrays["phone"]
        if conditional:
            score = score + W_IF * arrays["conditional"]
        if not any(f" {w} " in folded for w in self.kb.language.negation_words):  # "can't" folds to "can t"
            score = score * np.where(arrays["negated"], NEGATED, 1.0)  # "hvem kan få …?" is not "… ikke få …?"
        named = self._places & asked
        if named:
            score = score + W_PLACE * np.array([bool(named & p) for p in self._candidate_places[municipality]])
        scope = set(services)
        in_scope = [i for i, c in enumerate(cands) if scope.intersection(c.services)]
        in_scope.sort(key=lambda i: -score[i])
        return [Scored(cands[i], float(score[i]), float(mine[i]), float(t[i])) for i in in_scope]

    def _candidate_arrays(self) -> None:
        """Per municipality, the candidates' features as arrays, for scoring them all at once."""
        topics = list(self.kb.topics)
        self._places = frozenset(loose(p) for m in self.kb.municipalities.values() for p in m.places) - {""}
        self._candidate_places = {mid: [frozenset(loose(c.fact.text).split()) & self._places if c.fact else frozenset()
                                        for c in cands] for mid, cands in self.candidates.items()}
        self._arrays: dict[str, dict[str, np.ndarray]] = {}
        for mid, cands in self.candidates.items():
            pairs = self._rows[mid]
            self._arrays[mid] = {
                "rows": np.array([r for r, _ in pairs], dtype=int),
                "owners": np.array([i for _, i in pairs], dtype=int),
                "topic": np.array([topics.index(c.topic) for c in cands], dtype=int),
                "not_stated": np.array([c.not_stated is not None for c in cands]),
                "negated": np.array([self.kb.topics[c.topic].negated for c in cands]),
                "contact": np.array([c.contact is not None for c in cands]),
                "phone": np.array([bool(c.fact and phones_in(c.fact.text)) for c in cands], dtype=float),
                "conditional": np.array([bool(c.fact and CONDITION_WORDS & set(loose(c.fact.text).split()))
                                         for c in cands], dtype=float),
            }

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


_ENDINGS = ("erne", "ene", "en", "et", "er", "ne", "e")


def _stem(term: str) -> str:
    """A word without a Danish inflection ending ("børnetræningen" -> "børnetræning"), for frame words."""
    for ending in _ENDINGS:
        if term.endswith(ending) and len(term) - len(ending) >= MIN_PREFIX:
            return term[: -len(ending)]
    return term


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


@per_knowledge_base
def index(kb: KnowledgeBase) -> Index:
    """The index of a knowledge base, built on first use and kept for the process."""
    return Index(kb)
