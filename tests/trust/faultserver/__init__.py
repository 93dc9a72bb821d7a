"""A server for every way an orchestrator's API can be silent, slow or endless, in one helper process.

One listener per (orchestrator, fault), each behaving like that API would for the first request
Podium makes, plus healthy neighbours (the emulators; a minimal fake engine for Swarm). Tests start
it with `running(...)`, which waits until it is ready and kills it at the end. See __main__.py.
"""
from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tests.trust.faultserver.faults import FAULTS

ROOT = Path(__file__).resolve().parents[3]
READY_WITHIN_S = 60.0
__all__ = ["FAULTS", "FaultServer", "running"]


@dataclass(frozen=True)
class FaultServer:
    listeners: dict[str, str]  # "side/fault" -> the URL a cluster entry points at
    healthy: dict[str, str]  # side -> URL of a healthy neighbour
    admin: str
    process: subprocess.Popen = field(repr=False)

    def url(self, side: str, fault: str) -> str:
        return self.listeners[f"{side}/{fault}"]

    def heal(self, side: str, fault: str) -> None:
        """From now on, new connections to this listener reach a healthy server."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"heal {side}/{fault}\n")
        self.process.stdin.flush()
        answer = _line(self.process, within_s=10).strip()
        if answer != f"healed {side}/{fault}":
            raise RuntimeError(f"the fault server answered {answer!r}")

    def accepted(self, side: str, fault: str) -> int:
        """How many connections this listener has accepted so far."""
        with urllib.request.urlopen(f"{self.admin}/accepted", timeout=10) as answer:
            return json.loads(answer.read())[f"{side}/{fault}"]


def _line(process: subprocess.Popen, within_s: float) -> str:
    """The helper's next line on stdout (it writes whole lines, flushed)."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(within_s):
            raise RuntimeError(f"the fault server said nothing within {within_s:g}s")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"the fault server exited (exit code {process.wait()})")
    return line


@contextmanager
def running(token_env: str, token: str) -> Iterator[FaultServer]:
    """Start the fault server process, wait until it listens, kill it at the end."""
    socket_dir = tempfile.mkdtemp(prefix="podium-faults-")  # short: unix socket paths have a length limit
    environ = {**os.environ, "PYTHONPATH": str(ROOT), token_env: token}
    process = subprocess.Popen([sys.executable, "-m", "tests.trust.faultserver", "--socket-dir", socket_dir,
                                "--token-env", token_env], cwd=ROOT, env=environ, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        yield FaultServer(**json.loads(_line(process, READY_WITHIN_S)), process=process)
    finally:
        process.kill()
        process.wait(timeout=10)
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        shutil.rmtree(socket_dir, ignore_errors=True)
