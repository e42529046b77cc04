"""What a citizen typed, made safe before Rasa parses, stores or logs it (no Rasa imports).

``clean_message`` applies, in this order:

1. Unicode clean-up: lone surrogates (valid in JSON as ``"\\ud800"``, but not encodable as UTF-8, so
   spaCy and the tracker store fail on them) become U+FFFD; control characters (NUL breaks
   PostgreSQL text columns) become spaces, except line breaks and tabs; NFC normalisation.
2. A button payload (``/intent{"entity": "value"}``, e.g. the widget's rating with its comment) has its
   JSON written out plainly (``\\u0031`` as ``1``), and every value masked, before Rasa decodes it into
   entities: a CPR number written with JSON escapes would otherwise pass the masking and be stored.
3. Masking of CPR numbers and other long digit runs (``traeningsguide.privacy``), on the WHOLE text,
   so that a number straddling the cut below is masked too, not left half visible.
4. The cut to ``MAX_MESSAGE_CHARS`` (1000) characters, at a word boundary when there is one near.

Why 1000: the longest question in the training data and the held-out set is about 230 characters,
and a citizen's question with its context ("min mor er 84 og kommer hjem fra Køge sygehus ...")
stays well under 1000. The cut bounds the work of every turn (spaCy, the CRF and DIET's transformer,
whose cost grows with the number of tokens), the size of each stored event (tracker store, event
broker) and of each log line, however much a client posts. The citizen is told that only the start
was read (knowledge/texts.yml: channel.too_long).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from traeningsguide.privacy import looks_like_a_personal_id, mask_personal_numbers, mask_personal_numbers_in

MAX_MESSAGE_CHARS = 1000
MAX_SENDER_CHARS = 128  # Rasa's SQL tracker store keeps sender_id in a VARCHAR(255)
# A request body may hold the longest message (MAX_MESSAGE_CHARS characters, up to 4 bytes each in
# UTF-8, more when JSON escapes them as \uXXXX), a sender id and metadata: 16 kB. Larger bodies get 413.
MAX_BODY_BYTES = 16 * 1024
# A random id (a UUID, with or without hyphens) may hold 8 digits in a row by chance; it is not a
# personal number, and the widget makes one for every conversation.
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
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


# Rasa's own pattern for a payload (rasa.shared.core.training_data.story_reader.yaml_story_reader), as
# Rasa applies it: matched at the start, not to the end ("/x{...}\nmore" is read too)
_PAYLOAD = re.compile(r"^(/[^{@]+(?:@[0-9.]+)?)(\{.+\})?")


def _plain_payload(text: str) -> str:
    """A payload's JSON with its escapes written out and every value masked; other text as it is."""
    text = text.strip()  # Rasa strips the text before matching
    match = _PAYLOAD.match(text) if text.startswith("/") else None
    if not match or match.group(2) is None:
        return text
    try:
        values = json.loads(match.group(2))
    except (ValueError, RecursionError):
        return text  # Rasa cannot read it either: the text is masked as it stands
    if not isinstance(values, dict):
        return text
    return match.group(1) + json.dumps(mask_personal_numbers_in(values), ensure_ascii=False) + text[match.end(2):]


def clean_message(text: str | None, limit: int = MAX_MESSAGE_CHARS) -> CleanMessage:
    """The text ready for Rasa: valid Unicode, personal numbers masked, at most ``limit`` characters."""
    masked = mask_personal_numbers(_clean_unicode(_plain_payload(_clean_unicode(text or "")))) or ""
    masked = masked.strip()
    if len(masked) <= limit:
        return CleanMessage(masked, False)
    head = masked[:limit]
    space = head.rfind(" ", limit - _WORD_BOUNDARY_WINDOW)
    if space > 0:
        head = head[:space]
    return CleanMessage(head.rstrip(), True)


def personal_sender(value: object) -> bool:
    """Whether a sender id holds a personal number, a phone number or an e-mail address (a UUID never
    does): such an id is refused, because the tracker store keeps it as the conversation's key."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return isinstance(text, str) and not _UUID.fullmatch(text.strip()) and looks_like_a_personal_id(text)


def valid_sender(value: object) -> str | None:
    """The conversation id if it is usable (a non-blank text of at most MAX_SENDER_CHARS characters
    without control characters or lone surrogates, or an integer, and not holding a personal number:
    ``personal_sender``), else None."""
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
    if personal_sender(value):
        return None
    return value
