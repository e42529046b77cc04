"""The generated pages (pure Python, no browser): lookup matrix, demo pages, widget config."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from traeningsguide import answers, web
from traeningsguide.knowledge import KnowledgeBase

from .conftest import PROJECT


def test_lookup_page_has_every_municipality_and_topic_with_quotes(kb: KnowledgeBase) -> None:
    page = web.lookup_page(kb)
    assert page.startswith("<!DOCTYPE html>") and 'lang="da"' in page
    for m in kb.municipalities.values():
        assert f">{html.escape(m.short_name)}<" in page
    for topic in kb.topics.values():
        assert html.escape(topic.label) in page
    # every quote shown under an answer is the verbatim source passage, escaped
    sample = answers.answer("koege", "transport", kb=kb)
    for quote in sample.quotes:
        assert html.escape(quote) in page
    assert page.count('class="not-stated') >= 10  # honest gaps are marked


def test_lookup_page_escapes_content(kb: KnowledgeBase) -> None:
    page = web.lookup_page(kb)
    assert "<script>alert" not in page
    # the one inline script is the page's own; no fact text can open a tag
    for m in kb.municipalities.values():
        for fact in m.facts:
            if "<" in fact.text:
                assert html.escape(fact.text) in page


def test_demo_pages_embed_the_widget_with_their_municipality(kb: KnowledgeBase) -> None:
    page = web.demo_page(kb, "koege", "http://localhost:5005")
    assert '<script src="../widget.js" data-kommune="koege" data-server="http://localhost:5005"></script>' in page
    assert "data-kommune" not in web.demo_page(kb, None, "http://localhost:5005")


def test_widget_config_has_danish_texts_and_each_municipalitys_contact(kb: KnowledgeBase) -> None:
    config = web.widget_config(kb)
    assert set(config["texts"]) == {"launcher", "title", "close", "input_label", "send", "typing", "error",
                                    "no_reply", "contact_prefix", "contact_general", "you", "bot", "intro",
                                    "new", "delete", "delete_confirm", "deleted", "delete_error", "sources",
                                    "sources_intro", "feedback_question", "feedback_up", "feedback_down",
                                    "feedback_comment", "feedback_send", "feedback_skip", "feedback_thanks"}
    # every text the widget uses comes from the config: its built-in fallbacks name the same keys
    script = (PROJECT / "web" / "widget.js").read_text(encoding="utf-8")
    fallbacks = script[script.index("const FALLBACK_TEXTS = {"):script.index("};", script.index("FALLBACK_TEXTS"))]
    assert set(re.findall(r"(\w+): \"", fallbacks)) == set(config["texts"])
    assert set(re.findall(r"\bT\.(\w+)", script)) <= set(config["texts"])
    assert set(config["contacts"]) == set(kb.municipalities)
    assert "56 67 26 26" in config["contacts"]["koege"]
    assert "79 91 82 50" in config["contacts"]["hedensted"]
    assert "oplyser intet telefonnummer" in config["contacts"]["holbaek"]


def test_build_writes_the_site(kb: KnowledgeBase, tmp_path: Path) -> None:
    written = {p.relative_to(tmp_path).as_posix() for p in web.build(kb, tmp_path, "http://localhost:5005")}
    expected = {"index.html", "lookup.html", "widget-config.json", "widget.js", "widget.css", "demo/ingen.html"}
    assert expected | {f"demo/{m}.html" for m in kb.municipalities} <= written
    json.loads((tmp_path / "widget-config.json").read_text(encoding="utf-8"))
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="lookup.html"' in index and 'href="demo/koege.html"' in index
