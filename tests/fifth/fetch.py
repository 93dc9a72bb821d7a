"""Lighthouse: one fleet's hosts, services and replicas, four GETs per round through the shared client."""
from __future__ import annotations

from typing import TypeVar
from urllib.parse import quote

from collectors.base import Collector
from collectors.http import HttpJsonClient
from collectors.toolkit import decode
from fleet.config import ClusterConfig
from fleet.source import ClusterData
from tests.fifth.normalize import LighthouseRaw, normalize
from tests.fifth.wire import Fleet, Host, Replica, Service

T = TypeVar("T")


class LighthouseCollector(Collector[LighthouseRaw]):
    orchestrator = "lighthouse"

    def __init__(self, config: ClusterConfig):
        super().__init__(config)
        headers = {"Authorization": f"Bearer {config.token.reveal()}"} if config.token else {}
        self.client = HttpJsonClient(config.url or "", config, headers=headers)
        self.fleet_path = f"/v1/fleets/{quote(config.option('fleet_id'), safe='')}"

    def read(self, path: str, kind: type[T], timeout_s: float) -> T:
        response = self.client.get_response(self.fleet_path + path, timeout_s=timeout_s)
        return decode(response.content, kind, f"GET {self.fleet_path + path} on {self.endpoint}")

    def fetch(self, timeout_s: float) -> LighthouseRaw:
        return LighthouseRaw(fleet=self.read("", Fleet, timeout_s),
                             hosts=self.read("/hosts", list[Host], timeout_s),
                             services=self.read("/services", list[Service], timeout_s),
                             replicas=self.read("/replicas", list[Replica], timeout_s))

    def normalize(self, raw: LighthouseRaw) -> ClusterData:
        return normalize(raw)

    def close(self) -> None:
        self.client.close()
