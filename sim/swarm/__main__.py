"""Serve an emulated swarm from the command line (benchmarks, manual poking, the docker CLI).

    .venv/bin/python -m sim.swarm --nodes 1000 --services 300 --replicas 100 --history 4

Prints `URL <url>` once it answers, then serves until stdin closes or the process is stopped.
`docker -H tcp://127.0.0.1:PORT node ls` works against it.
"""
from __future__ import annotations

import argparse
import sys

from sim.httpserver import serve_until_stdin_closes
from sim.swarm import build, start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.swarm", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nodes", type=int, default=12)
    parser.add_argument("--managers", type=int, default=3)
    parser.add_argument("--services", type=int, default=20, help="replicated services")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--global-services", type=int, default=2)
    parser.add_argument("--history", type=int, default=0, help="earlier (shut down) tasks kept per slot")
    parser.add_argument("--no-problems", action="store_true", help="no drained/down nodes, no failing services")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    scenario = build(args.seed, nodes=args.nodes, managers=args.managers, services=args.services,
                     replicas=args.replicas, global_services=args.global_services, history=args.history,
                     problems=not args.no_problems)
    cluster = start(scenario, port=args.port)
    print(f"URL {cluster.url}", flush=True)
    serve_until_stdin_closes(cluster.stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
