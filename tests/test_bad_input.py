"""Bad input through the REST channel of the running assistant: every listed kind gets a clear Danish
reply (200, a JSON list of bot messages) or a clean 4xx with a short Danish {"error": ...}; never a
5xx, never a traceback. Then a hypothesis fuzz of 1000 generated requests (texts with any Unicode,
control characters and surrogates, long texts, random JSON, random bytes, random content types):
0 responses >= 500, the server still up and answering; the status histogram is printed."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import time
from collections import Counter
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels import replies
from channels.text import MAX_BODY_BYTES, MAX_MESSAGE_CHARS
from traeningsguide.knowledge import KnowledgeBase

from .conftest import Assistant

FUZZ_EXAMPLES = 1000
# Danish in a reply: a Danish letter or a word no other language here has
_DANISH = re.compile(r"[æøåÆØÅ]|\b(du|jeg|ikke|og|skal|eller|hvilken|kommune|træning|emne|beskeden|feltet)\b",
                     re.IGNORECASE)
_TRACEBACK = re.compile(r"Traceback|File \"|Exception|Error\b")


def _post(url: str, body: bytes, content_type: str | None = "application/json",
          session: requests.Session | None = None) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return (session or requests).post(url, data=body, headers=headers, timeout=60)


def _j(value: Any) -> bytes:
    return json.dumps(value).encode()


def _bot_texts(response: requests.Response, sender: str) -> list[str]:
    """The texts of a 200 reply, checked to be a JSON list of bot messages for this sender."""
    assert response.status_code == 200, response.text[:300]
    data = response.json()
    assert isinstance(data, list) and data, data
    for message in data:
        assert isinstance(message, dict) and message.get("recipient_id") == sender, message
        assert isinstance(message.get("text"), str) and message["text"].strip(), message
    return [m["text"] for m in data]


def _error_text(response: requests.Response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert isinstance(data, dict) and set(data) == {"error"}, data
    assert not _TRACEBACK.search(data["error"])
    return str(data["error"])


# --------------------------------------------------------------------------------------------
# Each listed bad input, explicitly

SENDER = "bad-input"

REFUSED = [
    # (id, body, content type, status, Danish error key)
    ("invalid-utf8", b'{"sender": "x", "message": "\xff\xfe hej"}', "application/json", 400, "error_json"),
    ("binary-as-json", bytes(range(256)), "application/json", 400, "error_json"),
    ("binary", bytes(random.Random(6).randrange(256) for _ in range(4096)), "application/octet-stream", 415,
     "error_content_type"),
    ("malformed-json", b'{"sender": "x", "message": ', "application/json", 400, "error_json"),
    ("empty-body", b"", "application/json", 400, "error_json"),
    ("json-list", _j(["hej"]), "application/json", 400, "error_json"),
    ("json-string", _j("hej"), "application/json", 400, "error_json"),
    ("json-number", b"42", "application/json", 400, "error_json"),
    ("json-null", b"null", "application/json", 400, "error_json"),
    ("deeply-nested-json", b"[" * 7_000 + b"]" * 7_000, "application/json", 400, "error_json"),
    ("message-missing", _j({"sender": "x"}), "application/json", 400, "error_message"),
    ("message-null", _j({"sender": "x", "message": None}), "application/json", 400, "error_message"),
    ("message-number", _j({"sender": "x", "message": 42}), "application/json", 400, "error_message"),
    ("message-list", _j({"sender": "x", "message": ["hej"]}), "application/json", 400, "error_message"),
    ("message-object", _j({"sender": "x", "message": {"text": "hej"}}), "application/json", 400, "error_message"),
    ("sender-missing", _j({"message": "hej"}), "application/json", 400, "error_sender"),
    ("sender-empty", _j({"sender": "", "message": "hej"}), "application/json", 400, "error_sender"),
    ("sender-object", _j({"sender": {"id": 1}, "message": "hej"}), "application/json", 400, "error_sender"),
    ("sender-too-long", _j({"sender": "s" * 5000, "message": "hej"}), "application/json", 400, "error_sender"),
    # a sender id is the conversation's key in the tracker store: one holding a personal number is refused
    ("sender-cpr", _j({"sender": "170871-4431", "message": "hej"}), "application/json", 400, "error_sender_personal"),
    ("sender-cpr-slash", _j({"sender": "170871/4431", "message": "hej"}), "application/json", 400,
     "error_sender_personal"),
    ("sender-phone", _j({"sender": "tlf 20 30 40 50", "message": "hej"}), "application/json", 400,
     "error_sender_personal"),
    ("sender-email", _j({"sender": "jens.hansen@example.dk", "message": "hej"}), "application/json", 400,
     "error_sender_personal"),
    # over the documented limit (channels.text.MAX_BODY_BYTES): 413, not Sanic's 100 MB default
    ("body-too-large", _j({"sender": "x", "message": "hej " * 5_000}), "application/json", 413, "error_too_large"),
    ("body-far-too-large", _j({"sender": "x", "message": "x" * 3_000_000}), "application/json", 413,
     "error_too_large"),
    ("metadata-not-object", _j({"sender": "x", "message": "hej", "metadata": "x"}), "application/json", 400,
     "error_metadata"),
    ("form-urlencoded", b"sender=x&message=hej", "application/x-www-form-urlencoded", 415, "error_content_type"),
    ("multipart", b'--b\r\nContent-Disposition: form-data; name="message"\r\n\r\nhej\r\n--b--\r\n',
     "multipart/form-data; boundary=b", 415, "error_content_type"),
    ("xml", b"<message>hej</message>", "application/xml", 415, "error_content_type"),
]


@pytest.mark.parametrize("body, content_type, status, key", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_with_a_clean_4xx_and_a_danish_error(server: str, kb: KnowledgeBase, body: bytes,
                                                     content_type: str, status: int, key: str) -> None:
    text = _error_text(_post(server, body, content_type), status)
    assert text == replies.request_error(key, kb)
    assert _DANISH.search(text)


ANSWERED = [
    # (id, message): through NLU to a normal Danish reply (an answer, a question back or "rephrase")
    ("emoji-only", "😀🙏👍🏽"),
    ("html-script", "<script>alert('x')</script><img src=x onerror=alert(1)>"),
    ("sql-looking", "'; DROP TABLE events; -- OR 1=1"),
    ("english", "How much does transport to rehabilitation cost?"),
    ("german", "Was kostet die Physiotherapie in Køge?"),
    ("arabic", "كم تكلفة النقل إلى التدريب؟"),
    ("chinese", "康复训练多少钱？"),
    ("ukrainian", "Скільки коштує реабілітація?"),
    ("control-characters", "hvad\x00 koster\x07 træning\x1b[31m?"),
    ("lone-surrogate", "hvad koster \ud800 træning?"),
    ("only-punctuation", "?!?!... ---"),
    ("zero-width-and-rtl", "hvad\u200b koster\u202e træning\ufeff?"),
]


@pytest.mark.parametrize("case, message", ANSWERED, ids=[c[0] for c in ANSWERED])
def test_answered_in_danish(server: str, case: str, message: str) -> None:
    sender = f"{SENDER}-{case}"
    texts = _bot_texts(_post(server, _j({"sender": sender, "message": message})), sender)
    assert _DANISH.search(" ".join(texts)), texts
    assert not any("<script" in t or "DROP TABLE" in t for t in texts)  # never echoed back


@pytest.mark.parametrize("message", ["", "   ", "\n\t \u3000", "\x00\x00"], ids=["empty", "spaces", "whitespace",
                                                                               "nul-only"])
def test_empty_message_gets_a_danish_hint(server: str, kb: KnowledgeBase, message: str) -> None:
    assert _bot_texts(_post(server, _j({"sender": SENDER, "message": message})), SENDER) == \
        [kb.texts["channel"]["empty"]]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"],
                         ids=["no-content-type", "text-plain", "curl-d"])
def test_json_with_another_content_type_is_still_read(server: str, content_type: str | None) -> None:
    texts = _bot_texts(_post(server, _j({"sender": SENDER, "message": "hej"}), content_type), SENDER)
    assert _DANISH.search(" ".join(texts))


def test_a_long_message_under_the_size_limit_is_cut_before_nlu_and_answered(shared_assistant: Assistant,
                                                                           kb: KnowledgeBase) -> None:
    """12 kB: well over the 1000 characters read, under the 16 kB a request may have (then 413)."""
    sender = "bad-input-12kb"
    message = "Hvad koster kørsel til genoptræning i Køge? " * 270
    assert 12_000 < len(_j({"sender": sender, "message": message})) < MAX_BODY_BYTES
    start = time.monotonic()
    texts = _bot_texts(_post(shared_assistant.webhook, _j({"sender": sender, "message": message})), sender)
    assert time.monotonic() - start < 30
    assert texts[0] == replies.too_long_note(kb)
    assert any("Kilde: Køge" in t for t in texts[1:]), texts  # the question itself was answered
    with sqlite3.connect(shared_assistant.tracker_db) as db:
        stored = [row[0] for row in db.execute(
            "SELECT json_extract(data, '$.text') FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,))]
    assert stored and all(len(text) <= MAX_MESSAGE_CHARS for text in stored)


def test_the_store_survives_sql_looking_text(server: str) -> None:
    sender = "bad-input-sql"
    _bot_texts(_post(server, _j({"sender": sender, "message": "Køge'); DELETE FROM events; --"})), sender)
    texts = _bot_texts(_post(server, _j({"sender": sender, "message": "hvad koster kørsel i Køge?"})), sender)
    assert any("Kilde: Køge" in t for t in texts)


# --------------------------------------------------------------------------------------------
# Fuzzing the running server

_any_char = st.characters(codec=None, exclude_categories=[])  # every code point, surrogates and controls too
_texts = st.one_of(
    st.text(max_size=300),
    st.text(_any_char, max_size=300),
    st.builds(lambda piece, times: piece * times, st.text(_any_char, min_size=1, max_size=12),
              st.integers(50, 4000)),  # long texts, up to ~48 000 characters
    st.builds(lambda a, b: f"{a} hvad koster kørsel i Køge? {b}", st.text(max_size=40), st.text(max_size=40)),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(_any_char, max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
_senders = st.one_of(st.sampled_from([f"fuzz-{i}" for i in range(8)]), st.text(_any_char, max_size=140), _json)
_content_types = st.one_of(
    st.sampled_from([None, "application/json", "application/json; charset=utf-8", "text/plain",
                     "application/x-www-form-urlencoded", "multipart/form-data", "application/octet-stream",
                     "text/html", "application/xml", ""]),
    st.from_regex(r"[!-~][ -~]{0,39}", fullmatch=True),
)


def _body(kind: str, draw: Any) -> bytes:
    if kind == "fields":  # a JSON object whose fields may have any type
        fields = draw(st.fixed_dictionaries({}, optional={"sender": _senders, "message": st.one_of(_texts, _json),
                                                          "metadata": _json, "input_channel": _json}))
        return _j(fields)
    if kind == "json":  # any JSON value
        return _j(draw(_json))
    if kind == "mangled":  # a well-formed request with bytes cut out or replaced
        body = bytearray(_j({"sender": "fuzz-m", "message": draw(st.text(max_size=80))}))
        for _ in range(draw(st.integers(1, 4))):
            pos = draw(st.integers(0, len(body) - 1))
            body[pos:pos + draw(st.integers(0, 3))] = draw(st.binary(max_size=3))
        return bytes(body)
    return draw(st.binary(max_size=3000))  # random bytes


@st.composite
def _messages(draw: Any) -> tuple[str, bytes, str | None]:
    """A well-formed request (one of 8 ongoing conversations) with any text: through NLU and dialogue."""
    text = draw(_texts)
    kind = "message-long" if len(text) > MAX_MESSAGE_CHARS else "message"
    sender = draw(st.sampled_from([f"fuzz-{i}" for i in range(8)]))
    return kind, _j({"sender": sender, "message": text}), draw(st.sampled_from(["application/json", None]))


@st.composite
def _anything(draw: Any) -> tuple[str, bytes, str | None]:
    """Any body with any content type."""
    kind = draw(st.sampled_from(["fields", "json", "mangled", "bytes"]))
    return kind, _body(kind, draw), draw(_content_types)


def _outages_logged(assistant: Assistant) -> int:
    """How often Rasa's log says a turn failed or went unanswered (channels.guard)."""
    return assistant.rasa_log.read_text(encoding="utf-8", errors="replace").count("sending the outage reply")


def test_fuzz_the_running_server(shared_assistant: Assistant, capsys: pytest.CaptureFixture[str]) -> None:
    """500 well-formed requests with any text (through NLU and the dialogue) and 500 arbitrary
    bodies with arbitrary content types. derandomize=True: the same examples on every run of the
    same code and test selection (Hypothesis also draws on literals in the project's loaded modules,
    so running this file alone gives other, equally fixed, examples than `make test` does)."""
    url = shared_assistant.webhook
    session = requests.Session()
    statuses: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    outage = replies.outage_messages(None)[0]
    outages_logged_before = _outages_logged(shared_assistant)
    start = time.monotonic()

    def check(case: tuple[str, bytes, str | None]) -> None:
        kind, body, content_type = case
        response = _post(url, body, content_type, session)
        kinds[kind] += 1
        statuses[str(response.status_code)] += 1
        assert response.status_code < 500, (kind, body[:200], content_type, response.text[:300])
        data = response.json()
        if response.status_code == 200:
            assert isinstance(data, list) and all(isinstance(m, dict) for m in data), data
            assert data, "a 200 reply with no bot message"
            # the action server is up: an outage reply here would be a crash hidden by the guard
            assert outage not in [m.get("text") for m in data], (kind, body[:200])
        else:
            assert isinstance(data, dict) and isinstance(data.get("error"), str), data
            assert not _TRACEBACK.search(data["error"])

    fuzz = settings(max_examples=FUZZ_EXAMPLES // 2, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck), print_blob=True)
    for strategy in (_messages(), _anything()):
        try:
            fuzz(given(case=strategy)(check))()
        except Exception as exc:  # report the counts with the failure
            failures.append(repr(exc)[:2000])
    elapsed = time.monotonic() - start
    tried = sum(statuses.values())

    # the server is still up and answers a normal question
    assert shared_assistant.rasa is not None and shared_assistant.rasa.poll() is None, "Rasa died"
    texts = _bot_texts(_post(url, _j({"sender": "after-fuzz", "message": "hvad koster kørsel i Køge?"})),
                       "after-fuzz")
    with capsys.disabled():
        print(f"\nfuzz: {tried} requests in {elapsed:.0f} s; status histogram "
              f"{dict(sorted(statuses.items()))}; kinds {dict(sorted(kinds.items()))}; "
              f"responses >= 500: {sum(n for s, n in statuses.items() if int(s) >= 500)}; "
              f"server up afterwards and answering: yes")
    assert failures == []
    assert tried >= FUZZ_EXAMPLES
    assert _outages_logged(shared_assistant) == outages_logged_before, "a turn failed (see rasa.log)"
    assert any("Kilde: Køge" in t for t in texts)


def test_streamed_replies_go_through_the_same_guard(server: str, kb: KnowledgeBase) -> None:
    """Rasa's ?stream=true variant: one JSON message per line, same cleaning and same hint."""
    response = requests.post(f"{server}?stream=true", json={"sender": "bad-input-stream", "message": " "},
                             timeout=60)
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    assert [m.get("text") for m in lines] == [kb.texts["channel"]["empty"]]
    response = requests.post(f"{server}?stream=true", json={"sender": "bad-input-stream",
                                                            "message": "hvad koster kørsel i Køge?"}, timeout=60)
    lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    assert any("Kilde: Køge" in m.get("text", "") for m in lines)
