"""Personal numbers and e-mail addresses are masked in what citizens type, in every written form;
the look-alikes a citizen also types (ages, dates, counts, law references, prices, times) are kept."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.text import valid_sender
from traeningsguide.privacy import mask_personal_numbers, mask_personal_numbers_in


@pytest.mark.parametrize("text,masked", [
    ("min mor 010150-1234 bor i koege", "min mor ######-#### bor i koege"),
    ("0101501234", "##########"),
    ("cpr: 010150 1234.", "cpr: ###### ####."),
    ("ring til mig på 20 30 40 50", "ring til mig på ## ## ## ##"),
    ("kontonummer 1234-5678-9012", "kontonummer ####-####-####"),
    # the forms the issue found stored as typed
    ("170871/4431", "######/####"),
    ("17.08.71-4431", "##.##.##-####"),
    ("170871–4431", "######–####"),  # en dash, what phones autocorrect a hyphen to
    ("170871—4431", "######—####"),  # em dash
    ("170871−4431", "######−####"),  # minus sign
    ("17 08 71 44 31", "## ## ## ## ##"),
    ("1708 71 4431", "#### ## ####"),
    ("170871 - 4431", "###### - ####"),
    ("CPR170871-4431", "CPR######-####"),
    ("cpr.nr.:170871-4431", "cpr.nr.:######-####"),
    ("mit nr er +45 2030 4050", "mit nr er +## #### ####"),
    ("skriv til jens.hansen@example.dk tak", "skriv til ####.######@#######.## tak"),
    ("født 17.08.1971", "født ##.##.####"),  # a date with a four-digit year may be a birth date
    # line breaks, long or exotic spaces, invisible characters, doubled marks, a colon or a glued comma
    ("cpr 170871\n4431", "cpr ######\n####"),
    ("cpr 170871\r\n4431", "cpr ######\r\n####"),
    ("170871    4431", "######    ####"),
    ("170871\u20024431", "######\u2002####"),  # en space
    ("170871\u30004431", "######\u3000####"),  # ideographic space
    ("170871\u200b4431", "######\u200b####"),  # zero-width space (copied from another program)
    ("170871 -- 4431", "###### -- ####"),
    ("170871,4431", "######,####"),
    ("170871:4431", "######:####"),
])
def test_masked(text: str, masked: str) -> None:
    assert mask_personal_numbers(text) == masked


@pytest.mark.parametrize("text", ["jeg er 85 år", "kl. 8-12 og 13-14", "§ 86 stk. 1", "1-2 gange om ugen", "50 kroner",
                                  "1234567", "1. marts", "32 gange", "op til 32 gange", "SUL § 140", "SEL § 86 stk. 2",
                                  "50 kr. pr. dag", "i 2026", "den 1.3.", "kl. 08.00-12.00", "14 dage", "3 mdr.",
                                  "2 udeblivelser", "7 kalenderdage", "jeg har 2 børn på 3 og 5 år",
                                  "kl. 8-12, 13-14", "kl. 8:00-16:30", "1, 2 eller 3 gange", "kl. 08.00 - 12.00",
                                  "uge 12\n\n2 gange"])
def test_look_alikes_are_kept(text: str) -> None:
    assert mask_personal_numbers(text) == text


def test_none_and_empty() -> None:
    assert mask_personal_numbers(None) is None
    assert mask_personal_numbers("") == ""


def test_metadata_is_masked_deeply_and_copied() -> None:
    metadata = {"note": "cpr 170248-3917", "ids": [1702483917, 42], "nested": {"0101501234": ("x 5667 2626",)},
                "flag": True, "score": 0.5, "none": None, "cpr": "170871/4431", "float": 1708714431.0,
                "mail": "a.b@c.dk"}
    masked = mask_personal_numbers_in(metadata)
    assert masked == {"note": "cpr ######-####", "ids": ["##########", 42],
                      "nested": {"##########": ["x #### ####"]}, "flag": True, "score": 0.5, "none": None,
                      "cpr": "######/####", "float": "##########.#", "mail": "#.#@#.##"}
    assert metadata["note"] == "cpr 170248-3917"  # the original is not changed
    assert mask_personal_numbers_in(None) is None


# -- generated forms ---------------------------------------------------------------------------------

SEPARATORS = ["", " ", "-", "\u2013", "\u2014", "\u2212", "/", ".", " - ", " / ", "\u00a0", "  ", "_", "\n", "\r\n",
              "    ", "\u2002", "\u3000", "\u200b", " -- ", ",", ":", "\t"]
PREFIXES = ["", "cpr ", "CPR", "cpr.nr.:", "cpr-nr. ", "personnummer: ", "min mor ", "(", "nr."]
SUFFIXES = ["", ".", ",", " tak", ")", "?", " bor i Køge"]


@st.composite
def cpr_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A CPR number written as people write it, and its ten digits."""
    day, month, year = draw(st.integers(1, 31)), draw(st.integers(1, 12)), draw(st.integers(0, 99))
    serial = draw(st.integers(0, 9999))
    digits = f"{day:02d}{month:02d}{year:02d}{serial:04d}"
    layout = draw(st.sampled_from(["6+4", "2+2+2+4", "2+2+2+2+2", "4+2+4"]))
    sizes = [int(n) for n in layout.split("+")]
    groups, at = [], 0
    for size in sizes:
        groups.append(digits[at:at + size])
        at += size
    seps = [draw(st.sampled_from(SEPARATORS)) for _ in groups[1:]]
    written = groups[0] + "".join(s + g for s, g in zip(seps, groups[1:], strict=True))
    return written, digits


@given(cpr_numbers(), st.sampled_from(PREFIXES), st.sampled_from(SUFFIXES))
@settings(max_examples=400, deadline=None)
def test_every_written_form_of_a_cpr_number_is_masked(cpr: tuple[str, str], prefix: str, suffix: str) -> None:
    written, digits = cpr
    masked = mask_personal_numbers(f"{prefix}{written}{suffix}") or ""
    assert not re.search(r"\d{3}", masked), masked  # no three digits of it are left together
    assert sum(ch.isdigit() for ch in masked) <= sum(ch.isdigit() for ch in prefix + suffix), masked
    assert masked.startswith(prefix.replace("cpr", "cpr")) and masked.endswith(suffix)


@given(st.lists(st.integers(0, 9), min_size=8, max_size=8),
       st.sampled_from(["8", "2+2+2+2", "4+4", "3+2+3", "2+6"]), st.sampled_from(["", " ", "-", " - ", "."]),
       st.sampled_from(["", "+45 ", "0045 ", "+45"]))
@settings(max_examples=300, deadline=None)
def test_every_grouping_of_a_phone_number_is_masked(digits: list[int], layout: str, sep: str, country: str) -> None:
    text = "".join(map(str, digits))
    groups, at = [], 0
    for size in map(int, layout.split("+")):
        groups.append(text[at:at + size])
        at += size
    masked = mask_personal_numbers(f"ring til mig på {country}{sep.join(groups)} i morgen") or ""
    assert not any(ch.isdigit() for ch in masked), masked


@given(st.from_regex(r"[a-z][a-z0-9._-]{0,15}", fullmatch=True), st.from_regex(r"[a-z][a-z0-9-]{1,12}", fullmatch=True),
       st.sampled_from(["dk", "com", "net", "kommune.dk"]))
@settings(max_examples=200, deadline=None)
def test_every_email_address_is_masked(local: str, domain: str, tld: str) -> None:
    address = f"{local}@{domain}.{tld}"
    masked = mask_personal_numbers(f"skriv til {address} tak") or ""
    assert masked.startswith("skriv til ") and masked.endswith(" tak")
    kept = masked[len("skriv til "):-len(" tak")]
    assert re.fullmatch(r"[#@._-]+", kept) and "@" in kept, masked  # no letter or digit of it is left


@given(st.integers(0, 9999999), st.sampled_from(["", " kr.", " år", " gange", ". marts", " dage"]))
@settings(max_examples=300, deadline=None)
def test_numbers_of_up_to_seven_digits_are_kept(number: int, unit: str) -> None:
    text = f"det er {number}{unit} ifølge § 86 stk. 1"
    assert mask_personal_numbers(text) == text


# -- sender ids ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("sender", ["170871-4431", "1708714431", "170871/4431", "17.08.71-4431", "170871–4431",
                                    "cpr170871-4431", "kunde 20304050", "tlf-2030-4050", "20 30 40 50", "+4520304050",
                                    "jens@example.dk"])
def test_a_sender_id_that_holds_a_personal_number_is_refused(sender: str) -> None:
    assert mask_personal_numbers(sender) != sender  # the free-text rule masks it too
    assert valid_sender(sender) is None


@pytest.mark.parametrize("sender", ["3f2b8c1e9a7d4b6c8e0f1a2b3c4d5e6f", "c9f1e2d3-1111-4a5b-9c8d-0123456789ab",
                                    "12345678-1234-4234-9234-123456789012", "default", "agent-7", "user42",
                                    "persistence-load4-19254-10", "privacy-rest-123456"])
def test_ordinary_sender_ids_are_accepted(sender: str) -> None:
    assert valid_sender(sender) == sender


@given(st.uuids())
@settings(max_examples=500, deadline=None)
def test_every_uuid_is_accepted_as_a_sender_id(value: object) -> None:
    assert valid_sender(str(value)) == str(value)
    assert valid_sender(str(value).replace("-", "")) == str(value).replace("-", "")


@given(st.uuids(), st.sampled_from(["conversation-", "bench-", "kiosk-7-", ""]))
@settings(max_examples=500, deadline=None)
def test_a_random_hex_id_with_a_prefix_is_accepted(value: object, prefix: str) -> None:
    """Digits glued to the hex letters are part of the code: never taken for a phone number."""
    sender = prefix + value.hex  # type: ignore[attr-defined]
    assert valid_sender(sender) == sender
