"""make bench: Træningsguide against a stock `rasa init` assistant, measured in one run.

For each assistant: training time, model size, cold start (process start -> first successful
REST reply), turn latency p50/p95/p99 and sustained turns/s at 1 and at 8 concurrent clients
(closed loop: each client sends its next turn when the previous reply arrives), errors, and peak
RSS (VmHWM) of the Rasa server and of the action server, and one conversation of 300 turns (its median
turn per block of ten: does a turn cost more the longer the conversation? issue 14). Both assistants
get the same multi-turn
conversations: the user turns of tests/test_stories.yml. The two run one after the other, never
at the same time, so they do not share the CPU.

The table is printed and appended (never overwritten) to bench/results.md with the date, the
commit and the machine's core count.

    .venv/bin/python scripts/bench.py                 # everything (~6 min on 2 cores)
    .venv/bin/python scripts/bench.py --no-train      # reuse models/traeningsguide.tar.gz
    .venv/bin/python scripts/bench.py --only project  # skip the stock assistant
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import nlu_report
import yaml

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = PROJECT / ".venv" / "bin"
RASA = str(VENV_BIN / "rasa")
RESULTS = PROJECT / "bench" / "results.md"
STORIES = PROJECT / "tests" / "test_stories.yml"
WARMUP_TURNS = 20

# targets from issue 5 (2-core machine)
TARGET_P50_RATIO = 0.5
TARGET_P99_MS_8 = 150.0
TARGET_TPS_8 = 40.0
TARGET_COLD_S = 20.0
TARGET_RSS_MB = 1024.0
TARGET_TRAIN_S = 180.0
LONG_TURNS = 300  # one conversation this long (issue 14): the median turn per block of ten turns
LONG_BLOCKS = (0, 50, 100, 200, 290)  # first turn of each block (0-based)
TARGET_LONG_RATIO = 1.5  # the median turn at turns 291-300 within this of turns 1-10


# ---------------------------------------------------------------------------------------------
# conversations


def conversations(path: Path = STORIES) -> list[list[str]]:
    """The user turns of every test story, entity annotations removed."""
    stories = yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]
    result = []
    for story in stories:
        turns = [nlu_report.strip_annotations(step["user"]) for step in story["steps"] if "user" in step]
        if turns:
            result.append(turns)
    return result


# ---------------------------------------------------------------------------------------------
# processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (Sanic workers are children of the main process)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _status_kb(pid: int, field_name: str, file: str = "status") -> int:
    try:
        match = re.search(rf"^{field_name}:\s+(\d+) kB", Path(f"/proc/{pid}/{file}").read_text(), re.M)
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


def peak_rss_mb(pid: int) -> float:
    """The largest peak resident set size (VmHWM) of any process in the tree, in MB."""
    return max(_status_kb(p, "VmHWM") for p in process_tree(pid)) / 1024


def tree_pss_mb(pid: int) -> float:
    """Memory of the whole tree now, shared pages divided among the processes (PSS), in MB."""
    return sum(_status_kb(p, "Pss", "smaps_rollup") for p in process_tree(pid)) / 1024


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


def spawn(name: str, args: list[str], cwd: Path, env: dict[str, str], log: Path) -> Process:
    with log.open("wb") as out:
        popen = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    return Process(name, popen, log)


def timed_run(args: list[str], cwd: Path, log: Path, env: dict[str, str]) -> float:
    start = time.monotonic()
    with log.open("wb") as out:
        result = subprocess.run(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({result.returncode}); see {log}:\n{log.read_text()[-3000:]}")
    return time.monotonic() - start


# ---------------------------------------------------------------------------------------------
# load


@dataclass
class LoadResult:
    clients: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    empty: int = 0
    wall_s: float = 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]

    @property
    def tps(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else float("nan")


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> tuple[int, list | None]:
    async with session.post(url, json={"sender": sender, "message": text}) as response:
        body = await response.json(content_type=None) if response.status == 200 else None
        return response.status, body


async def drive(url: str, convs: list[list[str]], clients: int, turns: int, tag: str) -> LoadResult:
    """`clients` closed-loop clients share `turns` turns; each walks through whole conversations
    (a new sender id per conversation, so every conversation starts fresh)."""
    result = LoadResult(clients)
    budget = iter(range(turns))
    timeout = aiohttp.ClientTimeout(total=60)

    async def client(number: int) -> None:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            conversation_index = number
            while True:
                turns_of_conversation = convs[conversation_index % len(convs)]
                sender = f"bench-{tag}-{clients}-{number}-{conversation_index}"
                for text in turns_of_conversation:
                    if next(budget, None) is None:
                        return
                    start = time.perf_counter()
                    try:
                        status, body = await send(session, url, sender, text)
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        result.errors += 1
                        continue
                    elapsed = (time.perf_counter() - start) * 1000
                    if status != 200:
                        result.errors += 1
                        continue
                    result.latencies_ms.append(elapsed)
                    if not body:
                        result.empty += 1
                conversation_index += clients

    start = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    result.wall_s = time.perf_counter() - start
    return result


async def long_conversation(url: str, convs: list[list[str]], turns: int, tag: str) -> list[float]:
    """One sender, ``turns`` turns (the stories' user turns, one after the other, round and round):
    each turn's latency in ms, in order."""
    texts = [t for conv in convs for t in conv]
    latencies: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for i in range(turns):
            start = time.perf_counter()
            status, _ = await send(session, url, f"bench-long-{tag}", texts[i % len(texts)])
            if status != 200:
                raise RuntimeError(f"turn {i + 1} of the long conversation: HTTP {status}")
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def block_medians(latencies: list[float]) -> dict[int, float]:
    """The median turn of each block of ten (keyed by the block's first turn, 1-based)."""
    return {start + 1: statistics.median(latencies[start:start + 10]) for start in LONG_BLOCKS
            if start + 10 <= len(latencies)}


async def first_reply(url: str, deadline_s: float = 300) -> None:
    end = time.monotonic() + deadline_s
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while time.monotonic() < end:
            try:
                status, body = await send(session, url, "bench-cold-start", "hej")
                if status == 200 and body:
                    return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError(f"no reply from {url} in {deadline_s} s")


# ---------------------------------------------------------------------------------------------
# one assistant


@dataclass
class Measured:
    name: str
    train_s: float | None
    model_mb: float
    cold_start_s: float = 0.0
    rasa_rss_mb: float = 0.0
    rasa_pss_mb: float = 0.0
    rasa_processes: int = 1
    action_rss_mb: float | None = None
    loads: dict[int, LoadResult] = field(default_factory=dict)
    long: dict[int, float] = field(default_factory=dict)  # block's first turn -> median turn (ms)


def measure(name: str, cwd: Path, model: Path, endpoints: Path | None, with_actions: bool,
            convs: list[list[str]], clients_list: list[int], turns: int, work: Path,
            train_s: float | None, extra_env: dict[str, str]) -> Measured:
    measured = Measured(name, train_s, model.stat().st_size / 1e6)
    port = free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **extra_env}
    processes: list[Process] = []
    try:
        start = time.monotonic()
        action: Process | None = None
        if with_actions:
            action_port = free_port()
            env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{action_port}/webhook"
            action = spawn("actions", [RASA, "run", "actions", "--port", str(action_port), "--actions", "actions"],
                           cwd, env, work / f"{name}-actions.log")
            processes.append(action)
        args = [RASA, "run", "--model", str(model), "--port", str(port)]
        if endpoints is not None:
            args += ["--endpoints", str(endpoints)]
        rasa = spawn("rasa", args, cwd, env, work / f"{name}-rasa.log")
        processes.append(rasa)
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        try:
            asyncio.run(first_reply(url))
        except TimeoutError as error:
            sys.exit(f"{name}: {error}; log: {rasa.log.read_text()[-3000:]}")
        measured.cold_start_s = time.monotonic() - start
        asyncio.run(drive(url, convs, 1, WARMUP_TURNS, f"{name}-warmup"))
        for clients in clients_list:
            measured.loads[clients] = asyncio.run(drive(url, convs, clients, turns, name))
            load = measured.loads[clients]
            print(f"  {name}: {clients} client(s): {len(load.latencies_ms)} turns in {load.wall_s:.1f} s, "
                  f"p50 {load.pct(50):.0f} ms, p99 {load.pct(99):.0f} ms, errors {load.errors}", flush=True)
        measured.long = block_medians(asyncio.run(long_conversation(url, convs, LONG_TURNS, name)))
        print(f"  {name}: one conversation of {LONG_TURNS} turns, median turn per block: "
              + ", ".join(f"{b}-{b + 9}: {v:.0f} ms" for b, v in measured.long.items()), flush=True)
        measured.rasa_rss_mb = peak_rss_mb(rasa.popen.pid)
        measured.rasa_pss_mb = tree_pss_mb(rasa.popen.pid)
        measured.rasa_processes = len(process_tree(rasa.popen.pid))
        if action is not None:
            measured.action_rss_mb = peak_rss_mb(action.popen.pid)
    finally:
        for process in reversed(processes):
            process.stop()
    return measured


# ---------------------------------------------------------------------------------------------
# report


def fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:.{digits}f}{unit}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not b or a != a or b != b:
        return "–"
    return f"{a / b:.2f}"


def _rows(m: Measured, clients_list: list[int]) -> dict[str, tuple[float | None, int]]:
    rows: dict[str, tuple[float | None, int]] = {
        "training time (s)": (m.train_s, 0),
        "model size on disk (MB)": (m.model_mb, 1),
        "cold start: process start -> first reply (s)": (m.cold_start_s, 1),
        "Rasa server processes": (m.rasa_processes, 0),
        "peak RSS, largest Rasa server process (MB)": (m.rasa_rss_mb, 0),
        "memory of all Rasa server processes at the end, PSS (MB)": (m.rasa_pss_mb, 0),
        "peak RSS, action server (MB)": (m.action_rss_mb, 0),
    }
    for clients in clients_list:
        load = m.loads.get(clients)
        label = f"{clients} client{'s' if clients > 1 else ''}"
        for q in (50, 95, 99):
            rows[f"{label}: latency p{q} (ms)"] = (load.pct(q) if load else None, 0)
        rows[f"{label}: turns/s"] = (load.tps if load else None, 1)
        rows[f"{label}: turns measured"] = (len(load.latencies_ms) if load else None, 0)
        rows[f"{label}: errors (HTTP/connection)"] = (load.errors if load else None, 0)
        rows[f"{label}: empty replies"] = (load.empty if load else None, 0)
    for block in (b + 1 for b in LONG_BLOCKS):
        rows[f"one conversation: median turn at turns {block}-{block + 9} (ms)"] = (m.long.get(block), 0)
    first, last = m.long.get(LONG_BLOCKS[0] + 1), m.long.get(LONG_BLOCKS[-1] + 1)
    rows[f"one conversation: turns {LONG_BLOCKS[-1] + 1}-{LONG_BLOCKS[-1] + 10} / turns 1-10"] = (
        last / first if first and last else None, 2)
    return rows


def table(projects: list[Measured], stock: Measured | None, clients_list: list[int]) -> list[str]:
    tables = [_rows(m, clients_list) for m in projects]
    stock_rows = _rows(stock, clients_list) if stock else None
    header = "| measure | " + " | ".join(m.name for m in projects) + " | stock `rasa init` | " \
        + " | ".join(f"{m.name} / stock" for m in projects) + " |"
    lines = [header, "|---|" + "---:|" * (2 * len(projects) + 1)]
    for label in tables[0]:
        cells = [fmt(t[label][0], t[label][1]) for t in tables]
        stock_value = stock_rows[label][0] if stock_rows else None
        cells.append(fmt(stock_value, tables[0][label][1]))
        cells += [ratio(t[label][0], stock_value) for t in tables]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def targets(project: Measured, stock: Measured | None) -> list[str]:
    eight = project.loads.get(8)
    one = project.loads.get(1)
    checks: list[tuple[str, bool | None, str]] = []
    if stock is not None and one is not None and 1 in stock.loads:
        r = one.pct(50) / stock.loads[1].pct(50)
        checks.append((f"p50 at 1 client <= {TARGET_P50_RATIO} x stock", r <= TARGET_P50_RATIO, f"{r:.2f} x"))
    if stock is not None and eight is not None and 8 in stock.loads:
        r = eight.pct(50) / stock.loads[8].pct(50)
        checks.append((f"p50 at 8 clients <= {TARGET_P50_RATIO} x stock", r <= TARGET_P50_RATIO, f"{r:.2f} x"))
    if eight is not None:
        checks.append((f"p99 at 8 clients <= {TARGET_P99_MS_8:.0f} ms", eight.pct(99) <= TARGET_P99_MS_8,
                       f"{eight.pct(99):.0f} ms"))
        ok = eight.tps >= TARGET_TPS_8 and eight.errors == 0 and eight.empty == 0
        checks.append((f">= {TARGET_TPS_8:.0f} turns/s at 8 clients, 0 errors", ok,
                       f"{eight.tps:.1f} turns/s, {eight.errors} errors, {eight.empty} empty"))
    first, last = project.long.get(LONG_BLOCKS[0] + 1), project.long.get(LONG_BLOCKS[-1] + 1)
    if first and last:
        checks.append((f"one conversation: turns {LONG_BLOCKS[-1] + 1}-{LONG_BLOCKS[-1] + 10} <= "
                       f"{TARGET_LONG_RATIO} x turns 1-10 (median turn)", last / first <= TARGET_LONG_RATIO,
                       f"{last / first:.2f} x ({first:.0f} -> {last:.0f} ms)"))
    checks.append((f"cold start <= {TARGET_COLD_S:.0f} s", project.cold_start_s <= TARGET_COLD_S,
                   f"{project.cold_start_s:.1f} s"))
    checks.append((f"Rasa server RSS <= {TARGET_RSS_MB:.0f} MB (largest process; all processes PSS)",
                   max(project.rasa_rss_mb, project.rasa_pss_mb) <= TARGET_RSS_MB,
                   f"{project.rasa_rss_mb:.0f} MB; {project.rasa_pss_mb:.0f} MB"))
    if project.train_s is not None:
        checks.append((f"full training <= {TARGET_TRAIN_S:.0f} s", project.train_s <= TARGET_TRAIN_S,
                       f"{project.train_s:.0f} s"))
    lines = [f"Targets, {project.name}:", "", "| target | measured | met |", "|---|---:|:---:|"]
    for label, ok, value in checks:
        lines.append(f"| {label} | {value} | {'yes' if ok else 'NO'} |")
    return lines + [""]


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


# ---------------------------------------------------------------------------------------------


def ensure_redis() -> str | None:
    """redis-server from Debian's packages (installed with apt-get if missing and we are root)."""
    found = shutil.which("redis-server")
    if found or os.geteuid() != 0:
        return found
    print("[bench] installing redis-server from Debian's packages (for the several-workers variant) ...", flush=True)
    apt = ["apt-get", "-q", "-y", "-o", "DPkg::Lock::Timeout=600", "--no-install-recommends"]
    if subprocess.run([*apt, "install", "redis-server"], capture_output=True).returncode != 0:
        subprocess.run([*apt, "update"], capture_output=True)
        subprocess.run([*apt, "install", "redis-server"], capture_output=True)
    return shutil.which("redis-server")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=600, help="turns per load level (default 600)")
    parser.add_argument("--clients", default="1,8", help="concurrency levels (default 1,8)")
    parser.add_argument("--workers", default="1,2",
                        help="Rasa processes for the project (default 1,2; more than 1 uses a Redis lock store)")
    parser.add_argument("--only", choices=["project", "stock"], help="measure one assistant only")
    parser.add_argument("--no-train", action="store_true",
                        help="reuse models/traeningsguide.tar.gz instead of a timed full training")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Markdown file the run is appended to")
    parser.add_argument("--note", default="", help="a line describing this run, written with the results")
    parser.add_argument("--folds", type=int, default=5,
                        help="cross-validation folds in the quality report (0: held-out only, -1: no quality report)")
    args = parser.parse_args()
    clients_list = [int(c) for c in args.clients.split(",")]
    workers_list = [int(w) for w in args.workers.split(",")]
    convs = conversations()
    started = dt.datetime.now(dt.timezone.utc)
    print(f"bench: {len(convs)} conversations ({sum(map(len, convs))} user turns) from {STORIES.name}; "
          f"{args.turns} turns per level at {clients_list} clients; {os.cpu_count()} cores", flush=True)

    work = Path(tempfile.mkdtemp(prefix="traeningsguide-bench-"))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
    projects: list[Measured] = []
    stock = None
    quality: list[str] = []
    redis: subprocess.Popen[bytes] | None = None
    try:
        if args.only != "stock":
            if args.no_train:
                model, train_s = PROJECT / "models" / "traeningsguide.tar.gz", None
            else:
                print("[project] full training (rasa train --force, empty cache) ...", flush=True)
                train_env = {**env, "RASA_CACHE_DIRECTORY": str(work / "cache")}  # no component from a cache
                train_s = timed_run([RASA, "train", "--force", "--out", str(work / "models"),
                                     "--fixed-model-name", "traeningsguide"], PROJECT, work / "project-train.log",
                                    train_env)
                model = work / "models" / "traeningsguide.tar.gz"
                print(f"  trained in {train_s:.0f} s", flush=True)
            for workers in workers_list:
                extra = {"TRACKER_DB": str(work / f"tracker-{workers}.db")}
                endpoints = PROJECT / "endpoints.yml"
                name = "Træningsguide, 1 process"
                if workers > 1:
                    server = ensure_redis()
                    if server is None:
                        print(f"[project] {workers} workers skipped: no redis-server (apt-get install redis-server)")
                        continue
                    redis_port = free_port()
                    redis = subprocess.Popen([server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                              "--appendonly", "no"], stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, start_new_session=True)
                    extra.update({"SANIC_WORKERS": str(workers), "REDIS_HOST": "127.0.0.1",
                                  "REDIS_PORT": str(redis_port), "REDIS_PASSWORD": ""})
                    endpoints = PROJECT / "deploy" / "endpoints.workers.yml"
                    name = f"Træningsguide, {workers} workers + Redis lock store"
                print(f"[project] {name}: serving and driving ...", flush=True)
                projects.append(measure(name, PROJECT, model, endpoints, True, convs, clients_list, args.turns,
                                        work, train_s, extra))
                if redis is not None:
                    redis.terminate()
                    redis.wait()
                    redis = None
            if args.folds >= 0:
                cv = f" and {args.folds}-fold cross-validation" if args.folds > 1 else ""
                print(f"[project] NLU quality: held-out set{cv} ...", flush=True)
                quality = nlu_report.lines(model, PROJECT / "config.yml", args.folds, work / "nlu")
        if args.only != "project":
            stock_dir = work / "stock"
            stock_dir.mkdir()
            print("[stock] rasa init --no-prompt (scaffold + training) ...", flush=True)
            stock_train_s = timed_run([RASA, "init", "--no-prompt", "--init-dir", str(stock_dir)], work,
                                      work / "stock-init.log", env)  # cwd work/: an empty .rasa/cache
            stock_model = max((stock_dir / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
            print(f"  initialised and trained in {stock_train_s:.0f} s", flush=True)
            print("[stock] serving and driving ...", flush=True)
            stock = measure("stock", stock_dir, stock_model, None, False, convs, clients_list, args.turns, work,
                            stock_train_s, {})
    finally:
        if redis is not None:
            redis.terminate()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")

    if not projects:
        print("nothing to report without the project (--only stock)")
        return 0
    lines = [f"## {started:%Y-%m-%d %H:%M} UTC — commit {git_commit()}", "",
             f"Machine: {os.cpu_count()} cores ({cpu_model()}), Python {sys.version.split()[0]}. "
             f"Load: {args.turns} turns per level, closed-loop clients over the {len(convs)} conversations of "
             f"tests/test_stories.yml (fresh sender per conversation), after {WARMUP_TURNS} warm-up turns. "
             "Stock = `rasa init --no-prompt` (training time includes the scaffold, < 1 s), in-memory tracker "
             "store, no action server; Træningsguide = SQLite tracker store + action server (endpoints.yml; "
             "with workers: deploy/endpoints.workers.yml).", ""]
    if args.note:
        lines += [f"Note: {args.note}", ""]
    lines += table(projects, stock, clients_list) + [""]
    for project in projects:
        lines += targets(project, stock)
    lines += quality
    text = "\n".join(lines)
    print()
    print(text)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    if not args.results.exists():
        args.results.write_text("# Benchmark results\n\nWritten by `make bench` (scripts/bench.py); each run is "
                                "appended, newest last.\n\n", encoding="utf-8")
    with args.results.open("a", encoding="utf-8") as out:
        out.write(text + "\n")
    print(f"appended to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
