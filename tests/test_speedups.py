"""channels.speedups validates a custom action's response as Rasa does: every response the guide's
action gives is shown valid by the fast path, and every response Rasa's own check rejects is rejected
with Rasa's error."""

from __future__ import annotations

import copy
from typing import Any

import pytest

pytest.importorskip("rasa")
from jsonschema import ValidationError, validate  # noqa: E402
from rasa.core.actions.action import RemoteAction  # noqa: E402
from rasa_sdk.executor import CollectingDispatcher  # noqa: E402

from actions.actions import ActionAnswer  # noqa: E402
from channels import speedups  # noqa: E402

from .test_actions import tracker  # noqa: E402

SCHEMA = RemoteAction.action_response_format_spec()


def _response(text: str, intent: str, **slots: Any) -> dict[str, Any]:
    """The action's response as the action server sends it (rasa_sdk's executor: events and messages)."""
    dispatcher = CollectingDispatcher()
    events = ActionAnswer().run(dispatcher, tracker(text, intent, **slots), {})
    return {"events": events, "responses": dispatcher.messages}


def _rasa_accepts(result: Any) -> bool:
    try:
        validate(result, SCHEMA)  # Rasa 3.6's own check, unchanged
        return True
    except ValidationError:
        return False


GUIDE = [
    _response("hvad koster kørsel i holbæk", "ask_transport", kommune="holbaek"),
    _response("hvad koster det", "ask_cost"),
    _response("hvad indeholder genoptræningen?", "ask_content", kommune="koege"),
    _response("asdfgh", "nlu_fallback"),
    {"events": [], "responses": []},
    {},
]


def _broken() -> list[Any]:
    good = {"events": [{"event": "slot", "name": "kommune", "value": "koege", "timestamp": None},
                       {"event": "bot", "text": "Hej", "metadata": {"x": 1}},
                       {"event": "action", "name": "action_listen", "policy": None, "confidence": 1.0},
                       {"event": "user", "text": "hej", "parse_data": {"intent": {"name": "greet", "confidence": 0.9},
                                                                        "entities": []}}],
            "responses": [{"text": "Hej"}]}
    cases: list[Any] = [good, [], "events", None, {"events": {}}, {"events": "slot"}, {"responses": {}},
                        {"responses": ["tekst"]}, {"events": ["slot"]}, {"events": [None]}, {"events": [{}]}]
    mutations = [
        ("events", 0, "event", "slots"), ("events", 0, "name", 3), ("events", 0, "timestamp", "i dag"),
        ("events", 0, "metadata", "x"), ("events", 1, "event", ["bot"]), ("events", 1, "event", None),
        ("events", 2, "confidence", "høj"), ("events", 2, "hide_rule_turn", "ja"),
        ("events", 3, "parse_data", {"entities": [{"value": "x"}]}), ("events", 3, "text", 7),
    ]
    for key, index, field, value in mutations:
        case = copy.deepcopy(good)
        case[key][index][field] = value
        cases.append(case)
    for field in ("name", "value", "event"):  # a slot event without a required field
        case = copy.deepcopy(good)
        del case["events"][0][field]
        cases.append(case)
    return cases


@pytest.mark.parametrize("result", GUIDE)
def test_every_response_of_the_guide_is_valid_by_the_fast_path(result: dict[str, Any]) -> None:
    assert _rasa_accepts(result)
    assert speedups._valid_fast(result)  # the full validator is not needed for the guide's answers


@pytest.mark.parametrize("result", _broken())
def test_the_fast_path_never_accepts_what_rasa_rejects_and_errors_are_rasas(result: Any) -> None:
    accepted = _rasa_accepts(result)
    if speedups._valid_fast(result):
        assert accepted
    action = RemoteAction("action_answer", None)
    if accepted:
        assert speedups._validate_action_result(action, result)
    else:
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            speedups._validate_action_result(action, result)


def test_the_broken_cases_include_rejected_responses() -> None:
    verdicts = [_rasa_accepts(c) for c in _broken()]
    assert verdicts.count(False) >= 20 and verdicts[0]  # the checks above are not vacuous
