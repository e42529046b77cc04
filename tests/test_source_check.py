"""`check-source`: a new version of a municipality's text checked against the quotes of its file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from traeningsguide.cli import main
from traeningsguide.knowledge import KnowledgeBase
from traeningsguide.source_check import check_source

from .conftest import PROJECT

SOURCES = PROJECT / "knowledge" / "sources"
PRICE_QUOTE = ("Du skal selv betale for kørsel. Kørsel til og fra træning koster 50 kroner pr. dag, du er til "
               "træning. Du vil modtage en regning for kørslen én gang om måneden.")
PHONE_QUOTE = "Du kan kontakte Visitation, Køge Kommune, Tlf.: 5667 2626"
NEW_PARAGRAPH = ("Fra 1. januar 2027 kan du også træne på hold i varmtvandsbassinet på Holbæk Sportsby. "
                 "Holdene er for borgere med gigt eller nedsat bevægelighed og ledes af en fysioterapeut.")


def _run(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "220"}).invoke(main, ["check-source", *args])


def _flat(output: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(output.split())


def _copy(tmp_path: Path, mid: str) -> Path:
    target = tmp_path / "ny-tekst.txt"
    shutil.copy(SOURCES / f"{mid}.txt", target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should be in {path.name} once"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("mid", ["roskilde", "hedensted", "holbaek", "roedovre", "koege"])
def test_the_stored_source_breaks_no_quote_and_adds_no_passage(kb: KnowledgeBase, mid: str) -> None:
    report = check_source(kb, mid, (SOURCES / f"{mid}.txt").read_text(encoding="utf-8"))
    assert report.ok and report.broken == () and report.new_passages == ()
    assert report.quotes >= 20


def test_an_unchanged_copy_exits_0(tmp_path: Path) -> None:
    result = _run("koege", str(_copy(tmp_path, "koege")))
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert re.search(r"Alle \d+ citater findes i den nye tekst\.", out)
    assert "findes ikke længere" not in out and "intet citat dækker" not in out


def test_windows_line_ends_and_a_byte_order_mark_change_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ny-tekst.txt"
    text = (SOURCES / "koege.txt").read_text(encoding="utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    result = _run("Køge", str(path))
    assert result.exit_code == 0, result.output
    assert "Alle" in result.output


def test_a_changed_price_breaks_the_quote_and_names_the_facts_on_it(tmp_path: Path) -> None:
    path = _copy(tmp_path, "holbaek")
    _edit(path, "koster 50 kroner", "koster 60 kroner")
    result = _run("holbaek", str(path))
    assert result.exit_code == 1, result.output
    out = _flat(result.output)
    assert f"» {PRICE_QUOTE}" in out
    assert re.search(r"knowledge/municipalities/holbaek\.yml: facts\[\d+\] \(cost\): Du skal selv betale", out)
    assert re.search(r"knowledge/municipalities/holbaek\.yml: facts\[\d+\] \(transport\)", out)
    assert re.search(r"1 af \d+ citater findes ikke længere i den nye tekst", out)
    # the changed sentence is what the new text now says that no quote covers
    assert "koster 60 kroner pr. dag" in out
    assert "Traceback" not in out


def test_a_changed_phone_number_breaks_the_contact(tmp_path: Path) -> None:
    path = _copy(tmp_path, "koege")
    _edit(path, "Tlf.: 5667 2626", "Tlf.: 5667 2700")
    result = _run("koege", str(path))
    assert result.exit_code == 1, result.output
    out = _flat(result.output)
    assert f"» {PHONE_QUOTE}" in out
    assert re.search(r"knowledge/municipalities/koege\.yml: contacts\[\d+\] \(visitation\): Visitation, Køge Kommune",
                     out)
    assert "findes ikke længere i den nye tekst" in out


def test_a_new_paragraph_is_listed_as_a_new_passage_and_stops_like_make_check(tmp_path: Path) -> None:
    path = _copy(tmp_path, "holbaek")
    path.write_text(path.read_text(encoding="utf-8") + "\n" + NEW_PARAGRAPH + "\n", encoding="utf-8")
    result = _run("Holbæk Kommune", str(path))
    assert result.exit_code == 1, result.output  # the loader requires every passage of a section to be said
    out = _flat(result.output)
    assert "Passager i den nye tekst, som intet citat dækker" in out
    assert f"- {NEW_PARAGRAPH}" in out
    assert "1 passage(r) i den nye tekst er ikke dækket af noget citat." in out
    assert re.search(r"Alle \d+ citater findes i den nye tekst\.", out) is None
    assert "kan knowledge/municipalities/holbaek.yml ikke indlæses" in out and "Fra 1. januar 2027" in out


def test_a_section_start_that_now_occurs_twice_breaks_loading(tmp_path: Path) -> None:
    import yaml

    from traeningsguide.knowledge import KNOWLEDGE_DIR

    begins = yaml.safe_load((KNOWLEDGE_DIR / "municipalities" / "holbaek.yml").read_text(encoding="utf-8"))[
        "sections"][1]["begins"]
    path = _copy(tmp_path, "holbaek")
    path.write_text(path.read_text(encoding="utf-8") + f"\n{begins}\n", encoding="utf-8")  # a second heading
    result = _run("holbaek", str(path))
    assert result.exit_code == 1, result.output
    assert "sections[1].begins: must occur exactly once" in _flat(result.output)


def _bad(tmp_path: Path, *args: str) -> str:
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not an uncaught error
    assert "Traceback" not in result.output
    assert result.output.startswith("Fejl:")
    return _flat(result.output)


def test_an_unknown_municipality_exits_2_in_danish(tmp_path: Path) -> None:
    path = str(_copy(tmp_path, "koege"))
    assert "Aarhus Kommune er ikke med" in _bad(tmp_path, "aarhus", path)
    assert 'Jeg kender ikke kommunen "xyzzy"' in _bad(tmp_path, "xyzzy", path)


def test_a_missing_file_exits_2_in_danish(tmp_path: Path) -> None:
    missing = tmp_path / "findes-ikke.txt"
    assert f"Filen {missing} findes ikke." in _bad(tmp_path, "koege", str(missing))
    assert "kan ikke læses" in _bad(tmp_path, "koege", str(tmp_path))  # a folder


def test_an_empty_file_exits_2_in_danish(tmp_path: Path) -> None:
    for content in (b"", b"  \n\r\n\t\n"):
        path = tmp_path / "tom.txt"
        path.write_bytes(content)
        assert f"Filen {path} er tom." in _bad(tmp_path, "koege", str(path))


def test_a_binary_or_non_utf8_file_exits_2_in_danish(tmp_path: Path) -> None:
    binary = tmp_path / "side.pdf"
    binary.write_bytes(b"%PDF-1.7\n\x00\x01\x02\xff\xfe binary \x00")
    assert f"Filen {binary} er ikke tekst i UTF-8." in _bad(tmp_path, "koege", str(binary))
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"Genoptr\x00ning")  # valid UTF-8, but not text
    assert "er ikke tekst i UTF-8" in _bad(tmp_path, "koege", str(nul))
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes((SOURCES / "koege.txt").read_text(encoding="utf-8").encode("latin-1", errors="replace"))
    assert "er ikke tekst i UTF-8" in _bad(tmp_path, "koege", str(latin1))


def test_the_readme_walks_a_content_owner_through_check_source() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert "check-source" in main.commands
    assert "Når kommunen opdaterer sin side" in readme
    assert "python -m traeningsguide check-source koege ny-tekst.txt" in readme
