"""Real conversations through the REST channel of a running Rasa server and action server.

Uses the trained model (make train; `make test` trains first). Covers the ten behaviours of the
assistant issue across the five municipalities, asserting on what the citizen actually reads.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import urllib.request
from typing import Any

import pytest

from .conftest import gives_a_number_of

_ids = itertools.count()


class Chat:
    def __init__(self, url: str) -> None:
        self.url, self.sender = url, f"test-{os.getpid()}-{next(_ids)}"

    def say(self, text: str) -> list[dict[str, Any]]:
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def text(self, text: str) -> str:
        replies = self.say(text)
        assert replies, f"no reply to {text!r}"
        return "\n".join(r.get("text") or "" for r in replies)


@pytest.fixture()
def chat(server: str) -> Chat:
    return Chat(server)


def _sourced(reply: str, municipality: str) -> None:
    """Behaviour 10: a factual answer names its source and whom to contact."""
    assert f"Kilde: {municipality} Kommune" in reply
    # whom to contact: the next step, or (when the answer gives the unit's number itself) that number
    assert "Ring til" in reply or "Kontakt" in reply or gives_a_number_of(reply, municipality), reply


# 1. a question naming the municipality is answered at once, in all five
@pytest.mark.parametrize("question,municipality,expected", [
    ("hvad koster kørsel til træning i Holbæk?", "Holbæk", "50 kroner"),
    ("hvor lang tid går der før jeg får svar fra roskilde kommune om træning", "Roskilde", "6 hverdage"),
    ("hvad er telefonnummeret til genoptræning i hedensted", "Hedensted", "79 91 82 50"),
    ("hvor mange gange kan jeg højst få genoptræning i rodovre", "Rødovre", "32 gange"),
    ("hvad skal jeg have med til træning i koege", "Køge", "håndklæde"),
])
def test_1_question_with_municipality(chat: Chat, question: str, municipality: str, expected: str) -> None:
    reply = chat.text(question)
    assert expected in reply
    _sourced(reply, municipality)


# 2. without a municipality: ask, then answer the pending question
def test_2_pending_question(chat: Chat) -> None:
    replies = chat.say("hvad koster genoptræning?")
    assert "Hvilken kommune gælder det?" in replies[0]["text"]
    assert [b["title"] for b in replies[0]["buttons"]] == ["Hedensted", "Holbæk", "Køge", "Roskilde", "Rødovre"]
    reply = chat.text("Hedensted")
    assert "gratis" in reply
    _sourced(reply, "Hedensted")


def test_2_pending_question_answered_by_button_payload(chat: Chat) -> None:
    chat.say("hvordan søger man om vedligeholdelsestræning")
    reply = chat.text('/inform_kommune{"kommune":"hedensted"}')
    assert "79 91 82 50" in reply


# 3. the municipality is remembered for a follow-up on another topic
def test_3_follow_up_needs_no_municipality(chat: Chat) -> None:
    chat.text("hvad koster genoptræning i Køge")
    reply = chat.text("hvordan melder jeg afbud?")
    assert "56 56 56 49" in reply
    _sourced(reply, "Køge")


# 4. "og i Rødovre?" / "hvad med Køge" repeats the topic for the new municipality
def test_4_same_question_other_municipality(chat: Chat) -> None:
    chat.text("hvor længe varer et genoptræningsforløb i holbæk")
    reply = chat.text("og i Køge?")
    assert "Køge" in reply and "3 måneder" in reply
    _sourced(reply, "Køge")
    reply = chat.text("hvad med Rødovre")
    assert "Rødovre" in reply and "Køge Kommunes" not in reply


# 5. another municipality: honest, nothing invented
def test_5_other_municipality(chat: Chat) -> None:
    reply = chat.text("hvad koster genoptræning i Aarhus?")
    assert "Aarhus Kommune er ikke med" in reply and "Kontakt Aarhus Kommune" in reply
    assert "Kilde" not in reply and "gratis" not in reply


# 6. off-topic and nonsense
def test_6_off_topic(chat: Chat) -> None:
    replies = chat.say("hvordan fornyer jeg mit pas?")
    assert "kan jeg desværre ikke hjælpe med" in replies[0]["text"]
    assert replies[0]["buttons"]


def test_6_nonsense_offers_topics_and_the_phone(chat: Chat) -> None:
    chat.text("hvad koster træning i hedensted")
    replies = chat.say("xqzv blorp fnak")
    assert "Jeg er ikke sikker på, hvad du spørger om" in replies[0]["text"] and replies[0]["buttons"]
    assert "79 91 82 50" in replies[-1]["text"]


# 7. where the services differ: each briefly, labelled, or the deciding question first; "ja" narrows it
def test_7_services_that_differ(chat: Chat) -> None:
    replies = chat.say("hvor hurtigt kommer man i gang med træningen i køge?")
    reply = "\n".join(r.get("text") or "" for r in replies)
    if "Har du fået en genoptræningsplan fra sygehuset?" in reply:
        assert [b["title"] for b in replies[-1]["buttons"]] == ["Ja", "Nej"]
        reply = chat.text("ja")
        assert "7 kalenderdage" in reply and "10 hverdage" not in reply
    else:
        assert "Genoptræning efter sygehusophold:" in reply and "7 kalenderdage" in reply
        assert "10 hverdage" in reply  # visiteret træning, labelled with its service
    reply = chat.text("jeg har fået en genoptræningsplan fra sygehuset")
    assert "7 kalenderdage" in reply and "10 hverdage" not in reply


# 8. small talk and "are you a robot"
def test_8_small_talk(chat: Chat) -> None:
    assert "digital assistent" in chat.text("hej")
    assert "ikke et menneske" in chat.text("er du et menneske?")
    assert "Selv tak" in chat.text("tusind tak")
    assert "Farvel" in chat.text("farvel")


# 9. a CPR number: still answered, never repeated
def test_9_cpr_number_is_not_repeated(chat: Chat) -> None:
    reply = chat.text("min mor 120345-1234 bor i koege, hvad koster genoptræning for hende?")
    assert "gratis" in reply
    assert "120345" not in reply and "1234" not in reply.replace(" ", "")


def _strings(value: Any) -> list[str]:
    """Every text inside a stored event (its JSON strings and keys, at any depth)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_9_cpr_number_is_not_stored(chat: Chat, shared_assistant: Any) -> None:
    """The REST channel masks it before Rasa parses, stores or logs the message."""
    import sqlite3

    reply = chat.text("jeg ringer for min far, cpr 230745-2213, hvad koster kørsel til træning i holbæk")
    assert "50 kroner" in reply
    with sqlite3.connect(shared_assistant.tracker_db) as db:
        rows = [json.loads(r[0]) for r in db.execute("SELECT data FROM events")]
    # every text the store holds (not its numbers: a timestamp such as 1764702111.230745 is no CPR number)
    texts = [t for row in rows for t in _strings(row)]
    assert any("######-####" in t for t in texts)  # the message is stored, masked
    for needle in ("230745", "230745-2213", "2307452213"):
        assert not any(needle in t for t in texts), [t for t in texts if needle in t][:3]
    for log in shared_assistant.tracker_db.parent.glob("*.log"):  # as text, not inside a logged number
        assert not re.search(r"(?<![\d.])230745(?!\d)", log.read_text(errors="replace")), log.name


# 10. a situation is checked against the rules, with source and next step
def test_10_situation(chat: Chat) -> None:
    reply = chat.text("min far er lige blevet udskrevet fra sygehuset med en genoptræningsplan, han bor i Roskilde")
    assert "Genoptræning efter sundhedsloven" in reply
    _sourced(reply, "Roskilde")


def test_bad_input_gets_a_reply(chat: Chat) -> None:
    for text in ("", "   ", "😀😀😀", "<script>alert(1)</script>", "x" * 5000):
        chat.say(text)  # no server error (urllib raises on 5xx)


# 11. the REST channel: an answer's sources ride on its last message, never as a message of their own
def test_rest_answer_carries_its_sources_on_its_last_message(chat: Chat) -> None:
    replies = chat.say("hvad koster kørsel til træning i holbæk?")
    assert all(r.get("text") for r in replies)  # no message without text (a plain client sees only text)
    carrying = [r for r in replies if r.get("custom")]
    assert len(carrying) == 1 and carrying[0] is replies[-1]
    sources = carrying[0]["custom"]["sources"]
    assert sources[0]["title"].startswith("Holbæk Kommunes") and any("50 kroner" in q for q in sources[0]["quotes"])


# 12. a rating of an answer (the widget's thumbs): thanked, never "forstod ikke", and the thread goes on
def test_a_rating_is_thanked_and_the_conversation_goes_on(chat: Chat) -> None:
    from traeningsguide.knowledge import knowledge

    texts = knowledge().texts["dialogue"]
    replies = chat.say("hvad koster kørsel til træning i holbæk?")
    answer = replies[-1]["custom"]["answer"]
    assert re.fullmatch(r"[a-z]{16}", answer)  # no digits the channel would mask
    for rating in ({"answer": answer, "rating": "down"},
                   {"answer": answer, "rating": "down", "comment": "Hvad koster det {i} Køge? \"citat\""},
                   {"rating": "up"}):  # a socket.io client has no answer id: the last answer
        thanks = chat.say("/feedback" + json.dumps(rating, ensure_ascii=False))
        assert [r.get("text") for r in thanks] == [texts["feedback_thanks"]], thanks
        assert not any(r.get("custom") for r in thanks)  # a thanks cannot be rated
    follow = " ".join(r["text"] for r in chat.say("og i Rødovre?"))  # the last question, in Rødovre
    assert "Rødovre" in follow and "Kilde:" in follow, follow
