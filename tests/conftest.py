"""Shared fixtures: the real knowledge base, and writable copies of it for breaking on purpose."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
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


# --------------------------------------------------------------------------------------------
# A running assistant: the trained model behind Rasa's REST channel, with the action server.

MODEL = PROJECT / "models" / "traeningsguide.tar.gz"
RASA = PROJECT / ".venv" / "bin" / "rasa"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not come up in {timeout} s:\n{log.read_text()[-3000:]}")


class Assistant:
    """Rasa + the action server as subprocesses; ``stop()`` ends them (also used to test outages)."""

    def __init__(self, logs: Path) -> None:
        if not MODEL.exists():
            pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does)")
        self.port, action_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tracker_db = logs / "tracker.db"
        env = {**os.environ, "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
               "TRACKER_DB": str(self.tracker_db), "TF_CPP_MIN_LOG_LEVEL": "2"}
        self.processes: list[subprocess.Popen[bytes]] = []
        action_log, rasa_log = logs / "actions.log", logs / "rasa.log"
        with action_log.open("wb") as a_out, rasa_log.open("wb") as r_out:
            self.processes.append(subprocess.Popen(
                [str(RASA), "run", "actions", "--port", str(action_port), "--actions", "actions"],
                cwd=PROJECT, env=env, stdout=a_out, stderr=subprocess.STDOUT, start_new_session=True))
            self.processes.append(subprocess.Popen(
                [str(RASA), "run", "--model", str(MODEL), "--port", str(self.port), "--cors", "*",
                 "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
                cwd=PROJECT, env=env, stdout=r_out, stderr=subprocess.STDOUT, start_new_session=True))
        _wait(f"http://127.0.0.1:{action_port}/health", self.processes[0], action_log)
        _wait(f"{self.url}/", self.processes[1], rasa_log)

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def shared_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """A running assistant shared by the conversation tests."""
    with Assistant(tmp_path_factory.mktemp("assistant")) as assistant:
        yield assistant


@pytest.fixture(scope="session")
def server(shared_assistant: Assistant) -> str:
    """Its REST webhook URL."""
    return f"{shared_assistant.url}/webhooks/rest/webhook"
