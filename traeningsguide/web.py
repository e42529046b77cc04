"""Static web pages: the call-center lookup page, demo pages with the chat widget, the widget's config.

Every Danish word comes from knowledge/texts.yml (section ``web`` and the frame texts) or from the
knowledge base; this module only lays it out, escaping every text with ``html.escape``. The pages
are self-contained (inline CSS and script, no external resources) so they can be served from any
static host or opened from disk.
"""

from __future__ import annotations

import functools
import html
import json
import shutil
from collections.abc import Iterable, Mapping
from datetime import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from traeningsguide import answers
from traeningsguide import hours as hours_mod
from traeningsguide.knowledge import WIDGET_TEXT_KEYS, Contact, KnowledgeBase, Municipality

WEB_DIR = Path(__file__).resolve().parent.parent / "web"  # widget.js and widget.css, when present
WIDGET_FILES = ("widget.js", "widget.css")
NO_MUNICIPALITY_PAGE = "ingen"  # demo/ingen.html: the widget asks which municipality

BASE_CSS = """
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
[hidden]{display:none!important}
body{margin:0;padding:1rem;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
 font-size:1rem;line-height:1.5;color:#1a1a1a;background:#fff}
main,header{max-width:72rem;margin:0 auto}
a{color:#0b5394}
a:visited{color:#5b2a86}
:focus-visible{outline:3px solid #0b5394;outline-offset:2px}
.skip-link{position:absolute;left:-999em;top:.5rem;padding:.5rem 1rem;background:#fff;color:#0b5394;
 border:2px solid #0b5394;z-index:10}
.skip-link:focus{left:.5rem}
h1{font-size:1.75rem;line-height:1.25;margin:.5rem 0 1rem}
h2{font-size:1.35rem;margin:1.5rem 0 .5rem}
h3{font-size:1.15rem;margin:1rem 0 .5rem}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _web(kb: KnowledgeBase) -> Mapping[str, str]:
    return kb.texts["web"]


def _document(title: str, body: str, css: str = "", script: str = "") -> str:
    """A complete HTML5 document in Danish; ``body`` is already escaped markup."""
    script_tag = f"<script>{script}</script>\n" if script else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="da">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{BASE_CSS}{css}</style>\n</head>\n"
        f"<body>\n{body}\n{script_tag}</body>\n</html>\n"
    )


def _by_short_name(kb: KnowledgeBase) -> list[Municipality]:
    return sorted(kb.municipalities.values(), key=lambda m: m.short_name.casefold())


# --------------------------------------------------------------------------------------------
# Lookup page


def _weekly_json(contact: Contact) -> str:
    """The contact's opening intervals as JSON: {"0": [["08:00", "12:00"], ...]}, 0 = Monday."""
    assert contact.hours is not None

    def clock(value: time) -> str:
        return value.strftime("%H:%M")

    weekly = {str(day): [[clock(start), clock(end)] for start, end in intervals]
              for day, intervals in sorted(contact.hours.weekly.items())}
    return json.dumps(weekly, separators=(",", ":"))


def _hours_items(contacts: Iterable[Contact], kb: KnowledgeBase) -> list[dict[str, str]]:
    """Per contact: its weekly hours for the page script (open/closed now), or 'hours not stated'."""
    items = []
    for contact in contacts:
        if contact.hours is None:
            items.append({"name": contact.name, "weekly": "", "unknown": kb.texts["contact"]["hours_unknown"]})
        else:
            items.append({"name": contact.name, "weekly": _weekly_json(contact),
                          "described": hours_mod.describe(contact.hours, kb.texts) or "",
                          "holidays": kb.texts["contact"]["public_holidays"]})
    return items


def _contact_quotes(contacts: Iterable[Contact]) -> tuple[str, ...]:
    """The source passages behind the contacts: who, hours, address, web."""
    quotes: list[str] = []
    for contact in contacts:
        quotes.append(contact.quote)
        quotes += [part.quote for part in (contact.hours, contact.address, contact.web) if part]
    return tuple(dict.fromkeys(quotes))


def _cell(kb: KnowledgeBase, municipality: Municipality, topic: str) -> dict[str, Any]:
    """One answer of the lookup page: its text, whether it is not stated, hours, quotes, next step, source."""
    hours: list[dict[str, str]] = []
    if topic == "contact":
        answer = answers.contact_answer(municipality.id, kb=kb, live_status=False)  # the page shows it live
        contacts = answers.contacts_for(municipality, answer.service_ids)
        quotes = answer.quotes + _contact_quotes(contacts)
        hours = _hours_items(contacts, kb)
    else:
        answer = answers.answer(municipality.id, topic, kb=kb)
        quotes = answer.quotes
    return {"text": answer.text, "not_stated": topic != "contact" and not answer.stated, "hours": hours,
            "quotes": quotes, "next_step": answer.next_step.text, "source": answer.source}


@functools.lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(WEB_DIR / "templates")), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _names(m: Municipality) -> list[str]:
    """The names a call-center agent may type for a municipality (the page script folds æ/ø/å)."""
    return list(dict.fromkeys(n.lower() for n in (m.short_name, m.name, m.id, *m.aliases)))


def lookup_page(kb: KnowledgeBase) -> str:
    """The call-center lookup page: every topic x municipality, with quotes, next step and source; a
    municipality can be chosen (one column, its contacts with open-now on top) and the search box
    takes municipality and topic words together ("køge kørsel")."""
    web = _web(kb)
    columns = _by_short_name(kb)
    cells = {(topic, m.id): _cell(kb, m, topic) for topic in kb.topics for m in columns}
    script_texts = {"filter_count": web["filter_count"], "open_now": web["open_now"], "closed_now": web["closed_now"]}
    return _templates().get_template("lookup.html").render(
        t=web, topics=list(kb.topics.values()), columns=columns, cells=cells, script_texts=script_texts,
        kommuner={m.id: _names(m) for m in columns},
        base_css=markupsafe.Markup(BASE_CSS), css=markupsafe.Markup(_asset("lookup.css")),
        script=markupsafe.Markup(_asset("lookup.js")))


def _asset(name: str) -> str:
    """A file of web/ for inlining (the pages are self-contained); "</" cannot end its element."""
    return (WEB_DIR / name).read_text(encoding="utf-8").replace("</", "<\\/")


# --------------------------------------------------------------------------------------------
# Demo pages, index, widget config


def demo_page(kb: KnowledgeBase, municipality_id: str | None, server: str) -> str:
    """A demo municipal page with the chat widget; ``None``: the widget asks for the municipality."""
    web = _web(kb)
    launcher = web["widget_launcher"]
    if municipality_id is None:
        title, heading = web["demo_title_none"], web["demo_heading_none"]
        intro = web["demo_intro_none"].format(launcher=launcher)
        kommune_attr = ""
    else:
        if municipality_id not in kb.municipalities:
            raise ValueError(f"unknown municipality id {municipality_id!r} (known: {', '.join(kb.municipalities)})")
        name = kb.municipalities[municipality_id].name
        title, heading = web["demo_title"].format(name=name), web["demo_heading"].format(name=name)
        intro = web["demo_intro"].format(name=name, launcher=launcher)
        kommune_attr = f' data-kommune="{_e(municipality_id)}"'
    body = (
        f'<a class="skip-link" href="#main">{_e(web["skip_to_main"])}</a>\n'
        f'<header><p><a href="../index.html">{_e(web["back_to_index"])}</a></p></header>\n'
        f'<main id="main" tabindex="-1">\n<h1>{_e(heading)}</h1>\n<p>{_e(intro)}</p>\n</main>\n'
        f'<script src="../widget.js"{kommune_attr} data-server="{_e(server)}"></script>'
    )
    return _document(title, body)


def index_page(kb: KnowledgeBase) -> str:
    """Links to the demo pages (one per municipality and one without) and to the lookup page."""
    web = _web(kb)
    demos = [f'<li><a href="demo/{_e(m.id)}.html">{_e(web["index_demo_link"].format(name=m.name))}</a></li>'
             for m in _by_short_name(kb)]
    demos.append(f'<li><a href="demo/{NO_MUNICIPALITY_PAGE}.html">{_e(web["index_demo_none"])}</a></li>')
    body = (
        f'<main id="main">\n<h1>{_e(web["index_heading"])}</h1>\n<p>{_e(web["index_intro"])}</p>\n'
        f'<h2>{_e(web["index_demos"])}</h2>\n<ul>\n{chr(10).join(demos)}\n</ul>\n'
        f'<h2>{_e(web["index_lookup_heading"])}</h2>\n'
        f'<ul><li><a href="lookup.html">{_e(web["index_lookup_link"])}</a></li></ul>\n</main>'
    )
    return _document(web["index_title"], body)


def widget_config(kb: KnowledgeBase) -> dict[str, Any]:
    """The widget's UI texts and, per municipality, the next step to its main contact."""
    web = _web(kb)
    return {
        "texts": {key: web[f"widget_{key}"] for key in WIDGET_TEXT_KEYS},
        "contacts": {m.id: answers.main_contact_step(m, kb) for m in kb.municipalities.values()},
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def build(kb: KnowledgeBase, out_dir: Path, server: str, web_dir: Path = WEB_DIR) -> list[Path]:
    """Write the whole static site into ``out_dir``; return the files written, in order."""
    out_dir = Path(out_dir)
    written = [
        _write(out_dir / "index.html", index_page(kb)),
        _write(out_dir / "lookup.html", lookup_page(kb)),
    ]
    for municipality_id in kb.municipalities:
        written.append(_write(out_dir / "demo" / f"{municipality_id}.html", demo_page(kb, municipality_id, server)))
    written.append(_write(out_dir / "demo" / f"{NO_MUNICIPALITY_PAGE}.html", demo_page(kb, None, server)))
    config = json.dumps(widget_config(kb), ensure_ascii=False, indent=2) + "\n"
    written.append(_write(out_dir / "widget-config.json", config))
    for name in WIDGET_FILES:
        source = web_dir / name
        if source.is_file():
            target = out_dir / name
            shutil.copyfile(source, target)
            written.append(target)
    return written


class StaticHandler(SimpleHTTPRequestHandler):
    """Serves the built site with UTF-8 content types and without request logging."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript; charset=utf-8",
                      ".html": "text/html; charset=utf-8", ".json": "application/json; charset=utf-8",
                      ".css": "text/css; charset=utf-8"}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: request lines would go to the terminal of make run


def make_server(directory: Path | str, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A standard-library HTTP server for the built site (`make run` and the browser tests)."""
    return ThreadingHTTPServer((host, port), functools.partial(StaticHandler, directory=str(directory)))
