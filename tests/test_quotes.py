"""Every quote is verbatim in its source, and a one-character change is caught."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from traeningsguide.coverage import all_quotes, coverage
from traeningsguide.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from traeningsguide.textnorm import normalise_source

from .conftest import PROJECT

MUNICIPALITIES = ["roskilde", "hedensted", "holbaek", "roedovre", "koege"]


def _quotes(kb: KnowledgeBase, mid: str) -> list[str]:
    return list(all_quotes(kb.municipalities[mid]))


def _mutate(quote: str) -> str:
    """Change one letter in the middle of a quote (a letter, so whitespace folding cannot hide it)."""
    letters = [i for i, ch in enumerate(quote) if ch.isalpha()]
    i = letters[len(letters) // 2]
    replacement = "x" if quote[i].lower() != "x" else "y"
    return quote[:i] + replacement + quote[i + 1 :]


def test_all_five_municipalities_are_loaded(kb: KnowledgeBase) -> None:
    assert sorted(kb.municipalities) == sorted(MUNICIPALITIES)


@pytest.mark.parametrize("mid", MUNICIPALITIES)
def test_every_quote_is_in_its_source(kb: KnowledgeBase, mid: str) -> None:
    source = kb.sources[kb.municipalities[mid].source_file]
    quotes = _quotes(kb, mid)
    assert len(quotes) >= 20
    missing = [q for q in quotes if normalise_source(q) not in source]
    assert missing == []


@pytest.mark.parametrize("mid", MUNICIPALITIES)
def test_changing_one_character_of_any_quote_is_caught(kb: KnowledgeBase, mid: str) -> None:
    source = kb.sources[kb.municipalities[mid].source_file]
    survivors = [q for q in _quotes(kb, mid) if normalise_source(_mutate(q)) in source]
    assert survivors == []


def test_a_mutated_quote_in_a_file_fails_loading_with_file_field_and_source(kb_copy: Path) -> None:
    path = kb_copy / "municipalities" / "koege.yml"
    text = path.read_text(encoding="utf-8")
    assert "quote: Genoptræningen er gratis." in text
    path.write_text(text.replace("quote: Genoptræningen er gratis.", "quote: Genoptræningen er gartis.", 1),
                    encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    message = str(info.value)
    assert "municipalities/koege.yml" in message
    assert ".quote: not found in koege.txt" in message
    assert "gartis" in message


def test_the_project_sources_are_the_shared_ones() -> None:
    shared = PROJECT.parent / "shared" / "sources"
    if not shared.is_dir():
        pytest.skip("../shared/sources is not beside this checkout")
    for path in sorted(shared.glob("*.txt")):
        ours = PROJECT / "knowledge" / "sources" / path.name
        assert ours.read_bytes() == path.read_bytes(), f"{ours} differs from {path}"


@pytest.mark.parametrize("mid", MUNICIPALITIES)
def test_every_passage_of_the_source_is_placed(kb: KnowledgeBase, mid: str) -> None:
    cov = coverage(kb, mid)
    print(f"{mid}: {cov.percent:.1f}% of {cov.letters} letters covered by quotes")
    assert cov.uncovered == ()
    assert cov.percent >= 95.0


class TestNormalisation:
    def test_pdf_hyphenation_is_joined(self) -> None:
        assert normalise_source("styrke dine færdig-\nheder i") == "styrke dine færdigheder i"

    def test_hyphenation_across_blank_lines_is_joined(self) -> None:
        assert normalise_source("psyki-\n\nske funktionsevne") == "psykiske funktionsevne"

    def test_time_range_broken_across_lines_is_joined(self) -> None:
        assert normalise_source("08.00-12.00 og 13.00-\n14.00") == "08.00-12.00 og 13.00-14.00"

    def test_a_real_dash_before_a_word_is_kept(self) -> None:
        assert normalise_source("ergo- eller fysioterapeuten") == "ergo- eller fysioterapeuten"

    def test_a_dash_before_a_capital_on_the_next_line_is_kept(self) -> None:
        assert normalise_source("Køge-\nKommune") == "Køge- Kommune"

    def test_whitespace_is_folded_but_case_and_punctuation_are_not(self) -> None:
        assert normalise_source("  Du  skal\n\tbetale.  ") == "Du skal betale."
        assert normalise_source("Du skal betale.") != normalise_source("du skal betale.")
        assert normalise_source("Du skal betale.") != normalise_source("Du skal betale")

    def test_quotes_match_regardless_of_how_the_source_breaks_lines(self, kb: KnowledgeBase) -> None:
        raw = (PROJECT / "knowledge" / "sources" / "roskilde.txt").read_text(encoding="utf-8")
        assert "færdig-\nheder" in raw
        assert "styrke dine færdigheder i dagligdagen" in kb.sources["roskilde.txt"]
        assert not re.search(r"\s{2,}", kb.sources["roskilde.txt"])
