"""The web widget and the call-center lookup page in a real browser (Debian's headless Chromium,
driven by Playwright for Python; no browser download). Screenshots go to test-artifacts/.

The tests run in file order: the last one stops this module's Rasa server to show the fallback.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright_api

from traeningsguide import web
from traeningsguide.knowledge import knowledge

from .conftest import PROJECT, Assistant, free_port

CHROMIUM = "/usr/bin/chromium"
AXE = PROJECT / "build" / "node" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = PROJECT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    with Assistant(tmp_path_factory.mktemp("browser-assistant")) as running:
        yield running


@pytest.fixture(scope="module")
def site(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The generated pages, served by the standard library as `make run` does."""
    out = tmp_path_factory.mktemp("web")
    web.build(knowledge(), out, assistant.url)
    httpd = web.make_server(out, "127.0.0.1", free_port())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (make test does)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(browser: Any, site: str) -> Iterator[Any]:
    context = browser.new_context(locale="da-DK", viewport={"width": 1024, "height": 800})
    p = context.new_page()
    p.set_default_timeout(30_000)
    yield p
    context.close()


def _bot_texts(page: Any) -> list[str]:
    return page.locator("#tg-log .tg-bot").all_inner_texts()


def _wait_for_bot(page: Any, count: int) -> str:
    """All bot messages after the first ``count`` (Rasa's REST channel sends a reply's paragraphs
    as separate messages), once the reply has arrived."""
    page.wait_for_function(f"document.querySelectorAll('#tg-log .tg-bot').length > {count}")
    page.wait_for_selector("#tg-typing", state="hidden")
    return "\n".join(_bot_texts(page)[count:])


def _axe(page: Any, context: str) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(f"async () => await axe.run({json.dumps(context)})")
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    print(f"axe on {page.url} ({context}): {len(result['violations'])} violations, "
          f"{len(serious)} serious/critical, {len(result['passes'])} rules passed")
    for v in result["violations"]:
        print(f"  {v['impact']}: {v['id']} ({len(v['nodes'])} nodes)")
    return serious


def test_koege_page_by_keyboard_answers_without_asking_the_municipality(page: Any, site: str) -> None:
    page.goto(f"{site}/demo/koege.html")
    for _ in range(15):  # Tab to the launcher
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "tg-launcher":
            break
    assert page.evaluate("document.activeElement.id") == "tg-launcher"
    page.keyboard.press("Enter")
    assert page.get_attribute("#tg-launcher", "aria-expanded") == "true"
    assert page.evaluate("document.activeElement.id") == "tg-input"
    greeting = _wait_for_bot(page, 0)  # the page's municipality was sent on opening
    assert "Køge" in greeting
    page.keyboard.type("hvad koster kørsel?")
    page.keyboard.press("Enter")
    reply = _wait_for_bot(page, 1)
    assert "Kilde: Køge Kommunes side om genoptræning" in reply
    assert "Hvilken kommune" not in " ".join(_bot_texts(page))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-koege.png"))


def test_quick_reply_button(page: Any) -> None:
    before = len(_bot_texts(page))
    button = page.locator("#tg-log .tg-quick", has_text="Pris").first
    button.click()
    reply = _wait_for_bot(page, before)
    assert "gratis" in reply and "Kilde: Køge" in reply
    assert page.locator("#tg-log .tg-user .tg-text").last.inner_text().strip() == "Pris"


def test_reload_shows_the_history(page: Any) -> None:
    before = page.locator("#tg-log .tg-msg").count()
    assert before >= 5
    page.reload()
    if page.get_attribute("#tg-launcher", "aria-expanded") != "true":
        page.click("#tg-launcher")
    page.wait_for_function(f"document.querySelectorAll('#tg-log .tg-msg').length >= {before}")
    assert "hvad koster kørsel?" in page.locator("#tg-log .tg-user .tg-text").all_inner_texts()


def test_html_in_a_message_is_shown_as_text(page: Any) -> None:
    payload = '<img src=x onerror="window.__xss=1">'
    before = len(_bot_texts(page))
    page.fill("#tg-input", payload)
    page.keyboard.press("Enter")
    _wait_for_bot(page, before)
    assert page.locator("#tg-log .tg-user .tg-text").last.inner_text().strip() == payload
    assert page.locator("#tg-log img").count() == 0
    assert page.evaluate("window.__xss") is None


def test_escape_closes_and_returns_focus(page: Any) -> None:
    page.focus("#tg-input")
    page.keyboard.press("Escape")
    assert page.get_attribute("#tg-launcher", "aria-expanded") == "false"
    assert page.evaluate("document.activeElement.id") == "tg-launcher"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "tg-input"


def _stored_events(assistant: Assistant, sender: str) -> int:
    with sqlite3.connect(assistant.tracker_db) as db:
        return int(db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0])


def _kept_in_browser(page: Any) -> dict[str, str]:
    return page.evaluate("Object.fromEntries(Object.keys(localStorage).filter(k => k.startsWith('traeningsguide:'))"
                         ".map(k => [k, localStorage.getItem(k)]))")


def test_new_conversation_starts_over_with_a_new_sender(page: Any, assistant: Assistant) -> None:
    old = page.evaluate("localStorage.getItem('traeningsguide:sender')")
    assert old and _stored_events(assistant, old) > 0
    page.click("#tg-new")
    greeting = _wait_for_bot(page, 0)  # the page's municipality is sent again, for the new conversation
    assert "Køge" in greeting
    assert page.locator("#tg-log .tg-user").count() == 0  # the old messages are gone from the view
    new = page.evaluate("localStorage.getItem('traeningsguide:sender')")
    assert new and new != old
    assert "hvad koster kørsel?" not in json.dumps(_kept_in_browser(page), ensure_ascii=False)
    assert _stored_events(assistant, old) > 0  # a new conversation does not delete the old one on the server
    page.fill("#tg-input", "hvad koster kørsel?")
    page.press("#tg-input", "Enter")
    assert "Kilde: Køge" in _wait_for_bot(page, len(_bot_texts(page)))


def test_delete_conversation_deletes_it_on_the_server_and_in_the_browser(page: Any, assistant: Assistant) -> None:
    sender = page.evaluate("localStorage.getItem('traeningsguide:sender')")
    assert _stored_events(assistant, sender) > 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#tg-delete")
    texts = knowledge().texts["web"]
    page.wait_for_function(f"[{json.dumps(texts['widget_deleted'])}, {json.dumps(texts['widget_delete_error'])}]"
                           ".some(t => document.querySelector('#tg-log').innerText.includes(t))")
    assert texts["widget_deleted"] in page.inner_text("#tg-log"), page.inner_text("#tg-log")
    assert _stored_events(assistant, sender) == 0  # this sender id's events, every one
    kept = _kept_in_browser(page)
    assert sender not in json.dumps(kept) and "hvad koster kørsel?" not in json.dumps(kept, ensure_ascii=False)
    assert page.evaluate("localStorage.getItem('traeningsguide:sender')") != sender


def test_deleting_needs_the_citizens_confirmation(page: Any, assistant: Assistant) -> None:
    _wait_for_bot(page, 0)
    sender = page.evaluate("localStorage.getItem('traeningsguide:sender')")
    before = _stored_events(assistant, sender)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#tg-delete")
    page.wait_for_timeout(500)
    assert page.evaluate("localStorage.getItem('traeningsguide:sender')") == sender
    assert _stored_events(assistant, sender) == before


def test_widget_has_no_serious_accessibility_violations(page: Any) -> None:
    assert _axe(page, "#tg-root") == []


def test_narrow_screen(browser: Any, site: str) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="da-DK")
    p = context.new_page()
    p.goto(f"{site}/demo/holbaek.html")
    p.click("#tg-launcher")
    box = p.locator("#tg-panel").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320
    assert p.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()


def _phone(browser: Any, site: str, kommune: str) -> tuple[Any, Any]:
    """A 390 x 844 phone on the municipality's demo page, the widget open and its greeting shown."""
    context = browser.new_context(locale="da-DK", viewport={"width": 390, "height": 844}, is_mobile=True)
    p = context.new_page()
    p.set_default_timeout(30_000)
    p.goto(f"{site}/demo/{kommune}.html")
    p.click("#tg-launcher")
    _wait_for_bot(p, 0)
    return context, p


def test_on_a_phone_a_long_answer_opens_at_its_start_and_the_panel_never_scrolls_away(browser: Any,
                                                                                        site: str) -> None:
    """Issue 13, items 1 and 2: the panel does not overflow (so wheel, trackpad or End in the log cannot
    scroll its header and input out of view), and a long answer shows its first line, not its end."""
    context, p = _phone(browser, site, "koege")
    try:
        p.fill("#tg-input", "hvad indeholder genoptræningen?")
        p.press("#tg-input", "Enter")
        _wait_for_bot(p, 1)  # the deciding question: a plan from the hospital?
        count = len(_bot_texts(p))
        p.locator("#tg-log .tg-quick", has_text="Ja").last.click()
        _wait_for_bot(p, count)
        before = len(_bot_texts(p))
        p.locator("#tg-log .tg-quick", has_text="Mere om").last.click()  # the rest of the topic: long
        _wait_for_bot(p, before)
        geometry = p.evaluate("""(firstIndex) => {
            const log = document.getElementById("tg-log"), panel = document.getElementById("tg-panel");
            const bots = [...log.querySelectorAll(".tg-bot")], users = [...log.querySelectorAll(".tg-user")];
            const first = bots[firstIndex], question = users[users.length - 1], last = log.lastElementChild;
            const l = log.getBoundingClientRect();
            return {logTop: l.top, logBottom: l.bottom, firstTop: first.getBoundingClientRect().top,
                    questionTop: question.getBoundingClientRect().top,
                    answerHeight: last.getBoundingClientRect().bottom - first.getBoundingClientRect().top,
                    panelOverflow: panel.scrollHeight - panel.clientHeight};
        }""", before)
        assert geometry["answerHeight"] > geometry["logBottom"] - geometry["logTop"], geometry  # a long answer
        assert geometry["logTop"] - 1 <= geometry["firstTop"] <= geometry["logTop"] + 60, geometry  # its start
        assert geometry["panelOverflow"] <= 1, geometry
        p.focus("#tg-log")
        p.keyboard.press("End")
        p.mouse.wheel(0, 5000)
        p.wait_for_timeout(300)
        title_top = p.evaluate("document.getElementById('tg-title').getBoundingClientRect().top")
        input_bottom = p.evaluate("document.getElementById('tg-input').getBoundingClientRect().bottom")
        assert title_top >= 0 and input_bottom <= 844, (title_top, input_bottom)
        assert p.evaluate("document.getElementById('tg-panel').scrollTop") == 0
    finally:
        context.close()


def test_on_a_phone_numbers_call_and_se_kilden_opens_the_quotes_and_answered_buttons_stay_answered(
        browser: Any, site: str) -> None:
    """Issue 13, items 2 and 3: phone numbers are tel: links; "Se kilden" opens, in place, the verbatim
    quotes the answer rests on (from the action's custom payload); a clicked button row is disabled,
    with the chosen one marked, and reads the same after a reload."""
    kb = knowledge()
    quotes = {f.quote for f in kb.municipalities["koege"].facts} | {
        c.quote for c in kb.municipalities["koege"].contacts.values()}
    context, p = _phone(browser, site, "koege")
    try:
        p.fill("#tg-input", "hvilket nummer ringer jeg til, hvis jeg skal melde afbud?")
        p.press("#tg-input", "Enter")
        _wait_for_bot(p, 1)
        tel = p.locator("#tg-log .tg-bot a[href^='tel:']").last
        assert tel.get_attribute("href") == "tel:+4556565649" and tel.inner_text() == "56 56 56 49"
        sources = p.locator("#tg-log .tg-bot details.tg-sources").last
        assert sources.get_attribute("open") is None and not sources.locator(".tg-quote").first.is_visible()
        sources.locator("summary").click()  # by keyboard too: a <summary> is a button
        shown = sources.locator(".tg-quote").all_inner_texts()
        assert shown and all(q in quotes for q in shown), shown
        assert any("5656 5649" in q for q in shown)  # the number, as the source writes it
        assert "Køge Kommunes side om genoptræning" in sources.locator(".tg-source-title").first.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        p.screenshot(path=str(ARTIFACTS / "widget-phone-source-open.png"))
        assert _axe(p, "#tg-root") == []  # with a source open

        count = len(_bot_texts(p))
        p.fill("#tg-input", "hvad indeholder genoptræningen?")
        p.press("#tg-input", "Enter")
        _wait_for_bot(p, count)  # the deciding question, with Ja/Nej
        rows = p.locator("#tg-log .tg-quick-list")
        row = rows.nth(rows.count() - 1)
        count = len(_bot_texts(p))
        row.locator(".tg-quick", has_text="Ja").click()
        _wait_for_bot(p, count)
        assert row.locator(".tg-quick", has_text="Nej").is_disabled()
        assert row.locator(".tg-chosen").inner_text() == "Ja"

        p.reload()
        if p.get_attribute("#tg-launcher", "aria-expanded") != "true":
            p.click("#tg-launcher")
        p.wait_for_function("document.querySelectorAll('#tg-log .tg-chosen').length >= 1")
        again = p.locator("#tg-log .tg-quick-list", has=p.locator(".tg-chosen")).last
        assert again.locator(".tg-chosen").inner_text() == "Ja"
        assert all(b.is_disabled() for b in again.locator(".tg-quick").all())
        assert p.locator("#tg-log details.tg-sources").count() >= 1  # sources kept too
    finally:
        context.close()


def test_lookup_page(browser: Any, site: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    p = context.new_page()
    p.goto(f"{site}/lookup.html")
    assert p.locator("html").get_attribute("lang") == "da"
    text = p.inner_text("body")
    for phone in ("79 91 82 50", "36 37 70 00", "56 67 26 26"):
        assert phone in text
    assert "50 kroner" in text
    p.fill("#filter", "kørsel")
    visible = p.locator("tbody tr:visible").count()
    assert 0 < visible < len(knowledge().topics)
    p.fill("#filter", "")
    # all five side by side at 1280 px: nothing cut off, no long link spilling out of its cell
    fits = p.evaluate("""() => {
        const region = document.getElementById("matrix");
        const spill = [...region.querySelectorAll("td")].filter((td) => td.scrollWidth > td.clientWidth + 1).length;
        return {region: region.scrollWidth - region.clientWidth, page: document.documentElement.scrollWidth, spill};
    }""")
    assert fits["region"] <= 1 and fits["page"] <= 1280 and fits["spill"] == 0, fits
    ARTIFACTS.mkdir(exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / "lookup.png"), full_page=False)
    assert _axe(p, "body") == []
    context.close()


def test_lookup_page_narrowed_to_one_municipality_for_an_agent_on_the_phone(browser: Any, site: str) -> None:
    """Issue 13, item 5: choose Køge (one column, its contacts on top), and "køge kørsel" in the search
    box narrows to that one answer; by keyboard only."""
    kb = knowledge()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    p = context.new_page()
    try:
        p.goto(f"{site}/lookup.html")
        p.focus("#kommune")
        p.keyboard.press("End")  # the last option of the list, by keyboard
        last = sorted(kb.municipalities.values(), key=lambda m: m.short_name.casefold())[-1]
        assert p.input_value("#kommune") == last.id
        p.select_option("#kommune", "koege")
        shown = p.locator("thead th:visible").all_inner_texts()
        assert shown[1:] == ["Køge"], shown
        contacts = p.locator(".kommune-contacts[data-contacts='koege']")
        assert contacts.is_visible() and "56 67 26 26" in contacts.inner_text()
        assert not p.locator(".kommune-contacts[data-contacts='holbaek']").is_visible()
        assert "50 kroner" not in p.locator("#matrix").inner_text()  # Holbæk's price is not on screen
        p.select_option("#kommune", "")
        p.focus("#filter")
        p.keyboard.type("koege korsel")  # as typed without æ/ø
        rows = p.locator("tbody tr:visible")
        assert p.locator("thead th:visible").all_inner_texts()[1:] == ["Køge"]  # the name chose the column
        assert p.locator("#topic-transport").is_visible() and rows.count() <= 3, rows.all_inner_texts()
        ARTIFACTS.mkdir(exist_ok=True)
        p.screenshot(path=str(ARTIFACTS / "lookup-koege.png"), full_page=False)
        assert _axe(p, "body") == []
    finally:
        context.close()


WEBCHAT = PROJECT / "build" / "node" / "rasa-webchat" / "lib" / "index.js"
WEBCHAT_PAGE = """<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>rasa-webchat</title></head>
<body><div id="webchat"></div><script src="index.js"></script><script>
WebChat.default({socketUrl: %(server)s, socketPath: "/socket.io/", embedded: true, title: "Træningsguide",
  initPayload: '/inform_kommune{"kommune":"koege"}', customMessageDelay: () => 50,
  params: {storage: "local"}}, document.getElementById("webchat"));
</script></body></html>"""


def test_rasa_webchat_holds_a_conversation_over_the_websocket(browser: Any, assistant: Assistant,
                                                               tmp_path_factory: pytest.TempPathFactory) -> None:
    """Issue 13, item 4: a municipality that already runs rasa-webchat (installed from the npm registry by
    `make browser`) points it at our socket.io channel, as README shows: three turns keep their context
    ("og i Holbæk?"), a list keeps its lines, and the conversation is still there after a reload."""
    if not WEBCHAT.exists():
        pytest.fail(f"{WEBCHAT} is missing: run `make browser` (make test does)")
    out = tmp_path_factory.mktemp("webchat")
    shutil.copyfile(WEBCHAT, out / "index.js")
    (out / "index.html").write_text(WEBCHAT_PAGE % {"server": json.dumps(assistant.url)}, encoding="utf-8")
    httpd = web.make_server(out, "127.0.0.1", free_port())
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    context = browser.new_context(locale="da-DK", viewport={"width": 1024, "height": 900})
    p = context.new_page()
    p.set_default_timeout(30_000)
    sockets: list[str] = []
    p.on("websocket", lambda ws: sockets.append(ws.url))

    def responses() -> list[str]:
        return p.locator(".rw-response").all_inner_texts()

    def ask(text: str, before: int) -> str:
        p.fill(".rw-new-message", text)
        p.keyboard.press("Enter")
        p.wait_for_function(f"document.querySelectorAll('.rw-response').length > {before}")
        p.wait_for_timeout(1500)  # the rest of the reply's messages
        return "\n".join(responses()[before:])

    try:
        p.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html")
        p.wait_for_function("document.querySelectorAll('.rw-response').length > 0")  # the greeting for Køge
        first = ask("hvad koster genoptræning?", len(responses()))
        assert "gratis" in first and "Hvilken kommune" not in first, first
        second = ask("og i Holbæk?", len(responses()))
        assert "Holbæk" in second and "gratis" in second, second
        third = ask("hvad koster kørsel til træningen?", len(responses()))
        assert "50 kroner" in third, third
        assert any("/socket.io/" in url and "transport=websocket" in url for url in sockets), sockets
        # a multi-line message keeps its lines (Markdown hard breaks), not one run-on paragraph
        assert p.evaluate("[...document.querySelectorAll('.rw-response')].some((r) => r.querySelector('br'))")
        count = len(responses())
        p.reload()
        p.wait_for_function(f"document.querySelectorAll('.rw-response').length >= {count}")
        assert "50 kroner" in "\n".join(responses())
        ARTIFACTS.mkdir(exist_ok=True)
        p.screenshot(path=str(ARTIFACTS / "rasa-webchat.png"))
    finally:
        context.close()
        httpd.shutdown()


def _ratings(assistant: Assistant, sender: str) -> list[str]:
    """The texts of the rating payloads stored in the conversation (what the report reads)."""
    with sqlite3.connect(f"file:{assistant.tracker_db}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' AND "
                          "intent_name = 'feedback' ORDER BY id", (sender,)).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


def test_an_answer_is_rated_with_a_comment_kept_masked_and_found_in_the_report(browser: Any, site: str,
                                                                             assistant: Assistant,
                                                                             tmp_path: Path) -> None:
    """Issue 15, item 1: thumbs under an answer (not under a question back), an optional comment after
    a thumbs down, stored in the conversation with a personal number masked; never answered in the log."""
    texts = knowledge().texts["web"]
    context = browser.new_context(locale="da-DK", viewport={"width": 1024, "height": 800})
    p = context.new_page()
    p.set_default_timeout(30_000)
    try:
        p.goto(f"{site}/demo/holbaek.html")
        p.click("#tg-launcher")
        _wait_for_bot(p, 0)
        assert p.locator("#tg-log .tg-rate").count() == 0  # "Hvad vil du gerne vide ...?" is no answer
        p.fill("#tg-input", "kan min datter søge for mig?")
        p.press("#tg-input", "Enter")
        _wait_for_bot(p, 1)
        rated = p.locator("#tg-log .tg-bot", has=p.locator(".tg-rate"))
        assert rated.count() == 1  # one rating per answer, under its last paragraph
        assert rated.locator(".tg-rate-up").get_attribute("aria-label") == texts["widget_feedback_up"]
        down = rated.locator(".tg-rate-down")
        assert down.get_attribute("aria-label") == texts["widget_feedback_down"]
        messages = p.locator("#tg-log .tg-msg").count()
        down.click()
        assert p.inner_text(".tg-feedback-form label") == texts["widget_feedback_comment"]
        assert p.evaluate("document.activeElement.className") == "tg-comment"
        ARTIFACTS.mkdir(exist_ok=True)
        p.screenshot(path=str(ARTIFACTS / "widget-feedback-comment.png"))
        p.keyboard.type("Hvordan søger min datter for mig? Mit cpr er 170871-4431")
        p.keyboard.press("Enter")
        p.wait_for_function(f"document.querySelector('.tg-feedback-thanks[role=status]') && document.querySelector("
                            f"'.tg-feedback-thanks').textContent === {json.dumps(texts['widget_feedback_thanks'])}")
        assert p.evaluate("document.activeElement.id") == "tg-input"  # back to the question field
        sender = p.evaluate("localStorage.getItem('traeningsguide:sender')")
        for _ in range(50):
            stored = _ratings(assistant, sender)
            if len(stored) == 2:
                break
            p.wait_for_timeout(200)
        assert len(stored) == 2, stored  # the thumbs down at once, then the comment
        first, second = (json.loads(t[len("/feedback"):]) for t in stored)
        assert first["rating"] == second["rating"] == "down" and first["answer"] == second["answer"]
        assert "Hvordan søger min datter for mig?" in second["comment"]
        assert "170871" not in json.dumps(stored) and "4431" not in json.dumps(stored)
        assert p.locator("#tg-log .tg-msg").count() == messages  # the server's thanks is not a chat message
        p.reload()
        p.click("#tg-launcher")
        p.wait_for_function(f"document.querySelectorAll('#tg-log .tg-msg').length >= {messages}")
        assert p.locator("#tg-log .tg-rate").count() == 0 and p.locator(".tg-feedback-thanks").count() == 1
        # a thumbs up by keyboard: stored at once, no comment asked for, focus back in the question field
        p.fill("#tg-input", "hvad koster kørsel?")
        p.press("#tg-input", "Enter")
        p.wait_for_selector("#tg-log .tg-rate-up")
        p.focus("#tg-log .tg-rate-up")
        p.keyboard.press("Enter")
        assert p.locator(".tg-feedback-form").count() == 0
        assert p.evaluate("document.activeElement.id") == "tg-input"
        for _ in range(50):
            if len(_ratings(assistant, sender)) == 3:
                break
            p.wait_for_timeout(200)
        assert json.loads(_ratings(assistant, sender)[2][len("/feedback"):])["rating"] == "up"
        assert _axe(p, "#tg-root") == []
    finally:
        context.close()
    # the municipality's report over the same store finds the rating, its question and the comment, masked
    out = tmp_path / "report.csv"
    done = subprocess.run([sys.executable, "-m", "traeningsguide", "report", "--store",
                           f"sqlite:///{assistant.tracker_db}", "--kommune", "holbaek", "--csv", str(out)],
                          cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = out.read_text(encoding="utf-8-sig")
    rated = [line for line in report.splitlines() if "Hvordan søger min datter for mig?" in line]
    assert rated and "kan min datter søge for mig?" in rated[0], report
    assert "170871" not in report and "4431" not in report


def test_server_down_shows_the_contact(page: Any, site: str, assistant: Assistant) -> None:
    """Last: stops this module's Rasa server, then the widget must still answer in Danish."""
    assistant.stop()
    if page.get_attribute("#tg-launcher", "aria-expanded") != "true":
        page.click("#tg-launcher")
    before = len(_bot_texts(page))
    page.fill("#tg-input", "hvad koster det?")
    page.keyboard.press("Enter")
    reply = _wait_for_bot(page, before)
    assert "56 67 26 26" in reply  # Køge's main contact, from the knowledge base
