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

LOOKUP_CSS = """
main{max-width:none}
.controls{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start;margin:1rem 0}
.control label{display:block;font-weight:600}
.control input,.control select{font:inherit;color:#1a1a1a;background:#fff;border:2px solid #595959;
 padding:.4rem .5rem;width:100%;max-width:24rem;min-height:2.75rem}
.control{flex:1 1 16rem}
.hint{margin:.25rem 0 0;font-size:.9rem}
#filter-status{margin:.5rem 0;font-weight:600;min-height:1.5em}
.table-region{overflow-x:auto;border:1px solid #8c8c8c;max-width:100%}
table{border-collapse:collapse;width:max-content;min-width:100%}
caption{text-align:left;font-weight:600;padding:.5rem}
th,td{border:1px solid #8c8c8c;padding:.5rem;vertical-align:top;text-align:left}
thead th{background:#f2f2f2}
th[scope=row]{background:#f2f2f2;min-width:8rem;max-width:12rem}
td{min-width:16rem;max-width:26rem}
@media (min-width:48em){th[scope=row]{position:sticky;left:0;z-index:1}}
.answer,.next-step,.source,blockquote p{white-space:pre-line;margin:0 0 .5rem}
.flag{display:inline-block;margin:0 0 .5rem;padding:.1rem .4rem;border:2px solid #8a4b00;font-weight:600;
 background:#fff}
td.not-stated,.compare-item.not-stated{background:#fdf3e6}
.quotes-label,.label{font-weight:600}
.quotes-label{margin:.5rem 0 .25rem;font-size:.9rem}
blockquote{margin:0 0 .5rem;padding:.25rem .5rem;border-left:4px solid #595959;font-size:.9rem;
 font-style:italic;background:#f7f7f7}
.source{font-size:.9rem}
.hours{margin:0 0 .5rem;padding-left:1.25rem}
.hours-status{font-weight:600}
.compare-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:1rem}
.compare-item{border:1px solid #8c8c8c;padding:.5rem}
.compare-item h4{margin:0 0 .5rem;font-size:1.05rem}
.is-hidden{display:none}
@media print{
 body{padding:0;font-size:10pt}
 .skip-link,.js-only,.controls,#filter-status,#compare{display:none!important}
 tr.is-hidden{display:table-row!important}
 .table-region{overflow:visible;border:0}
 table{width:100%}
 td,th{min-width:0;max-width:none}
 th[scope=row]{position:static}
 tr,td,th,blockquote{break-inside:avoid;page-break-inside:avoid}
 thead{display:table-header-group}
 a{color:#1a1a1a}
}
"""

LOOKUP_SCRIPT = """
(function () {
  "use strict";
  var texts = JSON.parse(document.getElementById("page-texts").textContent);
  function fill(template, values) {
    return template.replace(/\\{(\\w+)\\}/g, function (m, key) { return key in values ? values[key] : m; });
  }
  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }
  each(".js-only", function (el) { el.hidden = false; });

  var input = document.getElementById("filter");
  var status = document.getElementById("filter-status");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#matrix tbody tr"));
  var timer = null;
  function applyFilter() {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      row.classList.toggle("is-hidden", !match);
      if (match) { shown += 1; }
    });
    clearTimeout(timer);
    timer = setTimeout(function () {
      status.textContent = fill(texts.filter_count, {count: shown, total: rows.length});
    }, 400);
  }
  input.addEventListener("input", applyFilter);

  var select = document.getElementById("compare-topic");
  function showCompare() {
    each(".compare-topic", function (el) { el.hidden = el.getAttribute("data-topic") !== select.value; });
  }
  select.addEventListener("change", showCompare);
  showCompare();

  var weekdays = {Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6};
  var clock = new Intl.DateTimeFormat("en-GB", {timeZone: "Europe/Copenhagen", weekday: "short",
                                                hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
  function minutes(hhmm) { var p = hhmm.split(":"); return parseInt(p[0], 10) * 60 + parseInt(p[1], 10); }
  function copenhagenNow() {
    var parts = {};
    clock.formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return {day: weekdays[parts.weekday], minute: (parseInt(parts.hour, 10) % 24) * 60 + parseInt(parts.minute, 10)};
  }
  function updateHours() {
    var now = copenhagenNow();
    each("[data-hours]", function (el) {
      var intervals = JSON.parse(el.getAttribute("data-hours"))[String(now.day)] || [];
      var open = intervals.filter(function (iv) {
        return minutes(iv[0]) <= now.minute && now.minute < minutes(iv[1]);
      })[0];
      el.querySelector(".hours-status").textContent = open
        ? fill(texts.open_now, {until: open[1].replace(":", ".")}) : texts.closed_now;
    });
  }
  updateHours();
  setInterval(updateHours, 60000);
})();
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


def _json_script(element_id: str, data: Any) -> str:
    """Data for the inline script, safe inside <script> (no '<' can end the element)."""
    payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return f'<script type="application/json" id="{_e(element_id)}">{payload}</script>'


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


def _hours_list(contacts: Iterable[Contact], kb: KnowledgeBase) -> str:
    """Per contact: open/closed now (computed by the page script) or 'hours not stated'."""
    items = []
    for contact in contacts:
        if contact.hours is None:
            items.append(f"<li>{_e(contact.name)}: {_e(kb.texts['contact']['hours_unknown'])}</li>")
            continue
        described = hours_mod.describe(contact.hours, kb.texts) or ""
        items.append(
            f'<li data-hours="{_e(_weekly_json(contact))}">{_e(contact.name)}: '
            f'<span class="hours-status">{_e(described)}</span>. '
            f"{_e(kb.texts['contact']['public_holidays'])}</li>"
        )
    return (f'<p class="quotes-label">{_e(_web(kb)["hours_title"])}</p>\n'
            f'<ul class="hours">{"".join(items)}</ul>')


def _contact_quotes(contacts: Iterable[Contact]) -> tuple[str, ...]:
    """The source passages behind the contacts: who, hours, address, web."""
    quotes: list[str] = []
    for contact in contacts:
        quotes.append(contact.quote)
        quotes += [part.quote for part in (contact.hours, contact.address, contact.web) if part]
    return tuple(dict.fromkeys(quotes))


def _cell(kb: KnowledgeBase, municipality: Municipality, topic: str) -> tuple[str, bool]:
    """(inner HTML of one answer, whether it is marked not stated)."""
    web = _web(kb)
    extra = ""
    if topic == "contact":
        answer = answers.contact_answer(municipality.id, kb=kb, live_status=False)  # the page shows it live
        contacts = answers.contacts_for(municipality, answer.service_ids)
        text = answer.text
        quotes = answer.quotes + _contact_quotes(contacts)
        extra = _hours_list(contacts, kb)
    else:
        answer = answers.answer(municipality.id, topic, kb=kb)
        text, quotes = answer.text, answer.quotes
    not_stated = topic != "contact" and not answer.stated
    parts = [f'<p class="flag">{_e(web["not_stated"])}</p>'] if not_stated else []
    parts.append(f'<p class="answer">{_e(text)}</p>')
    if extra:
        parts.append(extra)
    if quotes:
        parts.append(f'<p class="quotes-label">{_e(web["quotes"])}</p>')
        parts += [f"<blockquote><p>{_e(quote)}</p></blockquote>" for quote in quotes]
    parts.append(f'<p class="next-step"><span class="label">{_e(web["next_step"])}</span> '
                 f"{_e(answer.next_step.text)}</p>")
    parts.append(f'<p class="source">{_e(answer.source)}</p>')
    return "\n".join(parts), not_stated


def _matrix(kb: KnowledgeBase, columns: list[Municipality], cells: Mapping[tuple[str, str], tuple[str, bool]]) -> str:
    web = _web(kb)
    head = "".join(f'<th scope="col">{_e(m.short_name)}</th>' for m in columns)
    rows = []
    for topic in kb.topics.values():
        tds = []
        for m in columns:
            content, not_stated = cells[(topic.id, m.id)]
            css = ' class="not-stated"' if not_stated else ""
            tds.append(f"<td{css}>\n{content}\n</td>")
        rows.append(f'<tr id="topic-{_e(topic.id)}"><th scope="row">{_e(topic.label)}</th>\n{"".join(tds)}</tr>')
    return (
        f'<div class="table-region" id="matrix" role="region" tabindex="0" aria-label="{_e(web["table_region"])}">\n'
        f'<table>\n<caption>{_e(web["caption"])}</caption>\n'
        f'<thead><tr><th scope="col">{_e(web["topic_column"])}</th>{head}</tr></thead>\n'
        f'<tbody>\n{chr(10).join(rows)}\n</tbody>\n</table>\n</div>'
    )


def _filter(kb: KnowledgeBase) -> str:
    web = _web(kb)
    return (
        '<div class="controls js-only" hidden>\n<div class="control">'
        f'<label for="filter">{_e(web["filter_label"])}</label>'
        '<input type="search" id="filter" autocomplete="off" aria-describedby="filter-hint" aria-controls="matrix">'
        f'<p class="hint" id="filter-hint">{_e(web["filter_hint"])}</p></div>\n</div>\n'
        '<p id="filter-status" role="status" aria-live="polite"></p>'
    )


def _compare(kb: KnowledgeBase, columns: list[Municipality],
             cells: Mapping[tuple[str, str], tuple[str, bool]]) -> str:
    """One hidden block per topic with all municipalities side by side; the script shows the chosen one."""
    web = _web(kb)
    blocks = []
    for topic in kb.topics.values():
        items = []
        for m in columns:
            content, not_stated = cells[(topic.id, m.id)]
            css = "compare-item not-stated" if not_stated else "compare-item"
            items.append(f'<article class="{css}"><h4>{_e(m.name)}</h4>\n{content}\n</article>')
        heading = web["compare_topic"].format(topic=topic.label)
        blocks.append(f'<div class="compare-topic" data-topic="{_e(topic.id)}" hidden>'
                      f'<h3>{_e(heading)}</h3>\n<div class="compare-grid">\n{"".join(items)}\n</div></div>')
    options = "".join(f'<option value="{_e(t.id)}">{_e(t.label)}</option>' for t in kb.topics.values())
    select = ('<div class="controls"><div class="control">'
              f'<label for="compare-topic">{_e(web["compare_label"])}</label>'
              f'<select id="compare-topic" aria-controls="compare-topics">'
              f'<option value="">{_e(web["compare_choose"])}</option>{options}</select></div></div>')
    return (f'<section id="compare" class="js-only" aria-labelledby="compare-heading" hidden>\n'
            f'<h2 id="compare-heading">{_e(web["compare_heading"])}</h2>\n{select}\n'
            f'<div id="compare-topics">\n{chr(10).join(blocks)}\n</div>\n</section>')


def lookup_page(kb: KnowledgeBase) -> str:
    """The call-center lookup page: every topic x municipality, with quotes, next step and source."""
    web = _web(kb)
    columns = _by_short_name(kb)
    cells = {(topic, m.id): _cell(kb, m, topic) for topic in kb.topics for m in columns}
    script_texts = {"filter_count": web["filter_count"], "open_now": web["open_now"], "closed_now": web["closed_now"]}
    body = (
        f'<a class="skip-link" href="#matrix">{_e(web["skip_to_table"])}</a>\n'
        f'<main id="main">\n<h1>{_e(web["lookup_heading"])}</h1>\n<p>{_e(web["lookup_intro"])}</p>\n'
        f"{_compare(kb, columns, cells)}\n"
        f'<section aria-labelledby="matrix-heading">\n<h2 id="matrix-heading">{_e(web["matrix_heading"])}</h2>\n'
        f"{_filter(kb)}\n{_matrix(kb, columns, cells)}\n</section>\n</main>\n"
        f"{_json_script('page-texts', script_texts)}"
    )
    return _document(web["lookup_title"], body, LOOKUP_CSS, LOOKUP_SCRIPT)


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
