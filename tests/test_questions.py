"""traeningsguide.questions: the questions in a message, its language and what kind of message it is."""

from __future__ import annotations

import pytest

from traeningsguide import questions
from traeningsguide.knowledge import KnowledgeBase


@pytest.mark.parametrize("text,expected", [
    ("Hvad koster det, og kan jeg få kørsel?", ("Hvad koster det", "kan jeg få kørsel?")),
    ("skal jeg betale og hvor meget", ("skal jeg betale", "hvor meget")),
    ("hvad koster kørsel og træning i Køge?", ("hvad koster kørsel og træning i Køge?",)),  # one question
    ("Hvor lang tid varer sådan et forløb, og hvordan kommer jeg med?",
     ("Hvor lang tid varer sådan et forløb", "hvordan kommer jeg med?")),
    ("is it free in Hedensted, and do I need to arrange my own transport?",
     ("is it free in Hedensted", "do I need to arrange my own transport?")),
    ("Køge arbejdsrettet genoptræning – varighed + jobcenterets nr.",
     ("Køge arbejdsrettet genoptræning – varighed", "jobcenterets nr.")),
    ("køge afbud tlf", ("køge afbud tlf",)),
    # a clause of a statement is not a question; the question after it is
    ("Jeg faldt i sommer, hvor jeg var på ferie. Hvem ringer jeg til?", ("Hvem ringer jeg til?",)),
    ("Hun kom hjem i går, hvad nu. Hvornår starter hun?", ("Hvornår starter hun?",)),
    # in a sentence that asks, a part opening with a verb is a question, and so is ", og <verb> det …?"
    ("Kan vedligeholdelsestræning også være for yngre, og hvor lang tid tager det?",
     ("Kan vedligeholdelsestræning også være for yngre", "hvor lang tid tager det?")),
    ("Kan jeg få træning i Holbæk, og foregår det om aftenen?",
     ("Kan jeg få træning i Holbæk", "foregår det om aftenen?")),
    ("Jeg faldt, og det gjorde ondt. Kan jeg få træning?", ("Kan jeg få træning?",)),
    # "…, eller <verb> …?" offers an alternative (one question); "…, eller hvordan …?" asks a second
    ("Skal jeg træne på hold, eller kan jeg træne alene?", ("Skal jeg træne på hold, eller kan jeg træne alene?",)),
    ("Skal jeg selv ringe, eller hvordan gør man?", ("Skal jeg selv ringe", "hvordan gør man?")),
    # a part split off at a verb before its subject stays a question; a statement opening with a verb
    # that is not a modal is no question; "…, og vente der?" is one question
    ("Kan jeg få træning, og foregår det på hold, og hvad koster det?",
     ("Kan jeg få træning", "foregår det på hold", "hvad koster det?")),
    ("Har fået ny hofte, kan jeg få træning? Hvad koster det? Hvordan melder jeg afbud?",
     ("kan jeg få træning?", "Hvad koster det?", "Hvordan melder jeg afbud?")),
    ("Skal jeg tage bussen til centret, og vente der?", ("Skal jeg tage bussen til centret, og vente der?",)),
    # a question about the guide beside a real one is not a question of its own; alone it is
    ("Kan du forstå engelsk? Hvad koster kørsel i Køge?", ("Hvad koster kørsel i Køge?",)),
    ("Er du en robot?", ("Er du en robot?",)),
])
def test_split_questions(kb: KnowledgeBase, text: str, expected: tuple[str, ...]) -> None:
    assert questions.split_questions(text, kb) == expected


def test_a_story_keeps_only_its_questions(kb: KnowledgeBase) -> None:
    story = ("Min mor er faldet i sin stue. Hun bor alene og vil ikke selv ringe til kommunen. Hun er 84. "
             "Kan jeg ringe for hende, og hvem skal jeg ringe til?")
    assert questions.split_questions(story, kb) == ("Kan jeg ringe for hende", "hvem skal jeg ringe til?")


def test_at_most_three_questions(kb: KnowledgeBase) -> None:
    text = "Hvad koster det? Hvor foregår det? Hvornår starter det? Hvem træner mig?"
    assert len(questions.split_questions(text, kb)) == questions.MAX_QUESTIONS


@pytest.mark.parametrize("text,english", [
    ("Is rehabilitation free in Køge?", True),
    ("My dad came home from hospital with a genoptræningsplan. How often will he train?", True),
    ("hvad koster genoptræning i Køge", False),
    ("er det gratis i holbæk", False),
    ("Køge", False),
])
def test_english(kb: KnowledgeBase, text: str, english: bool) -> None:
    assert questions.is_english(text, kb) is english


@pytest.mark.parametrize("text", [
    "min far ligger på gulvet og kan ikke komme op",
    "jeg kan ikke få vejret",
    "hun sidder lige her og kan pludselig ikke løfte den ene arm",
    "min mor ligger paa kokkengulvet og svare ikke naar jeg raaber",
    "my husband has chest pain",
])
def test_emergencies(kb: KnowledgeBase, text: str) -> None:
    assert questions.read(text, kb).emergency


@pytest.mark.parametrize("text", [
    "min mor faldt i sidste måned og har ikke været indlagt, kan hun få træning?",
    "kan jeg få kørsel, hvis jeg ikke kan komme til træningen?",
    "hvad er afbudsreglerne",
])
def test_not_emergencies(kb: KnowledgeBase, text: str) -> None:
    assert not questions.read(text, kb).emergency


@pytest.mark.parametrize("text,compare", [
    ("hvilke kommuner tager penge for kørsel?", True),
    ("giv mig afbudsreglerne i alle fem kommuner", True),
    ("hvad koster det i Køge og i Holbæk?", True),  # two covered municipalities named
    ("hvad koster det i Køge?", False),
])
def test_comparisons(kb: KnowledgeBase, text: str, compare: bool) -> None:
    assert questions.read(text, kb).compare is compare


def test_a_correction_loses_what_it_rejects(kb: KnowledgeBase) -> None:
    reading = questions.read("nej ikke melde fra, jeg vil søge om at komme til træning", kb)
    assert reading.correction
    assert questions.without_rejected(reading.text, kb) == "jeg vil søge om at komme til træning"
    assert questions.read("næ, det var børnetræningen jeg tænkte på", kb).correction
    assert not questions.read("hvad koster det?", kb).correction


def test_follow_ups(kb: KnowledgeBase) -> None:
    for text in ("og i Rødovre?", "hvad med børnetræning", "og hvis han ikke har fået en plan?"):
        assert questions.read(text, kb).followup, text
    assert not questions.read("Hvad koster det, og kan jeg få kørsel?", kb).followup


def test_english_words_are_glossed_for_matching_only(kb: KnowledgeBase) -> None:
    glossed = questions.glossed("Is it free?", kb)
    assert glossed.startswith("Is it free?") and "gratis" in glossed
