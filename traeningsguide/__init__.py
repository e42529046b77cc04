"""Træningsguide's shared rules module: the sourced knowledge base and the answers built from it.

Pure Python (no Rasa imports), used by the Rasa custom actions, the call-center command line and
the lookup page.
"""

from traeningsguide.answers import Answer, GuideInputError, answer, compare, contact_answer
from traeningsguide.eligibility import EligibilityResult, eligibility
from traeningsguide.knowledge import KnowledgeBase, KnowledgeError, knowledge, load_knowledge
from traeningsguide.names import find_municipalities, find_municipality, find_service_kinds

__all__ = [
    "Answer", "EligibilityResult", "GuideInputError", "KnowledgeBase", "KnowledgeError", "answer", "compare",
    "contact_answer", "eligibility", "find_municipalities", "find_municipality", "find_service_kinds",
    "knowledge", "load_knowledge",
]
