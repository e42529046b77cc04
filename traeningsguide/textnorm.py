"""Text normalisation shared by quote matching and name resolution.

Pure functions, no Danish prose: this module only transforms text.
"""

from __future__ import annotations

import re
import unicodedata

# A word broken across lines by the PDF export: "færdig-\nheder" -> "færdigheder".
# Only joined when a letter stands before the hyphen and a lower-case letter after the break,
# so a real dash ("ergo- eller") or a bullet is left alone.
_HYPHEN_BREAK_WORD = re.compile(r"(?<=[^\W\d_])-[ \t]*\n\s*(?=[a-zæøåé])")
# A time range broken across lines: "13.00-\n14.00" -> "13.00-14.00".
_HYPHEN_BREAK_DIGIT = re.compile(r"(?<=\d)-[ \t]*\n\s*(?=\d)")
_WHITESPACE = re.compile(r"\s+")

WORD = re.compile(r"[0-9a-zæøåéüöä§]+")  # a word of lower-cased Danish text, for matching
WORD_EDGE_BEFORE, WORD_EDGE_AFTER = r"(?<![\wæøå])", r"(?![\wæøå])"  # a whole phrase, not inside a word
_FOLD_MAP = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u", "ö": "oe", "ä": "ae"})
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Danish number words as they occur in the sources; used to check that a number in a fact's
# text is backed by its quote ("seks hverdage" backs "6 hverdage"). Not "en"/"et": they are
# mostly articles, and counting them as 1 would let any "1" pass.
NUMBER_WORDS: dict[str, int] = {
    "én": 1, "ét": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6,
    "syv": 7, "otte": 8, "ni": 9, "ti": 10, "elleve": 11, "tolv": 12, "fjorten": 14,
}
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
_PHONE = re.compile(r"(?<!\d)(?:\d[ ]?){7}\d(?!\d)")


def normalise_source(text: str) -> str:
    """Normalise a source text or a quote for matching.

    Joins PDF line-break hyphenation and folds every run of white space into one space.
    Nothing else changes: case, punctuation and every letter must match exactly.
    """
    text = unicodedata.normalize("NFC", text)
    text = _HYPHEN_BREAK_WORD.sub("", text)
    text = _HYPHEN_BREAK_DIGIT.sub("-", text)
    return _WHITESPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Fold free text for name matching: lower case, æ/ø/å spelt out, punctuation to spaces."""
    text = unicodedata.normalize("NFC", text).lower().translate(_FOLD_MAP)
    return _NON_WORD.sub(" ", text).strip()


def fold_variants(name: str) -> set[str]:
    """The folded spellings people type for a name with æ/ø/å: "Køge" -> {"koege", "koge"}."""
    lowered = unicodedata.normalize("NFC", name).lower()
    variants = {fold(lowered)}
    plain = lowered.replace("æ", "a").replace("ø", "o").replace("å", "a")
    variants.add(fold(plain))
    variants.add(fold(lowered.replace("æ", "e").replace("ø", "o").replace("å", "a")))
    variants.add(fold(lowered.replace("å", "a")))
    return {v for v in variants if v}


def phone_digits(text: str) -> str:
    """Only the digits of a phone number: "5667 2626" -> "56672626"."""
    return re.sub(r"\D", "", text)


def phones_in(text: str) -> set[str]:
    """Every eight-digit phone-like number in a text, as digits only."""
    return {phone_digits(m.group(0)) for m in _PHONE.finditer(text)}


def numbers_in(text: str, *, words: bool = False) -> set[str]:
    """Numbers in a text, as canonical strings ("8", "1,5"); phone numbers count as one number.

    With ``words`` Danish number words count too ("seks" -> "6").
    """
    found = set(phones_in(text))
    stripped = _PHONE.sub(" ", text)
    for match in _DIGITS.finditer(stripped):
        value = match.group(0).replace(",", ".")
        if "." in value:
            whole, _, frac = value.partition(".")
            found.add(whole.lstrip("0") or "0")
            found.add(frac.lstrip("0") or "0")
        else:
            found.add(value.lstrip("0") or "0")
    if words:
        for token in re.findall(r"[a-zæøåé]+", text.lower()):
            if token in NUMBER_WORDS:
                found.add(str(NUMBER_WORDS[token]))
    return found


# Units that must not change between a quote and its text: "6 hverdage" is not "6 dage", and
# "3 måneder" is not "3 uger". Spelling -> unit class.
UNITS: dict[str, str] = {
    "hverdage": "hverdage", "hverdag": "hverdage", "kalenderdage": "kalenderdage", "dage": "dage", "dag": "dage",
    "uger": "uger", "uge": "uger", "ugers": "uger", "måneder": "måneder", "måned": "måneder", "mdr": "måneder",
    "gange": "gange", "gang": "gange", "træningsgange": "gange", "kroner": "kroner", "kr": "kroner", "år": "år",
    "timer": "timer", "minutter": "minutter", "min": "minutter", "sek": "sekunder", "sekunder": "sekunder",
}
_UNIT_COUNT = re.compile(r"\b(\d+|[a-zæøåé]+)\s+(" + "|".join(sorted(UNITS, key=len, reverse=True)) + r")\b",
                         re.IGNORECASE)


def unit_counts(text: str) -> set[tuple[int, str]]:
    """(number, unit class) for every "N <unit>" in a text ("seks hverdage" -> (6, "hverdage"))."""
    found = set()
    for number, unit in _UNIT_COUNT.findall(text):
        number = number.lower()
        value = int(number) if number.isdigit() else NUMBER_WORDS.get(number)
        if value is not None:
            found.add((value, UNITS[unit.lower()]))
    return found


def format_phone(digits: str) -> str:
    """Danish phone layout in pairs: "56672626" -> "56 67 26 26"."""
    digits = phone_digits(digits)
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


# Loose folding for matching a question against the knowledge base: people type "kørsel",
# "koersel" and "korsel" for the same word, and "genoptraening" for "genoptræning".
_LOOSE_DIGRAPHS = (("aa", "a"), ("ae", "e"), ("oe", "o"))


def loose_letters(text: str) -> str:
    """Lower case with æ/ø/å (and their two-letter spellings) folded to one letter; nothing else
    changes, so it can be applied to a regular expression as well as to text."""
    text = unicodedata.normalize("NFC", text).lower().translate(_FOLD_MAP)
    for digraph, letter in _LOOSE_DIGRAPHS:
        text = text.replace(digraph, letter)
    return text


def loose(text: str) -> str:
    """Loose folding of free text: :func:`loose_letters`, punctuation to spaces, one space between words."""
    return " ".join(_NON_WORD.sub(" ", loose_letters(text)).split())


def any_spelling(phrase: str) -> str:
    """A regular expression for a phrase as people type it, with æ/ø/å or without ("kørt": "kort", "koert")."""
    spellings = {"æ": "(?:æ|ae|e)", "ø": "(?:ø|oe|o)", "å": "(?:å|aa|a)"}
    return r"\s+".join("".join(spellings.get(ch, re.escape(ch)) for ch in word) for word in phrase.lower().split())
