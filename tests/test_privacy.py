"""CPR numbers and other long digit runs are masked in what citizens type."""

from __future__ import annotations

import pytest

from traeningsguide.privacy import mask_personal_numbers


@pytest.mark.parametrize("text,masked", [
    ("min mor 010150-1234 bor i koege", "min mor ######-#### bor i koege"),
    ("0101501234", "##########"),
    ("cpr: 010150 1234.", "cpr: ###### ####."),
    ("ring til mig på 20 30 40 50", "ring til mig på ## ## ## ##"),
    ("kontonummer 1234-5678-9012", "kontonummer ####-####-####"),
])
def test_masked(text: str, masked: str) -> None:
    assert mask_personal_numbers(text) == masked


@pytest.mark.parametrize("text", ["jeg er 85 år", "kl. 8-12 og 13-14", "§ 86 stk. 1", "1-2 gange om ugen", "50 kroner",
                                  "1234567"])
def test_short_numbers_are_kept(text: str) -> None:
    assert mask_personal_numbers(text) == text


def test_none_and_empty() -> None:
    assert mask_personal_numbers(None) is None
    assert mask_personal_numbers("") == ""
