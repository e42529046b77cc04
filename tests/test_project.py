"""Project rules: the rules module is pure Python without Rasa, no Danish prose in Python,
the Danish spaCy pipeline builds and loads, and setup finds Python 3.10 or says what to install."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest
import yaml

from .conftest import PROJECT

PACKAGE = PROJECT / "traeningsguide"


def test_the_rules_module_imports_no_rasa() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            for module in modules:
                assert module.split(".")[0] not in {"rasa", "rasa_sdk"}, f"{path.name} imports {module}"
    code = ("import sys, traeningsguide, traeningsguide.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('rasa')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT, check=True)
    assert out.stdout.strip() == "[]"


def test_no_danish_prose_in_python() -> None:
    """Danish text lives in YAML; a string literal with æ, ø or å in the package is a leak."""
    leaks = []
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if re.search(r"[æøåÆØÅ]", node.value) and path.name != "textnorm.py":
                    leaks.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert leaks == []


def test_config_loads_the_danish_spacy_pipeline() -> None:
    spacy = pytest.importorskip("spacy")
    config = yaml.safe_load((PROJECT / "config.yml").read_text(encoding="utf-8"))
    assert config["language"] == "da"
    spacy_nlp = next(c for c in config["pipeline"] if c["name"] == "SpacyNLP")
    nlp = spacy.load(PROJECT / spacy_nlp["model"])
    assert nlp.lang == "da"
    doc = nlp("Min mor blev udskrevet fra sygehusene, hvad koster kørslen")
    lemmas = {t.text: t.lemma_ for t in doc}
    assert lemmas["udskrevet"] == "udskrive"
    assert lemmas["sygehusene"] == "sygehus"
    assert lemmas["kørslen"] == "kørsel"


def test_the_pinned_rasa_is_installed() -> None:
    code = "import rasa, rasa_sdk, spacy; print(rasa.__version__, rasa_sdk.__version__, spacy.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.split() == ["3.6.21", "3.6.2", "3.4.4"]
    assert sys.version_info[:2] == (3, 10)


def test_pyproject_requires_python_310() -> None:
    text = (PROJECT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'requires-python = ">=3.10,<3.11"' in text
    assert '"rasa[spacy]==3.6.21"' in text


def test_setup_says_what_to_install_when_no_python_310_is_found(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "none")}
    result = subprocess.run(["bash", str(PROJECT / "scripts" / "find_python310.sh")],
                            capture_output=True, text=True, env=env, timeout=60)
    if result.returncode == 0:
        pytest.skip(f"this machine has a system Python 3.10 at {result.stdout.strip()}")
    assert result.returncode == 1
    assert "needs Python 3.10" in result.stderr and "pyenv install 3.10" in result.stderr


def test_setup_finds_python_310_here() -> None:
    result = subprocess.run(["bash", str(PROJECT / "scripts" / "find_python310.sh")],
                            capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert result.returncode == 0
    version = subprocess.run([result.stdout.strip(), "--version"], capture_output=True, text=True).stdout
    assert version.startswith("Python 3.10")


def test_readme_names_only_commands_that_exist() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    makefile = (PROJECT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    for target in re.findall(r"`make ([a-z-]+)", readme):
        assert target in targets, f"README names make {target}, which the Makefile lacks"
    from traeningsguide.cli import main
    for command in re.findall(r"python -m traeningsguide ([a-z][a-z-]*)", readme):
        assert command in main.commands, f"README names the CLI command {command!r}, which does not exist"
