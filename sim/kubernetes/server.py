"""Start an emulated cluster: a store loaded from a scenario (or payloads), served over HTTP(S)."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from sim.httpserver import EmulatorServer
from sim.kubernetes.api import KubeApi, MetricsMode
from sim.kubernetes.rbac import Grant
from sim.kubernetes.resources import RESOURCES, Resource
from sim.kubernetes.scenario import Scenario
from sim.kubernetes.store import Store
from sim.kubernetes.tls import Certificates, make_certificates

KIND_TO_RESOURCE: dict[tuple[str, str], Resource] = {(r.group, r.kind): r for r in RESOURCES if r.convert is None}


class KubeServer(EmulatorServer):
    """The shared server, closing the store on stop so open watch streams end at once."""

    store: Store | None = None

    def stop(self) -> None:
        if self.store is not None:
            self.store.close()
        super().stop()


@dataclass
class KubeCluster:
    api: KubeApi
    server: KubeServer
    scenario: Scenario | None = None
    certificates: Certificates | None = None
    certificate_folder: Path | None = None  # made for this cluster alone: removed when it stops

    @property
    def store(self) -> Store:
        return self.api.store

    @property
    def url(self) -> str:
        return self.server.url

    def kubeconfig(self, path: str | Path, *, context: str = "emulator", token: str | None = None) -> Path:
        """Write a kubeconfig (JSON is YAML) that points kubectl or the official client here."""
        cluster: dict[str, Any] = {"server": self.url}
        if self.certificates:
            cluster["certificate-authority"] = self.certificates.ca_file
        user: dict[str, Any] = {}
        if self.certificates and self.certificates.client_cert_file:
            user["client-certificate"] = self.certificates.client_cert_file
            user["client-key"] = self.certificates.client_key_file
        if token or self.api.token:
            user["token"] = token or self.api.token
        config = {"apiVersion": "v1", "kind": "Config", "current-context": context, "preferences": {},
                  "clusters": [{"name": context, "cluster": cluster}],
                  "users": [{"name": f"{context}-reader", "user": user}],
                  "contexts": [{"name": context, "context": {"cluster": context, "user": f"{context}-reader"}}]}
        path = Path(path)
        path.write_text(json.dumps(config, indent=2))
        return path

    def stop(self) -> None:
        self.server.stop()
        if self.certificate_folder is not None:
            shutil.rmtree(self.certificate_folder, ignore_errors=True)

    def __enter__(self) -> "KubeCluster":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start(scenario: Scenario | None = None, *, token: str | None = None,
          forbidden: Iterable[tuple[str, str]] = (), unserved: Iterable[str] = (),
          metrics: MetricsMode | None = None, tls: bool = False,
          client_certificates: bool = False, grants: Mapping[str, Grant] | None = None,
          host: str = "127.0.0.1", port: int = 0, bookmark_interval_s: float = 1.0) -> KubeCluster:
    """Serve `scenario` (or an empty cluster) and return the running cluster. `tls` serves HTTPS
    with a generated CA; `client_certificates` also requires a client certificate signed by it.
    `grants` adds tokens held to a ClusterRole each (sim/kubernetes/rbac.py); `token` stays unrestricted."""
    store = Store()
    if scenario is not None:
        scenario.load(store)
    mode: MetricsMode = metrics or (scenario.knobs.metrics if scenario else "ok")  # type: ignore[assignment]
    certificates = make_certificates() if tls or client_certificates else None
    api = KubeApi(store, token=token, forbidden=set(forbidden), unserved=set(unserved), grants=dict(grants or {}),
                  metrics=mode,
                  bookmark_interval_s=bookmark_interval_s)
    server = KubeServer(api, host=host, port=port,
                            certfile=certificates.cert_file if certificates else None,
                            keyfile=certificates.key_file if certificates else None,
                            client_ca=certificates.ca_file if certificates and client_certificates else None)
    server.store = store
    server.start()
    api.server_address = f"{host}:{server.port}"
    return KubeCluster(api, server, scenario, certificates,
                       Path(certificates.ca_file).parent if certificates else None)


def load_payload(store: Store, payload: dict[str, Any]) -> int:
    """Put the objects of a recorded payload (a single object or any *List) into `store`, as they are."""
    items = payload.get("items") if isinstance(payload.get("items"), list) else [payload]
    for item in items:
        api_version = item.get("apiVersion") or payload.get("apiVersion", "v1")
        group = api_version.split("/")[0] if "/" in api_version else ""
        kind = item.get("kind") or str(payload.get("kind", "")).removesuffix("List")
        resource = KIND_TO_RESOURCE.get((group, kind))
        if resource is None:
            raise ValueError(f"no emulated resource for {api_version} {kind}")
        item.setdefault("metadata", {})
        if resource.namespaced:
            item["metadata"].setdefault("namespace", "default")
        store.put(resource, item, stamp=False)
    return len(items)
