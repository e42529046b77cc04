"""Personal data end to end: CPR numbers in every written form (dash, en dash, slash, dots, spaces,
none), citizens' phone numbers and e-mail addresses sent through REST (text and metadata), socket.io
and the web widget (in Chromium) to a running assistant at DEBUG log level with an SQL event broker,
and sender ids that are personal numbers (refused); afterwards the tracker store file (and its -wal),
the event broker file and both logs hold none of them, nor does the widget's localStorage, while the
bot has answered every question and its answers keep the municipalities' own phone numbers.

Tests run in file order: the last one stops this module's server and searches the files.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from traeningsguide import answers
from traeningsguide.knowledge import knowledge
from traeningsguide.privacy import mask_personal_numbers
from traeningsguide.textnorm import format_phone

from .conftest import PROJECT, Assistant, gives_a_number_of
from .test_browser import _wait_for_bot, browser, site  # noqa: F401  (fixtures; `site` serves this module's assistant)

BROKER = PROJECT / "tests" / "endpoints-broker.yml"  # the event broker block, added to endpoints.yml
FALLBACK = "Det forstod jeg ikke helt"

# (message, municipality, topic): a CPR with dash, without, with a space, in the middle of a
# sentence, and another long digit run. Each channel has its own numbers, so hits are attributable.
REST = [
    ("min mor har cpr 170248-3917, hvad koster kørsel til genoptræning i Køge?", "koege", "transport"),
    ("2905613824 hvad koster kørsel til træning i Holbæk?", "holbaek", "transport"),
    ("min far 110374 3206 spørger hvor lang tid går der før jeg får svar fra roskilde kommune om træning",
     "roskilde", "response_time"),
    ("mit kundenummer er 7314-9952-0486, hvad skal jeg have med til træning i koege", "koege", "what_to_bring"),
    # the forms that were stored as typed before issue 12
    ("min mor har cpr 170871/4431, hvad koster kørsel til genoptræning i Køge?", "koege", "transport"),
    ("cpr 17.08.71-4432 hvad koster kørsel til træning i Holbæk?", "holbaek", "transport"),
    ("min far 230556–2281 spørger hvor lang tid går der før jeg får svar fra roskilde kommune om træning",
     "roskilde", "response_time"),
    ("skriv til jens.hansen@example.dk eller ring 21 43 65 87: hvad skal jeg have med til træning i koege",
     "koege", "what_to_bring"),
]
SOCKET = [
    ("min mor har cpr 080959-4127, hvad koster kørsel til genoptræning i Køge?", "koege", "transport"),
    ("1712823390 hvad koster kørsel til træning i Holbæk?", "holbaek", "transport"),
    ("min far 250466 7718 spørger hvor lang tid går der før jeg får svar fra roskilde kommune om træning",
     "roskilde", "response_time"),
    ("mit kundenummer er 5583 2291 6604, hvad skal jeg have med til træning i koege", "koege", "what_to_bring"),
    ("CPR140362—5519 hvad koster kørsel til træning i Holbæk?", "holbaek", "transport"),
    ("min mor har cpr 150952/3318, hvad koster kørsel til genoptræning i Køge?", "koege", "transport"),
    ("cpr 03.11.47-2209 hvad koster kørsel til træning i Holbæk?", "holbaek", "transport"),
    ("skriv til ib.berg@example.dk eller ring 31 42 53 64: hvad skal jeg have med til træning i koege", "koege",
     "what_to_bring"),
]
WIDGET = [  # on Køge's demo page: the widget tells the bot the municipality
    ("min mor har cpr 031285-6649, hvad koster kørsel til genoptræning?", "koege", "transport"),
    ("hvad skal jeg have med til træning? 2210917735", "koege", "what_to_bring"),
    ("min mor 19 04 48 63 21 skriver fra mette.k@mail.dk: hvad koster kørsel til genoptræning?", "koege",
     "transport"),
    ("min far har cpr 120345/6677 og 271140–4410, hvad koster kørsel til genoptræning?", "koege", "transport"),
    ("cpr 09.06.51-8812, tlf +45 2233 4455: hvad skal jeg have med til træning?", "koege", "what_to_bring"),
]
# sender ids holding a personal number: refused with 400, so never stored or logged
REFUSED_SENDERS = ["170871-4433", "270689/3312", "ole.olsen@example.dk"]
CHANNELS = {"REST": REST, "socket.io": SOCKET, "widget": WIDGET}
senders: dict[str, str] = {}  # channel -> sender id, filled in by the tests


def digit_forms(message: str) -> set[str]:
    """Every personal number of the message in the forms it could be kept in: as typed (and as JSON
    escapes it), digits only, for a CPR number also DDMMYY-XXXX, DDMMYY XXXX and DDMMYY/XXXX; and every
    e-mail address with its local part. Found with a wider pattern than the masking rule's own."""
    forms = set()
    for run in re.findall(r"\d(?:[^\w\n]{0,3}\d){7,}", message):
        digits = re.sub(r"\D", "", run)
        forms |= {run, json.dumps(run)[1:-1], digits}
        if len(digits) == 10:
            forms |= {f"{digits[:6]}{sep}{digits[6:]}" for sep in ("-", " ", "/")}
    for address in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", message):
        forms |= {address, address.split("@")[0]}
    return forms


def assert_real_answer(reply: str, kommune: str, topic: str) -> None:
    """A real answer despite the number in the message: a fact of the municipality (on the topic or the
    one beside it: "hvad koster kørsel?" is answered from cost or transport), its source, whom to contact."""
    m = knowledge().municipalities[kommune]
    near = {topic} | ({"cost", "transport"} if topic in ("cost", "transport") else set())
    assert FALLBACK not in reply, reply
    assert any(f.text in reply for f in m.facts if f.topic in near), reply
    assert answers.answer(kommune, topic).source in reply and ("Ring til" in reply or "Kontakt" in reply
                                                                   or gives_a_number_of(reply, kommune)), reply
    assert "#" not in reply


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    logs = tmp_path_factory.mktemp("privacy")
    endpoints = tmp_path_factory.mktemp("privacy-endpoints") / "endpoints.yml"  # not in logs/, which is searched
    endpoints.write_text((PROJECT / "endpoints.yml").read_text() + "\n" + BROKER.read_text())
    env = {"EVENT_BROKER_DB": str(logs / "events.db"),
           "LOG_LEVEL": "DEBUG",                # Rasa's and the action server's loggers
           "COLOREDLOGS_LOG_LEVEL": "DEBUG"}    # the action server's log handler (rasa_sdk)
    with Assistant(logs, extra_env=env, rasa_args=["--debug"], endpoints=endpoints) as running:
        yield running


def test_digit_forms_cover_every_way_of_writing_them() -> None:
    assert digit_forms("cpr 170248-3917.") == {"170248-3917", "1702483917", "170248 3917", "170248/3917"}
    assert digit_forms("x 5583 2291 6604 y") == {"5583 2291 6604", "558322916604"}
    assert digit_forms("min far 230556–2281") >= {"230556–2281", "230556\\u20132281", "2305562281"}
    assert digit_forms("til jens.hansen@example.dk:") == {"jens.hansen@example.dk", "jens.hansen"}


# --------------------------------------------------------------------------------------------

def test_rest(assistant: Assistant) -> None:
    sender = senders["REST"] = f"privacy-rest-{os.getpid()}"
    for message, kommune, topic in REST:
        # a client's metadata is stored with the user event: the same numbers go there too
        body = json.dumps({"sender": sender, "message": message,
                           "metadata": {"note": message, "ids": [int(d) for d in digit_forms(message) if d.isdigit()],
                                        # every form of each number and the e-mail address itself (not the
                                        # bare local part: a name alone is not what the rule masks)
                                        "cpr": sorted(f for f in digit_forms(message)
                                                      if "@" in f or any(ch.isdigit() for ch in f))}}).encode()
        request = urllib.request.Request(assistant.webhook, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            reply = "\n".join(r.get("text") or "" for r in json.loads(response.read()))
        assert_real_answer(reply, kommune, topic)
        # a rating of the answer with the message as its comment, every digit written as a JSON escape
        # (Rasa decodes the payload into entities after the channel has masked the text)
        comment = "".join(f"\\u{ord(c):04x}" if c.isdigit() else c for c in json.dumps(message, ensure_ascii=False))
        body = json.dumps({"sender": sender, "message": '/feedback{"rating": "down", "comment": ' + comment + "}"})
        request = urllib.request.Request(assistant.webhook, body.encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            thanks = [r.get("text") for r in json.loads(response.read())]
        assert thanks == [knowledge().texts["dialogue"]["feedback_thanks"]], thanks


def test_a_sender_id_holding_a_personal_number_is_refused(assistant: Assistant) -> None:
    from channels.replies import request_error

    for sender in REFUSED_SENDERS:
        body = json.dumps({"sender": sender, "message": "hvad koster kørsel i Køge?"}).encode()
        request = urllib.request.Request(assistant.webhook, body, {"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=60)
            raise AssertionError(f"{sender!r} was accepted")
        except urllib.error.HTTPError as error:
            assert error.code == 400
            assert json.loads(error.read()) == {"error": request_error("error_sender_personal")}


LOOK_ALIKES = "kan min far få mere end 32 gange efter § 86 stk. 1 fra 1. marts, han er 85 år, kl. 08.00-12.00?"


def test_look_alikes_are_stored_and_answered_intact(assistant: Assistant) -> None:
    """Numbers that are not personal (a count, a law reference, a date, an age, a time range) reach the
    NLU and the store as typed."""
    sender = f"privacy-lookalike-{os.getpid()}"
    body = json.dumps({"sender": sender, "message": LOOK_ALIKES + " i Rødovre"}).encode()
    request = urllib.request.Request(assistant.webhook, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        reply = "\n".join(r.get("text") or "" for r in json.loads(response.read()))
    assert FALLBACK not in reply and "Rødovre" in reply, reply
    assert _user_texts(assistant.tracker_db, sender) == [LOOK_ALIKES + " i Rødovre"]


def test_the_municipalitys_phone_numbers_stay_in_the_answers(assistant: Assistant) -> None:
    """Masking applies to what citizens type, never to what the bot says."""
    phone = format_phone(knowledge().municipalities["koege"].contact("afbud").phone)
    assert phone == "56 56 56 49"
    message = "hvordan melder jeg afbud i Køge?"
    body = json.dumps({"sender": f"privacy-phone-{os.getpid()}", "message": message}).encode()
    request = urllib.request.Request(assistant.webhook, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        reply = "\n".join(r.get("text") or "" for r in json.loads(response.read()))
    assert f"tlf. {phone}." in reply


async def _socket_chat(url: str, session_id: str, turns: list[tuple[str, str]]) -> list[str]:
    """Rasa's socket.io channel as a web page uses it. ``turns``: (message, the text that ends the
    expected reply); returns what arrived for each message (the reply's paragraphs come as separate
    events), up to that text or 60 s."""
    client = socketio.AsyncClient()
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    confirmed = asyncio.Event()
    client.on("bot_uttered", received.put)
    client.on("session_confirm", lambda _sid: confirmed.set())
    # Long-polling only: python-engineio 4.15's websocket client needs aiohttp.ClientWSTimeout
    # (aiohttp 3.10+), and Rasa 3.6 pins aiohttp 3.9. The server side is the same either way.
    await client.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=30)
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), 30)
        replies = []
        for message, last in turns:
            await client.emit("user_uttered", {"message": message, "session_id": session_id})
            reply, deadline = "", time.monotonic() + 60
            while last not in reply and time.monotonic() < deadline:
                try:
                    event = await asyncio.wait_for(received.get(), deadline - time.monotonic())
                except asyncio.TimeoutError:
                    break
                reply += (event.get("text") or "") + "\n"
            replies.append(reply)
        return replies
    finally:  # without waiting for the pending long-poll to end (~30 s)
        await client.eio.disconnect(abort=True)


def test_socketio(assistant: Assistant) -> None:
    sender = senders["socket.io"] = f"privacy-socket-{os.getpid()}"
    turns = [(m, answers.answer(kommune, topic).next_step.text) for m, kommune, topic in SOCKET]
    started = time.monotonic()
    replies = asyncio.run(_socket_chat(assistant.url, sender, turns))
    print(f"\nsocket.io: {len(turns)} turns in {time.monotonic() - started:.1f} s")
    for reply, (_, kommune, topic) in zip(replies, SOCKET, strict=True):
        assert_real_answer(reply, kommune, topic)


def test_widget_in_the_browser(browser: Any, site: str) -> None:  # noqa: F811
    context = browser.new_context(locale="da-DK", viewport={"width": 1024, "height": 800})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{site}/demo/koege.html")
        page.click("#tg-launcher")
        assert "Køge" in _wait_for_bot(page, 0)  # the page's municipality was sent on opening
        count = page.locator("#tg-log .tg-bot").count()
        for message, kommune, topic in WIDGET:
            page.fill("#tg-input", message)
            page.keyboard.press("Enter")
            reply = _wait_for_bot(page, count)
            count = page.locator("#tg-log .tg-bot").count()
            assert_real_answer(reply, kommune, topic)
        senders["widget"] = page.evaluate("localStorage.getItem('traeningsguide:sender')")

        shown = page.locator("#tg-log .tg-user .tg-text").all_inner_texts()
        assert [s.strip() for s in shown] == [mask_personal_numbers(m) for m, _, _ in WIDGET]
        stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
        assert "######-####" in stored and "##########" in stored and "## ## ## ## ##" in stored
        hits = [f for m, _, _ in WIDGET for f in digit_forms(m) if f in stored]
        print(f"\nwidget localStorage: {len(stored)} characters, CPR/digit hits: {len(hits)}")
        assert hits == []

        page.reload()  # the saved history comes back masked
        page.click("#tg-launcher")
        page.wait_for_function(f"document.querySelectorAll('#tg-log .tg-user').length >= {len(WIDGET)}")
        shown = page.locator("#tg-log .tg-user .tg-text").all_inner_texts()
        assert [s.strip() for s in shown] == [mask_personal_numbers(m) for m, _, _ in WIDGET]
    finally:
        context.close()


# --------------------------------------------------------------------------------------------

def _user_texts(db: Path, sender: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [e.get("text") for e in (json.loads(r[0]) for r in rows) if e.get("event") == "user"]


def test_no_digits_in_store_broker_or_logs(assistant: Assistant) -> None:
    """Last: stops the server (logs flushed), then searches every file it wrote."""
    assistant.stop()
    tracker, broker = assistant.tracker_db, Path(assistant.env["EVENT_BROKER_DB"])
    files = {"tracker store": tracker, "event broker": broker,
             "rasa log": assistant.rasa_log, "action server log": assistant.action_log}
    for name, path in files.items():
        assert path.exists() and path.stat().st_size > 0, name
    extra = [p for p in tracker.parent.iterdir() if p.is_file() and p not in files.values()]
    contents = {**{name: path.read_bytes() for name, path in files.items()},
                **{p.name: p.read_bytes() for p in extra}}  # e.g. a -journal file, if any

    print(f"\n{'channel':<10} " + " ".join(f"{name:>18}" for name in contents))
    total = 0
    searched = {**{channel: [m for m, _, _ in messages] for channel, messages in CHANNELS.items()},
                "sender ids": REFUSED_SENDERS}
    for channel, messages in searched.items():
        forms = {f.encode() for m in messages for f in digit_forms(m)}
        hits = {name: sum(data.count(f) for f in forms) for name, data in contents.items()}
        total += sum(hits.values())
        print(f"{channel:<10} " + " ".join(f"{hits[name]:>18}" for name in contents)
              + f"   ({len(forms)} digit forms searched)")
    for name, data in contents.items():
        print(f"  {name}: {len(data)} bytes")
    assert total == 0

    # Not vacuous: both databases hold every message of every channel, masked; Rasa logged them at
    # DEBUG; the action server logged at DEBUG too.
    assert set(senders) == set(CHANNELS), f"a channel test did not run: {sorted(senders)}"
    for channel, sender in senders.items():
        typed = [mask_personal_numbers(m) for m, _, _ in CHANNELS[channel]]
        for db in (tracker, broker):
            texts = _user_texts(db, sender)
            assert [t for t in texts if "#" in t and not t.startswith("/feedback")] == typed, (channel, db.name)
            if channel == "REST":  # each rating's comment stored written out and masked, as Rasa reads it
                assert [t for t in texts if t.startswith("/feedback")] == [
                    "/feedback" + json.dumps({"rating": "down", "comment": m}, ensure_ascii=False) for m in typed]
    rasa_log = contents["rasa log"].decode("utf-8", "replace")
    assert " DEBUG " in rasa_log and "######-####" in rasa_log and "#### #### ####" in rasa_log
    assert " DEBUG " in contents["action server log"].decode("utf-8", "replace")

