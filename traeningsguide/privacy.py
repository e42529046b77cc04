"""Personal numbers out of what citizens type, before anything stores or logs it.

A CPR number (DDMMYY-XXXX, with or without dash or space, or ten digits in a row) and any other
long run of digits (8 or more, with single spaces or dashes between groups) is replaced digit by
digit with '#'. The bot's own answers are never passed through this, so the municipalities' phone
numbers in them stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "#"
# 8+ digits, optionally in groups separated by one space or dash: 0101501234, 010150-1234,
# 010150 1234, 56 67 26 26, 1234-5678-9012
_LONG_DIGITS = re.compile(r"(?<![\d])\d(?:[ \-]?\d){7,}(?![\d])")


def mask_personal_numbers(text: str | None) -> str | None:
    """The text with every CPR-like or long digit sequence masked; None stays None."""
    if text is None:
        return None
    return _LONG_DIGITS.sub(lambda m: re.sub(r"\d", MASK, m.group(0)), text)


def mask_personal_numbers_in(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings, numbers) with every string, key included,
    masked as ``mask_personal_numbers`` does; numbers of 8 or more digits become masked strings."""
    if isinstance(value, str):
        return mask_personal_numbers(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        text = str(value)
        masked = mask_personal_numbers(text)
        return value if masked == text else masked
    if isinstance(value, dict):
        return {mask_personal_numbers_in(k) if isinstance(k, str) else k: mask_personal_numbers_in(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_personal_numbers_in(item) for item in value]
    return value
