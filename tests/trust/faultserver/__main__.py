"""The fault server process: every (orchestrator, fault) listener and the healthy neighbours.

    python -m tests.trust.faultserver --socket-dir /tmp/x --token-env PODIUM_BOUNDED_TOKEN

Prints one JSON line once everything listens ({"listeners": {"kubernetes/hang": url, ...},
"healthy": {"kubernetes": url, ...}, "admin": url}), then serves until stdin closes or it is killed.
A line `heal <side>/<fault>` on stdin heals that listener (answered `healed <side>/<fault>` on
stdout); the admin server counts connections (`GET /accepted`). The emulators require the token
read from the variable named by --token-env.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import ExitStack
from urllib.parse import urlsplit

from sim.httpserver import EmulatorServer, Request, Response, json_response
from tests.trust.faultserver.faults import FAULTS, Listener, tcp_socket, unix_socket
from tests.trust.faultserver.shapes import healthy_engine

SIDES = ("kubernetes", "swarm", "swarm_unix", "nomad", "marathon", "mesos")


def start_neighbours(stack: ExitStack, token: str) -> dict[str, str]:
    """The project's emulators (and a fake engine for Swarm), each small."""
    from sim import marathon, nomad
    from sim.kubernetes import Knobs, generate
    from sim.kubernetes import start as start_kubernetes

    kube = start_kubernetes(generate(Knobs(seed=8, nodes=3, pods_per_node=4, namespaces=2)), token=token)
    stack.callback(kube.stop)
    batch = nomad.start(nomad.build(8, regions=1, datacenters=1, nodes=4, jobs=4), tokens={token: "read-only"})
    stack.callback(batch.stop)
    legacy = marathon.serve(marathon.build(8, agents=3, apps=4, pods=1))
    stack.callback(legacy.stop)
    engine = EmulatorServer(healthy_engine).start()
    stack.callback(engine.stop)
    return {"kubernetes": kube.url, "nomad": batch.url, "marathon": legacy.marathon.url,
            "mesos": legacy.mesos.url, "swarm": f"tcp://127.0.0.1:{engine.port}"}


def make_listener(side: str, fault: str, socket_dir: str, upstream: tuple[str, int]) -> Listener:
    if side == "swarm_unix":
        path = os.path.join(socket_dir, f"swarm-{fault}.sock")
        return Listener(side, fault, unix_socket(path), f"unix://{path}", upstream)
    sock = tcp_socket()
    port = sock.getsockname()[1]
    scheme = "https" if fault == "not_tls" else "tcp" if side == "swarm" else "http"
    return Listener(side, fault, sock, f"{scheme}://127.0.0.1:{port}", upstream)


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def admin(listeners: dict[str, Listener]):
    def handle(request: Request) -> Response:
        if request.path == "/accepted":
            return json_response({name: listener.accepted for name, listener in listeners.items()})
        return json_response({"message": "not found"}, 404)
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.trust.faultserver")
    parser.add_argument("--socket-dir", required=True, help="where the unix sockets go (keep the path short)")
    parser.add_argument("--token-env", required=True, help="the variable holding the emulators' token")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        healthy = start_neighbours(stack, os.environ[args.token_env])
        upstreams = {side: address(healthy["swarm" if side.startswith("swarm") else side]) for side in SIDES}
        listeners = {}
        for side in SIDES:
            for fault in FAULTS:
                if side == "swarm_unix" and fault == "not_tls":
                    continue  # no TLS on a unix socket
                listener = make_listener(side, fault, args.socket_dir, upstreams[side])
                listener.start()
                listeners[listener.name] = listener
        control = EmulatorServer(admin(listeners)).start()
        stack.callback(control.stop)
        print(json.dumps({"listeners": {name: item.url for name, item in listeners.items()},
                          "healthy": healthy, "admin": control.url}), flush=True)
        for line in sys.stdin:  # until the test closes it
            command, _, name = line.strip().partition(" ")
            if command == "heal" and name in listeners:
                listeners[name].healthy = True
            print(f"healed {name}" if name in listeners else f"unknown {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
