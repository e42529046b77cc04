"""One guard around every user turn, for both channels (REST and socket.io).

Rasa hands each channel an ``on_new_message`` callback (``app.ctx.agent.handle_message``). The
channels wrap it in :class:`TurnGuard`, which

- cleans the text before anything else sees it (``channels.text.clean_message``: valid Unicode,
  CPR numbers and long digit runs masked, cut to 1000 characters). Nothing between the HTTP/socket
  handler and this guard logs the text, so Rasa's parsing, tracker store, event broker and logs
  (DEBUG included) only ever get the masked text;
- answers an empty message itself (no Rasa turn for nothing) and says when a message was cut;
- never lets a turn end in silence: when Rasa produced no bot message (the action server is down,
  answers 500 or an invalid response: Rasa's ``MessageProcessor._run_action`` logs the exception,
  drops the action's events and carries on; or the turn raised, or took longer than
  ``TRAENINGSGUIDE_TURN_TIMEOUT`` seconds), it sends the outage reply with the municipality's contact,
  read from the conversation's ``kommune`` slot in the tracker store.

The time limit exists because Rasa waits up to 5 minutes for the action server
(``DEFAULT_REQUEST_TIMEOUT``, not configurable in 3.6) while the widget gives up after 15 seconds; the
default, 10 s, lets the widget show the server's outage reply. A turn cut off by the time limit is
cancelled before it is saved, so the conversation continues from its state before that turn.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.response import HTTPResponse

from channels import replies, speedups
from channels.text import MAX_BODY_BYTES, clean_message, personal_sender
from traeningsguide.dialogue import OUTAGE, RECORD_KEY
from traeningsguide.privacy import mask_personal_numbers_in

logger = logging.getLogger(__name__)

TURN_TIMEOUT_ENV = "TRAENINGSGUIDE_TURN_TIMEOUT"
DEFAULT_TURN_TIMEOUT = 10.0
KOMMUNE_SLOT = "kommune"


def turn_timeout() -> float:
    value = os.environ.get(TURN_TIMEOUT_ENV, "")
    try:
        seconds = float(value) if value.strip() else DEFAULT_TURN_TIMEOUT
    except ValueError:
        logger.warning("%s=%r is not a number of seconds; using %s", TURN_TIMEOUT_ENV, value, DEFAULT_TURN_TIMEOUT)
        return DEFAULT_TURN_TIMEOUT
    return seconds if seconds > 0 else DEFAULT_TURN_TIMEOUT



def limit_body_size(app: Sanic) -> None:
    """Requests larger than MAX_BODY_BYTES get 413 with the Danish error (Sanic's default is 100 MB).
    Sanic reads the limit from the config for every new connection, so setting it before the server
    starts is enough; the handler replaces Sanic's English text."""
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES

    async def too_large(_request: Any, _exception: Exception) -> HTTPResponse:
        return response.json({"error": replies.request_error("error_too_large")}, status=413)

    app.error_handler.add(PayloadTooLarge, too_large)

class CountingOutputChannel(OutputChannel):
    """Passes every bot message on to the channel's own output and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> str:  # type: ignore[override]  # the inner channel's name (channel-specific responses)
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)


class TurnGuard:
    """The ``on_new_message`` callback the channels give Rasa's blueprints instead of Rasa's own."""

    def __init__(self, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                 timeout: float | None = None) -> None:
        self.on_new_message = on_new_message
        self.timeout = timeout if timeout is not None else turn_timeout()
        self.app: Sanic | None = None  # set when the server starts: its agent has the tracker store

    def attach(self, blueprint: Blueprint) -> None:
        """Remember the Sanic app when the server starts (for the tracker store)."""

        async def remember_app(app: Sanic, _loop: Any) -> None:
            self.app = app
            limit_body_size(app)

        blueprint.listener("before_server_start")(remember_app)

        async def freeze(_app: Sanic, _loop: Any) -> None:
            speedups.freeze_heap()
            store = self.tracker_store()
            if hasattr(store, "start_retention"):  # channels.stores: delete conversations past retention
                store.start_retention()

        blueprint.listener("after_server_start")(freeze)

    async def __call__(self, message: UserMessage) -> None:
        if personal_sender(message.sender_id):  # a backstop: the channels refuse such ids before this
            await message.output_channel.send_response(message.sender_id,
                                                       {"text": replies.request_error("error_sender_personal")})
            return
        clean = clean_message(message.text)
        message.text = clean.text
        # a client's metadata is stored with the user event: personal numbers masked there too
        message.metadata = mask_personal_numbers_in(message.metadata)
        output, sender = message.output_channel, message.sender_id
        if not clean.text:
            await output.send_response(sender, {"text": replies.empty_message()})
            return
        if clean.cut:
            await output.send_response(sender, {"text": replies.too_long_note()})
        counting = CountingOutputChannel(output)
        message.output_channel = counting
        try:
            await asyncio.wait_for(self.on_new_message(message), self.timeout)
        except asyncio.TimeoutError:
            # the text is not logged: it may hold personal data (it is masked, but still the citizen's)
            logger.error("A turn took longer than %s s and was cancelled; sending the outage reply.", self.timeout)
        except Exception:
            logger.exception("A turn failed; sending the outage reply.")
        if counting.sent == 0:
            logger.warning("The turn produced no bot message (is the action server down?); "
                           "sending the outage reply.")
            kommune = await self._kommune(sender)
            texts = replies.outage_messages(kommune)
            for text in texts:
                await output.send_response(sender, {"text": text})
            await self._record_outage(message, kommune, texts)

    def _agent_store(self) -> Any:
        """The tracker store the server's agent uses (Rasa may wrap it), or None before it is loaded."""
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        return getattr(agent, "tracker_store", None)

    def tracker_store(self) -> Any:
        """The server's tracker store (unwrapped from Rasa's AwaitableTrackerStore), or None."""
        store = self._agent_store()
        return getattr(store, "_tracker_store", store)

    async def _record_outage(self, message: UserMessage, kommune: str | None, texts: list[str]) -> None:
        """The outage reply kept in the conversation like any bot message, marked as an outage (the
        municipality's report counts them), after the (masked) question it answers: a turn cut off by
        the time limit was not saved. Best effort: the store may be what failed."""
        store = self._agent_store()
        if store is None:
            return
        sender = message.sender_id
        try:
            tracker = await store.retrieve(sender) or await store.create_tracker(sender)
            if not any(isinstance(e, UserUttered) and e.message_id == message.message_id for e in tracker.events):
                tracker.update(UserUttered(message.text, input_channel=message.input_channel,
                                           message_id=message.message_id, metadata=message.metadata))
            for text in texts:
                tracker.update(BotUttered(text, metadata={RECORD_KEY: {"kind": OUTAGE, "kommune": kommune}}))
            await store.save(tracker)
        except Exception:
            logger.exception("Could not keep the outage reply in the tracker store.")

    async def _kommune(self, sender: str) -> str | None:
        """The conversation's municipality from the tracker store, or None (unknown or unreadable)."""
        store = self._agent_store()
        if store is None:
            return None
        try:
            tracker = await store.retrieve(sender)
            value = tracker.get_slot(KOMMUNE_SLOT) if tracker is not None else None
        except Exception:
            logger.exception("Could not read the conversation's municipality from the tracker store.")
            return None
        return value if isinstance(value, str) else None
