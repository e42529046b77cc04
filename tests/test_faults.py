"""Faults: the action server down, erroring or hanging (the citizen still gets a Danish message with
the municipality's contact through REST, socket.io and the widget, and the conversation recovers
when it is back), and a broken knowledge file (the action server, Rasa and `make run` stop at once
with the validation error instead of starting a half-working bot)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from channels import replies
from traeningsguide import web
from traeningsguide.knowledge import KnowledgeBase, knowledge
from traeningsguide.textnorm import format_phone

from .conftest import MODEL, PROJECT, RASA, Assistant, free_port
from .test_channels import _socket_session

TURN_TIMEOUT = 3  # seconds: TRAENINGSGUIDE_TURN_TIMEOUT for this module's assistant (default 10)
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    with Assistant(tmp_path_factory.mktemp("faults"),
                   extra_env={"TRAENINGSGUIDE_TURN_TIMEOUT": str(TURN_TIMEOUT)}) as running:
        yield running


def _say(assistant: Assistant, sender: str, message: str) -> list[str]:
    response = requests.post(assistant.webhook, json={"sender": sender, "message": message}, timeout=60)
    assert response.status_code == 200, response.text[:300]
    data = response.json()
    assert isinstance(data, list)
    return [m.get("text", "") for m in data]


def _answered_for(texts: list[str], kb: KnowledgeBase, kommune: str) -> bool:
    """A normal answer for this municipality: its "Kilde: ..." line, or the deciding question that
    comes first where its services answer differently."""
    source = kb.texts["answer"]["source"].format(title=kb.municipalities[kommune].source_title)
    deciding = [k.question for k in kb.service_kinds.values()]
    return any(source in t for t in texts) or any(t in deciding for t in texts)


def _outage_records(assistant: Assistant, sender: str) -> list[dict[str, Any]]:
    """The records of the outage replies kept in the conversation (what the municipality's report counts)."""
    with sqlite3.connect(f"file:{assistant.tracker_db}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot'", (sender,)).fetchall()
    records = [(json.loads(data).get("metadata") or {}).get("traeningsguide") or {} for (data,) in rows]
    return [r for r in records if r.get("kind") == "outage"]


@contextmanager
def action_server_down(assistant: Assistant) -> Iterator[None]:
    assistant.stop_actions()
    try:
        yield
    finally:
        assistant.start_actions()


@contextmanager
def broken_action_server(assistant: Assistant, behaviour: str, hang_seconds: float = 30) -> Iterator[None]:
    """The real action server replaced, on its port, by one that answers 500, answers 200 with
    something that is not an action response, or accepts the request and never answers."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if behaviour == "hang":
                time.sleep(hang_seconds)
            status, body = (200, b"<html>not json</html>") if behaviour == "invalid" else (500, b'{"error": "x"}')
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # after a hang, Rasa has long given up and closed the connection
                pass

        def log_message(self, *args: Any) -> None:
            pass

    assistant.stop_actions()
    httpd = ThreadingHTTPServer(("127.0.0.1", assistant.action_port), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()
        assistant.start_actions()


# --------------------------------------------------------------------------------------------
# The action server down, erroring or hanging


def test_action_server_down_gives_the_conversations_contact_and_recovers(assistant: Assistant,
                                                                         kb: KnowledgeBase) -> None:
    sender = "fault-down-koege"
    assert _answered_for(_say(assistant, sender, "hvad koster kørsel i Køge?"), kb, "koege")
    with action_server_down(assistant):
        texts = _say(assistant, sender, "hvordan søger jeg?")
        assert texts == replies.outage_messages("koege", kb)
        for main in kb.municipalities["koege"].main_contacts():  # Køge's main contact(s), with a phone if any
            assert main.name in texts[1] and (not main.phone or format_phone(main.phone) in texts[1])
    # kept in the conversation as outage replies, for the municipality's report
    assert [r["kommune"] for r in _outage_records(assistant, sender)] == ["koege"] * len(texts)
    # back: the same conversation goes on, still about Køge (no municipality in the question)
    texts = _say(assistant, sender, "hvordan søger jeg?")
    assert texts != replies.outage_messages("koege", kb)
    assert _answered_for(texts, kb, "koege"), texts


def test_action_server_down_without_a_municipality_lists_all_five(assistant: Assistant, kb: KnowledgeBase) -> None:
    sender = "fault-down-none"
    with action_server_down(assistant):
        texts = _say(assistant, sender, "hvad koster genoptræning?")
    assert texts == replies.outage_messages(None, kb)
    for municipality in kb.municipalities.values():
        assert f"• {municipality.short_name}:" in texts[1]
    texts = _say(assistant, sender, "hvad koster kørsel i Rødovre?")
    assert _answered_for(texts, kb, "roedovre"), texts


@pytest.mark.parametrize("behaviour", ["500", "invalid"])
def test_action_server_erroring(assistant: Assistant, kb: KnowledgeBase, behaviour: str) -> None:
    sender = f"fault-{behaviour}"
    assert _answered_for(_say(assistant, sender, "hvad koster kørsel i Holbæk?"), kb, "holbaek")
    with broken_action_server(assistant, behaviour):
        assert _say(assistant, sender, "hvordan søger jeg?") == replies.outage_messages("holbaek", kb)
    assert _answered_for(_say(assistant, sender, "hvordan søger jeg?"), kb, "holbaek")


def test_action_server_hanging_gets_the_outage_reply_within_the_time_limit(assistant: Assistant,
                                                                           kb: KnowledgeBase) -> None:
    sender = "fault-hang"
    assert _answered_for(_say(assistant, sender, "hvad koster kørsel i Hedensted?"), kb, "hedensted")
    with broken_action_server(assistant, "hang"):
        start = time.monotonic()
        texts = _say(assistant, sender, "hvordan søger jeg?")
        elapsed = time.monotonic() - start
        # Rasa alone would wait 5 minutes for the action server; the widget gives up after 15 s
        assert TURN_TIMEOUT <= elapsed < TURN_TIMEOUT + 8, elapsed
        assert texts == replies.outage_messages("hedensted", kb)
    assert {r["kommune"] for r in _outage_records(assistant, sender)} == {"hedensted"}  # the cut-off turn too
    # the cut-off question is kept before its outage reply (Rasa did not save that turn)
    with sqlite3.connect(f"file:{assistant.tracker_db}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT type_name, data FROM events WHERE sender_id = ? AND type_name IN ('user', 'bot') "
                          "ORDER BY id", (sender,)).fetchall()
    kinds = [(t, json.loads(d).get("text") if t == "user" else
              ((json.loads(d).get("metadata") or {}).get("traeningsguide") or {}).get("kind")) for t, d in rows]
    cut = kinds.index(("user", "hvordan søger jeg?"))
    assert kinds[cut + 1] == ("bot", "outage"), kinds
    assert _answered_for(_say(assistant, sender, "hvordan søger jeg?"), kb, "hedensted")


def test_socketio_gets_the_outage_reply(assistant: Assistant, kb: KnowledgeBase) -> None:
    session = "fault-socket"
    first = asyncio.run(_socket_session(assistant.url, session, [
        {"message": "hvad koster kørsel i Rødovre?", "session_id": session}]))
    assert _answered_for([m.get("text", "") for m in first[0]], kb, "roedovre")
    with action_server_down(assistant):
        got = asyncio.run(_socket_session(assistant.url, session, [
            {"message": "hvordan søger jeg?", "session_id": session}]))
    # socket.io sends a text's paragraphs as separate messages; the outage reply has none
    assert [m.get("text") for m in got[0]] == replies.outage_messages("roedovre", kb)


def test_widget_shows_the_outage_reply(assistant: Assistant, kb: KnowledgeBase, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (make test does)")
    from playwright import sync_api as playwright_api

    web.build(knowledge(), tmp_path, assistant.url)
    httpd = web.make_server(tmp_path, "127.0.0.1", free_port())
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(locale="da-DK")
            page.set_default_timeout(30_000)
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/demo/koege.html")
            page.click("#tg-launcher")
            page.wait_for_function("document.querySelectorAll('#tg-log .tg-bot').length > 0")  # the opening turn
            page.wait_for_selector("#tg-typing", state="hidden")
            before = page.locator("#tg-log .tg-bot").count()
            with action_server_down(assistant):
                page.fill("#tg-input", "hvad koster kørsel?")
                page.keyboard.press("Enter")
                page.wait_for_function(f"document.querySelectorAll('#tg-log .tg-bot').length >= {before + 2}")
                page.wait_for_selector("#tg-typing", state="hidden")
                shown = page.locator("#tg-log .tg-bot").all_inner_texts()[before:]
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    joined = "\n".join(shown)
    for text in replies.outage_messages("koege", kb):  # the server's reply, not the widget's own error
        assert text in joined
    assert kb.texts["web"]["widget_error"] not in joined and kb.texts["web"]["widget_no_reply"] not in joined


# --------------------------------------------------------------------------------------------
# A broken knowledge file: start-up fails fast with the validation error

BROKEN = "municipalities/roskilde.yml: short_name: is missing"


def _break_knowledge(kb_copy: Path) -> None:
    path = kb_copy / "municipalities" / "roskilde.yml"
    text = path.read_text(encoding="utf-8")
    assert "short_name: Roskilde\n" in text
    path.write_text(text.replace("short_name: Roskilde\n", "", 1), encoding="utf-8")


def _run_until_exit(args: list[str], env: dict[str, str], timeout: float) -> tuple[int | None, str, float]:
    """(exit code or None if still running after ``timeout``, output, seconds); never leaves it running."""
    start = time.monotonic()
    process = subprocess.Popen(args, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        out, _ = process.communicate(timeout=timeout)
        return process.returncode, out.decode("utf-8", "replace"), time.monotonic() - start
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        return None, out.decode("utf-8", "replace"), time.monotonic() - start


def _env(kb_copy: Path, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TRAENINGSGUIDE_KNOWLEDGE": str(kb_copy), "TF_CPP_MIN_LOG_LEVEL": "2",
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}/webhook", "TRACKER_DB": str(tmp_path / "t.db")}


def test_action_server_stops_at_once_on_a_broken_knowledge_base(kb_copy: Path, tmp_path: Path) -> None:
    _break_knowledge(kb_copy)
    code, out, seconds = _run_until_exit(
        [str(RASA), "run", "actions", "--port", str(free_port()), "--actions", "actions"],
        _env(kb_copy, tmp_path), timeout=90)
    assert code not in (None, 0), out[-3000:]
    assert BROKEN in out
    assert "Action endpoint is up and running" not in out
    print(f"action server: exit {code} after {seconds:.1f} s")


def test_rasa_stops_before_loading_the_model_on_a_broken_knowledge_base(kb_copy: Path, tmp_path: Path) -> None:
    _break_knowledge(kb_copy)
    code, out, seconds = _run_until_exit(
        [str(RASA), "run", "--model", str(MODEL), "--port", str(free_port()), "--credentials", "credentials.yml",
         "--endpoints", "endpoints.yml"], _env(kb_copy, tmp_path), timeout=120)
    assert code not in (None, 0), out[-3000:]
    assert BROKEN in out
    assert "Traceback" not in out  # Rasa prints a RasaException as one clean message
    assert "Rasa server is up and running" not in out
    print(f"rasa: exit {code} after {seconds:.1f} s")


def test_make_run_stops_at_once_on_a_broken_knowledge_base(kb_copy: Path, tmp_path: Path) -> None:
    _break_knowledge(kb_copy)
    env = {**_env(kb_copy, tmp_path), "RASA_PORT": str(free_port()), "ACTION_PORT": str(free_port()),
           "WEB_PORT": str(free_port())}
    code, out, seconds = _run_until_exit(["bash", "scripts/run.sh"], env, timeout=60)
    assert code not in (None, 0), out[-3000:]
    assert BROKEN in out
    assert "Starting the action server" not in out and "Starting Rasa" not in out
    assert seconds < 30
    print(f"make run: exit {code} after {seconds:.1f} s: {json.dumps(out.strip().splitlines()[0])}")
