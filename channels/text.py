"""What a citizen typed, made safe before Rasa parses, stores or logs it (no Rasa imports).

``clean_message`` applies, in this order:

1. Unicode clean-up: lone surrogates (valid in JSON as ``"\\ud800"``, but not encodable as UTF-8, so
   spaCy and the tracker store fail on them) become U+FFFD; control characters (NUL breaks
   PostgreSQL text columns) become spaces, except line breaks and tabs; NFC normalisation.
2. Masking of CPR numbers and other long digit runs (``traeningsguide.privacy``), on the WHOLE text,
   so that a number straddling the cut below is masked too, not left half visible.
3. The cut to ``MAX_MESSAGE_CHARS`` (1000) characters, at a word boundary when there is one near.

Why 1000: the longest question in the training data and the held-out set is about 230 characters,
and a citizen's question with its context ("min mor er 84 og kommer hjem fra Køge sygehus ...")
stays well under 1000. The cut bounds the work of every turn (spaCy, the CRF and DIET's transformer,
whose cost grows with the number of tokens), the size of each stored event (tracker store, event
broker) and of each log line, however much a client posts. The citizen is told that only the start
was read (knowledge/texts.yml: channel.too_long).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from traeningsguide.privacy import mask_personal_numbers

MAX_MESSAGE_CHARS = 1000
MAX_SENDER_CHARS = 128  # Rasa's SQL tracker store keeps sender_id in a VARCHAR(255)
_WORD_BOUNDARY_WINDOW = 40  # cut at the last space within this many characters of the limit

_SURROGATES = re.compile("[\ud800-\udfff]")
# C0 and C1 control characters and DEL, except tab, line feed and carriage return
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class CleanMessage:
    text: str
    cut: bool  # True when the message was longer than MAX_MESSAGE_CHARS and only its start is kept


def _clean_unicode(text: str) -> str:
    text = _SURROGATES.sub("\ufffd", text)
    text = _CONTROL.sub(" ", text)
    return unicodedata.normalize("NFC", text)


def clean_message(text: str | None, limit: int = MAX_MESSAGE_CHARS) -> CleanMessage:
    """The text ready for Rasa: valid Unicode, personal numbers masked, at most ``limit`` characters."""
    masked = mask_personal_numbers(_clean_unicode(text or "")) or ""
    masked = masked.strip()
    if len(masked) <= limit:
        return CleanMessage(masked, False)
    head = masked[:limit]
    space = head.rfind(" ", limit - _WORD_BOUNDARY_WINDOW)
    if space > 0:
        head = head[:space]
    return CleanMessage(head.rstrip(), True)


def valid_sender(value: object) -> str | None:
    """The conversation id if it is usable (a non-blank text of at most MAX_SENDER_CHARS characters
    without control characters or lone surrogates, or an integer), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    if not value.strip() or len(value) > MAX_SENDER_CHARS:
        return None
    if _SURROGATES.search(value) or _CONTROL.search(value) or "\n" in value or "\r" in value or "\t" in value:
        return None
    return value
