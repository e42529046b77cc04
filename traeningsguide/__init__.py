"""Træningsguide's shared rules module: the sourced knowledge base and the answers built from it.

Pure Python (no Rasa imports), used by the Rasa custom actions, the call-center command line and
the lookup page. Entry points: ``answers.answer``, ``answers.compare``, ``answers.contact_answer``,
``eligibility.eligibility``, ``names.find_municipality``, ``hours.is_open``,
``knowledge.knowledge`` (the validated knowledge base).
"""
