"""Rasa's REST channel with personal numbers masked at the door.

The message text is masked (traeningsguide.privacy) before Rasa parses, stores (tracker store) or
logs it, so a CPR number typed into the widget or posted to the REST API is never kept. The URL
stays /webhooks/rest/webhook.
"""

from __future__ import annotations

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from traeningsguide.privacy import mask_personal_numbers


class MaskingRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_message(self, req: Request) -> str | None:
        return mask_personal_numbers(super()._extract_message(req))
