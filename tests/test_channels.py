"""The channel layer (channels/): message cleaning, REST request checks, the outage reply, the turn
guard, the socket.io channel (masking, malformed events, replies really arriving), and start-up with
a broken knowledge base."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.exceptions import RasaException

from channels import replies
from channels.guard import CountingOutputChannel, TurnGuard
from channels.masking import MaskingRestInput, MaskingSocketIOInput, _MaskingLogFilter
from channels.payload import RequestError, RestRequest, parse_rest_body
from channels.text import MAX_MESSAGE_CHARS, MAX_SENDER_CHARS, clean_message, valid_sender
from traeningsguide import answers
from traeningsguide.knowledge import KnowledgeBase, knowledge

from .conftest import Assistant

CPR = "010150-1234"

# --------------------------------------------------------------------------------------------
# Cleaning the text


def test_clean_message_masks_cpr_numbers_and_long_digit_runs() -> None:
    cleaned = clean_message(f"mit cpr er {CPR} og kontonr 1234 5678 9012, jeg er 84 år")
    assert cleaned.text == "mit cpr er ######-#### og kontonr #### #### ####, jeg er 84 år"
    assert not cleaned.cut


def test_clean_message_repairs_unicode_and_control_characters() -> None:
    cleaned = clean_message("hej\x00med\x07dig \ud800 o\u0308\nlinje\ttab")
    assert cleaned.text == "hej med dig \ufffd ö\nlinje\ttab"
    cleaned.text.encode("utf-8")  # encodable: spaCy and the tracker store get valid text


def test_a_payloads_values_are_masked_as_rasa_will_read_them() -> None:
    """A rating's comment is JSON: a CPR number written with JSON escapes ("\\u0031…") or as a JSON
    number must not pass the masking and come out of Rasa's decoding as digits."""
    escaped = "".join(f"\\u{ord(c):04x}" for c in CPR)  # 010150-1234, every character escaped
    for text in (f'/feedback{{"answer": "ab12", "rating": "down", "comment": "cpr {escaped}"}}',
                 f'/feedback{{"comment": "cpr {escaped}"}}\nx',  # Rasa reads the payload's first line
                 '/feedback{"comment": 101501234, "rating": "down"}',
                 f'/feedback{{"comment": "{CPR}"}}'):
        cleaned = clean_message(text).text
        values = json.loads(cleaned[len("/feedback"):].split("\n")[0])  # still a payload Rasa reads
        assert not re.search(r"\d{4}", json.dumps(values)), cleaned
        assert "#" in str(values["comment"])
    assert json.loads(clean_message('/inform_kommune{"kommune":"koege"}').text[len("/inform_kommune"):]) == \
        {"kommune": "koege"}
    assert clean_message("/feedback{not json 010150-1234").text == "/feedback{not json ######-####"
    assert clean_message("hvad koster {det}?").text == "hvad koster {det}?"


def test_empty_and_whitespace_are_empty() -> None:
    assert clean_message(None).text == ""
    assert clean_message(" \n\t\x00 ").text == ""


def test_long_message_is_cut_at_a_word_boundary() -> None:
    cleaned = clean_message("hvad koster kørsel " * 500)
    assert cleaned.cut
    assert MAX_MESSAGE_CHARS - 40 <= len(cleaned.text) <= MAX_MESSAGE_CHARS
    assert cleaned.text.endswith(("hvad", "koster", "kørsel"))


def test_long_message_without_spaces_is_cut_at_the_limit() -> None:
    cleaned = clean_message("x" * 20_000)
    assert cleaned.cut and len(cleaned.text) == MAX_MESSAGE_CHARS


def test_a_cpr_number_across_the_cut_is_masked_not_half_kept() -> None:
    # the number starts 6 characters before the limit: cutting first would keep '010150'
    text = "a" * (MAX_MESSAGE_CHARS - 6) + "0101501234" + " mere tekst"
    cleaned = clean_message(text)
    assert cleaned.cut
    assert not re.search(r"\d", cleaned.text)


@pytest.mark.parametrize("value, expected", [
    ("3f2c-uuid", "3f2c-uuid"), (5, "5"), ("x" * MAX_SENDER_CHARS, "x" * MAX_SENDER_CHARS),
    ("", None), ("   ", None), (None, None), (True, None), ({"a": 1}, None), (["a"], None), (1.5, None),
    ("x" * (MAX_SENDER_CHARS + 1), None), ("a\x00b", None), ("a\nb", None), ("\ud800", None),
])
def test_valid_sender(value: object, expected: str | None) -> None:
    assert valid_sender(value) == expected


# --------------------------------------------------------------------------------------------
# REST request bodies


@pytest.mark.parametrize("body, content_type, status, key", [
    (b"", "application/json", 400, "error_json"),
    (b"{", "application/json", 400, "error_json"),
    (b"\xff\xfe{}", "application/json", 400, "error_json"),
    (b"[" * 100_000, "application/json", 400, "error_json"),  # RecursionError in json
    (b"[1, 2]", "application/json", 400, "error_json"),
    (b'"hej"', None, 400, "error_json"),
    (b"null", "application/json", 400, "error_json"),
    (b"sender=a&message=hej", "application/x-www-form-urlencoded", 415, "error_content_type"),
    (b"<message>hej</message>", "application/xml", 415, "error_content_type"),
    (b'{"message": "hej"}', "application/json", 400, "error_sender"),
    (b'{"sender": "", "message": "hej"}', "application/json", 400, "error_sender"),
    (b'{"sender": "a"}', "application/json", 400, "error_message"),
    (b'{"sender": "a", "message": null}', "application/json", 400, "error_message"),
    (b'{"sender": "a", "message": 42}', "application/json", 400, "error_message"),
    (b'{"sender": "a", "message": "hej", "metadata": "x"}', "application/json", 400, "error_metadata"),
])
def test_bad_rest_bodies_are_refused_with_a_status_and_a_danish_error(
        body: bytes, content_type: str | None, status: int, key: str) -> None:
    parsed = parse_rest_body(body, content_type)
    assert parsed == RequestError(status, key)
    assert replies.request_error(parsed.key).strip()


@pytest.mark.parametrize("content_type", [None, "application/json", "application/json; charset=utf-8",
                                          "text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_is_accepted_whatever_the_content_type(content_type: str | None) -> None:
    # curl -d sends form-urlencoded; Rasa has always read the JSON anyway
    body = json.dumps({"sender": "a", "message": "hej", "metadata": {"k": 1}, "input_channel": "x"}).encode()
    assert parse_rest_body(body, content_type) == RestRequest("a", "hej", {"k": 1})


def test_request_errors_fill_in_the_sender_limit(kb: KnowledgeBase) -> None:
    assert str(MAX_SENDER_CHARS) in replies.request_error("error_sender", kb)
    with pytest.raises(KeyError):
        replies.request_error("outage", kb)


# --------------------------------------------------------------------------------------------
# The outage reply


def test_outage_reply_with_a_known_municipality_names_its_contact(kb: KnowledgeBase) -> None:
    koege = kb.municipalities["koege"]
    messages = replies.outage_messages("koege", kb)
    assert messages[0] == kb.texts["channel"]["outage"]
    # every contact of Køge's main contacts is named, and the numbers the source gives follow
    for contact in koege.main_contacts():
        assert contact.name in messages[1]
    assert "56 67 26 26" in messages[1] and "56 56 56 49" in messages[1]


def test_outage_reply_without_a_municipality_lists_all_five_main_contacts(kb: KnowledgeBase) -> None:
    messages = replies.outage_messages(None, kb)
    assert messages[0] == kb.texts["channel"]["outage"]
    for municipality in kb.municipalities.values():
        assert municipality.short_name in messages[1]
        assert answers.steps(municipality, municipality.main_contacts(), kb).text in messages[1]
    # an unknown or stale slot value is treated as unknown
    assert replies.outage_messages("aarhus", kb) == messages


# --------------------------------------------------------------------------------------------
# The turn guard (with a stand-in for Rasa's agent.handle_message)


class _Tracker:
    def __init__(self, slots: dict[str, Any]) -> None:
        self.slots = slots

    def get_slot(self, name: str) -> Any:
        return self.slots.get(name)


class _Store:
    def __init__(self, slots: dict[str, Any] | None = None, fail: bool = False) -> None:
        self.slots, self.fail = slots, fail

    async def retrieve(self, sender_id: str) -> _Tracker | None:
        if self.fail:
            raise RuntimeError("tracker store down")
        return _Tracker(self.slots) if self.slots is not None else None


def _guard(handler: Any, store: _Store | None = None, timeout: float = 5) -> TurnGuard:
    guard = TurnGuard(handler, timeout=timeout)
    guard.app = SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=store)))  # type: ignore[assignment]
    return guard


def _turn(guard: TurnGuard, text: str | None, sender: str = "s1") -> list[dict[str, Any]]:
    collector = CollectingOutputChannel()
    asyncio.run(guard(UserMessage(text, collector, sender)))
    return collector.messages


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text", "") for m in messages]


def test_guard_masks_before_rasa_sees_the_message() -> None:
    seen: list[str] = []

    async def rasa(message: UserMessage) -> None:
        seen.append(message.text or "")
        await message.output_channel.send_response(message.sender_id, {"text": "svar"})

    messages = _turn(_guard(rasa), f"mit cpr er {CPR}, hvad koster det?")
    assert seen == ["mit cpr er ######-####, hvad koster det?"]
    assert _texts(messages) == ["svar"]


def test_guard_answers_an_empty_message_itself(kb: KnowledgeBase) -> None:
    called = []

    async def rasa(message: UserMessage) -> None:
        called.append(message)

    assert _texts(_turn(_guard(rasa), "   ")) == [kb.texts["channel"]["empty"]]
    assert called == []


def test_guard_says_when_a_message_was_cut(kb: KnowledgeBase) -> None:
    seen: list[str] = []

    async def rasa(message: UserMessage) -> None:
        seen.append(message.text or "")
        await message.output_channel.send_response(message.sender_id, {"text": "svar"})

    messages = _turn(_guard(rasa), "ord " * 5000)
    assert len(seen[0]) <= MAX_MESSAGE_CHARS
    assert _texts(messages) == [replies.too_long_note(kb), "svar"]


def test_guard_sends_the_outage_reply_with_the_slot_municipality_when_rasa_is_silent(kb: KnowledgeBase) -> None:
    async def silent(message: UserMessage) -> None:  # what Rasa does when the action server is down
        return None

    messages = _turn(_guard(silent, _Store({"kommune": "roedovre"})), "hvad koster det?")
    assert _texts(messages) == replies.outage_messages("roedovre", kb)
    assert all(m["recipient_id"] == "s1" for m in messages)


@pytest.mark.parametrize("store", [None, _Store(None), _Store({"kommune": None}), _Store(fail=True)],
                         ids=["no-store", "no-tracker", "no-slot", "store-fails"])
def test_guard_falls_back_to_all_contacts(store: _Store | None, kb: KnowledgeBase) -> None:
    async def silent(message: UserMessage) -> None:
        return None

    assert _texts(_turn(_guard(silent, store), "hej")) == replies.outage_messages(None, kb)


def test_guard_sends_the_outage_reply_when_the_turn_raises(kb: KnowledgeBase) -> None:
    async def broken(message: UserMessage) -> None:
        raise RuntimeError("boom")

    assert _texts(_turn(_guard(broken, _Store({"kommune": "koege"})), "hej")) == replies.outage_messages("koege", kb)


def test_guard_gives_up_on_a_slow_turn(kb: KnowledgeBase) -> None:
    cancelled = []

    async def slow(message: UserMessage) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    start = time.monotonic()
    messages = _turn(_guard(slow, _Store({"kommune": "holbaek"}), timeout=0.3), "hej")
    assert time.monotonic() - start < 5
    assert cancelled == [True]
    assert _texts(messages) == replies.outage_messages("holbaek", kb)


def test_guard_adds_nothing_to_a_normal_turn() -> None:
    async def rasa(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "et"})
        await message.output_channel.send_response(message.sender_id, {"text": "to", "buttons": []})

    assert _texts(_turn(_guard(rasa, _Store({"kommune": "koege"})), "hej")) == ["et", "to"]


def test_counting_output_channel_keeps_the_inner_channel_name() -> None:
    inner = CollectingOutputChannel()
    counting = CountingOutputChannel(inner)
    assert counting.name() == inner.name()
    asyncio.run(counting.send_response("s", {"text": "a"}))
    assert counting.sent == 1 and inner.messages == [{"recipient_id": "s", "text": "a"}]
    assert counting.latest_output() == inner.latest_output()  # everything else is the inner channel's


def test_log_filter_masks_personal_numbers() -> None:
    record = logging.LogRecord("engineio.server", logging.INFO, __file__, 1, "%s: Received packet %s data %s",
                               ("sid", "MESSAGE", f'42["user_uttered",{{"message":"cpr {CPR}"}}]'), None)
    assert _MaskingLogFilter().filter(record)
    assert "0101501234" not in record.getMessage().replace("-", "")
    assert "######-####" in record.getMessage()


# --------------------------------------------------------------------------------------------
# Start-up with a broken knowledge base


@pytest.mark.parametrize("channel", [MaskingRestInput, MaskingSocketIOInput])
def test_channels_refuse_to_start_with_a_broken_knowledge_base(
        channel: Any, kb_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = kb_copy / "municipalities" / "roskilde.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("short_name: Roskilde\n", "", 1), encoding="utf-8")
    monkeypatch.setenv("TRAENINGSGUIDE_KNOWLEDGE", str(kb_copy))
    with pytest.raises(RasaException, match="municipalities/roskilde.yml: short_name: is missing"):
        channel.from_credentials({})


def test_channels_start_with_the_real_knowledge_base() -> None:
    knowledge()
    assert MaskingRestInput.from_credentials(None).name() == "rest"
    socket = MaskingSocketIOInput.from_credentials({"session_persistence": True})
    assert socket.name() == "socketio" and socket.socketio_path == "/socket.io"


# --------------------------------------------------------------------------------------------
# socket.io against the running assistant


async def _socket_session(url: str, session_id: str, events: list[Any]) -> list[list[dict[str, Any]]]:
    """Send each event on one socket.io session; the bot messages that came back after each."""
    import socketio  # python-socketio's client (polling: its websocket client needs a newer aiohttp)

    client = socketio.AsyncClient()
    received: list[dict[str, Any]] = []
    confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    client.on("bot_uttered", lambda data: received.append(data))
    client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
    await client.connect(url, socketio_path="/socket.io", transports=["polling"])
    replies_per_event = []
    try:
        await client.emit("session_request", {"session_id": session_id})
        assert await asyncio.wait_for(confirmed, 30) == session_id
        for event in events:
            received.clear()
            await client.emit("user_uttered", event)
            deadline = time.monotonic() + 30
            while not received and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # the rest of a multi-message reply
            replies_per_event.append(list(received))
    finally:
        await client.disconnect()
    return replies_per_event


def test_socketio_masks_answers_and_refuses_malformed_events(shared_assistant: Assistant, kb: KnowledgeBase) -> None:
    session = "socket-test-1"
    events: list[Any] = [
        {"message": f"mit cpr er {CPR}, hvad koster træning i Køge?", "session_id": session},
        {"message": 42, "session_id": session},
        "bare tekst",
        {"message": "hej"},  # no session_id with session_persistence
        {"message": "   ", "session_id": session},
    ]
    got = asyncio.run(_socket_session(shared_assistant.url, session, events))
    answer = " ".join(m.get("text", "") for m in got[0])
    assert "Køge" in answer and "Kilde:" in answer  # answered (replies reach the session's room)
    assert [m["text"] for m in got[1]] == [kb.texts["channel"]["error_message"]]
    assert [m["text"] for m in got[2]] == [kb.texts["channel"]["error_message"]]
    assert [m["text"] for m in got[3]] == [replies.request_error("error_sender", kb)]
    assert [m["text"] for m in got[4]] == [kb.texts["channel"]["empty"]]
    with sqlite3.connect(shared_assistant.tracker_db) as db:
        stored = [row[0] for row in db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (session,))]
    assert stored and "######-####" in stored[0]
    assert not any(CPR in row or "0101501234" in row or "010150" in row for row in stored)


def test_socketio_lines_keep_their_breaks_for_markdown_clients() -> None:
    from channels.masking import _hard_line_breaks

    text = "Genoptræning: gratis.\n• Holbæk: 50 kroner\n• Køge: takst\n\nKilde: Holbæk Kommunes …"
    kept = _hard_line_breaks(text)
    assert kept == "Genoptræning: gratis.  \n• Holbæk: 50 kroner  \n• Køge: takst\n\nKilde: Holbæk Kommunes …"
    assert kept.split("\n\n")[1] == "Kilde: Holbæk Kommunes …"  # a paragraph is still one message, same end
