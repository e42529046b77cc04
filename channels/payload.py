"""Reading a REST request body into (sender, message, metadata), or a clean 4xx (no Rasa imports).

Rasa's own RestInput calls ``request.json.get(...)`` and passes whatever it finds on: an empty body,
a JSON list or a number gave HTTP 500, a missing or null "message" or a non-object "metadata" made
the bot silently answer ``[]``, and a missing "sender" put every such client into one shared
conversation called "default". Here every body is either accepted with a usable sender, a text
message and an object (or no) metadata, or refused with a status and the key of a short Danish
error in knowledge/texts.yml (section ``channel``).

The body is parsed as JSON whatever the Content-Type says (``curl -d`` sends form-urlencoded, and
Rasa has always accepted that); only a body that is NOT JSON is refused: 415 when it came with a
non-JSON content type (a form, multipart, XML), else 400. The client's "input_channel" is ignored:
the channel is the channel that received the message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from channels.text import personal_sender, valid_sender

_JSON_TYPES = ("application/json",)


@dataclass(frozen=True)
class RestRequest:
    sender: str
    message: str  # as sent: cleaning, masking and the cut happen in the turn guard
    metadata: dict[str, Any] | None


@dataclass(frozen=True)
class RequestError:
    status: int
    key: str  # the Danish error text: knowledge/texts.yml channel.<key>


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media in _JSON_TYPES or media.endswith("+json")


def parse_rest_body(body: bytes | None, content_type: str | None,
                    message_required: bool = True) -> RestRequest | RequestError:
    """The request, or the error to answer; ``message_required=False`` for /forget (a sender only)."""
    try:
        data = json.loads((body or b"").decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        if _is_json_type(content_type or ""):
            return RequestError(400, "error_json")
        return RequestError(415, "error_content_type")
    if not isinstance(data, dict):
        return RequestError(400, "error_json")
    sender = valid_sender(data.get("sender"))
    if sender is None:
        return RequestError(400, "error_sender_personal" if personal_sender(data.get("sender")) else "error_sender")
    message = data.get("message", "" if not message_required else None)
    if not isinstance(message, str):
        return RequestError(400, "error_message")
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return RequestError(400, "error_metadata")
    return RestRequest(sender, message, metadata)
