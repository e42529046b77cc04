"""Rasa's REST and socket.io channels with personal numbers masked at the door and no silent turns.

Both channels keep Rasa's names and URLs ("rest": POST /webhooks/rest/webhook; "socketio":
/socket.io) and pass every user turn through :class:`channels.guard.TurnGuard`: the text is cleaned,
CPR numbers and other long digit runs are masked and the text is cut to 1000 characters before Rasa
parses, stores or logs it; an empty message gets a Danish hint; a turn that produced no bot message
(action server down, erroring or too slow) gets the Danish outage reply with the municipality's
contact.

The REST channel also checks the request itself (``channels.payload``): a body that is not a JSON
object with a "sender" and a text "message" gets a clean 4xx with a short Danish ``{"error": ...}``,
never a 500 or a traceback.

Both channels load the knowledge base when Rasa creates them (``from_credentials``, before the model
is loaded), so a broken knowledge file stops ``rasa run`` at once with the validation error
('file: field: problem') instead of starting a bot that fails on its first outage reply.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from channels import replies
from channels.guard import TurnGuard
from channels.payload import RequestError, parse_rest_body
from channels.text import personal_sender, valid_sender
from traeningsguide.knowledge import KnowledgeError, knowledge
from traeningsguide.privacy import mask_personal_numbers

logger = logging.getLogger(__name__)


def require_knowledge() -> None:
    """Load (and validate) the knowledge base now; a broken one stops Rasa with its clear message."""
    try:
        knowledge()
    except KnowledgeError as exc:
        raise RasaException(f"The knowledge base is broken, so the chat channels cannot start.\n{exc}") from None


class SourcedCollectingOutputChannel(CollectingOutputChannel):
    """Rasa's REST collector, with a message's ``custom`` payload (the answer's sources) attached to the
    message it came with, the answer's last paragraph, instead of sent as a message of its own: a client
    that ignores ``custom`` sees exactly the text messages it saw before."""

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        last = self.messages[-1] if self.messages else None
        if last is not None and last.get("recipient_id") == recipient_id and "custom" not in last and \
                last.get("text"):
            last["custom"] = json_message
        else:
            await super().send_custom_json(recipient_id, json_message, **kwargs)


class MaskingRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        require_knowledge()
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's REST routes (GET / and POST /webhook, ``?stream=true`` included), with the request
        checked (channels.payload) and every turn guarded (channels.guard)."""
        guard = TurnGuard(on_new_message)
        module = inspect.getmodule(self)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)
        guard.attach(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> ResponseStream | HTTPResponse:
            parsed = parse_rest_body(request.body, request.headers.get("content-type"))
            if isinstance(parsed, RequestError):
                return response.json({"error": replies.request_error(parsed.key)}, status=parsed.status)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(guard, parsed.message, parsed.sender, self.name(), parsed.metadata),
                    content_type="text/event-stream")
            collector = SourcedCollectingOutputChannel()
            message = UserMessage(parsed.message, collector, parsed.sender, input_channel=self.name(),
                                  metadata=parsed.metadata)
            try:
                await guard(message)
            except CancelledError:  # the client went away or Sanic's response timeout: nobody to answer
                logger.warning("A REST request was cancelled before its turn ended.")
            return response.json(collector.messages)

        @webhook.route("/forget", methods=["POST"])
        async def forget(request: Request) -> HTTPResponse:
            """The citizen's "Slet samtale": every event of this sender id is deleted from the tracker
            store. The sender id (a random UUID the widget makes) is the only key."""
            parsed = parse_rest_body(request.body, request.headers.get("content-type"), message_required=False)
            if isinstance(parsed, RequestError):
                return response.json({"error": replies.request_error(parsed.key)}, status=parsed.status)
            store = guard.tracker_store()
            if not hasattr(store, "forget"):
                return response.json({"error": replies.request_error("error_forget")}, status=501)
            deleted = store.forget(parsed.sender)
            return response.json({"deleted": deleted > 0})

        return webhook


class _MaskingLogFilter(logging.Filter):
    """Masks personal numbers in log records (engineio logs raw packets at INFO, e.g. with
    LOG_LEVEL_LIBRARIES=INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a broken record is not ours to fix; let logging report it
            return True
        masked = mask_personal_numbers(text)
        if masked != text:
            record.msg, record.args = masked, None
        return True


_LOG_FILTER = _MaskingLogFilter()
_SOCKET_LOGGERS = ("engineio.server", "socketio.server")


def _hard_line_breaks(text: str) -> str:
    """Each message (a paragraph) keeps its single line breaks in clients that read it as Markdown
    (rasa-webchat): a line ends with two spaces, Markdown's hard break; plain clients see the same text."""
    return "\n\n".join("  \n".join(line.rstrip() for line in part.split("\n")) for part in text.split("\n\n"))


class LineKeepingSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output with the bot's lists and line breaks kept for Markdown clients."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await super().send_text_message(recipient_id, _hard_line_breaks(text), **kwargs)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        await super().send_text_with_buttons(recipient_id, _hard_line_breaks(text), buttons, **kwargs)


class MaskingSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel (same events, /socket.io) with the same guard as REST; malformed
    events get a short Danish bot message instead of an exception in the handler."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        require_knowledge()
        return super().from_credentials(credentials)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        guard = TurnGuard(on_new_message)

        async def keep_lines(message: UserMessage) -> None:  # Rasa's handler makes a plain SocketIOOutput
            out = message.output_channel
            if type(out) is SocketIOOutput:
                message.output_channel = LineKeepingSocketIOOutput(out.sio, out.bot_message_evt)
            await guard(message)

        webhook = super().blueprint(keep_lines)
        guard.attach(webhook)
        for name in _SOCKET_LOGGERS:
            if _LOG_FILTER not in logging.getLogger(name).filters:
                logging.getLogger(name).addFilter(_LOG_FILTER)

        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint
        namespace = self.namespace or "/"
        rasa_message_handler = sio.handlers[namespace][self.user_message_evt]

        async def reply_error(sid: str, key: str) -> None:
            await sio.emit(self.bot_message_evt, {"text": replies.request_error(key)}, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                await reply_error(sid, "error_message")
                return
            if self.session_persistence and valid_sender(data.get("session_id")) is None:
                personal = personal_sender(data.get("session_id"))
                await reply_error(sid, "error_sender_personal" if personal else "error_sender")
                return
            metadata = data.get(self.metadata_key)
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except (ValueError, RecursionError):
                    metadata = None
            if metadata is not None and not isinstance(metadata, dict):
                await reply_error(sid, "error_metadata")
                return
            await rasa_message_handler(sid, {**data, self.metadata_key: metadata or {}})

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            # Rasa's handler, with two fixes: a malformed request gets a new session instead of an
            # exception, and the room is really entered. Rasa 3.6 calls python-socketio 5's coroutine
            # ``enter_room`` without awaiting it, so with session_persistence the client never joins
            # its session's room and every bot message (sent to that room) is lost.
            data = data if isinstance(data, dict) else {}
            session_id = valid_sender(data.get("session_id")) or uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        return webhook
