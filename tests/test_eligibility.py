"""Situation -> which service applies in each municipality, or why none does."""

from __future__ import annotations

import pytest

from traeningsguide.answers import GuideInputError
from traeningsguide.eligibility import eligibility
from traeningsguide.knowledge import KnowledgeBase


def test_discharged_with_a_plan(kb: KnowledgeBase) -> None:
    for mid in ("hedensted", "koege", "roedovre", "roskilde"):
        result = eligibility(mid, ["discharged_with_plan"], kb=kb)
        assert result.services == ("after_hospital",), mid
        assert result.applies and all(r.quote for r in result.applies)


def test_holbaek_is_silent_on_training_after_a_hospital_stay_not_a_no(kb: KnowledgeBase) -> None:
    """Holbæk's text describes § 86 stk. 1 only: silence on after-hospital training is not "no" (HOL-2)."""
    result = eligibility("holbaek", ["discharged_with_plan"], kb=kb)
    assert result.services == () and result.excluded == ()
    assert [r.service for r in result.notes] == ["rehab"]
    assert "sygehusindlæggelse" in result.notes[0].quote
    assert "passer ingen af kommunens tilbud" not in result.text


def test_roedovre_excludes_its_section_86_training_after_discharge_with_a_plan(kb: KnowledgeBase) -> None:
    result = eligibility("roedovre", ["discharged_with_plan"], kb=kb)
    assert "rehab" in {r.service for r in result.excluded}


def test_child_in_hedensted(kb: KnowledgeBase) -> None:
    result = eligibility("hedensted", ["child"], kb=kb)
    assert "children" in result.services
    assert "under 18" in " ".join(r.quote for r in result.applies)


def test_child_in_koege_gets_what_the_page_says_about_age(kb: KnowledgeBase) -> None:
    """Køge names no age limit for training after a hospital stay and says visiteret training is
    primarily for older citizens: notes, not a "no" (KOE-5)."""
    result = eligibility("koege", ["child"], kb=kb)
    assert {r.service for r in result.notes} == {"after_hospital", "assessed"} and not result.excluded


@pytest.mark.parametrize("mid", ["holbaek", "roedovre", "roskilde"])
def test_child_where_the_source_is_silent(kb: KnowledgeBase, mid: str) -> None:
    result = eligibility(mid, ["child"], kb=kb)
    assert result.services == () and result.unknown == ("child",)
    assert "siger ikke noget om situationen: barn eller ung under 18 år" in result.text
    assert result.next_step.contact.name in result.next_step.text


def test_not_hospitalised(kb: KnowledgeBase) -> None:
    assert eligibility("hedensted", ["not_hospitalised"], kb=kb).services == ("rehab",)
    assert eligibility("holbaek", ["not_hospitalised"], kb=kb).services == ("rehab",)
    assert eligibility("roskilde", ["not_hospitalised"], kb=kb).services == ("training",)
    assert eligibility("koege", ["not_hospitalised"], kb=kb).services == ("assessed",)


def test_permanent_reduced_function(kb: KnowledgeBase) -> None:
    assert eligibility("hedensted", ["permanent_reduced_function"], kb=kb).services == ("maintenance",)
    assert eligibility("koege", ["permanent_reduced_function"], kb=kb).services == ("assessed",)


@pytest.mark.parametrize("mid,excluded", [("roedovre", "rehab")])
def test_able_to_train_elsewhere_excludes(kb: KnowledgeBase, mid: str, excluded: str) -> None:
    result = eligibility(mid, ["not_hospitalised", "can_train_elsewhere"], kb=kb)
    assert excluded in {r.service for r in result.excluded}
    assert excluded not in result.services


def test_koege_assesses_whether_the_need_is_covered_otherwise_so_it_is_a_note(kb: KnowledgeBase) -> None:
    """Køge's text lists "ude af stand til at få dit træningsbehov dækket på anden vis" among what a
    visitator assesses, and offers "Selvtræning efter instruktion" itself: a note, not an exclusion."""
    result = eligibility("koege", ["not_hospitalised", "can_train_elsewhere"], kb=kb)
    assert not result.excluded and "assessed" in result.services
    note = next(r for r in result.notes if r.service == "assessed")
    assert "vurder" in note.text and "dækket på anden vis" in note.quote


def test_holbaek_offers_self_training_itself_so_training_alone_is_a_note(kb: KnowledgeBase) -> None:
    """Holbæk excludes those who can use clubs or a private physiotherapist, and offers self-training
    itself: "can train on your own" is a note there, not an exclusion (HOL-1, the review's WRONG item)."""
    result = eligibility("holbaek", ["not_hospitalised", "can_train_elsewhere"], kb=kb)
    assert "rehab" in result.services and not result.excluded
    assert [r.service for r in result.notes] == ["rehab"]


@pytest.mark.parametrize("mid,excluded", [("holbaek", "rehab"), ("koege", "assessed")])
def test_free_physiotherapy_for_the_same_condition(kb: KnowledgeBase, mid: str, excluded: str) -> None:
    result = eligibility(mid, ["not_hospitalised", "free_physio_same_condition"], kb=kb)
    assert result.services == ()
    assert excluded in {r.service for r in result.excluded}
    assert "fysioterapi" in " ".join(r.quote for r in result.excluded).lower()


def test_every_result_ends_with_whom_to_contact(kb: KnowledgeBase) -> None:
    for mid in kb.municipalities:
        for situation in kb.situations:
            result = eligibility(mid, [situation], kb=kb)
            assert result.text.endswith(kb.texts["eligibility"]["decided_by"])
            assert result.next_step.text
            assert result.source.startswith("Kilde: ")


def test_bad_input(kb: KnowledgeBase) -> None:
    with pytest.raises(GuideInputError):
        eligibility("hedensted", [], kb=kb)
    with pytest.raises(GuideInputError):
        eligibility("hedensted", ["rich"], kb=kb)
    with pytest.raises(GuideInputError):
        eligibility("Aarhus", ["child"], kb=kb)
