"""traeningsguide.dialogue: one conversation turn at a time, without Rasa.

The NLU's reading is given as the intent (and, where it matters, its ranking); the answers are
checked on the text a citizen reads: the first sentence answers the question, from a fact.
"""

from __future__ import annotations

import re

import pytest

from traeningsguide import answers, dialogue
from traeningsguide.dialogue import SITUATION, State, kommune_buttons, respond, topic_buttons
from traeningsguide.knowledge import KnowledgeBase


def _turn(kb: KnowledgeBase, state: State, intent: str, text: str, confidence: float = 0.9,
          **entities: str) -> dialogue.Turn:
    ranking = [{"name": intent, "confidence": confidence}]
    return respond(state, intent, {k: [v] for k, v in entities.items()}, text, kb, ranking=ranking)


def _text(turn: dialogue.Turn) -> str:
    return "\n".join(m.text for m in turn.messages)


def _fact_texts(kb: KnowledgeBase, municipality: str) -> set[str]:
    return {f.text for f in kb.municipalities[municipality].facts}


def test_a_question_naming_the_municipality_is_answered_at_once_from_a_fact(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_transport", "hvad koster kørsel i Holbæk?", kommune="Holbæk")
    first_paragraph = turn.messages[0].text.split("\n\n")[0]
    assert "50 kroner" in first_paragraph
    facts = _fact_texts(kb, "holbaek")  # the answer is one or two facts' texts, nothing added
    assert first_paragraph in facts or any(first_paragraph == f"{a} {b}" for a in facts for b in facts)
    assert "Kilde: Holbæk Kommunes" in turn.messages[0].text
    assert turn.state.kommune == "holbaek" and not turn.state.pending


def test_the_answer_is_short(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_cost", "er genoptræning gratis i Hedensted?", kommune="hedensted")
    assert len(_text(turn).split()) <= 60  # not the whole topic for four services


def test_without_a_municipality_the_guide_asks_and_then_answers_the_pending_question(kb: KnowledgeBase) -> None:
    first = _turn(kb, State(), "ask_cost", "hvad koster genoptræning?")
    assert first.state.pending and first.state.question == "hvad koster genoptræning?"
    assert [b.title for b in first.messages[0].buttons] == ["Hedensted", "Holbæk", "Køge", "Roskilde", "Rødovre"]
    second = _turn(kb, first.state, "inform_kommune", "Holbæk", kommune="holbaek")
    assert "gratis" in _text(second) and "Kilde: Holbæk Kommunes" in _text(second)
    assert not second.state.pending


def test_og_i_roedovre_asks_the_last_question_again_for_roedovre(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_frequency", "hvor mange gange kan man højst træne i Rødovre?",
                  kommune="roedovre").state
    state = _turn(kb, state, "ask_cost", "og hvad koster kørsel i Holbæk?", kommune="holbaek").state
    turn = _turn(kb, state, "inform_kommune", "og i Rødovre?", kommune="Rødovre")
    assert turn.state.kommune == "roedovre"
    assert "Rødovre" in _text(turn) and "50 kroner" not in _text(turn)
    assert "transport" in _text(turn).lower()


def test_a_precise_question_gets_the_precise_fact(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_what_to_bring", "må jeg træne i mine cowboybukser i Køge?", kommune="koege")
    assert "jeans" in turn.messages[0].text.split("\n\n")[0]


def test_differing_services_are_answered_briefly_each_or_decided_by_a_question(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_transport", "kan jeg få kørsel til træning i Køge?", kommune="koege")
    text = _text(turn)
    if turn.state.decide_kind:  # the deciding question, short, with Ja/Nej buttons
        assert [b.title for b in turn.messages[-1].buttons] == ["Ja", "Nej"]
        yes = _turn(kb, turn.state, "affirm", "ja")
        assert "bevilget" in _text(yes) and "gældende takst" not in _text(yes)
        assert yes.state.service == turn.state.decide_kind
    else:  # each service labelled, never one service's fact given as if it were all
        assert "Genoptræning efter sygehusophold:" in text and "Visiteret træning" in text


def test_the_deciding_question_comes_first_when_a_list_would_be_long(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_application", "hvordan søger man om træning i Hedensted?", kommune="hedensted")
    if turn.state.decide_kind:
        assert len(turn.messages[-1].text.split()) <= 15 and turn.messages[-1].buttons
        no = _turn(kb, turn.state, "deny", "nej")
        assert turn.state.decide_kind in no.state.excluded and not no.state.decide_kind
    else:
        assert len(_text(turn).split()) <= 90


def test_a_service_named_in_the_question_is_used(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_transport", "kørsel efter sygehusophold i køge", kommune="koege")
    assert turn.state.service == "rehab_after_hospital"
    assert "bevilget" in _text(turn) and "gældende takst" not in _text(turn)


def test_several_questions_in_one_message_are_each_answered(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_cost", "Hvad koster genoptræningen i Holbæk, og hvornår starter den?",
                 kommune="holbaek")
    text = _text(turn)
    assert "gratis" in text and "14 dage" in text
    assert text.count("Kilde:") == 1  # one source line and one next step for the whole reply


def test_a_story_is_answered_with_the_situation_it_gives(kb: KnowledgeBase) -> None:
    story = ("Min mor er 81 og blev opereret i hoften. Nu er hun kommet hjem og har fået en genoptræningsplan "
             "med fra sygehuset. Hun bor i Køge og har ingen bil. Kan hun blive kørt til træningen?")
    turn = _turn(kb, State(), "describe_situation", story, kommune="koege")
    assert turn.state.service == "rehab_after_hospital"
    assert "bevilget" in _text(turn) and "gældende takst" not in _text(turn)


def test_a_correction_replaces_the_last_choice_and_answers_again(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_frequency", "hvor tit er vedligeholdelsestræning i Hedensted?",
                  kommune="hedensted").state
    assert state.service == "maintenance"
    turn = _turn(kb, state, "nlu_fallback", "nej undskyld, det var børnetræningen jeg mente", confidence=0.3)
    assert turn.state.service == "children"
    assert "8-12 uger" not in _text(turn) and "1 gang om ugen" in _text(turn)


def test_a_comparison_gets_one_line_per_municipality(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_transport", "hvilke kommuner tager penge for kørsel til træning?")
    text = _text(turn)
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(lines) == 5 and "50 kroner" in next(line for line in lines if "Holbæk" in line)
    assert "Hvilken kommune" not in text and "Kilder:" in text


def test_two_municipalities_are_compared(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_cost", "hvad koster kørsel i Køge og i Holbæk?")
    lines = [line for line in _text(turn).splitlines() if line.startswith("• ")]
    assert [line.split(":")[0] for line in lines] == ["• Holbæk", "• Køge"]


def test_english_gets_the_english_frame_around_the_danish_facts(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "nlu_fallback", "How much does transport to training cost in Holbæk?", confidence=0.3)
    text = _text(turn)
    assert text.startswith(kb.texts["english"]["frame"])
    assert "50 kroner" in text and turn.state.english
    follow = _turn(kb, turn.state, "affirm", "ok and is the training itself free?", confidence=0.3)
    assert follow.messages[0].text.startswith(kb.texts["english"]["frame"]) and "gratis" in _text(follow)


def test_an_emergency_gets_112_first_and_no_question_back(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "describe_situation", "min far ligger på gulvet og kan ikke komme op")
    assert turn.messages[0].text == kb.texts["dialogue"]["emergency"]
    assert "Hvilken kommune" not in _text(turn)
    with_question = _turn(kb, State(kommune="koege"), "ask_cancellation",
                          "min mand kan ikke få vejret, hvordan melder jeg afbud?")
    assert with_question.messages[0].text == kb.texts["dialogue"]["emergency"]


def test_the_municipality_of_an_emergency_is_remembered(kb: KnowledgeBase) -> None:
    first = _turn(kb, State(), "describe_situation", "hjælp min kone er faldet og bløder, vi bor i holbæk")
    assert first.state.kommune == "holbaek"


def test_silence_is_said_when_the_source_never_mentions_the_thing(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(kommune="roskilde"), "ask_what_to_bring", "er der omklædning og bad?")
    text = _text(turn)
    assert re.search(r"siger ikke noget|oplyser ikke", text)
    assert "håndklæde" not in text  # Køge's list does not leak into Roskilde


def test_unsure_offers_topics_and_the_contact_and_no_neighbouring_topic(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(kommune="hedensted"), "nlu_fallback", "blabla qwerty zzz", confidence=0.3)
    assert turn.messages[0].text == kb.texts["dialogue"]["unsure"] and turn.messages[0].buttons
    assert "79 91 82 50" in turn.messages[1].text
    assert "Kilde:" not in _text(turn)


def test_a_greeting_with_a_question_is_answered_as_a_question(kb: KnowledgeBase) -> None:
    assert _text(_turn(kb, State(), "greet", "hej")) == kb.texts["dialogue"]["greet"]
    turn = _turn(kb, State(), "greet", "hej, hvad koster kørsel til træning i holbæk?", kommune="holbaek")
    assert "50 kroner" in _text(turn)


def test_more_gives_the_rest_of_the_topic(kb: KnowledgeBase) -> None:
    first = _turn(kb, State(), "ask_cancellation", "hvordan melder jeg afbud i Køge?", kommune="koege")
    more = [b for b in first.messages[0].buttons if b.payload.startswith("/ask_more")]
    assert more and more[0].title.startswith("Mere om")
    rest = respond(first.state, "ask_more", {"topic": ["cancellation"]}, more[0].payload, kb)
    assert len(_text(rest)) > len(_text(first))


def test_a_situation_without_a_question_is_checked_against_the_rules(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(kommune="hedensted"), "describe_situation",
                 "min mor er lige blevet udskrevet med en genoptræningsplan")
    assert turn.state.topic == SITUATION
    assert "Genoptræning efter sygehusindlæggelse" in _text(turn)


def test_a_municipality_the_guide_does_not_cover(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_cost", "pris i køge", kommune="køge").state
    turn = _turn(kb, state, "ask_cost", "hvad koster det i Aarhus", kommune="Aarhus")
    assert len(turn.messages) == 1 and "Aarhus Kommune er ikke med" in turn.messages[0].text
    assert turn.state == state


def test_out_of_scope(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "out_of_scope", "hvordan fornyer jeg mit pas")
    assert "kan jeg desværre ikke hjælpe med" in turn.messages[0].text


def test_a_phone_question_where_the_source_gives_none(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_contact", "holbæk genoptræning tlf", kommune="holbaek")
    assert "oplyser ikke et telefonnummer" in turn.messages[0].text.split("\n\n")[0]
    assert not re.search(r"\d\d \d\d \d\d \d\d", _text(turn))


def test_municipality_alone_without_a_question_asks_what_to_know(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "inform_kommune", "jeg bor i Roskilde", kommune="Roskilde")
    assert "Hvad vil du gerne vide om træning i Roskilde?" in turn.messages[0].text
    assert turn.state.kommune == "roskilde"


@pytest.mark.parametrize("cpr", ["010150-1234", "0101501234", "010150 1234"])
def test_a_cpr_number_is_never_repeated(kb: KnowledgeBase, cpr: str) -> None:
    turn = _turn(kb, State(), "ask_cost", f"min mor {cpr} bor i koege, hvad koster genoptræning")
    digits = cpr.replace("-", "").replace(" ", "")
    for message in turn.messages:
        assert digits[:6] not in message.text.replace(" ", "").replace("-", "")


def test_buttons_use_known_intents_and_municipalities(kb: KnowledgeBase) -> None:
    for button in topic_buttons(kb):
        assert button.payload.lstrip("/") in {t.intent for t in kb.topics.values()}
    assert {b.payload for b in kommune_buttons(kb)} == {
        f'/inform_kommune{{"kommune":"{m}"}}' for m in kb.municipalities
    }


def test_every_sentence_comes_from_a_fact_or_the_texts(kb: KnowledgeBase) -> None:
    """No sentence may come from anywhere but a fact or knowledge/texts.yml."""
    allowed = [f.text for m in kb.municipalities.values() for f in m.facts]
    allowed += [n.text for m in kb.municipalities.values() for n in m.not_stated if n.text]

    def templates(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [t for v in node.values() for t in templates(v)]
        return []
    fixed = [re.escape(t).replace(r"\{", "{").replace(r"\}", "}") for t in templates(kb.texts)]
    patterns = [re.compile(re.sub(r"\{[a-z_]+\}", ".+?", t)) for t in fixed]
    questions = [("ask_cost", "hvad koster det i roskilde"), ("ask_transport", "kørsel i køge"),
                 ("ask_cancellation", "afbud hedensted"), ("ask_contact", "rødovre tlf"),
                 ("nlu_fallback", "is it free in Holbæk?"), ("ask_transport", "hvilke kommuner betaler kørsel")]
    for intent, text in questions:
        for message in _turn(kb, State(), intent, text).messages:
            for line in message.text.split("\n"):
                rest = line.removeprefix("• ")
                rest = re.sub(r"^[^:]{3,80}: ", "", rest) if rest not in allowed else rest
                ok = any(a and a in line for a in allowed) or any(p.fullmatch(line) or p.fullmatch(rest)
                                                                  for p in patterns)
                ok = ok or not line.strip() or any(p.search(line) for p in patterns)
                assert ok, f"{text!r}: {line!r}"


def test_state_round_trips_through_slots() -> None:
    state = State("koege", "rehab", "cost", True, "rehab_after_hospital", ("child",), "hvad koster det?",
                  ("children",), True, ("koege", "holbaek"))
    assert State.from_slots(state.as_slots()) == state
    assert State.from_slots({}) == State()


def test_a_comparison_after_a_service_question_does_not_call_others_silent(kb: KnowledgeBase) -> None:
    """A Køge question about training after a hospital stay, then "which municipalities charge for
    transport?": Holbæk states its price for its own service; it must not read as "Holbæk says nothing"."""
    state = _turn(kb, State(), "ask_transport", "kørsel efter sygehusophold i køge", kommune="koege").state
    assert state.service == "rehab_after_hospital"
    turn = _turn(kb, state, "ask_transport", "hvilke kommuner tager penge for kørsel?")
    holbaek = next(line for line in _text(turn).splitlines() if line.startswith("• Holbæk"))
    assert "50 kroner" in holbaek and "oplyser ikke" not in holbaek


# -- a question about someone else (issue 11) ------------------------------------------------------

def test_a_question_about_someone_else_says_once_whom_the_facts_are_about(kb: KnowledgeBase) -> None:
    frame = kb.texts["dialogue"]["on_behalf"]
    turn = _turn(kb, State(), "ask_transport", "min mor bor i Holbæk, hvad koster kørsel til træning?",
                 kommune="Holbæk")
    paragraphs = turn.messages[0].text.split("\n\n")
    assert paragraphs[0] == frame and "50 kroner" in paragraphs[1]  # the frame, then the facts verbatim
    assert paragraphs[1] in _fact_texts(kb, "holbaek") or "50 kroner" in paragraphs[1]
    follow = _turn(kb, turn.state, "ask_cost", "og hvad koster selve træningen?")
    assert frame not in _text(follow)  # said once in the conversation, not on every answer
    mine = _turn(kb, State(), "ask_transport", "hvad koster kørsel til træning i Holbæk?", kommune="Holbæk")
    assert frame not in _text(mine)  # a question about oneself has no frame


def test_a_relative_after_the_municipality_question_still_gets_the_frame(kb: KnowledgeBase) -> None:
    frame = kb.texts["dialogue"]["on_behalf"]
    asked = _turn(kb, State(), "ask_transport", "min far kan ikke selv komme til træning, kan han blive kørt?")
    assert asked.state.pending
    answered = _turn(kb, asked.state, "inform_kommune", "Køge", kommune="Køge")
    assert _text(answered).startswith(frame), _text(answered)


# -- a relative acting for the one who trains; off-topic subjects; small talk; a new topic in a follow-up


def test_a_relative_asking_to_act_for_someone_gets_the_fact_about_relatives(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_application", "Kan jeg ringe til kommunen på min fars vegne om træning i Roskilde?",
                 kommune="roskilde")
    first = turn.messages[0].text.split("\n\n")
    assert any("pårørende" in p and "samtykke" in p for p in first[:2]), first


def test_where_the_text_says_nothing_about_relatives_the_guide_says_so_and_names_whom_to_call(
        kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_application", "må jeg søge om genoptræning for min svigermor i Hedensted?",
                 kommune="hedensted")
    text = _text(turn)
    assert text.startswith("Hedensted Kommunes") and "siger ikke noget om, hvad pårørende" in text
    assert "Det gælder den, der skal træne" not in text  # the guide's own line is not a fact about her
    assert "79 91 82 50" in text
    # and being there: the same honest line where the text is silent
    turn = _turn(kb, State(), "ask_content", "Kan jeg komme med ind, når min mand træner i Rødovre?",
                 kommune="roedovre")
    assert "siger ikke noget om, hvad pårørende" in _text(turn).split("\n\n")[0]


def test_an_off_topic_subject_gets_the_out_of_scope_reply_even_with_training_words(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_cost", "hvad koster genoptræning i Køge?", kommune="koege").state
    for text in ("hvad siger vejrudsigten for lørdag, jeg skal cykle til min træning",
                 "jeg fik en bøde da jeg parkerede ved træningscentret, hvem klager jeg til?"):
        turn = _turn(kb, state, "ask_complaints", text)
        assert _text(turn).startswith("Det kan jeg desværre ikke hjælpe med"), text
        assert "Kilde:" not in _text(turn) and turn.state.kommune == "koege"


def test_a_longer_bot_question_is_small_talk_when_the_nlu_is_certain(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "bot_challenge", "taler jeg med en maskine eller med en person lige nu?", confidence=0.99)
    assert _text(turn) == kb.texts["dialogue"]["bot_challenge"]
    # not when it also asks about training
    turn = _turn(kb, State(), "bot_challenge", "er du en robot, og hvad koster træningen i Holbæk?", confidence=0.99,
                 kommune="holbaek")
    assert "gratis" in _text(turn)


def test_a_follow_up_without_words_of_its_own_asks_the_new_topic_its_intent_is_sure_of(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_cost", "hvad koster genoptræning i Roskilde?", kommune="roskilde").state
    turn = _turn(kb, state, "ask_provider", "og hvem træner mig så?", confidence=0.95)
    assert turn.state.topic == "provider" and "gratis" not in _text(turn)
    # without a question word of its own and an unsure intent, it keeps the thread: the last question again
    again = _turn(kb, state, "ask_provider", "og så for mig?", confidence=0.4)
    assert again.state.topic == "cost" and "betale" in _text(again)


def test_a_follow_up_discounts_the_fact_that_answered_the_last_question(kb: KnowledgeBase) -> None:
    """REPEAT: on a follow-up, the last question's answer counts less unless the follow-up alone asks
    for it too (a citizen rarely asks to be told the same again)."""
    m = kb.municipalities["holbaek"]
    answerer = dialogue._Answerer(kb, State(kommune="holbaek"), {}, False)
    previous = "Hvad sker der, hvis jeg får afslag på min ansøgning?"
    follow_up = "og hvis jeg får ja, hvor hurtigt er jeg så i gang?"
    last_answer = answerer.ranked(m, tuple(m.services), previous, None)[1][0].candidate
    plain = {id(s.candidate): s.score for s in answerer.ranked(m, tuple(m.services), follow_up, "complaints",
                                                                   context=previous)[1]}
    discounted = answerer.ranked(m, tuple(m.services), follow_up, "complaints", context=previous,
                                 previous=previous)[1]
    assert discounted[0].candidate is not last_answer
    score = next(s.score for s in discounted if s.candidate is last_answer)
    assert score == pytest.approx(plain[id(last_answer)] * dialogue.REPEAT)


def test_a_follow_up_that_asks_something_new_does_not_get_the_last_answer_again(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_complaints", "Hvad sker der, hvis jeg får afslag i Holbæk?",
                  kommune="holbaek").state
    assert state.topic == "complaints"
    turn = _turn(kb, state, "ask_response_time", "og hvis det bliver bevilget, hvor hurtigt starter jeg så?",
                 confidence=0.6)
    first = turn.messages[0].text.split("\n\n")[0]
    assert "afslag" not in first and "14 dage" in first, first


def test_an_address_question_gets_the_address_first_and_a_service_named_after_a_contact_its_own(
        kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_contact", "telefonnummer til Rødovre Kommune", kommune="roedovre").state
    turn = _turn(kb, state, "ask_contact", "og adressen?", confidence=0.6)
    assert _text(turn).startswith("Adresse: Rødovre Parkvej 150, 2610 Rødovre."), _text(turn)
    state = _turn(kb, State(), "ask_contact", "nummeret til visitationen i Køge", kommune="koege").state
    turn = _turn(kb, state, "affirm", "hvad med jobcenteret?", confidence=0.4)
    assert "56 67 66 80" in _text(turn).split("\n\n")[0] and "56 67 26 26" not in _text(turn)


def test_the_municipality_given_with_a_story_answers_every_pending_question(kb: KnowledgeBase) -> None:
    first = _turn(kb, State(), "ask_cost", "hvad koster det og hvornår kan jeg starte?")
    assert first.state.pending
    turn = _turn(kb, first.state, "describe_situation", "Holbæk, jeg har haft en blodprop", confidence=0.5,
                 kommune="holbaek")
    text = _text(turn)
    assert "gratis" in text and "14 dage" in text, text


def test_in_english_a_word_the_source_lacks_is_no_sign_the_source_is_silent(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_cost", "Is rehabilitation free in Hedensted?", kommune="hedensted").state
    assert state.english
    turn = _turn(kb, state, "nlu_fallback", "ok. which number should I ring?")
    text = _text(turn)
    assert "79 91 82 50" in text.split("\n\n")[1] and "does not say anything" not in text, text
    # a short English reply keeps the conversation in English
    pending = _turn(kb, State(), "ask_cost", "Does my son have to pay for his training?").state
    turn = _turn(kb, pending, "inform_kommune", "We live in Hedensted", kommune="hedensted")
    assert _text(turn).startswith(kb.texts["english"]["frame"])


def test_opening_hours_the_source_does_not_give_are_said_to_be_not_given(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "out_of_scope", "hvornår holder I åbent i Køge?", confidence=0.6, kommune="koege")
    assert _text(turn).startswith("Køge Kommunes side om genoptræning oplyser ikke åbningstider."), _text(turn)
    # where the source gives them, the hours themselves
    turn = _turn(kb, State(), "ask_contact", "hvornår har I åbent i Hedensted?", kommune="hedensted")
    assert "08.00" in _text(turn).split("\n\n")[0] and "oplyser ikke åbningstider" not in _text(turn)


def test_wanting_a_person_gets_a_unit_with_a_phone_number(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_not_included", "må jeg ikke godt snakke med en rigtig person i Rødovre?",
                 confidence=0.5, kommune="roedovre")
    assert "36 37 70 00" in _text(turn).split("\n\n")[0], _text(turn)


def test_a_follow_up_with_a_question_word_asks_about_the_last_answer_not_small_talk(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_frequency", "hvornår på dagen foregår træningen i Roskilde?",
                  kommune="roskilde").state
    turn = _turn(kb, state, "bot_challenge", "og hvem er det så der træner en?", confidence=0.6)
    assert "fysioterapeut" in _text(turn) and "digital assistent" not in _text(turn), _text(turn)


def test_a_deciding_question_the_citizen_cannot_answer_is_not_asked_again(kb: KnowledgeBase) -> None:
    asked = _turn(kb, State(), "ask_content", "hvad indeholder genoptræningen i Køge?", kommune="koege")
    assert asked.messages[-1].text == "Har du fået en genoptræningsplan fra sygehuset?"
    assert [b.title for b in asked.messages[-1].buttons] == ["Ja", "Nej"]
    for reply in ("det ved jeg ikke", "hvad mener du?"):
        turn = _turn(kb, asked.state, "nlu_fallback", reply, confidence=0.4)
        text = _text(turn)
        assert "genoptræningsplan fra sygehuset?" not in text and "Hvad vil du gerne vide" not in text, text
        assert "Kilde: Køge Kommunes" in text and turn.state.decide_kind is None


def test_an_answer_and_a_comparison_carry_the_quotes_they_rest_on(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_transport", "hvad koster kørsel i Holbæk?", kommune="holbaek")
    (source,) = turn.messages[0].sources
    holbaek = kb.municipalities["holbaek"]
    assert source.title == holbaek.source_title
    stated = [f for f in holbaek.facts if f.text in turn.messages[0].text]
    assert stated and all(f.quote in source.quotes for f in stated)
    compare = _turn(kb, State(), "ask_transport", "hvilke kommuner tager penge for kørsel?")
    titles = [s.title for s in compare.messages[-1].sources]
    assert len(titles) >= 3 and len(set(titles)) == len(titles)
    for s in compare.messages[-1].sources:  # each municipality's quotes are its own facts' or contacts'
        m = next(m for m in kb.municipalities.values() if m.source_title == s.title)
        assert set(s.quotes) <= {f.quote for f in m.facts} | {c.quote for c in m.contacts.values()}
    # the guide's own lines (unsure, small talk) carry none
    assert not _turn(kb, State(), "greet", "hej").messages[0].sources


# --- what each turn gave (the record the municipality's report counts) ---------------------------------

def test_a_sourced_answer_is_an_answer_without_gaps(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_content", "er der omklædning i køge?")
    assert turn.kind == dialogue.ANSWER and turn.gaps == ()
    assert turn.messages[-1].sources  # it rests on quotes


def test_an_answer_that_the_text_is_silent_on_names_the_gap(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_application", "kan min datter søge for mig i holbæk?")
    assert turn.kind == dialogue.NOT_STATED
    assert [(g.kommune, g.topic) for g in turn.gaps] == [("holbaek", "application")]
    assert all(s in kb.municipalities["holbaek"].services for g in turn.gaps for s in g.services)
    assert "oplyser ikke" in _text(turn)


def test_a_fact_with_a_silent_part_is_an_answer_with_its_gap(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_contact", "hvornår har I åbent i roskilde?")
    assert turn.kind == dialogue.ANSWER and [(g.kommune, g.topic) for g in turn.gaps] == [("roskilde", "contact")]
    assert "oplyser ikke åbningstider" in _text(turn)


def test_a_comparison_lists_the_municipalities_whose_text_is_silent(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_cancellation", "hvad er afbudsreglerne i alle fem kommuner?")
    assert turn.kind == dialogue.COMPARE
    silent = {g.kommune for g in turn.gaps}
    for line in _text(turn).splitlines():
        if line.startswith("• "):
            name = line[2:].split(":")[0]
            mid = next(m.id for m in kb.municipalities.values() if m.short_name == name)
            says_silent = "oplyser ikke" in line or kb.texts["answer"]["not_stated_short"] in line
            assert (mid in silent) == says_silent, line


def test_questions_back_small_talk_and_emergencies_have_their_kind(kb: KnowledgeBase) -> None:
    assert _turn(kb, State(), "ask_cost", "hvad koster det?").kind == dialogue.ASK
    assert _turn(kb, State(), "greet", "hej").kind == dialogue.CHAT
    assert _turn(kb, State(), "nlu_fallback", "min far ligger på gulvet og kan ikke komme op").kind == \
        dialogue.EMERGENCY
    assert _turn(kb, State(), "ask_cost", "hvad koster træning i aarhus?").kind == dialogue.NOT_COVERED


def test_a_rating_is_thanked_and_changes_nothing(kb: KnowledgeBase) -> None:
    state = _turn(kb, State(), "ask_cost", "hvad koster genoptræning i køge?").state
    for text in ('/feedback{"answer":"abc","rating":"down","comment":"Hvad med kørsel?"}',
                 '/feedback{"answer":"abc","rating":"up"}', "/feedback"):
        turn = respond(state, dialogue.FEEDBACK_INTENT, {"rating": ["down"]}, text, kb)
        assert turn.kind == dialogue.FEEDBACK and turn.state == state
        assert _text(turn) == kb.texts["dialogue"]["feedback_thanks"]
        assert "forstod" not in _text(turn)


def test_a_turn_records_the_topic_it_answered_not_the_last_one(kb: KnowledgeBase) -> None:
    first = _turn(kb, State(), "ask_transport", "hvad koster kørsel i køge?")
    assert first.topic in ("transport", "cost")
    turn = _turn(kb, first.state, "ask_application", "hvordan søger jeg børnetræning i holbæk?")
    assert turn.kind == dialogue.NOT_STATED and turn.topic is None  # "... beskriver ikke træning af børn"
    assert turn.gaps == (dialogue.Gap("holbaek", None, (), "children"),)
    assert turn.state.topic == first.state.topic  # the conversation's thread is kept for "og i Køge?"


def test_no_phone_number_and_the_rest_of_a_topic_record_their_gaps(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_contact", "hvad er telefonnummeret til holbæk kommune?")
    assert "oplyser ikke et telefonnummer" in _text(turn)
    assert ("holbaek", "contact") in [(g.kommune, g.topic) for g in turn.gaps]
    more = respond(State(kommune="roedovre", topic="cancellation"), "ask_more", {"topic": ["cancellation"]},
                   '/ask_more{"topic":"cancellation"}', kb)
    silent = [p for p in answers.answer("roedovre", "cancellation", kb=kb).parts if not p.stated]
    assert silent and {g.services for g in more.gaps} == {p.service_ids for p in silent}


def test_a_situation_the_text_is_silent_on_records_a_gap(kb: KnowledgeBase) -> None:
    from traeningsguide import eligibility

    found = []
    for mid in kb.municipalities:
        for sid in kb.situations:
            if eligibility.eligibility(mid, [sid], kb).unknown:
                found.append((mid, sid))
    assert found  # the knowledge base has such situations
    mid, sid = found[0]
    turn = dialogue._situation(State(kommune=mid, situations=(sid,)), "", kb, [])
    assert turn.kind == dialogue.SITUATION and turn.gaps == (dialogue.Gap(mid, "eligibility"),)
    stated = [(m, s) for m in kb.municipalities for s in kb.situations
              if not eligibility.eligibility(m, [s], kb).unknown]
    m2, s2 = stated[0]
    result = dialogue._situation(State(kommune=m2, situations=(s2,)), "", kb, [])
    assert result.kind == dialogue.SITUATION and result.gaps == ()


def test_an_answer_that_gives_the_units_number_does_not_repeat_it_as_the_next_step(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_cancellation", "hvilket nummer melder jeg afbud på i køge", kommune="koege")
    text = _text(turn)
    assert "Afbud kan meldes på tlf. 56 56 56 49." in text
    assert text.count("56 56 56 49") == 1, text  # no "Ring til … tlf. 56 56 56 49." after it
    assert "Kilde: Køge Kommunes" in text
    other = _turn(kb, State(), "ask_transport", "hvad koster kørsel i holbæk", kommune="holbaek")
    assert "Kontakt Holbæk Kommune" in _text(other)  # a unit without a number in the answer: the next step stays


def test_a_comparison_of_who_charges_for_transport_gives_each_municipalitys_rule_on_paying(kb: KnowledgeBase) -> None:
    turn = _turn(kb, State(), "ask_transport", "hvilke kommuner tager penge for kørsel?")
    text = turn.messages[-1].text
    lines = {line.split(":")[0].strip("• "): line for line in text.split("\n") if line.startswith("•")}
    assert "betale" in lines["Roskilde"], lines["Roskilde"]  # "… skal du betale for den", not only "kan bevilges"
    assert "50 kroner" in lines["Holbæk"] and "selv betale" in lines["Køge"], lines


def test_who_can_and_who_cannot_get_it_are_told_apart_by_the_negation(kb: KnowledgeBase) -> None:
    ranking = [{"name": "ask_eligibility", "confidence": 0.99}]
    can = respond(State(), "ask_eligibility", {"kommune": ["roedovre"]}, "hvem kan få genoptræning i rødovre", kb,
                  ranking=ranking)
    cannot = respond(State(), "ask_eligibility", {"kommune": ["roedovre"]}, "hvem kan ikke få genoptræning i rødovre",
                     kb, ranking=ranking)
    assert can.topic == "eligibility" and cannot.topic == "exclusions", (can.topic, cannot.topic)
    english = respond(State(), "nlu_fallback", {"kommune": ["roedovre"]}, "who cannot get rehab in Rødovre?", kb)
    assert english.topic == "exclusions", english.topic
