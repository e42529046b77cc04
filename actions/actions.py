"""Rasa custom actions: a thin layer over the traeningsguide rules module.

Reads the slots and the latest message, calls traeningsguide.dialogue.respond, sends its messages
and stores the new state in slots. No Danish text and no business rules live here.
"""

from __future__ import annotations

import logging
import secrets
import string
from dataclasses import asdict
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from traeningsguide import dialogue, retrieval
from traeningsguide.knowledge import KnowledgeError, knowledge

logger = logging.getLogger(__name__)

# Fail fast: load and validate the knowledge base when the action server imports this module, not at
# the first question. rasa-sdk stops the server (exit code 1) on an ImportError while registering
# the actions package, but any other exception would surface differently, so a broken knowledge
# base is reported as an ImportError carrying the validation error ('file: field: problem').
try:
    retrieval.index(knowledge())  # the matching index too: built once at start-up, not per turn
except KnowledgeError as exc:
    raise ImportError(f"The knowledge base is broken, so the action server cannot start.\n{exc}") from None


def latest_entities(tracker: Tracker) -> dict[str, list[str]]:
    """Entity values of the latest message, grouped by entity name."""
    grouped: dict[str, list[str]] = {}
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") and entity.get("value") is not None:
            grouped.setdefault(str(entity["entity"]), []).append(str(entity["value"]))
    return grouped


SOURCES_CHANNELS = {"rest"}  # the channels whose clients get the quotes as structured data (the widget's)
RECORD_KEY = dialogue.RECORD_KEY  # the bot messages' metadata key (traeningsguide.report reads it)


def new_answer_id() -> str:
    """A random id of 16 letters: no digits, which the channel would mask as part of a long digit run
    when a client sends the id back with its rating (a hex id has 8 digits in a row 1 time in 9)."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(16))


def record(turn: dialogue.Turn, answer_id: str) -> dict[str, Any]:
    """What the turn gave, stored with each of its bot messages (Rasa keeps the extra keys of an
    action's message as the ``bot`` event's metadata; no channel sends them to the client)."""
    state = turn.state
    return {"answer": answer_id, "kind": turn.kind, "kommune": state.kommune, "service": state.service,
            "topic": turn.topic, "compare": list(state.compare) if turn.kind == dialogue.COMPARE else [],
            "gaps": [asdict(gap) for gap in turn.gaps]}


def send(dispatcher: CollectingDispatcher, turn: dialogue.Turn, channel: str | None = None,
         slots: dict[str, Any] | None = None) -> list[EventType]:
    """The turn's messages; for the REST channel each answer also carries its sources as Rasa's
    ``custom`` payload ({"sources": [{"title", "quotes"}], "answer": id}), which the REST channel
    attaches to the answer's last message; ``answer`` (on the turn's last message, when it can be
    rated) is what the widget's feedback refers to. Other clients get the same text (it names the
    source) without it. Every bot message stores the turn's record (kind, municipality, topic, what
    the text is silent on) for the municipality's report.
    Only the slots that changed from ``slots`` are set: a turn stores a few events, not all eleven
    slots again (the conversation Rasa reads and sends back every turn grows less)."""
    answer_id = new_answer_id()
    rated = turn.kind in dialogue.RATED and bool(turn.state.kommune or turn.state.compare)
    meta = record(turn, answer_id)
    for i, message in enumerate(turn.messages):
        buttons = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        custom: dict[str, Any] = {}
        if channel in SOURCES_CHANNELS:
            if message.sources:
                custom["sources"] = [{"title": s.title, "quotes": list(s.quotes)} for s in message.sources]
            if rated and i == len(turn.messages) - 1:
                custom["answer"] = answer_id
        dispatcher.utter_message(text=message.text, buttons=buttons or None, json_message=custom or None,
                                 **{RECORD_KEY: meta})
    before = slots or {}
    return [SlotSet(name, value) for name, value in turn.state.as_slots().items()
            if slots is None or before.get(name) != value]


class ActionAnswer(Action):
    """Answers every question about training from the knowledge base."""

    def name(self) -> str:
        return "action_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        state = dialogue.State.from_slots(tracker.current_slot_values())
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name") or "nlu_fallback"
        try:
            turn = dialogue.respond(state, intent, latest_entities(tracker), message.get("text") or "",
                                    ranking=message.get("intent_ranking") or ())
        except Exception:  # never silence: apologise and give the municipality's contact
            # the user's text is not logged: it may hold personal data such as a CPR number
            logger.exception("action_answer failed for intent %s", intent)
            try:
                turn = dialogue.error_turn(state)
            except Exception:
                logger.exception("action_answer could not build the error reply")
                dispatcher.utter_message(response="utter_error")
                return []
        return send(dispatcher, turn, tracker.get_latest_input_channel(), tracker.current_slot_values())
