"""Any server, bounded: `python -m fleet snapshot` as a process against every way an API misbehaves.

For each fault, one CLI run over one cluster per orchestrator with that fault (Swarm over tcp and
over a unix socket; Marathon once with Marathon faulty, once with its Mesos master faulty) beside
healthy neighbours. The process must exit 3 within the poller's deadline (plus a generous margin:
a deadline is a correctness property), with its memory bounded even when an answer never ends,
every faulty cluster saying in one line what happened, every healthy one `ok`, and no secret
anywhere. The servers run in one helper process (tests/trust/faultserver).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.trust.faultserver import FAULTS, FaultServer, running

ROOT = Path(__file__).resolve().parents[2]
TOKEN_ENV = "PODIUM_BOUNDED_TOKEN"
CANARY = "b0a7ded0-ca7a-4e11-9b11-5ec7e7c0ffee"  # the clusters' token: must never show
TIMEOUT_S = 2
DEADLINE_S = 3 * TIMEOUT_S  # what the poller gives one cluster (fleet/poller.py DEADLINE_REQUESTS)
MARGIN_S = 10.0  # interpreter start, imports, a loaded machine
RSS_LIMIT = int(1.5 * 1024**3)
ENDLESS_CEILING_MIB = 8  # max_answer_mib of the clusters in the `endless` run (the others keep the default)

# what each fault must end as, and what its message must say (a regex)
SAYS = {
    "hang": ("unreachable", r"within 2s|timed out"),
    "drip": ("unreachable", r"did not finish within 2s"),
    "slow_headers": ("unreachable", r"did not finish within 2s"),
    "endless": ("error", rf"larger than {ENDLESS_CEILING_MIB} MiB"),
    "huge": ("error", r"larger than 1,024 MiB refused \(it declares 3,815 MiB"),
    "not_tls": ("unreachable", r"TLS.*\b2s\b|\b2s\b.*TLS"),
    "reset": ("unreachable", r"closed the connection|reset"),
    "http_503": ("error", r"\b503\b"),
    "refused": ("unreachable", r"refused"),
}
HEALTHY = ("kube-ok", "nomad-ok", "marathon-ok", "swarm-ok")


def entry(name: str, orchestrator: str, url: str, **keys: Any) -> dict[str, Any]:
    return {"name": name, "orchestrator": orchestrator, "url": url, **keys}


def faulty_clusters(server: FaultServer, fault: str) -> list[dict[str, Any]]:
    """One cluster per orchestrator (and transport) whose first request meets `fault`."""
    token = {"token_env": TOKEN_ENV}
    clusters = [
        entry(f"kube-{fault}", "kubernetes", server.url("kubernetes", fault), **token),
        entry(f"swarm-{fault}", "swarm", server.url("swarm", fault)),
        entry(f"nomad-{fault}", "nomad", server.url("nomad", fault), **token),
        entry(f"marathon-{fault}", "marathon", server.url("marathon", fault), mesos_url=server.healthy["mesos"],
              **token),
        entry(f"mesos-{fault}", "marathon", server.healthy["marathon"], mesos_url=server.url("mesos", fault),
              **token),
    ]
    if fault != "not_tls":
        clusters.append(entry(f"swarm-unix-{fault}", "swarm", server.url("swarm_unix", fault)))
    if fault == "endless":
        for cluster in clusters:
            cluster["max_answer_mib"] = ENDLESS_CEILING_MIB
    return clusters


def healthy_clusters(server: FaultServer) -> list[dict[str, Any]]:
    healthy = server.healthy
    return [entry("kube-ok", "kubernetes", healthy["kubernetes"], token_env=TOKEN_ENV),
            entry("nomad-ok", "nomad", healthy["nomad"], token_env=TOKEN_ENV),
            entry("marathon-ok", "marathon", healthy["marathon"], mesos_url=healthy["mesos"], token_env=TOKEN_ENV),
            entry("swarm-ok", "swarm", healthy["swarm"])]


@dataclass
class Run:
    returncode: int | None
    wall_s: float
    peak_rss: int
    killed_for: str | None
    stdout: str
    stderr: str
    written: str

    def clusters(self) -> dict[str, dict[str, Any]]:
        return {cluster["name"]: cluster for cluster in json.loads(self.written)["clusters"]}


def rss_now(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else 0


def run_snapshot(config: Path, output: Path, folder: Path) -> Run:
    """The CLI as a process, watched: its memory sampled while it runs (and the process killed past
    the limit, to spare the machine), killed if it outlives the deadline by far."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), TOKEN_ENV: CANARY}
    with open(folder / "stdout", "w+") as out, open(folder / "stderr", "w+") as err:
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "fleet", "snapshot", "--config", str(config),
                                    "--output", str(output)], cwd=ROOT, env=environ, stdout=out, stderr=err)
        killed_for, peak = None, 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, rss_now(process.pid))
            if killed_for is None and peak > RSS_LIMIT:
                killed_for = f"RSS {peak / 1024**2:,.0f} MiB"
                os.kill(process.pid, signal.SIGKILL)
            elif killed_for is None and time.monotonic() - started > DEADLINE_S + MARGIN_S + 5:
                killed_for = "still running"
                os.kill(process.pid, signal.SIGKILL)
            time.sleep(0.05)
        wall_s = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: wait4 gave its own usage
        out.seek(0)
        err.seek(0)
        return Run(process.returncode, wall_s, max(peak, usage.ru_maxrss * 1024), killed_for, out.read(), err.read(),
                   output.read_text() if output.exists() else "")


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with running(TOKEN_ENV, CANARY) as started:
        yield started


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    return {}


@pytest.fixture
def run(fault: str, server: FaultServer, runs: dict[str, Run], tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The CLI run of this fault (made once, read by every test below)."""
    if fault not in runs:
        folder = tmp_path_factory.mktemp(f"bounded-{fault}")
        config = folder / "clusters.yaml"
        document = {"settings": {"timeout_s": TIMEOUT_S, "poll_interval_s": 60, "demo": False},
                    "clusters": faulty_clusters(server, fault) + healthy_clusters(server)}
        config.write_text(json.dumps(document, indent=2))  # JSON is YAML
        runs[fault] = run_snapshot(config, folder / "snapshot.json", folder)
    return runs[fault]


@pytest.mark.parametrize("fault", FAULTS)
def test_the_cli_exits_3_within_the_deadline(fault: str, run: Run) -> None:
    assert run.killed_for is None, f"killed: {run.killed_for} after {run.wall_s:.1f}s\n{run.stderr[-3000:]}"
    assert run.returncode == 3, run.stderr[-3000:]
    assert run.wall_s <= DEADLINE_S + MARGIN_S, f"took {run.wall_s:.1f}s\n{run.stderr[-3000:]}"


@pytest.mark.parametrize("fault", FAULTS)
def test_memory_stays_bounded(fault: str, run: Run) -> None:
    assert run.peak_rss < RSS_LIMIT, f"peak RSS {run.peak_rss / 1024**2:,.0f} MiB"


@pytest.mark.parametrize("fault", FAULTS)
def test_every_faulty_cluster_says_in_one_line_what_happened(fault: str, run: Run) -> None:
    assert run.written, f"no snapshot written\n{run.stderr[-3000:]}"
    status, says = SAYS[fault]
    wrong = []
    for name, cluster in run.clusters().items():
        if name in HEALTHY:
            continue
        # a faulty Mesos master degrades its Marathon cluster (nodes unknown), it does not fail it
        expected, pattern = ("degraded", rf"Mesos master.*({says})") if name.startswith("mesos-") else (status, says)
        error = cluster["error"] or ""
        if cluster["status"] != expected or not re.search(pattern, error) or "\n" in error:
            wrong.append(f"{name}: {cluster['status']} (want {expected} /{pattern}/): {error}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("fault", FAULTS)
def test_healthy_neighbours_stay_ok(fault: str, run: Run) -> None:
    assert run.written, f"no snapshot written\n{run.stderr[-3000:]}"
    clusters = run.clusters()
    assert {name: (clusters[name]["status"], clusters[name]["error"]) for name in HEALTHY} == \
        {name: ("ok", None) for name in HEALTHY}


@pytest.mark.parametrize("fault", FAULTS)
def test_no_secret_in_any_output(fault: str, run: Run) -> None:
    assert CANARY not in run.stdout + run.stderr + run.written
