"""Serve an emulated Marathon and its Mesos master from the command line (benchmarks, manual poking).

    .venv/bin/python -m sim.marathon --agents 15 --apps 20 --pods 2
    .venv/bin/python -m sim.marathon --timeline          # problems come and go every 90 s, as in the demo

Prints `MARATHON <url>` and `MESOS <url>` once both answer, then serves until stdin closes.
"""
from __future__ import annotations

import argparse
import sys

from sim.httpserver import serve_until_stdin_closes
from sim.marathon import PROBLEMS, Timeline, build, serve
from sim.mesos import Auth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.marathon", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--agents", type=int, default=15)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--pods", type=int, default=2)
    parser.add_argument("--instances", type=int, default=None, help="tasks per healthy app (default 1-5)")
    parser.add_argument("--no-problems", action="store_true", help="a cluster where everything is fine")
    parser.add_argument("--timeline", action="store_true", help="problems come and go every 90 s")
    parser.add_argument("--token", help="require `Authorization: token=<TOKEN>` on both services")
    parser.add_argument("--standbys", action="store_true", help="also start a redirecting standby of each")
    args = parser.parse_args(argv)
    sizes = dict(agents=args.agents, apps=args.apps, pods=args.pods, instances_per_app=args.instances)
    source = (Timeline(args.seed, **sizes) if args.timeline
              else build(args.seed, problems=() if args.no_problems else PROBLEMS, **sizes))
    cluster = serve(source, auth=Auth(token=args.token) if args.token else None, standbys=args.standbys)
    print(f"MARATHON {cluster.marathon.url}\nMESOS {cluster.mesos.url}", flush=True)
    for standby in cluster.standbys:
        print(f"STANDBY {standby.url}", flush=True)
    serve_until_stdin_closes(cluster.stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
