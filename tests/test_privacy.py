"""CPR numbers and other long digit runs are masked in what citizens type."""

from __future__ import annotations

import pytest

from traeningsguide.privacy import mask_personal_numbers, mask_personal_numbers_in


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


def test_metadata_is_masked_deeply_and_copied() -> None:
    metadata = {"note": "cpr 170248-3917", "ids": [1702483917, 42], "nested": {"0101501234": ("x 5667 2626",)},
                "flag": True, "score": 0.5, "none": None}
    masked = mask_personal_numbers_in(metadata)
    assert masked == {"note": "cpr ######-####", "ids": ["##########", 42],
                      "nested": {"##########": ["x #### ####"]}, "flag": True, "score": 0.5, "none": None}
    assert metadata["note"] == "cpr 170248-3917"  # the original is not changed
    assert mask_personal_numbers_in(None) is None
