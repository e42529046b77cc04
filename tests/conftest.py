"""Shared fixtures: the real knowledge base, and writable copies of it for breaking on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from traeningsguide.knowledge import KNOWLEDGE_DIR, KnowledgeBase, load_knowledge

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE_DIR)


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of knowledge/ to break on purpose."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target
