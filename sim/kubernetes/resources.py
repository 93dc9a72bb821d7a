"""The API resources the emulated kube-apiserver serves, and its discovery documents."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        if self.group in ("apps", "batch") or (not self.group and self.plural == "pods"):
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
    Resource(METRICS_GROUP, "v1beta1", "nodes", "NodeMetrics", False, "", watchable=False),
    Resource(METRICS_GROUP, "v1beta1", "pods", "PodMetrics", True, "", watchable=False),
)

BY_KEY: dict[tuple[str, str], Resource] = {r.key: r for r in RESOURCES}
GROUP_VERSIONS: dict[str, str] = {r.group: r.version for r in RESOURCES if r.group}


def find(group: str, version: str, plural: str) -> Resource | None:
    resource = BY_KEY.get((group, plural))
    return resource if resource is not None and resource.version == version else None


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group_list(with_metrics: bool) -> dict[str, Any]:
    groups = []
    for group, version in GROUP_VERSIONS.items():
        if group == METRICS_GROUP and not with_metrics:
            continue
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any]:
    gv = {"groupVersion": f"{group}/{GROUP_VERSIONS[group]}", "version": GROUP_VERSIONS[group]}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [gv], "preferredVersion": gv}


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    resources = [r.discovery() for r in RESOURCES if r.group == group and r.version == version]
    if not resources:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}
