"""Check a new version of a municipality's source against the quotes that rest on the old one.

When a municipality publishes a new text, every quote of its file must still be found in it
(matched the way loading matches: :func:`normalise_source` on both sides), and every passage of
the new text no quote covers is a to-do for the content owner. Pure: no printing, no exiting.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from traeningsguide.answers import GuideInputError
from traeningsguide.coverage import QuotedItem, coverage, quoted_items
from traeningsguide.knowledge import KNOWLEDGE_DIR, KnowledgeBase, KnowledgeError, load_knowledge
from traeningsguide.textnorm import normalise_source


@dataclass(frozen=True)
class BrokenQuote:
    quote: str
    items: tuple[QuotedItem, ...]  # every item of the file that rests on this quote


@dataclass(frozen=True)
class SourceCheck:
    municipality: str
    file: str  # the municipality file, e.g. "knowledge/municipalities/koege.yml"
    quotes: int  # distinct quotes checked
    broken: tuple[BrokenQuote, ...]  # quotes not found in the new text, in file order
    new_passages: tuple[str, ...]  # passages of the new text no quote covers
    problems: tuple[str, ...] = ()  # what else stops the municipality's file from loading with the new text


    @property
    def ok(self) -> bool:
        return not self.broken and not self.problems


def read_new_text(path: Path, kb: KnowledgeBase) -> str:
    """The text of a file a content owner saved, or a GuideInputError with the Danish reason."""
    texts = kb.texts["check_source"]
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GuideInputError(texts["file_missing"].format(path=path)) from None
    except OSError:
        raise GuideInputError(texts["file_unreadable"].format(path=path)) from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is not part of the text
    except UnicodeDecodeError:
        raise GuideInputError(texts["not_text"].format(path=path)) from None
    if "\x00" in text:
        raise GuideInputError(texts["not_text"].format(path=path))
    if not normalise_source(text):
        raise GuideInputError(texts["empty"].format(path=path))
    return text


def check_source(kb: KnowledgeBase, municipality_id: str, text: str) -> SourceCheck:
    """Which quotes of the municipality ``text`` no longer contains, and what it says that no quote covers."""
    municipality = kb.municipalities[municipality_id]
    new_source = normalise_source(text)
    by_quote: dict[str, list[QuotedItem]] = {}
    for item in quoted_items(municipality):
        by_quote.setdefault(normalise_source(item.quote), []).append(item)
    broken = tuple(BrokenQuote(items[0].quote, tuple(items))
                   for needle, items in by_quote.items() if needle not in new_source)
    return SourceCheck(municipality_id, f"knowledge/municipalities/{municipality_id}.yml", len(by_quote), broken,
                       coverage(kb, municipality_id, text).uncovered, load_problems(municipality.source_file, text))


def load_problems(source_file: str, text: str, base: Path = KNOWLEDGE_DIR) -> tuple[str, ...]:
    """What the loader (every check of `make check`) finds with ``text`` in place of the source, other
    than the quotes ``check_source`` lists itself: e.g. a section start that now occurs twice."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "knowledge"
        shutil.copytree(base, copy)
        (copy / "sources" / source_file).write_text(text, encoding="utf-8")
        try:
            load_knowledge(copy)
        except KnowledgeError as exc:
            return tuple(p for p in exc.problems if ".quote: not found in" not in p)
    return ()
