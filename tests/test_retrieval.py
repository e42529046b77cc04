"""traeningsguide.retrieval: a municipality's facts ranked for a question."""

from __future__ import annotations

import pytest

from traeningsguide import retrieval
from traeningsguide.knowledge import KnowledgeBase


def _top(kb: KnowledgeBase, municipality: str, text: str, n: int = 1) -> list[retrieval.Scored]:
    ix = retrieval.index(kb)
    return ix.rank(ix.query(text), municipality, kb.municipalities[municipality].services)[:n]


def test_the_index_is_built_once_per_knowledge_base(kb: KnowledgeBase) -> None:
    assert retrieval.index(kb) is retrieval.index(kb)


def test_the_lemma_table_is_the_pipelines_and_kept_small(kb: KnowledgeBase) -> None:
    ix = retrieval.index(kb)
    assert ix.lemmas["kørslen"] == "kørsel"  # spacy-lookups-data's Danish table, as in build/spacy-da
    assert len(ix.lemmas) < 50_000  # only forms whose lemma occurs in the knowledge base (of 553 000)
    assert ix.terms("kørslen til sygehusene") == ("korsel", "sygehus")


def test_a_price_question_finds_the_price(kb: KnowledgeBase) -> None:
    best = _top(kb, "holbaek", "hvad koster kørsel til træning")[0]
    assert best.candidate.fact is not None and "50 kroner" in best.candidate.fact.text


def test_typos_and_spellings_without_danish_letters(kb: KnowledgeBase) -> None:
    best = _top(kb, "holbaek", "hvad kotser korsel til traening")[0]
    assert best.candidate.fact is not None and "50 kroner" in best.candidate.fact.text


def test_a_specific_question_finds_the_specific_fact_inside_its_topic(kb: KnowledgeBase) -> None:
    best = _top(kb, "koege", "må jeg træne i cowboybukser")[0]
    assert best.candidate.topic == "what_to_bring" and "jeans" in best.candidate.fact.text  # type: ignore[union-attr]


def test_a_silent_topic_is_a_not_stated_candidate(kb: KnowledgeBase) -> None:
    best = _top(kb, "roskilde", "hvordan melder jeg afbud")[0]
    assert best.candidate.kind == "not_stated" and best.candidate.topic == "cancellation"


def test_the_nlu_intent_is_a_prior_not_a_gate(kb: KnowledgeBase) -> None:
    ix = retrieval.index(kb)
    q = ix.query("hvad med det")
    services = kb.municipalities["koege"].services
    with_prior = ix.rank(q, "koege", services, priors={"cancellation": 1.0})[0]
    assert with_prior.candidate.topic == "cancellation"
    specific = ix.rank(ix.query("må jeg træne i cowboybukser"), "koege", services, priors={"cancellation": 0.5})[0]
    assert specific.candidate.topic == "what_to_bring"  # the words win over a weak wrong prior


def test_words_the_source_never_uses_are_reported(kb: KnowledgeBase) -> None:
    ix = retrieval.index(kb)
    q = ix.query("er der omklædning")
    assert ix.unknown_terms(q, "roskilde") == ("omkledning",)  # Roskilde's folder says nothing about it
    assert ix.unknown_terms(q, "koege") == ()  # Køge's page does ("omklædningsfaciliteter")


def test_scope_keeps_other_services_out(kb: KnowledgeBase) -> None:
    ix = retrieval.index(kb)
    ranked = ix.rank(ix.query("hvad koster kørsel"), "koege", ["assessed"])
    assert ranked and all("assessed" in s.candidate.services for s in ranked)


def test_the_definite_forms_of_a_noun_in_er_are_one_term(kb: KnowledgeBase) -> None:
    ix = retrieval.index(kb)
    assert ix.terms("jobcentret") == ix.terms("jobcenteret") == ix.terms("jobcenter")
    best = _top(kb, "koege", "hvad er nummeret til jobcentret?")[0].candidate
    said = best.fact.text if best.fact else best.contact.phone if best.contact else ""
    assert "56 67 66 80" in (said or "")  # the job centre's number, not the afbud line's


def test_an_inflected_form_the_lemma_table_does_not_know_matches_its_compound(kb: KnowledgeBase) -> None:
    # the table reads "toilettet" as "toilette"; the knowledge base says "toiletbesøg"
    ix = retrieval.index(kb)
    assert ix.lemmas.get("toilettet") is None or ix.lemmas["toilettet"] != "toilet"
    assert ix.known("toilettet") and not ix.known("toilettetx")
    best = _top(kb, "holbaek", "kan jeg få hjælp til toilettet under træningen?")[0].candidate
    assert best.fact and "toiletbesøg" in best.fact.text


@pytest.mark.parametrize("typed,term", [
    ("afmelding", "afmelding"),  # a real Danish word the knowledge base does not use: kept, not "afdeling"
    ("hemmet", "hjem"),  # not a word as spelt (only folded, "hæmmet"): corrected
    ("sydom", "sygdom"),  # one letter from a knowledge-base word: corrected, although the lemma table has it
    ("kotser", "koste"),
])
def test_typos_are_corrected_but_real_words_are_not(kb: KnowledgeBase, typed: str, term: str) -> None:
    assert retrieval.index(kb).terms(typed) == (term,)
