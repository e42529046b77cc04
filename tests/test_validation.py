"""A broken or incomplete knowledge file gives one clear error naming file, field and problem."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from traeningsguide.knowledge import KnowledgeError, load_knowledge

from .conftest import PROJECT


def _edit(kb_copy: Path, name: str, old: str, new: str) -> None:
    """Replace the first ``old`` in a knowledge file (``name`` relative to knowledge/)."""
    path = kb_copy / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _break(kb_copy: Path, municipality: str, old: str, new: str) -> None:
    _edit(kb_copy, f"municipalities/{municipality}.yml", old, new)


def _problems(kb_copy: Path) -> str:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    return str(info.value)


def test_the_real_knowledge_base_is_valid() -> None:
    load_knowledge(PROJECT / "knowledge")


def test_invalid_yaml_names_file_and_line(kb_copy: Path) -> None:
    (kb_copy / "municipalities" / "holbaek.yml").write_text("id: holbaek\nname: [unclosed\n", encoding="utf-8")
    message = _problems(kb_copy)
    assert "holbaek.yml" in message and "not valid YAML at line" in message


def test_missing_required_field(kb_copy: Path) -> None:
    _break(kb_copy, "roskilde", "short_name: Roskilde\n", "")
    assert "municipalities/roskilde.yml: short_name: is missing" in _problems(kb_copy)


def test_unknown_topic(kb_copy: Path) -> None:
    _break(kb_copy, "roskilde", "- topic: cost", "- topic: price")
    assert "unknown topic 'price'" in _problems(kb_copy)


def test_unknown_service(kb_copy: Path) -> None:
    _break(kb_copy, "roskilde", "services: [after_hospital]", "services: [after_hospitl]")
    assert "no service with id 'after_hospitl'" in _problems(kb_copy)


def test_a_number_not_backed_by_its_quote(kb_copy: Path) -> None:
    _break(kb_copy, "roskilde", "modtage et svar inden for 6 hverdage", "modtage et svar inden for 5 hverdage")
    message = _problems(kb_copy)
    assert "roskilde.yml: facts[" in message and "number(s) 5 in the text are not in its quote" in message


def test_working_days_turned_into_days(kb_copy: Path) -> None:
    _break(kb_copy, "roskilde", "modtage et svar inden for 6 hverdage", "modtage et svar inden for 6 dage")
    assert "says '6 dage' but the quote says '6 hverdage'" in _problems(kb_copy)


def test_a_phone_number_not_in_the_contact_quote(kb_copy: Path) -> None:
    _break(kb_copy, "hedensted", "79 91 82 50", "79 91 82 51")
    assert "does not appear in the contact's quote" in _problems(kb_copy)


def test_another_municipalitys_phone_in_a_fact_text(kb_copy: Path) -> None:
    _break(kb_copy, "roskilde", "skal du betale for den.", "skal du betale for den. Ring 36 37 70 00.")
    message = _problems(kb_copy)
    assert "phone number(s) 36377000 are not among Roskilde Kommune's contacts" in message


def test_a_topic_neither_stated_nor_marked_not_stated(kb_copy: Path) -> None:
    _break(kb_copy, "roskilde", "  - topic: complaints\n    services: [training]\n    ask: myndighedsservice\n", "")
    message = _problems(kb_copy)
    assert "service 'training' has neither a fact nor a not_stated entry for topic 'complaints'" in message


def test_not_stated_contradicting_a_fact(kb_copy: Path) -> None:
    _break(kb_copy, "roskilde", "  - topic: legal_basis\n    services: [training]\n",
           "  - topic: legal_basis\n    services: [training, after_hospital]\n")
    assert "marked not stated for 'after_hospital', but a fact states it" in _problems(kb_copy)


def test_hours_not_in_their_quote(kb_copy: Path) -> None:
    _break(kb_copy, "hedensted", '"08:00-12:00"', '"09:00-12:00"')
    assert "09.00 is not in the hours quote" in _problems(kb_copy)


def test_a_broken_frame_text(kb_copy: Path) -> None:
    _edit(kb_copy, "texts.yml", 'source: "Kilde: {title}"', 'source: "Kilde: {titel}"')
    assert "texts.yml: answer.source: unknown placeholder(s) {titel}; allowed: {title}" in _problems(kb_copy)


def test_random_damage_never_gives_anything_but_a_knowledge_error(kb_copy: Path) -> None:
    """Delete, duplicate or mangle random lines: loading either works or raises KnowledgeError."""
    rng = random.Random(20261123)
    files = sorted(kb_copy.glob("*.yml")) + sorted((kb_copy / "municipalities").glob("*.yml"))
    originals = {p: p.read_text(encoding="utf-8") for p in files}
    outcomes = {"error": 0, "ok": 0}
    for _ in range(150):
        path = rng.choice(files)
        lines = originals[path].splitlines(keepends=True)
        i = rng.randrange(len(lines))
        action = rng.choice(["delete", "duplicate", "truncate", "indent", "garbage"])
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "truncate":
            lines[i] = lines[i][: len(lines[i]) // 2] + "\n"
        elif action == "indent":
            lines[i] = "   " + lines[i]
        else:
            lines[i] = rng.choice(["- 1\n", "facts: 7\n", ": :\n", "services: {a: b}\n", "\t\n", "[]\n"])
        path.write_text("".join(lines), encoding="utf-8")
        try:
            load_knowledge(kb_copy)
            outcomes["ok"] += 1
        except KnowledgeError as exc:
            outcomes["error"] += 1
            # every problem names the file it is in
            assert all(p.split(":")[0].endswith((".yml", ".txt")) for p in exc.problems), exc.problems
        finally:
            path.write_text(originals[path], encoding="utf-8")
    print(outcomes)
    assert outcomes["error"] > 50


def test_a_missing_source_document(kb_copy: Path) -> None:
    (kb_copy / "sources" / "koege.txt").unlink()
    assert "no such source document: sources/koege.txt" in _problems(kb_copy)


def test_every_problem_is_reported_at_once(kb_copy: Path) -> None:
    _break(kb_copy, "roskilde", "- topic: cost", "- topic: price")
    _break(kb_copy, "koege", "quote: Genoptræningen er gratis.", "quote: Genoptræningen er gartis.")
    message = _problems(kb_copy)
    assert "roskilde.yml" in message and "koege.yml" in message


def test_the_command_line_shows_the_error_without_a_traceback(kb_copy: Path) -> None:
    _break(kb_copy, "koege", "quote: Genoptræningen er gratis.", "quote: Genoptræningen er gartis.")
    result = subprocess.run(
        [sys.executable, "-m", "traeningsguide", "ask", "koege", "cost"],
        capture_output=True, text=True, cwd=PROJECT,
        env={"TRAENINGSGUIDE_KNOWLEDGE": str(kb_copy), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert "koege.yml" in result.stdout and "not found in koege.txt" in result.stdout


def test_opening_hours_moved_to_another_weekday(kb_copy: Path) -> None:
    _edit(kb_copy, "municipalities/hedensted.yml", "friday:", "saturday:")
    assert "hours are given for monday, tuesday, wednesday, thursday, saturday, but the quote names" in \
        _problems(kb_copy)


def test_opening_minutes_are_checked(kb_copy: Path) -> None:
    _edit(kb_copy, "municipalities/hedensted.yml", '"13:00-14:00"', '"13:00-14:45"')
    assert "14.45 is not in the hours quote" in _problems(kb_copy)


def test_months_turned_into_weeks(kb_copy: Path) -> None:
    _edit(kb_copy, "municipalities/koege.yml", "maksimalt 3 måneder", "maksimalt 3 uger")
    assert "says '3 uger' but the quote says '3 måneder'" in _problems(kb_copy)


def test_a_one_that_the_quote_does_not_back(kb_copy: Path) -> None:
    _edit(kb_copy, "municipalities/koege.yml", "Udebliver du fra 2 aftaler", "Udebliver du fra 1 aftale")
    assert "number(s) 1 in the text are not in its quote" in _problems(kb_copy)


def test_a_foreign_phone_number_in_a_contacts_purpose(kb_copy: Path) -> None:
    text = (kb_copy / "municipalities" / "koege.yml").read_text(encoding="utf-8")
    purpose = next(line for line in text.splitlines() if line.strip().startswith("purpose:"))
    _edit(kb_copy, "municipalities/koege.yml", purpose, purpose + " Ring 36 37 70 00.")
    message = _problems(kb_copy)
    assert "36377000 are not among Køge Kommune's contacts" in message


def test_a_malformed_placeholder(kb_copy: Path) -> None:
    _edit(kb_copy, "texts.yml", 'source: "Kilde: {title}"', 'source: "Kilde: {title"')
    assert "texts.yml: answer.source: broken {placeholder}" in _problems(kb_copy)


def test_a_source_that_is_not_utf8(kb_copy: Path) -> None:
    path = kb_copy / "sources" / "holbaek.txt"
    path.write_bytes(path.read_bytes() + "ø".encode("latin-1"))
    assert "sources/holbaek.txt: not UTF-8 text" in _problems(kb_copy)


def test_hours_without_a_phone(kb_copy: Path) -> None:
    """A contact's hours are the times it can be phoned (HED-7): without a phone there are none."""
    _break(kb_copy, "hedensted", "    phone: 79 91 82 50\n", "")
    assert "contacts[0].hours: hours are the times the contact can be phoned" in _problems(kb_copy)
