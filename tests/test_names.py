"""Municipality and service names as people type them."""

from __future__ import annotations

import re

import pytest

from traeningsguide.knowledge import KnowledgeBase
from traeningsguide.names import find_municipalities, find_municipality, find_service_kinds, municipality, services_for

COVERED = {
    "koege": ["Køge", "Koege", "Koge", "køge", "KØGE", "Køge Kommune", "koege kommune", "Køge kommunes", "Kjøge"],
    "holbaek": ["Holbæk", "holbaek", "Holbak", "Holbæk Kommune", "holbæk kommune"],
    "roedovre": ["Rødovre", "rodovre", "roedovre", "Rødovre Kommune", "rødovre kommune", "RODOVRE"],
    "roskilde": ["Roskilde", "roskilde kommune", "Roskidle", "Roskilde Komune"],
    "hedensted": ["Hedensted", "hedensted kommune", "Hedenstedt", "Hedensteds"],
}


@pytest.mark.parametrize("mid,spelling", [(m, s) for m, spellings in COVERED.items() for s in spellings])
def test_covered_spellings(kb: KnowledgeBase, mid: str, spelling: str) -> None:
    match = find_municipality(spelling, kb)
    assert match is not None and match.covered and match.id == mid


@pytest.mark.parametrize("text,mid", [
    ("min mor bor i Køge og skal have genoptræning", "koege"),
    ("hvad koster kørsel i holbaek?", "holbaek"),
    ("holbæk kørsel pris", "holbaek"),
    ("hedensted tlf", "hedensted"),
    ("Jeg bor i Rødovre Kommune, kan jeg få træning", "roedovre"),
    ("min far er lige blevet udskrevet fra sygehuset i roskilde", "roskilde"),
])
def test_covered_inside_sentences(kb: KnowledgeBase, text: str, mid: str) -> None:
    assert municipality(text, kb) is not None
    assert municipality(text, kb).id == mid  # type: ignore[union-attr]


@pytest.mark.parametrize("text,name", [
    ("Aarhus", "Aarhus"), ("jeg bor i århus", "Aarhus"), ("Odense Kommune", "Odense"), ("kbh", "København"),
    ("København", "København"), ("Høje-Taastrup", "Høje-Taastrup"), ("hvidovre", "Hvidovre"), ("Ærø", "Ærø"),
    ("Lyngby", "Lyngby-Taarbæk"), ("Vejen Kommune", "Vejen"), ("vejen", "Vejen"), ("Bornholm", "Bornholm"),
])
def test_other_danish_municipalities_are_recognised_as_not_covered(kb: KnowledgeBase, text: str, name: str) -> None:
    match = find_municipality(text, kb)
    assert match is not None and not match.covered and match.name == name
    assert municipality(text, kb) is None


def test_the_list_has_all_93_other_municipalities(kb: KnowledgeBase) -> None:
    names = {o.name for o in kb.others}
    assert len(names) == 93
    assert not names & {"Køge", "Holbæk", "Rødovre", "Roskilde", "Hedensted"}


def test_every_other_municipality_resolves_to_itself(kb: KnowledgeBase) -> None:
    for other in kb.others:
        match = find_municipality(f"{other.name} Kommune", kb)
        assert match is not None and match.name == other.name, other.name


@pytest.mark.parametrize("text", [
    "hvordan finder jeg vejen til træningscentret?", "en skive brød", "hvad koster det", "hej", "",
    "   ", "1234567890", "genoptræning efter sygehusophold",
])
def test_ordinary_words_are_not_municipalities(kb: KnowledgeBase, text: str) -> None:
    assert find_municipalities(text, kb) == []


def test_no_word_in_the_sources_is_mistaken_for_a_municipality(kb: KnowledgeBase) -> None:
    allowed = {"Roskilde", "Hedensted", "Holbæk", "Rødovre", "Køge"}
    for source in kb.sources.values():
        for word in set(re.findall(r"[A-Za-zÆØÅæøå-]{3,}", source)):
            for match in find_municipalities(word, kb):
                assert match.name in allowed, (word, match)


def test_two_municipalities_in_order(kb: KnowledgeBase) -> None:
    found = find_municipalities("jeg bor i Aarhus men min mor bor i Køge", kb)
    assert [m.name for m in found] == ["Aarhus", "Køge"]


@pytest.mark.parametrize("text,kinds", [
    ("hun har fået en genoptræningsplan", ["rehab_after_hospital"]),
    ("genoptraeningsplan", ["rehab_after_hospital"]),
    ("efter sygehusophold", ["rehab_after_hospital"]),
    ("min far har ikke været indlagt men er faldet", ["rehab"]),
    ("vedligeholdelsestræning", ["maintenance"]),
    ("vedligeholdelsestraening", ["maintenance"]),
    ("børnetræning", ["children"]),
    ("min søn på 8 år", ["children"]),
    ("jobcenter", ["work_rehab"]),
    ("hvad koster det", []),
])
def test_service_kinds(kb: KnowledgeBase, text: str, kinds: list[str]) -> None:
    assert find_service_kinds(text, kb) == kinds


def test_services_by_kind_per_municipality(kb: KnowledgeBase) -> None:
    assert services_for(kb.municipalities["koege"], "vedligeholdelsestræning", kb) == (("assessed",), ())
    assert services_for(kb.municipalities["hedensted"], "maintenance", kb) == (("maintenance",), ())
    assert services_for(kb.municipalities["holbaek"], "børnetræning", kb) == ((), ("children",))
    assert services_for(kb.municipalities["koege"], "after_hospital", kb) == (("after_hospital",), ())
