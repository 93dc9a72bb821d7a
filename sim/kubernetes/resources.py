"""The API resources the emulated kube-apiserver serves, and its discovery documents."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sim.kubernetes.conversions import hpa_v2_to_v1

READ_VERBS = ["get", "list", "watch"]
SERVER_VERSION = {
    "major": "1", "minor": "31", "gitVersion": "v1.31.4", "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
    "gitTreeState": "clean", "buildDate": "2024-12-10T18:44:04Z", "goVersion": "go1.22.9",
    "compiler": "gc", "platform": "linux/amd64",
}


@dataclass(frozen=True)
class Resource:
    group: str  # "" for core
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str
    short_names: tuple[str, ...] = ()
    watchable: bool = True
    # an older version of a stored resource: served through this conversion from the preferred one
    convert: Callable[[dict[str, Any]], dict[str, Any]] | None = field(default=None, compare=False)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def discovery(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.plural, "singularName": self.singular, "namespaced": self.namespaced,
            "kind": self.kind, "verbs": READ_VERBS if self.watchable else ["get", "list"],
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.group in ("apps", "batch", "autoscaling") or \
                (not self.group and self.plural in ("pods", "services")):
            entry["categories"] = ["all"]
        return entry


METRICS_GROUP = "metrics.k8s.io"

RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "namespaces", "Namespace", False, "namespace", ("ns",)),
    Resource("", "v1", "nodes", "Node", False, "node", ("no",)),
    Resource("", "v1", "pods", "Pod", True, "pod", ("po",)),
    Resource("", "v1", "events", "Event", True, "event", ("ev",)),
    Resource("apps", "v1", "deployments", "Deployment", True, "deployment", ("deploy",)),
    Resource("apps", "v1", "replicasets", "ReplicaSet", True, "replicaset", ("rs",)),
    Resource("apps", "v1", "statefulsets", "StatefulSet", True, "statefulset", ("sts",)),
    Resource("apps", "v1", "daemonsets", "DaemonSet", True, "daemonset", ("ds",)),
    Resource("batch", "v1", "jobs", "Job", True, "job"),
    Resource("batch", "v1", "cronjobs", "CronJob", True, "cronjob", ("cj",)),
    Resource("", "v1", "services", "Service", True, "service", ("svc",)),
    Resource("", "v1", "endpoints", "Endpoints", True, "endpoints", ("ep",)),
    Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, "endpointslice"),
    Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True,
             "horizontalpodautoscaler", ("hpa",)),
    Resource("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True,
             "horizontalpodautoscaler", ("hpa",), convert=hpa_v2_to_v1),
    Resource(METRICS_GROUP, "v1beta1", "nodes", "NodeMetrics", False, "", watchable=False),
    Resource(METRICS_GROUP, "v1beta1", "pods", "PodMetrics", True, "", watchable=False),
)

BY_KEY: dict[tuple[str, str], Resource] = {r.key: r for r in RESOURCES if r.convert is None}  # as stored
BY_PATH: dict[tuple[str, str, str], Resource] = {(r.group, r.version, r.plural): r for r in RESOURCES}
GROUP_VERSIONS: dict[str, list[str]] = {}  # group → its versions, the preferred (stored) one first
for _r in sorted(RESOURCES, key=lambda r: r.convert is not None):
    if _r.group and _r.version not in GROUP_VERSIONS.setdefault(_r.group, []):
        GROUP_VERSIONS[_r.group].append(_r.version)


def find(group: str, version: str, plural: str) -> Resource | None:
    return BY_PATH.get((group, version, plural))


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group_list(with_metrics: bool) -> dict[str, Any]:
    groups = [api_group(group) for group in GROUP_VERSIONS if with_metrics or group != METRICS_GROUP]
    for entry in groups:
        del entry["kind"], entry["apiVersion"]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any]:
    versions = [{"groupVersion": f"{group}/{version}", "version": version} for version in GROUP_VERSIONS[group]]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions,
            "preferredVersion": versions[0]}


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    resources = [r.discovery() for r in RESOURCES if r.group == group and r.version == version]
    if not resources:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}
