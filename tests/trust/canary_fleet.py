"""A fleet whose every credential is a canary: one recognisable token per cluster kind, served by
emulators that demand it (and, when told to, echo every request header back in their errors)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sim.httpserver import EmulatorServer, Request, Response, json_response

CANARY = "PODIUM-CANARY-5f0c2a9e"
TOKENS = {kind: f"{CANARY}-{kind}" for kind in ("kubernetes", "nomad", "marathon", "swarm")}
ENV = {f"CANARY_{kind.upper()}_TOKEN": token for kind, token in TOKENS.items()}


# optional reads, whose failures collectors log themselves (before the poller's last-guard scrub)
OPTIONAL = ("/v1/client/stats", "/apis/metrics.k8s.io", "/v2/queue", "/v2/deployments", "/api/v1/events")


def echo(code: int, *, optional_only: bool = False) -> Callable[[Request], Response | None]:
    """A fault answering `code` with the request's credentials in the body, as some proxies do."""
    def fault(request: Request) -> Response | None:
        if optional_only and not request.path.startswith(OPTIONAL):
            return None
        credentials = " ".join(request.headers.get(name, "") for name in ("authorization", "x-nomad-token"))
        return json_response({"message": f"rejected credentials {credentials.strip()}"}, code)
    return fault


@dataclass
class CanaryFleet:
    config: Path
    fronts: list[EmulatorServer]
    stops: list[Any] = field(default_factory=list)

    def echo_everywhere(self, code: int | None, *, optional_only: bool = False) -> None:
        for front in self.fronts:
            front.fault = echo(code, optional_only=optional_only) if code else None

    def stop(self) -> None:
        for stop in self.stops:
            stop()


def start_canary_fleet(folder: Path) -> CanaryFleet:
    from sim.kubernetes import Knobs, generate
    from sim.kubernetes import start as start_kubernetes
    from sim.marathon import build as build_marathon
    from sim.marathon import serve
    from sim.mesos import Auth
    from sim.nomad import build as build_nomad
    from sim.nomad import start as start_nomad

    kube = start_kubernetes(generate(Knobs(seed=5, nodes=3, pods_per_node=3, namespaces=2)),
                            token=TOKENS["kubernetes"])
    nomad = start_nomad(build_nomad(5, regions=1, datacenters=1, nodes=3, jobs=3),
                        tokens={TOKENS["nomad"]: "read-only"})
    marathon = serve(build_marathon(5, agents=3, apps=3, pods=1), auth=Auth(token=TOKENS["marathon"]))
    token_files = folder / "tokens"
    token_files.mkdir(exist_ok=True)
    (token_files / "swarm").write_text(TOKENS["swarm"])
    os.chmod(token_files / "swarm", 0o600)
    kube.kubeconfig(folder / "kubeconfig.json", token=TOKENS["kubernetes"])
    config = folder / "clusters.yaml"
    config.write_text(
        "settings:\n  poll_interval_s: 2\n  timeout_s: 3\n  demo: false\n  history_dir: history\nclusters:\n"
        f"  - {{name: canary-kube, orchestrator: kubernetes, url: '{kube.url}', token_env: CANARY_KUBERNETES_TOKEN}}\n"
        f"  - {{name: canary-nomad, orchestrator: nomad, url: '{nomad.url}', token_env: CANARY_NOMAD_TOKEN, "
        "regions: all}\n"
        f"  - {{name: canary-marathon, orchestrator: marathon, url: '{marathon.marathon.url}', "
        f"mesos_url: '{marathon.mesos.url}', token_env: CANARY_MARATHON_TOKEN}}\n"
        "  - {name: canary-kubeconfig, orchestrator: kubernetes, kubeconfig: kubeconfig.json}\n"
        "  - {name: canary-swarm, orchestrator: swarm, url: 'unix:///nonexistent/docker.sock', "
        "token_file: tokens/swarm}\n")
    fleet = CanaryFleet(config, [kube.server, nomad.servers[0], marathon.marathon, marathon.mesos])
    fleet.stops = [kube.stop, nomad.stop, marathon.stop]
    return fleet
