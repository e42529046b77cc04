"""Personal data out of what citizens type, before anything stores or logs it.

One rule, many written forms. Masked, every digit or letter replaced by '#':

* any run of 8 or more digits, whatever separates its groups: nothing, white space (line breaks, every
  Unicode space, the zero-width characters), a hyphen, en or em dash, minus sign, slash, dot, underscore
  or colon, one or two, with spaces around them ("170871 - 4431", "170871 -- 4431"), a glued comma —
  so a CPR number as DDMMYY-XXXX, DDMMYYXXXX, "17.08.71-4431",
  "17 08 71 44 31", "170871/4431", "170871–4431", glued to a prefix ("CPR170871-4431",
  "cpr.nr.:170871-4431"), and a citizen's own phone number (8 digits in any grouping, "+45" too);
* e-mail addresses ("jens.hansen@example.dk").

Kept: shorter numbers ("85 år", "1. marts", "32 gange", "§ 86 stk. 1", "kl. 8-12 og 13-14", "50 kr.",
"1-2 gange", a year "2026"), because a digit run only counts when it has 8 digits, and a time range
("kl. 08.00-12.00"). A date with a four-digit year ("17.08.1971") has 8 digits and is masked: it may be a
birth date.

The bot's own answers are never passed through this, so the municipalities' phone numbers in them
stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "#"
MIN_DIGITS = 8  # a CPR number has 10, a Danish phone number 8; nothing shorter is masked

# what people put between the groups of a number: one or two marks (with spaces around them, or not), a
# comma glued to the digits, or spaces. A space is any white space, line breaks and every Unicode space
# included, and the invisible zero-width characters a copy from another program brings along.
_SPACE = "[\\s\u200b\u200c\u200d\u2060\ufeff]"
_MARK = "[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212/._:]"
_SEP = f"(?:{_SPACE}{{0,8}}{_MARK}{{1,2}}{_SPACE}{{0,8}}|,|{_SPACE}{{1,8}})"
_LONG_DIGITS = re.compile(rf"(?<!\d)\d(?:{_SEP}?\d){{{MIN_DIGITS - 1},}}(?!\d)")
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_WORD_CHAR = re.compile(r"\w", re.UNICODE)


# a time range ("08.00-12.00", "8:00 – 16:30") has 8 digits but says when, not who
_TIME_RANGE = re.compile(rf"\d{{1,2}}[.:]\d{{2}}{_SPACE}*[-\u2013\u2014]{_SPACE}*\d{{1,2}}[.:]\d{{2}}")


def _mask_digits(match: re.Match[str]) -> str:
    if _TIME_RANGE.fullmatch(match.group(0)):
        return match.group(0)
    return re.sub(r"\d", MASK, match.group(0))


def _mask_address(match: re.Match[str]) -> str:
    return _WORD_CHAR.sub(MASK, match.group(0))


def mask_personal_numbers(text: str | None) -> str | None:
    """The text with every personal number, long digit run and e-mail address masked; None stays None."""
    if text is None:
        return None
    return _LONG_DIGITS.sub(_mask_digits, _EMAIL.sub(_mask_address, text))


# how people group the digits of a CPR number and of a phone number (8 digits, or 10 with 45 in front)
_CPR_LAYOUTS = ([10], [6, 4], [2, 2, 2, 4], [2, 2, 2, 2, 2], [4, 2, 4], [2, 2, 6])
_PHONE_LAYOUTS = ([8], [4, 4], [2, 2, 2, 2], [3, 2, 3], [2, 3, 3])
_LABELS = ("cpr", "nr", "tlf", "tel", "mobil", "phone", "personnummer")


def _personal_run(run: str) -> bool:
    groups = [len(g) for g in re.findall(r"\d+", run)]
    digits = re.sub(r"\D", "", run)
    if len(digits) == 10 and groups in _CPR_LAYOUTS and 1 <= int(digits[:2]) <= 31 and 1 <= int(digits[2:4]) <= 12:
        return True
    if len(digits) == 10 and digits.startswith("45") and (groups == [10] or groups[1:] in _PHONE_LAYOUTS):
        return True
    return len(digits) == 8 and groups in _PHONE_LAYOUTS


def looks_like_a_personal_id(text: str) -> bool:
    """Whether an identifier (a sender id) holds a CPR number, a phone number or an e-mail address, in
    the layouts people write them in. Stricter than the masking of free text, which masks every run
    of 8 digits: an id such as "load4-19254-10" is a counter, not a phone number, and digits glued to
    letters are part of a code. A personal number glued to a prefix ("cpr170871-4431") still counts when
    the prefix is one of the usual ones."""
    if _EMAIL.search(text):
        return True
    # digits glued to letters ("a1b2…", a hex id) are part of a code, not a number someone wrote,
    # unless the letters before them are a label for one ("cpr170871-4431", "tlf20304050")
    for m in _LONG_DIGITS.finditer(text):
        before = re.search(r"[^\W\d_]+$", text[: m.start()])
        glued_before = before is not None and not before.group(0).lower().endswith(_LABELS)
        glued_after = m.end() < len(text) and text[m.end()].isalpha()
        if not glued_before and not glued_after and _personal_run(m.group(0)):
            return True
    return False


def mask_personal_numbers_in(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings, numbers) with every string, key included,
    masked as ``mask_personal_numbers`` does; a number holding 8 or more digits becomes a masked string."""
    if isinstance(value, str):
        return mask_personal_numbers(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        text = repr(value) if isinstance(value, float) else str(value)
        if isinstance(value, float) and "e" in text.lower():  # 1.7e+09: the digits of the whole number
            text = f"{value:.0f}"
        masked = mask_personal_numbers(text)
        return value if masked == text else masked
    if isinstance(value, dict):
        return {mask_personal_numbers_in(k) if isinstance(k, str) else k: mask_personal_numbers_in(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_personal_numbers_in(item) for item in value]
    return value
