"""Serve an emulated Kubernetes cluster from the command line (manual poking, RBAC trials).

    .venv/bin/python -m sim.kubernetes --nodes 50 --token admin-token \\
        --role reader-token=deploy/kubernetes/clusterrole.yaml

`--token` is unrestricted; each `--role TOKEN=FILE` adds a token held to the ClusterRole in FILE
(sim/kubernetes/rbac.py). Prints `URL <url>` once it answers, then serves until stdin closes.
"""
from __future__ import annotations

import argparse
import sys

from sim.httpserver import serve_until_stdin_closes
from sim.kubernetes import Knobs, generate, start
from sim.kubernetes.rbac import Grant, RoleError, load_cluster_role

DEFAULT_USER = "system:serviceaccount:podium:podium"


def role_grant(text: str, user: str) -> tuple[str, Grant]:
    token, _, path = text.partition("=")
    if not token or not path:
        raise argparse.ArgumentTypeError(f"--role wants TOKEN=FILE, got {text!r}")
    try:
        return token, Grant(user, load_cluster_role(path))
    except RoleError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.kubernetes", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--pods-per-node", type=int, default=15)
    parser.add_argument("--token", help="require this bearer token (unrestricted)")
    parser.add_argument("--role", action="append", default=[], metavar="TOKEN=FILE",
                        help="a token held to the ClusterRole in FILE (repeatable)")
    parser.add_argument("--user", default=DEFAULT_USER, help="who the --role tokens are, in 403 messages")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        grants = dict(role_grant(text, args.user) for text in args.role)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    scenario = generate(Knobs(seed=args.seed, nodes=args.nodes, pods_per_node=args.pods_per_node))
    cluster = start(scenario, token=args.token, grants=grants, port=args.port)
    print(f"URL {cluster.url}", flush=True)
    serve_until_stdin_closes(cluster.stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
