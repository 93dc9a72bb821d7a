"""One replica for the HA tests: the dashboard's FleetRuntime (same code path, no browser), in its own process.

    python -m tests.fleet.ha_replica CONFIG LOGDIR

Every collection this process makes is appended to LOGDIR/<replica>.collections ("cluster epoch"
lines), so a test can tell exactly which replica polled which cluster; its status is written to
LOGDIR/<replica>.status every 0.2 s. Runs until killed.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from collectors import build_collector
from fleet.config import ClusterConfig
from fleet.runtime import FleetRuntime
from fleet.source import Source


def main(config: str, logdir: str) -> None:
    replica = os.environ["PODIUM_REPLICA"]
    log = Path(logdir) / f"{replica}.collections"
    lock = threading.Lock()

    def build(cluster: ClusterConfig) -> Source:
        source = build_collector(cluster)
        collect = source.collect

        def counted(timeout_s: float):  # type: ignore[no-untyped-def]
            with lock, log.open("a") as out:
                out.write(f"{cluster.name} {time.time():.3f}\n")
            return collect(timeout_s)
        source.collect = counted  # type: ignore[method-assign]
        return source

    runtime = FleetRuntime(Path(config), build).start()
    signal.signal(signal.SIGTERM, lambda *_: (runtime.stop(), os._exit(0)))  # a replica leaving on purpose
    status_file = Path(logdir) / f"{replica}.status"
    while True:
        status = runtime.status()
        document = {"replica": status.replica, "role": status.role, "leader": status.leader,
                    "last_round_at": status.last_round_at.isoformat() if status.last_round_at else None,
                    "problem": runtime.history_problem}
        status_file.with_suffix(".tmp").write_text(json.dumps(document))
        status_file.with_suffix(".tmp").replace(status_file)
        time.sleep(0.2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
