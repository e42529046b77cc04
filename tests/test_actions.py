"""The Rasa custom action, with tracker fixtures and a CollectingDispatcher (no server needed)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

rasa_sdk = pytest.importorskip("rasa_sdk")
from rasa_sdk import Tracker  # noqa: E402
from rasa_sdk.events import SlotSet  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

from actions.actions import ActionAnswer  # noqa: E402

SLOTS = {"kommune": None, "service": None, "topic": None, "pending": None, "decide_kind": None, "situations": None,
         "question": None, "excluded": None, "english": None, "compare": None,
         "on_behalf": None}


def tracker(text: str, intent: str, entities: list[dict[str, Any]] | None = None,
            ranking: list[dict[str, Any]] | None = None, channel: str | None = None, **slots: Any) -> Tracker:
    return Tracker(
        sender_id="test",
        slots={**SLOTS, **slots},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.99},
                        "entities": entities or [],
                        "intent_ranking": ranking if ranking is not None else [{"name": intent, "confidence": 0.99}]},
        events=[{"event": "user", "text": text, "input_channel": channel}] if channel else [],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(t: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = ActionAnswer().run(dispatcher, t, {})
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return dispatcher.messages, slots


def test_answer_with_municipality_entity() -> None:
    messages, slots = run(tracker("hvad koster kørsel i holbæk", "ask_transport",
                                  [{"entity": "kommune", "value": "holbaek"}]))
    assert len(messages) == 1 and "50 kroner" in messages[0]["text"]
    assert slots["kommune"] == "holbaek" and slots["topic"] in ("transport", "cost") and slots["pending"] is False
    assert slots["question"] == "hvad koster kørsel i holbæk"  # kept for "og i Rødovre?" and corrections


def test_the_intent_ranking_reaches_the_rules_module() -> None:
    with mock.patch("traeningsguide.dialogue.respond", wraps=__import__("traeningsguide.dialogue").dialogue.respond) \
            as respond:
        run(tracker("hvad med det", "ask_cost", ranking=[{"name": "ask_cost", "confidence": 0.7},
                                                         {"name": "ask_transport", "confidence": 0.2}],
                    kommune="holbaek"))
    assert respond.call_args.kwargs["ranking"][1] == {"name": "ask_transport", "confidence": 0.2}


def test_asks_for_the_municipality_with_buttons() -> None:
    messages, slots = run(tracker("hvad koster det", "ask_cost"))
    assert slots["pending"] is True
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/inform_kommune{"kommune":"koege"}' in payloads and len(payloads) == 5


def test_pending_question_answered_from_slots() -> None:
    messages, _ = run(tracker("Holbæk", "inform_kommune", [{"entity": "kommune", "value": "holbaek"}],
                              topic="cost", pending=True, question="hvad koster genoptræning?"))
    assert "gratis" in messages[0]["text"]


def test_returns_slot_events_for_the_state_fields_that_changed() -> None:
    from traeningsguide.dialogue import State

    dispatcher = CollectingDispatcher()
    events = ActionAnswer().run(dispatcher, tracker("pris i køge", "ask_cost"), {})
    assert all(isinstance(e, dict) and e["event"] == "slot" for e in events)
    assert set(State().as_slots()) == set(SLOTS)  # every slot is a state field
    assert SlotSet("kommune", "koege") in events and SlotSet("question", "pris i køge") in events
    assert all(e["value"] != SLOTS[e["name"]] for e in events)  # only what changed (here: from unset)
    # the same turn again from the state it left: nothing to set but what the turn itself changes
    after = {**SLOTS, **{e["name"]: e["value"] for e in events}}
    again = ActionAnswer().run(CollectingDispatcher(), tracker("pris i køge", "ask_cost", **after), {})
    assert {e["name"] for e in again} < {e["name"] for e in events}
    assert all(after[e["name"]] != e["value"] for e in again)


def test_an_error_inside_gives_a_polite_message_with_the_contact(caplog: pytest.LogCaptureFixture) -> None:
    with mock.patch("traeningsguide.dialogue.respond", side_effect=RuntimeError("boom")):
        messages, slots = run(tracker("min mor 010150-1234 hvad koster det", "ask_cost", kommune="hedensted"))
    assert "Beklager" in messages[0]["text"]
    assert "79 91 82 50" in messages[1]["text"]
    assert slots.get("kommune", "hedensted") == "hedensted"  # the state is kept (unchanged: not set again)
    assert "010150" not in caplog.text  # the user's text (personal data) is not logged


def test_even_a_broken_knowledge_base_gives_a_reply() -> None:
    with mock.patch("traeningsguide.dialogue.respond", side_effect=RuntimeError("boom")), \
         mock.patch("traeningsguide.dialogue.error_turn", side_effect=RuntimeError("no knowledge")):
        messages, _ = run(tracker("hvad koster det", "ask_cost"))
    assert messages == [{"text": None, "buttons": [], "elements": [], "custom": {}, "template": "utter_error",
                         "response": "utter_error", "image": None, "attachment": None}]


def test_missing_intent_is_treated_as_fallback() -> None:
    t = tracker("", "ask_cost")
    t.latest_message = {"text": None, "intent": None, "entities": None}
    messages, _ = run(t)
    assert "Det forstod jeg ikke helt" in messages[0]["text"] and messages[0]["buttons"]


def test_for_the_rest_channel_an_answer_carries_its_quotes_as_custom_payload() -> None:
    from traeningsguide.knowledge import knowledge

    holbaek = knowledge().municipalities["holbaek"]
    t = tracker("hvad koster kørsel i holbæk", "ask_transport", [{"entity": "kommune", "value": "holbaek"}],
                channel="rest")
    messages, _ = run(t)
    custom = messages[0]["custom"]
    assert [s["title"] for s in custom["sources"]] == [holbaek.source_title]
    fact = next(f for f in holbaek.facts if "50 kroner" in f.text and f.text in messages[0]["text"])
    assert fact.quote in custom["sources"][0]["quotes"]
    known = {f.quote for f in holbaek.facts} | {c.quote for c in holbaek.contacts.values()}
    assert set(custom["sources"][0]["quotes"]) <= known  # the knowledge base's verbatim quotes, nothing else
    # other channels (socket.io, the CLI) get the same text without it
    messages, _ = run(tracker("hvad koster kørsel i holbæk", "ask_transport",
                              [{"entity": "kommune", "value": "holbaek"}], channel="socketio"))
    assert not messages[0]["custom"] and "50 kroner" in messages[0]["text"]


def test_each_bot_message_stores_the_turn_record_and_rest_gets_the_answer_id() -> None:
    from actions.actions import RECORD_KEY

    messages, _ = run(tracker("kan min datter søge for mig i holbæk?", "ask_application", channel="rest",
                              kommune="holbaek"))
    record = messages[-1][RECORD_KEY]
    assert record["kind"] == "not_stated" and record["kommune"] == "holbaek" and record["topic"] == "application"
    assert [(g["kommune"], g["topic"], g["missing_kind"]) for g in record["gaps"]] == [
        ("holbaek", "application", None)] and record["gaps"][0]["services"]
    assert len(record["answer"]) == 16 and all(m[RECORD_KEY]["answer"] == record["answer"] for m in messages)
    assert messages[-1]["custom"]["answer"] == record["answer"]  # what the widget's rating refers to


def test_questions_back_cannot_be_rated_and_other_channels_get_no_custom_payload() -> None:
    from actions.actions import RECORD_KEY

    messages, _ = run(tracker("hvad koster det", "ask_cost", channel="rest"))
    assert messages[-1][RECORD_KEY]["kind"] == "ask" and not messages[-1].get("custom")
    messages, _ = run(tracker("hvad koster genoptræning i køge?", "ask_cost", channel="socketio"))
    assert messages[-1][RECORD_KEY]["kind"] == "answer" and not messages[-1].get("custom")
