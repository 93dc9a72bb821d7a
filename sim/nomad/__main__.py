"""Serve an emulated Nomad cluster from the command line (benchmarks, manual poking).

    .venv/bin/python -m sim.nomad --nodes 10000 --jobs 800 --allocs-per-job 100

Prints `URL <url>` once it answers, then serves until stdin closes or the process is stopped.
"""
from __future__ import annotations

import argparse
import sys

from sim.httpserver import serve_until_stdin_closes
from sim.nomad import build, start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.nomad", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--regions", type=int, default=2)
    parser.add_argument("--datacenters", type=int, default=2)
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--allocs-per-job", type=int, default=3)
    parser.add_argument("--token", help="enable ACLs with this read-only token")
    args = parser.parse_args(argv)
    scenario = build(args.seed, regions=args.regions, datacenters=args.datacenters, nodes=args.nodes,
                     jobs=args.jobs, allocs_per_job=args.allocs_per_job)
    cluster = start(scenario, tokens={args.token: "read-only"} if args.token else None)
    print(f"URL {cluster.url}", flush=True)
    serve_until_stdin_closes(cluster.stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
