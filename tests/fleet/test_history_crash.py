"""Writers killed (SIGKILL) at random moments: every committed round survives, no half round is readable."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from fleet.model import encode_snapshot
from tests.fleet.churn import rounds

ROOT = Path(__file__).resolve().parents[2]
RUNS = 4
ROUNDS = 400


def killed_writer(backend, seed: int, rng: random.Random) -> list[tuple[int, int]]:
    """Start a writer, let it commit a random number of rounds, kill it at a random moment after that."""
    child = subprocess.Popen([sys.executable, "-m", "tests.fleet.history_writer", backend.name, backend.where,
                              str(seed), str(ROUNDS)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                             stdout=subprocess.PIPE, text=True)
    lines = []
    try:
        for _ in range(rng.randint(1, 20)):
            lines.append(child.stdout.readline())
        time.sleep(rng.uniform(0, 0.05))
    finally:
        child.kill()
        child.wait(timeout=30)
    lines += child.stdout.read().splitlines()  # all it printed before it died
    said = [line.split() for line in lines]
    assert len(said) < ROUNDS, "the writer finished before it was killed"
    return [(int(snapshot_id), int(number)) for _, snapshot_id, number in said]


def test_writers_killed_at_random_moments_lose_no_committed_round_and_leave_no_half_round(backend):
    backend.open()  # creates the schema the writers share
    rng = random.Random(1414)
    said: dict[int, bytes] = {}
    possible: set[bytes] = set()
    for seed in range(RUNS):
        expected = [encode_snapshot(s, indent=0) for s in rounds(seed, ROUNDS)]
        said.update({i: expected[number] for i, number in killed_writer(backend, seed, rng)})
        possible.update(expected)
    reader = backend.open()
    kept = {s.id: encode_snapshot(reader.load(s.id), indent=0) for s in reader.list_snapshots()}
    assert {i: kept.get(i) for i in said} == said  # every round a writer said it committed, exactly
    assert set(kept.values()) <= possible  # and anything else kept (committed, killed before saying so) too
    assert len(kept) - len(said) <= RUNS
    reader.save(next(rounds(99, 1)))  # nothing left locked
