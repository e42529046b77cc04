"""Call-center lookup on the command line: `python -m traeningsguide ask koege transport`.

Labels come from knowledge/texts.yml; this module only lays them out.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from traeningsguide import answers, coverage, eligibility, hours, names, report, source_check
from traeningsguide import store as store_mod
from traeningsguide.knowledge import KnowledgeBase, KnowledgeError, knowledge
from traeningsguide.textnorm import format_phone


class _LazyConsole:
    """A rich Console made on first use, so the terminal width (COLUMNS) is read at run time."""

    def print(self, *args: Any, **kwargs: Any) -> None:
        Console(highlight=False).print(*args, **kwargs)


console = _LazyConsole()


def _kb() -> KnowledgeBase:
    try:
        return knowledge()
    except KnowledgeError as exc:
        console.print(Text(str(exc), style="red"))
        sys.exit(2)


def _guarded(func: Callable[..., None]) -> Callable[..., None]:
    """Show a Danish message and exit 2 on bad input, instead of a traceback."""

    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            func(*args, **kwargs)
        except answers.GuideInputError as exc:
            console.print(Text(f"{_kb().texts['cli']['input_error']} {exc.message}", style="red"))
            sys.exit(2)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def _answer_cell(answer: answers.Answer) -> Text:
    cell = Text(answer.text)
    for quote in answer.quotes:
        cell.append(f"\n» {quote}", style="dim italic")
    return cell


def _parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: use YYYY-MM-DDTHH:MM") from exc


@click.group(help="Call-center lookup in the municipal training knowledge base.")
def main() -> None:
    """Entry point."""


@main.command()
@click.argument("kommune")
@click.argument("topic")
@click.option("--service", "-s", default=None,
              help="Service id, kind or words, e.g. after_hospital or 'efter sygehus'.")
@_guarded
def ask(kommune: str, topic: str, service: str | None) -> None:
    """One municipality, one topic: the answer, its source quotes and the next step."""
    kb = _kb()
    labels = kb.texts["cli"]
    result = answers.answer(kommune, topic, service, kb=kb)
    table = Table(title=f"{result.municipality_name} · {kb.topics[result.topic].label}", show_lines=True, expand=True)
    table.add_column(labels["services"], ratio=1)
    table.add_column(labels["answer"], ratio=4)
    if result.parts:
        for part in result.parts:
            cell = Text(part.text)
            for fact in part.facts:
                cell.append(f"\n» {fact.quote}", style="dim italic")
            if part.not_stated and part.not_stated.quote:
                cell.append(f"\n» {part.not_stated.quote}", style="dim italic")
            table.add_row("\n".join(part.service_names), cell)
    else:
        table.add_row("", _answer_cell(result))
    console.print(table)
    if result.deciding_question:
        console.print(result.deciding_question)
    console.print(result.source, style="bold")
    console.print(f"{labels['next_step']}: {result.next_step.text}")


@main.command()
@click.argument("topic")
@click.option("--service", "-s", default=None, help="Service kind or words, e.g. rehab_after_hospital.")
@_guarded
def compare(topic: str, service: str | None) -> None:
    """One topic across all municipalities, side by side."""
    kb = _kb()
    labels = kb.texts["cli"]
    rows = answers.compare(topic, service, kb=kb)
    table = Table(title=kb.topics[rows[0].topic].label, show_lines=True, expand=True)
    table.add_column(labels["municipality"], ratio=1)
    table.add_column(labels["answer"], ratio=4)
    table.add_column(labels["next_step"], ratio=2)
    for row in rows:
        table.add_row(row.municipality_name, _answer_cell(row), f"{row.next_step.text}\n{row.source}")
    console.print(table)


def _situation_options(func: Callable[..., None]) -> Callable[..., None]:
    for situation in reversed(list(_kb().situations.values())):
        func = click.option(f"--{situation.flag}", situation.id, is_flag=True, help=situation.label)(func)
    return func


@main.command(name="eligibility")
@click.argument("kommune")
@_situation_options
@_guarded
def eligibility_cmd(kommune: str, **flags: bool) -> None:
    """Which service fits a situation in a municipality, or why none does."""
    kb = _kb()
    labels = kb.texts["cli"]
    chosen = [sid for sid, on in flags.items() if on]
    result = eligibility.eligibility(kommune, chosen, kb=kb)
    municipality = kb.municipalities[result.municipality_id]
    table = Table(title=f"{municipality.name} · {', '.join(kb.situations[s].label for s in chosen)}",
                  show_lines=True, expand=True)
    table.add_column(labels["result"], ratio=1)
    table.add_column(labels["services"], ratio=1)
    table.add_column(labels["answer"], ratio=4)
    for rule in result.rules:
        cell = Text(rule.text)
        cell.append(f"\n» {rule.quote}", style="dim italic")
        table.add_row(labels[f"result_{rule.result}"], municipality.services[rule.service].name, cell)
    for situation in result.unknown:
        table.add_row(labels["not_stated"], "", kb.situations[situation].label)
    console.print(table)
    console.print(result.text)
    console.print(result.source, style="bold")
    console.print(f"{labels['next_step']}: {result.next_step.text}")


@main.command()
@click.argument("kommune")
@click.option("--at", "at", default=None, help="Time to check opening hours for, e.g. 2026-11-24T09:30 (default: now).")
@_guarded
def contacts(kommune: str, at: str | None) -> None:
    """Contacts of a municipality: purpose, phone, hours and whether open now."""
    kb = _kb()
    labels = kb.texts["cli"]
    moment = _parse_at(at)
    municipality = answers.resolve_municipality(kommune, kb)
    table = Table(title=municipality.name, show_lines=True, expand=True)
    for column in ("contact", "phone", "hours", "status", "address"):
        table.add_column(labels[column])
    for contact in municipality.contacts.values():
        name = Text(contact.name)
        name.append(f"\n{contact.purpose}", style="dim")
        table.add_row(
            name,
            format_phone(contact.phone) if contact.phone else labels["not_stated"],
            hours.describe(contact.hours, kb.texts) or labels["not_stated"],
            hours.status(contact.hours, kb.texts, moment),
            contact.address.text if contact.address else labels["not_stated"],
        )
    console.print(table)
    if any(c.hours for c in municipality.contacts.values()):
        console.print(kb.texts["contact"]["public_holidays"], style="dim")


@main.command()
def topics() -> None:
    """The topic vocabulary (ids to use with ask/compare)."""
    kb = _kb()
    table = Table(title=kb.texts["cli"]["topics_title"])
    table.add_column("id")
    table.add_column(kb.texts["cli"]["topic"])
    for topic in kb.topics.values():
        table.add_row(topic.id, topic.label)
    console.print(table)


@main.command()
@click.argument("text")
def resolve(text: str) -> None:
    """Show which municipality and service kinds a free text names."""
    kb = _kb()
    for match in names.find_municipalities(text, kb):
        console.print(f"{match.status}: {match.name} ({match.id or '-'}) <- '{match.matched}'")
    console.print(f"service kinds: {', '.join(names.find_service_kinds(text, kb)) or '-'}")


@main.command()
def check() -> None:
    """Validate the knowledge base and print counts and source coverage."""
    kb = _kb()
    labels = kb.texts["cli"]
    reports = {mid: coverage.coverage(kb, mid) for mid in kb.municipalities}
    uncovered = [(kb.municipalities[mid].name, p) for mid, cov in reports.items() for p in cov.uncovered]
    table = Table(title=labels["knowledge_uncovered" if uncovered else "knowledge_ok"])
    for column in ("municipality", "services", "facts", "not_stated", "contact", "coverage"):
        table.add_column(labels[column], justify="right" if column != "municipality" else "left")
    for mid, municipality in kb.municipalities.items():
        table.add_row(municipality.name, str(len(municipality.services)), str(len(municipality.facts)),
                      str(len(municipality.not_stated)), str(len(municipality.contacts)),
                      f"{reports[mid].percent:.1f} %")
    console.print(table)
    for name, passage in uncovered:
        console.print(Text(f"{labels['uncovered']} ({name}): {passage}", style="red"))
    if uncovered:
        sys.exit(1)


def _day_option(value: str | None, labels: dict[str, str]) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise answers.GuideInputError(labels["bad_date"].format(value=value[:40])) from None


def _write_file(path: str, text: str, labels: dict[str, str], encoding: str = "utf-8") -> None:
    try:
        Path(path).write_text(text, encoding=encoding, newline="")
    except OSError as exc:
        raise answers.GuideInputError(labels["cannot_write"].format(path=path, reason=exc.strerror or exc)) from None
    console.print(Text(labels["written"].format(path=path)))


@main.command(name="report")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD (UTC; default: 29 days before --to).")
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD (UTC; default: today).")
@click.option("--kommune", default=None, help="One municipality, id or name (default: all).")
@click.option("--store", default=None,
              help="SQLAlchemy URL of the tracker store (default: TRACKER_STORE_URL, else sqlite:///TRACKER_DB).")
@click.option("--csv", "csv_path", default=None, help="Write one CSV file for a spreadsheet instead of the tables.")
@click.option("--html", "html_path", default=None, help="Write one HTML page instead of the tables.")
@_guarded
def report_cmd(start: str | None, end: str | None, kommune: str | None, store: str | None, csv_path: str | None,
               html_path: str | None) -> None:
    """The municipality's report over the stored conversations: questions, gaps, ratings, outages."""
    kb = _kb()
    labels = kb.texts["report"]
    first, last = _day_option(start, labels), _day_option(end, labels)
    default_first, default_last = report.default_period(last)
    first, last = first or default_first, last or default_last
    if first > last:
        raise answers.GuideInputError(labels["bad_period"].format(start=first, end=last))
    municipality = answers.resolve_municipality(kommune, kb).id if kommune is not None else None
    try:
        result = report.build(store_mod.store_url(store), first, last, municipality)
    except store_mod.StoreError as exc:
        raise answers.GuideInputError(labels[exc.problem].format(store=exc.store, reason=exc.reason)) from None
    if csv_path:
        _write_file(csv_path, report.csv_text(result, kb), labels, encoding="utf-8-sig")  # the BOM: Excel reads æøå
    if html_path:
        _write_file(html_path, report.html_page(result, kb), labels)
    if csv_path or html_path:
        return
    sections = report.sections(result, kb)
    console.print(Text(f"{labels['title']} · {sections[0].rows[0]['kommune']}", style="bold"))
    for section in sections:
        if not section.rows:
            console.print(Text(f"\n{section.title}", style="bold"))
            console.print(labels["empty"], style="dim")
            continue
        table = Table(title=section.title, expand=False)
        for key in section.columns:
            table.add_column(labels[f"column_{key}"], justify="right" if key in report.NUMBERS else "left")
        for row in section.rows:  # Text: a citizen's "[...]" is not rich markup
            table.add_row(*(Text("\n".join(cell) if isinstance(cell, tuple) else cell) for cell in
                            (row.get(key, "") for key in section.columns)))
        console.print(table)
    console.print(labels["read"].format(rows=result.rows, seconds=f"{result.seconds:.1f}".replace(".", ",")),
                  style="dim")


@main.command(name="check-source")
@click.argument("kommune")
@click.argument("new_text", metavar="NEW_TEXT_FILE")
@_guarded
def check_source_cmd(kommune: str, new_text: str) -> None:
    """Check a new version of a municipality's text: quotes it breaks (exit 1) and passages no quote covers."""
    kb = _kb()
    labels = kb.texts["check_source"]
    municipality = answers.resolve_municipality(kommune, kb)
    path = Path(new_text)
    report = source_check.check_source(kb, municipality.id, source_check.read_new_text(path, kb))
    console.print(Text(labels["title"].format(name=municipality.name, path=path), style="bold"))
    for broken in report.broken:
        console.print(Text(f"\n{labels['broken_quote']}", style="red bold"))
        console.print(Text(f"» {broken.quote}", style="italic"))
        console.print(labels["used_by"])
        for item in broken.items:
            line = f"  - {report.file}: {item.field}"
            console.print(Text(f"{line}: {textwrap.shorten(item.text, 90, placeholder=' ...')}" if item.text else line))
    if report.new_passages:
        console.print(Text(f"\n{labels['new_passages']}", style="yellow bold"))
        for passage in report.new_passages:
            console.print(Text(f"  - {passage}"))
    if report.problems:
        console.print(Text(f"\n{labels['load_problems'].format(file=report.file)}", style="red bold"))
        for problem in report.problems:
            console.print(Text(f"  - {problem}"))
    console.print()
    if report.new_passages:
        console.print(Text(labels["new_summary"].format(count=len(report.new_passages)), style="yellow"))
    if report.broken:
        console.print(Text(labels["broken_summary"].format(broken=len(report.broken), total=report.quotes,
                                                           file=report.file), style="red bold"))
    if report.problems:
        console.print(Text(labels["load_summary"].format(count=len(report.problems), file=report.file),
                           style="red bold"))
    if not report.ok:
        sys.exit(1)
    console.print(Text(labels["all_found"].format(total=report.quotes), style="green bold"))
