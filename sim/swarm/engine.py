"""The engine-wide answers: `/version`, `/info` (with its Swarm section) and API version negotiation."""
from __future__ import annotations

import time
from typing import Any

from sim.swarm.ids import NANO, object_id, timestamp
from sim.swarm.objects import TLS_INFO, Rendered
from sim.swarm.scenario import Scenario

NOT_IN_SWARM = ('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect '
                'this node to swarm and try again.')
WORKER = ("This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. "
          "Please run this command on a manager node or promote the current node to a manager.")


def api_tuple(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def version_problem(scenario: Scenario, asked: str) -> tuple[str, str] | None:
    """(content type, message) when the engine refuses the client's API version, as dockerd does:
    too new is JSON, too old is http.Error's plain text."""
    engine = scenario.engine
    if api_tuple(asked) > api_tuple(engine.api_version):
        return "json", f"client version {asked} is too new. Maximum supported API version is {engine.api_version}"
    if api_tuple(asked) < api_tuple(engine.min_api_version):
        return "text", (f"client version {asked} is too old. Minimum supported API version is "
                        f"{engine.min_api_version}, please upgrade your client to a newer version")
    return None


def swarm_refusal(scenario: Scenario) -> str | None:
    """Why this engine cannot answer cluster reads (not in a swarm, or a worker), or None."""
    if not scenario.swarm_active:
        return NOT_IN_SWARM
    return WORKER if scenario.local_node.role != "manager" else None


def version(scenario: Scenario) -> dict[str, Any]:
    engine = scenario.engine
    built = "2024-09-20T11:41:19.000000000+00:00"
    return {
        "Platform": {"Name": "Docker Engine - Community"},
        "Components": [
            {"Name": "Engine", "Version": engine.version, "Details": {
                "ApiVersion": engine.api_version, "Arch": "amd64", "BuildTime": built, "Experimental": "false",
                "GitCommit": engine.git_commit, "GoVersion": engine.go_version, "KernelVersion": engine.kernel,
                "MinAPIVersion": engine.min_api_version, "Os": "linux"}},
            {"Name": "containerd", "Version": "1.7.22", "Details": {"GitCommit": "7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c"}},
            {"Name": "runc", "Version": "1.1.14", "Details": {"GitCommit": "v1.1.14-0-g2c9f560"}},
            {"Name": "docker-init", "Version": "0.19.0", "Details": {"GitCommit": "de40ad0"}},
        ],
        "Version": engine.version, "ApiVersion": engine.api_version, "MinAPIVersion": engine.min_api_version,
        "GitCommit": engine.git_commit, "GoVersion": engine.go_version, "Os": "linux", "Arch": "amd64",
        "KernelVersion": engine.kernel, "BuildTime": built,
    }


def info(scenario: Scenario, rendered: Rendered) -> dict[str, Any]:
    node = scenario.local_node
    engine = scenario.engine
    local_id = rendered.node_ids[node.hostname]
    running = len(rendered.containers)
    return {
        "ID": object_id(scenario.seed, "engine", node.hostname)[:24].upper(),
        "Containers": running, "ContainersRunning": running, "ContainersPaused": 0, "ContainersStopped": 0,
        "Images": len({c["Image"] for c in rendered.containers}), "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"], ["Using metacopy", "false"],
                         ["Native Overlay Diff", "true"], ["userxattr", "false"]],
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
                    "Authorization": None, "Log": ["awslogs", "fluentd", "gcplogs", "gelf", "journald", "json-file",
                                                   "local", "splunk", "syslog"]},
        "MemoryLimit": True, "SwapLimit": True, "KernelMemory": False, "KernelMemoryTCP": False,
        "CpuCfsPeriod": True, "CpuCfsQuota": True, "CPUShares": True, "CPUSet": True, "PidsLimit": True,
        "IPv4Forwarding": True, "BridgeNfIptables": True, "BridgeNfIp6tables": True, "Debug": False, "NFd": 41,
        "OomKillDisable": False, "NGoroutines": 180, "SystemTime": timestamp(int(time.time() * NANO)),
        "LoggingDriver": "json-file", "CgroupDriver": "systemd", "CgroupVersion": "2", "NEventsListener": 0,
        "KernelVersion": engine.kernel, "OperatingSystem": engine.os_name, "OSVersion": "24.04", "OSType": "linux",
        "Architecture": node.arch, "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {"AllowNondistributableArtifactsCIDRs": [], "AllowNondistributableArtifactsHostnames": [],
                           "InsecureRegistryCIDRs": ["127.0.0.0/8"],
                           "IndexConfigs": {"docker.io": {"Name": "docker.io", "Mirrors": [], "Secure": True,
                                                          "Official": True}}, "Mirrors": []},
        "NCPU": node.cpus, "MemTotal": node.mem_bytes, "GenericResources": None, "DockerRootDir": "/var/lib/docker",
        "HttpProxy": "", "HttpsProxy": "", "NoProxy": "", "Name": node.hostname, "Labels": [],
        "ExperimentalBuild": False, "ServerVersion": engine.version,
        "Runtimes": {"io.containerd.runc.v2": {"path": "runc"}, "runc": {"path": "runc"}},
        "DefaultRuntime": "runc", "Swarm": swarm_info(scenario, rendered, local_id), "LiveRestoreEnabled": False,
        "Isolation": "", "InitBinary": "docker-init",
        "ContainerdCommit": {"ID": "7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c", "Expected": "7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c"},
        "RuncCommit": {"ID": "v1.1.14-0-g2c9f560", "Expected": "v1.1.14-0-g2c9f560"},
        "InitCommit": {"ID": "de40ad0", "Expected": "de40ad0"},
        "SecurityOptions": ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"], "Warnings": None,
    }


def swarm_info(scenario: Scenario, rendered: Rendered, local_id: str) -> dict[str, Any]:
    if not scenario.swarm_active:
        return {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False,
                "Error": "", "RemoteManagers": None}
    local = next(n for n in rendered.nodes if n["ID"] == local_id)
    managers = [n for n in rendered.nodes if "ManagerStatus" in n]
    found: dict[str, Any] = {
        "NodeID": local_id, "NodeAddr": local["Status"]["Addr"], "LocalNodeState": "active",
        "ControlAvailable": "ManagerStatus" in local, "Error": "",
        "RemoteManagers": [{"NodeID": m["ID"], "Addr": m["ManagerStatus"]["Addr"]} for m in managers],
    }
    if "ManagerStatus" not in local:
        return found
    found["Nodes"] = len(rendered.nodes)
    found["Managers"] = len(managers)
    now = rendered.now_ns
    found["Cluster"] = {
        "ID": object_id(scenario.seed, "cluster"), "Version": {"Index": 10},
        "CreatedAt": timestamp(now - 31 * 86_400 * NANO), "UpdatedAt": timestamp(now - 31 * 86_400 * NANO + 530_743_000),
        "Spec": {"Name": scenario.cluster_name, "Labels": {},
                 "Orchestration": {"TaskHistoryRetentionLimit": scenario.history_limit},
                 "Raft": {"SnapshotInterval": 10000, "KeepOldSnapshots": 0, "LogEntriesForSlowFollowers": 500,
                          "ElectionTick": 10, "HeartbeatTick": 1},
                 "Dispatcher": {"HeartbeatPeriod": 5 * NANO}, "CAConfig": {"NodeCertExpiry": 7776000000000000},
                 "TaskDefaults": {}, "EncryptionConfig": {"AutoLockManagers": False}},
        "TLSInfo": TLS_INFO, "RootRotationInProgress": False, "DefaultAddrPool": ["10.0.0.0/8"],
        "SubnetSize": 24, "DataPathPort": 4789,
    }
    return found
