"""Rasa 3.6 hot spots, fixed without changing what Rasa does.

Imported by the ``channels`` package, which Rasa loads at start-up through credentials.yml.

* ``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, schema)`` on every
  custom action response. ``validate`` first checks the *schema* against the JSON-Schema
  meta-schema, every time; with Rasa's event schema that check was 55 % of the Rasa server's CPU
  time per turn in a py-spy profile under load (bench/README.md). The replacement validates every
  response against the same schema with a validator built once (the schema itself is checked once,
  at first use) and raises the same ``ValidationError`` with the same message. Even so the schema's
  ``oneOf`` over 23 event types tried every type for every event (9 % of the CPU time per turn, py-spy,
  issue 14): a response is first checked event by event against the one branch its ``event`` type can
  match, which decides the same; only a response that fails that check goes through the full
  validator, which raises Rasa's error.
* ``Event.resolve_by_type`` walks every subclass of ``Event`` (``all_subclasses``) for every event it
  deserialises; reading a conversation of 300 turns from the tracker store was 40 % of the Rasa server's
  time per turn (py-spy, issue 14). The replacement keeps a type name -> class table, rebuilt when a new
  subclass appears (a table miss walks the subclasses as Rasa does), with Rasa's same fallbacks.
"""

from __future__ import annotations

import copy
import gc
import logging
from functools import lru_cache
from typing import Any

import rasa.shared.utils.common
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def freeze_heap() -> None:
    """Move everything alive now (the loaded model, spaCy's lemma table, TensorFlow, Rasa) out of
    the garbage collector's reach (``gc.freeze``), so a full collection no longer walks it during a
    turn. Called once the server has started (the model is loaded in ``before_server_start``); both
    channels ask for it, the cache makes it run once per process."""
    gc.collect()
    gc.freeze()
    logger.debug("gc.freeze: %d objects frozen", gc.get_freeze_count())


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=1)
def _by_event_type() -> tuple[Any, Any, dict[str, Any]] | None:
    """Validators for the fast path: the response without its events, one event without its
    ``oneOf``, and each ``oneOf`` branch by the ``event`` constant it requires; None when the schema
    is not of that shape (then every response is validated in full)."""
    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    try:
        events = schema["properties"].pop("events")
        event = events["items"]
        branches = event.pop("oneOf")
        consts = [branch["properties"]["event"]["const"] for branch in branches]
    except (KeyError, TypeError):
        return None
    if events != {"type": "array", "items": event} or len(set(consts)) != len(consts) \
            or "event" not in event.get("required", ()):
        return None
    cls = validator_for(schema)
    return cls(schema), cls(event), {const: cls(branch) for const, branch in zip(consts, branches, strict=True)}


def _valid_fast(result: Any) -> bool:
    """Whether the response is valid, checked by event type: an event must match exactly one ``oneOf``
    branch, and the branches differ in the ``event`` constant each requires, so only the branch whose
    constant is the event's type can match. False means "not shown valid": then the full validator
    decides (and raises Rasa's error)."""
    fast = _by_event_type()
    if fast is None or not isinstance(result, dict):
        return False
    outer, base, branches = fast
    events = result.get("events", [])
    if not isinstance(events, list) or not outer.is_valid(result):
        return False
    for event in events:
        kind = event.get("event") if isinstance(event, dict) else None
        branch = branches.get(kind) if isinstance(kind, str) else None
        if branch is None or not base.is_valid(event) or not branch.is_valid(event):
            return False
    return True


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        if not _valid_fast(result):
            _action_response_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


_EVENT_TYPES: dict[str, type[Event]] = {}


def _resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """``Event.resolve_by_type`` with its answer for a type name kept (same lookup, same fallbacks)."""
    cls = _EVENT_TYPES.get(type_name)
    if cls is None:
        for candidate in rasa.shared.utils.common.all_subclasses(Event):
            _EVENT_TYPES.setdefault(candidate.type_name, candidate)  # the first, as Rasa's loop returns it
        cls = _EVENT_TYPES.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # backwards compatibility to support old TopicSet events (as Rasa)
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def apply() -> None:
    """Install the replacements (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign,assignment]

