"""The channels' own replies, all from knowledge/texts.yml (section ``channel``) and the rules module.

No Rasa imports: these are plain functions over the knowledge base, unit-tested directly.
"""

from __future__ import annotations

from channels.text import MAX_BODY_BYTES, MAX_MESSAGE_CHARS, MAX_SENDER_CHARS
from traeningsguide import answers
from traeningsguide.knowledge import KnowledgeBase, Municipality, knowledge


def _texts(kb: KnowledgeBase | None) -> dict[str, str]:
    return (kb or knowledge()).texts["channel"]


def _main_step(municipality: Municipality, kb: KnowledgeBase) -> str:
    """The municipality's main contact as a next step (name, phone and hours where stated)."""
    return answers.main_contact_step(municipality, kb)


def outage_messages(kommune: str | None, kb: KnowledgeBase | None = None) -> list[str]:
    """What to say when the conversation could not answer (action server down, erroring or too slow):
    an apology, and whom to contact instead: the conversation's municipality if it is known, else the
    main contact of every municipality the guide covers."""
    kb = kb or knowledge()
    texts = kb.texts["channel"]
    municipality = kb.municipalities.get(kommune) if kommune else None
    if municipality is not None:
        contact = kb.texts["dialogue"]["contact_hint"].format(step=_main_step(municipality, kb))
    else:
        items = [texts["outage_contact_item"].format(name=m.short_name, step=_main_step(m, kb))
                 for m in sorted(kb.municipalities.values(), key=lambda m: m.short_name)]
        contact = "\n".join([texts["outage_contacts"], *(f"• {item}" for item in items)])
    return [texts["outage"], contact]


def empty_message(kb: KnowledgeBase | None = None) -> str:
    return _texts(kb)["empty"]


def too_long_note(kb: KnowledgeBase | None = None, limit: int = MAX_MESSAGE_CHARS) -> str:
    return _texts(kb)["too_long"].format(limit=limit)


# REST API errors (HTTP 4xx): the key in texts.yml and its placeholders
ERROR_KEYS = ("error_json", "error_content_type", "error_sender", "error_message", "error_metadata",
              "error_sender_personal", "error_too_large", "error_forget")


def request_error(key: str, kb: KnowledgeBase | None = None) -> str:
    if key not in ERROR_KEYS:
        raise KeyError(key)
    if key == "error_sender":
        return _texts(kb)[key].format(limit=MAX_SENDER_CHARS)
    if key == "error_too_large":
        return _texts(kb)[key].format(limit=MAX_BODY_BYTES // 1024)
    return _texts(kb)[key]
