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
    """Rasa + the action server as subprocesses in their own process groups.

    ``stop()`` ends both; ``stop_rasa()``/``kill_rasa()``/``start_rasa()`` and ``stop_actions()``/
    ``start_actions()`` end or restart one of them (outages, restarts, SIGKILL) with the same ports
    and the same tracker store. ``extra_env`` adds environment variables (e.g. ``LOG_LEVEL``),
    ``rasa_args`` extra arguments to ``rasa run`` (e.g. ``["--debug"]``), ``endpoints`` another
    endpoints file. Logs go to ``logs/rasa.log`` and ``logs/actions.log`` (appended across restarts).
    """

    def __init__(self, logs: Path, *, extra_env: dict[str, str] | None = None,
                 rasa_args: list[str] | None = None, endpoints: str | Path = "endpoints.yml",
                 tracker_db: Path | None = None) -> None:
        if not MODEL.exists():
            pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does)")
        self.logs = logs
        self.port, self.action_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.webhook = f"{self.url}/webhooks/rest/webhook"
        self.tracker_db = tracker_db or logs / "tracker.db"
        self.env = {**os.environ, "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.action_port}/webhook",
                    "TRACKER_DB": str(self.tracker_db), "TF_CPP_MIN_LOG_LEVEL": "2", **(extra_env or {})}
        self.rasa_args = list(rasa_args or [])
        self.endpoints = str(endpoints)
        self.action_log, self.rasa_log = logs / "actions.log", logs / "rasa.log"
        self.actions: subprocess.Popen[bytes] | None = None
        self.rasa: subprocess.Popen[bytes] | None = None
        self.start_actions()
        self.start_rasa()

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in (self.actions, self.rasa) if p is not None]

    def _spawn(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen([str(RASA), *args], cwd=PROJECT, env=self.env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    def start_actions(self) -> None:
        self.actions = self._spawn(["run", "actions", "--port", str(self.action_port), "--actions", "actions"],
                                   self.action_log)
        _wait(f"http://127.0.0.1:{self.action_port}/health", self.actions, self.action_log)

    def start_rasa(self) -> None:
        self.rasa = self._spawn(["run", "--model", str(MODEL), "--port", str(self.port), "--cors", "*",
                                 "--credentials", "credentials.yml", "--endpoints", self.endpoints,
                                 *self.rasa_args], self.rasa_log)
        _wait(f"{self.url}/", self.rasa, self.rasa_log)

    @staticmethod
    def _end(process: subprocess.Popen[bytes] | None, sig: signal.Signals = signal.SIGTERM) -> None:
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def stop_rasa(self) -> None:
        self._end(self.rasa)

    def kill_rasa(self) -> None:
        """SIGKILL to Rasa's whole process group: no clean shutdown, no flush."""
        self._end(self.rasa, signal.SIGKILL)

    def stop_actions(self) -> None:
        self._end(self.actions)

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stop_rasa()
        self.stop_actions()


@pytest.fixture(scope="session")
def shared_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """A running assistant shared by the conversation tests."""
    with Assistant(tmp_path_factory.mktemp("assistant")) as assistant:
        yield assistant


@pytest.fixture(scope="session")
def server(shared_assistant: Assistant) -> str:
    """Its REST webhook URL."""
    return f"{shared_assistant.url}/webhooks/rest/webhook"


def gives_a_number_of(reply: str, municipality: str) -> bool:
    """Whether a reply gives a phone number that the municipality's source gives one of its units
    (``municipality``: its id or its short name)."""
    from traeningsguide.knowledge import knowledge
    from traeningsguide.textnorm import format_phone

    kb = knowledge()
    m = kb.municipalities.get(municipality) or next(
        m for m in kb.municipalities.values() if m.short_name == municipality)
    return any(format_phone(c.phone) in reply for c in m.contacts.values() if c.phone)
