"""traeningsguide.dialogue: one conversation turn at a time, without Rasa."""

from __future__ import annotations

import pytest

from traeningsguide.dialogue import SITUATION, State, kommune_buttons, respond, topic_buttons
from traeningsguide.knowledge import KnowledgeBase


def _turn(kb: KnowledgeBase, state: State, intent: str, text: str, **entities: str):  # type: ignore[no-untyped-def]
    return respond(state, intent, {k: [v] for k, v in entities.items()}, text, kb)


def test_a_question_naming_the_municipality_is_answered_at_once(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_transport", "hvad koster kørsel i Holbæk?", kommune="Holbæk")
    text = turn.messages[0].text
    assert "50 kroner" in text and "Kilde: Holbæk Kommunes" in text
    assert turn.state.kommune == "holbaek" and turn.state.topic == "transport" and not turn.state.pending


def test_without_a_municipality_the_guide_asks_and_then_answers_the_pending_question(kb: KnowledgeBase) -> None:
    first = _turn(kb, State(), "ask_cost", "hvad koster genoptræning?")
    assert first.state.pending and first.state.topic == "cost"
    assert [b.title for b in first.messages[0].buttons] == ["Hedensted", "Holbæk", "Køge", "Roskilde", "Rødovre"]
    second = _turn(kb, first.state, "inform_kommune", "Køge", kommune="koege")
    assert "gratis" in second.messages[0].text and "Kilde: Køge Kommunes" in second.messages[0].text
    assert not second.state.pending


def test_the_municipality_is_remembered_for_the_next_topic(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_cost", "pris i hedensted", kommune="hedensted").state
    turn = _turn(kb, state, "ask_contact", "hvad er telefonnummeret?")
    assert "79 91 82 50" in turn.messages[0].text


def test_og_i_roedovre_repeats_the_topic_for_the_new_municipality(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_frequency", "hvor mange gange kan man træne i koege", kommune="koege").state
    turn = _turn(kb, state, "inform_kommune", "og i Rødovre?", kommune="Rødovre")
    assert turn.state.kommune == "roedovre" and turn.state.topic == "frequency"
    assert "32 gange" in turn.messages[0].text


def test_a_municipality_the_guide_does_not_cover(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_cost", "pris i køge", kommune="køge").state
    turn = _turn(kb, state, "ask_cost", "hvad koster det i Aarhus", kommune="Aarhus")
    assert len(turn.messages) == 1
    assert "Aarhus Kommune er ikke med" in turn.messages[0].text
    assert turn.state == state  # nothing about Aarhus is remembered or answered


def test_the_municipality_is_found_in_the_text_when_the_nlu_missed_it(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_cost", "hvad koster det i koege")
    assert turn.state.kommune == "koege"


def test_differing_services_get_the_deciding_question_and_yes_narrows_it(kb: KnowledgeBase) -> None:
    first = _turn(kb, State(), "ask_transport", "kørsel i køge", kommune="koege")
    assert "Har du fået en genoptræningsplan fra sygehuset?" in first.messages[0].text
    assert first.state.decide_kind == "rehab_after_hospital"
    yes = _turn(kb, first.state, "affirm", "ja")
    assert "bevilget kørsel" in yes.messages[0].text and "selv betale" not in yes.messages[0].text
    assert yes.state.service == "rehab_after_hospital"


def test_no_to_the_deciding_question_leaves_out_that_service(kb: KnowledgeBase) -> None:
    first = _turn(kb, State(), "ask_transport", "kørsel i køge", kommune="koege")
    no = _turn(kb, first.state, "deny", "nej")
    text = no.messages[0].text
    assert "Genoptræning efter sygehusophold" not in text
    assert "gældende takst" in text


def test_a_service_named_in_the_question_is_used(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_transport", "kørsel efter sygehusophold i køge", kommune="koege")
    assert turn.state.service == "rehab_after_hospital"
    assert "Sådan er det for hver" not in turn.messages[0].text


def test_eligibility_question_covers_who_can_and_cannot(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_eligibility", "hvem kan få genoptræning i holbæk", kommune="holbaek")
    text = turn.messages[0].text
    assert "Du skal bo i Holbæk Kommune" in text  # who can get it
    assert "forening" in text  # who cannot: those able to use club offers (exclusions)


def test_a_situation_is_checked_against_the_rules(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(kommune="hedensted"), "describe_situation",
                 "min mor er lige blevet udskrevet med en genoptræningsplan")
    assert turn.state.topic == SITUATION
    assert "Genoptræning efter sygehusindlæggelse" in turn.messages[0].text


def test_a_situation_without_a_municipality_waits_for_it(kb: KnowledgeBase) -> None:
    first = _turn(kb, State(), "describe_situation", "min søn på 9 har brug for træning")
    assert first.state.pending and first.state.situations == ("child",)
    second = _turn(kb, first.state, "inform_kommune", "hedensted", kommune="hedensted")
    assert "Træning af børn" in second.messages[0].text


def test_a_vague_situation_asks_for_more(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(kommune="koege"), "describe_situation", "min mor har det dårligt")
    assert "genoptræningsplan" in turn.messages[0].text and turn.state.topic is None


def test_fallback_offers_topics_and_the_known_municipalitys_phone(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(kommune="hedensted"), "nlu_fallback", "blabla qwerty")
    assert turn.messages[0].buttons == topic_buttons(kb)
    assert "79 91 82 50" in turn.messages[1].text
    assert len(_turn(kb, State(), "nlu_fallback", "blabla").messages) == 1  # no municipality, no phone


def test_out_of_scope(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "out_of_scope", "hvordan fornyer jeg mit pas")
    assert "kan jeg desværre ikke hjælpe med" in turn.messages[0].text
    assert turn.messages[0].buttons


def test_municipality_alone_without_a_question_asks_what_to_know(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "inform_kommune", "jeg bor i Roskilde", kommune="Roskilde")
    assert "Hvad vil du gerne vide om træning i Roskilde?" in turn.messages[0].text
    assert turn.state.kommune == "roskilde"


@pytest.mark.parametrize("cpr", ["010150-1234", "0101501234", "010150 1234"])
def test_a_cpr_number_is_never_repeated(kb: KnowledgeBase, cpr: str) -> None:
    turn = _turn(kb, State(), "ask_cost", f"min mor {cpr} bor i koege, hvad koster genoptræning")
    assert turn.messages[0].text
    digits = cpr.replace("-", "").replace(" ", "")
    for message in turn.messages:
        assert digits[:6] not in message.text.replace(" ", "").replace("-", "")


def test_buttons_use_known_intents_and_municipalities(kb: KnowledgeBase) -> None:
    for button in topic_buttons(kb):
        assert button.payload.lstrip("/") in {t.intent for t in kb.topics.values()}
    assert {b.payload for b in kommune_buttons(kb)} == {
        f'/inform_kommune{{"kommune":"{m}"}}' for m in kb.municipalities
    }


def test_state_round_trips_through_slots() -> None:
    state = State("koege", "rehab", "cost", True, "rehab_after_hospital", ("child",))
    assert State.from_slots(state.as_slots()) == state
    assert State.from_slots({}) == State()
