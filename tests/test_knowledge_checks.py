"""The checks that keep the knowledge review's defect classes out (issue 11), each shown to fail
on a seeded example, on a small made-up municipality (tests/fixtures/testby) beside the real ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from traeningsguide import answers, eligibility
from traeningsguide.knowledge import DERIVED_TOPICS, KnowledgeBase, KnowledgeError, load_knowledge, says

FIXTURE = Path(__file__).parent / "fixtures" / "testby"
FILE = "municipalities/testby.yml"


@pytest.fixture
def testby(kb_copy: Path) -> Path:
    """The project's knowledge base with Testby as its only municipality: its source, and its file with a
    not_stated entry for every topic its facts leave open."""
    for other in (kb_copy / "municipalities").glob("*.yml"):
        other.unlink()
    shutil.copy(FIXTURE / "testby.txt", kb_copy / "sources" / "testby.txt")
    data = yaml.safe_load((FIXTURE / "testby.yml").read_text(encoding="utf-8"))
    topics = yaml.safe_load((kb_copy / "topics.yml").read_text(encoding="utf-8"))["topics"]
    stated = {f["topic"] for f in data["facts"]}
    by_service = {"after_hospital": "center", "maintenance": "visitation"}
    data["not_stated"] = [{"topic": t, "services": [sid], "ask": contact}
                          for t in topics if t not in DERIVED_TOPICS and t not in stated
                          for sid, contact in by_service.items()]
    for fact_topic in stated:  # a topic stated for one service only is silent for the other
        served = {s for f in data["facts"] if f["topic"] == fact_topic
                  for s in (by_service if f["services"] == "all" else f["services"])}
        data["not_stated"] += [{"topic": fact_topic, "services": [sid], "ask": by_service[sid]}
                               for sid in by_service if sid not in served]
    (kb_copy / FILE).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    return kb_copy


def _edit(base: Path, old: str, new: str) -> None:
    path = base / FILE
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in the fixture"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(base: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(base)
    return [p for p in info.value.problems if p.startswith(FILE)]


def _only(base: Path) -> str:
    problems = _problems(base)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_fixture_is_valid_and_names_each_services_own_contact(testby: Path) -> None:
    kb = load_knowledge(testby)
    testby_kb = kb.municipalities["testby"]
    assert [s.id for s in testby_kb.sections] == ["intro", "after", "maint", "general"]
    # the source gives no contact for every service: never one service's contact for the other's
    assert testby_kb.default_contact is None
    assert [c.id for c in testby_kb.main_contacts()] == ["center", "visitation"]
    step = answers.main_contact_step(testby_kb, kb)
    assert "11 22 33 44" in step and "55 66 77 88" in step
    assert "Vedligeholdelsestræning: Ring til Visitationen" in step
    cost = answers.answer("testby", "cost", kb=kb)
    assert "Genoptræningscentret" in cost.next_step.text and "Visitationen" in cost.next_step.text


# -- sections per service ------------------------------------------------------------------------

def test_a_fact_attached_to_a_service_whose_section_does_not_hold_it(testby: Path) -> None:
    _edit(testby, "- topic: response_time\n  services:\n  - after_hospital",
          "- topic: response_time\n  services:\n  - after_hospital\n  - maintenance")
    problems = _problems(testby)
    assert any("facts[1].quote: the quote lies in no section of service 'maintenance' (it is in section after)"
               in p for p in problems), problems


def test_a_general_passage_said_for_one_service_only_is_uncovered_for_the_other(testby: Path) -> None:
    _edit(testby, "- topic: cost\n  services: all", "- topic: cost\n  services:\n  - after_hospital")
    problems = _problems(testby)
    assert any("sections (general): no fact or not_stated entry of service 'maintenance' says: " in p
               and "Træningen er gratis for alle borgere i kommunen." in p for p in problems), problems
    assert not any("service 'after_hospital' says" in p for p in problems), problems


def test_sections_must_begin_once_in_order_and_at_the_start(testby: Path) -> None:
    _edit(testby, "begins: Træning i Testby", "begins: Genoptræning")
    problems = _problems(testby)
    assert any("sections[0].begins: must occur exactly once in testby.txt, found 3 times" in p for p in problems)


def test_a_file_without_sections_is_told_to_declare_them(testby: Path) -> None:
    path = testby / FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["sections"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    assert "declare the parts of the source" in _only(testby)


# -- contacts per service ------------------------------------------------------------------------

def test_a_service_sent_to_the_contact_of_another_service(testby: Path) -> None:
    _edit(testby, "contact: visitation", "contact: center")
    problems = _problems(testby)
    assert any("services[1].contact: contact 'center' is given in section after, not for service 'maintenance'"
               in p for p in problems), problems


def test_a_default_contact_the_source_does_not_give_for_every_service(testby: Path) -> None:
    _edit(testby, "default_contact: none", "default_contact: center")
    assert "default_contact: contact 'center' is given in section after, not for service every service" in _only(testby)


def test_a_not_stated_entry_that_sends_a_service_to_another_services_contact(testby: Path) -> None:
    path = testby / FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(e for e in data["not_stated"] if e["services"] == ["maintenance"])
    entry["ask"] = "center"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    assert "ask: contact 'center' is given in section after, not for service 'maintenance'" in _only(testby)


# -- silent is not no ----------------------------------------------------------------------------

def test_an_exclusion_needs_a_quote_that_excludes(testby: Path) -> None:
    _edit(testby, "result: excluded\n  text: Vedligeholdelsestræning gives ikke, hvis du kan træne selv i et "
                  "motionscenter.\n  quote: Vedligeholdelsestræning gives ikke, hvis du kan træne selv i et "
                  "motionscenter.",
          "result: excluded\n  text: Du kan søge om vedligeholdelsestræning.\n"
          "  quote: Du kan søge om vedligeholdelsestræning")
    assert "eligibility[0].result: 'excluded' needs a quote that excludes" in _only(testby)


def test_a_situation_the_source_does_not_address_is_said_to_be_unaddressed(testby: Path) -> None:
    kb = load_knowledge(testby)
    result = eligibility.eligibility("testby", ["not_hospitalised"], kb)
    assert result.services == () and result.excluded == ()
    assert "siger ikke noget om situationen" in result.text
    assert "passer ingen" not in result.text  # silent is not "no"
    assert "Ring til" in result.next_step.text  # and whom to ask


# -- modality kept -------------------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "problem"), [
    # a right turned into an obligation
    ("har du ret til genoptræning.", "må du tage imod genoptræning.", "drops the quote's 'ret til'"),
    # a hedge dropped
    ("Genoptræningen starter som udgangspunkt inden for 7 dage", "Genoptræningen starter inden for 7 dage",
     "drops the quote's 'som udgangspunkt'"),
    # the municipality's judgement dropped, and a possibility turned into a promise
    ("Kommunen giver den efter en konkret vurdering.", "Kommunen giver den.", "drops the quote's 'vurdering'"),
    ("Træningen er gratis.", "Du får træningen gratis.", "says 'får'"),
    # an absolute added
    ("Træningen er gratis.", "Træningen er altid gratis.", "says 'altid'"),
    # a duty added
    ("Du kan søge om vedligeholdelsestræning.", "Du kan og skal søge om vedligeholdelsestræning.", "says 'skal'"),
])
def test_a_text_keeps_its_quotes_modality(testby: Path, old: str, new: str, problem: str) -> None:
    _edit(testby, old, new)
    message = _only(testby)
    assert ".text: " in message and problem in message, message


def test_every_text_of_the_real_knowledge_base_keeps_its_quotes_modality(kb: KnowledgeBase) -> None:
    """The same rules, read back on every fact, rule and not_stated text of the five municipalities."""
    checked = 0
    for m in kb.municipalities.values():
        pairs = [(f.text, f.quote) for f in m.facts] + [(r.text, r.quote) for r in m.eligibility]
        pairs += [(n.text, n.quote) for n in m.not_stated if n.text and n.quote]
        for text, quote in pairs:
            for rule in kb.wording.keep:
                assert not says(quote, rule.when) or says(text, rule.need), (m.id, rule.name, text)
            for rule in kb.wording.added:
                assert not says(text, rule.when) or says(quote, rule.need), (m.id, rule.name, text)
            checked += 1
    assert checked > 200


def test_says_matches_whole_words_and_prefixes() -> None:
    assert says("Det vurderes, om du kan", ["vurder*"])
    assert not says("Du kandiderer", ["kan"])
    assert says("Træningen gives som udgangspunkt", ["som udgangspunkt"])
    assert not says("Træningen gives", ["som udgangspunkt"])


def test_an_off_topic_subject_that_a_source_speaks_of_is_refused(kb_copy: Path) -> None:
    """language.yml's off_topic subjects get the out-of-scope reply whatever else a message says; a
    source that speaks of one (a rule about training in bad weather, say) would have its answers
    blocked, so the knowledge base is refused until the pattern is narrowed."""
    load_knowledge(kb_copy)  # the real sources name no off-topic subject
    source = kb_copy / "sources" / "koege.txt"
    source.write_text(source.read_text(encoding="utf-8") + "\nVed glat føre og dårligt vejr kan holdtræning aflyses.\n",
                      encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    hits = [p for p in info.value.problems if "off_topic" in p]
    assert len(hits) == 1 and "koege.txt" in hits[0] and "'vejr'" in hits[0], info.value.problems
