"""The call-center command line answers for all five municipalities."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from traeningsguide.cli import main

from .conftest import PROJECT


def _run(*args: str) -> str:
    result = CliRunner(env={"COLUMNS": "220"}).invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("mid,name", [("roskilde", "Roskilde"), ("hedensted", "Hedensted"), ("holbaek", "Holbæk"),
                                      ("roedovre", "Rødovre"), ("koege", "Køge")])
def test_ask_each_municipality(mid: str, name: str) -> None:
    out = _run("ask", mid, "transport")
    assert f"{name} Kommune · Kørsel" in out
    assert "Kilde:" in out and "Næste skridt:" in out
    assert "»" in out  # the source quote under the answer


def test_ask_shows_each_service_and_its_quote() -> None:
    out = _run("ask", "koege", "transport")
    assert "Genoptræning efter sygehusophold" in out
    assert "befordre dig til genoptræning" in out  # verbatim quote
    assert "Har du fået en genoptræningsplan fra sygehuset?" in out


def test_compare() -> None:
    out = _run("compare", "cost")
    for name in ("Roskilde", "Hedensted", "Holbæk", "Rødovre", "Køge"):
        assert name in out
    assert "50 kroner" in out


def test_eligibility() -> None:
    out = _run("eligibility", "hedensted", "--discharged-with-plan")
    assert "Genoptræning efter sygehusindlæggelse" in out and "Kan passe" in out


def test_contacts_open_now() -> None:
    out = _run("contacts", "hedensted", "--at", "2026-11-23T09:30")
    assert "79 91 82 50" in out and "Telefonen er åben nu" in out
    out = _run("contacts", "hedensted", "--at", "2026-11-28T09:30")
    assert "Telefonen er lukket nu. Åbner mandag kl. 08.00" in out


def test_check_prints_counts_and_coverage() -> None:
    out = _run("check")
    assert "Vidensbasen er gyldig." in out and "%" in out


def test_bad_input_gives_a_danish_message_and_exit_2() -> None:
    result = CliRunner(env={"COLUMNS": "220"}).invoke(main, ["ask", "aarhus", "cost"])
    assert result.exit_code == 2
    assert "Aarhus Kommune er ikke med" in result.output
    assert "Traceback" not in result.output


def test_module_entry_point_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "traeningsguide", "ask", "holbaek", "pris"],
                            capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Holbæk Kommune" in result.stdout
