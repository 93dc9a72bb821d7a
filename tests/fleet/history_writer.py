"""A history writer for the crash tests: saves one random sequence of rounds, saying each id once committed.

    python -m tests.fleet.history_writer sqlite|postgresql WHERE SEED COUNT
"""
from __future__ import annotations

import sys
from datetime import timedelta

from fleet.store import ChainPolicy, open_postgres, open_sqlite
from tests.fleet.churn import T0, rounds


def main(kind: str, where: str, seed: int, count: int) -> None:
    opener = open_sqlite if kind == "sqlite" else open_postgres
    store = opener(where, clock=lambda: T0 + timedelta(hours=1), chain=ChainPolicy(keyframe_every=5, max_weight=float("inf")))
    for number, snapshot in enumerate(rounds(seed, count)):
        print(f"saved {store.save(snapshot)} {number}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
