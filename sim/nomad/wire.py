"""Render the emulator's records in Nomad's JSON shapes (api package structs, Nomad 1.7).

Stubs are what list endpoints return; the full objects are what `/v1/<thing>/:id` returns.
Field names and units follow upstream: CPU in MHz, memory in MB (MiB), times in unix
nanoseconds except where Nomad writes RFC 3339 strings.
"""
from __future__ import annotations

import zlib
from typing import Any

from sim.nomad import services
from sim.nomad.model import MIB, NANOS, Alloc, Deployment, Evaluation, Group, Job, Node, Region, TaskEvent

DRIVER_HEALTH = "Healthy"


def node_stub(node: Node, *, resources: bool, os: bool) -> dict[str, Any]:
    stub: dict[str, Any] = {
        "Address": node.address, "ID": node.id, "Attributes": {"os.name": node.os_name} if os else None,
        "Datacenter": node.datacenter, "Name": node.name, "NodeClass": node.node_class, "NodePool": node.pool,
        "Version": node.version, "Drain": node.draining, "SchedulingEligibility": _eligibility(node),
        "Status": node.status, "StatusDescription": "", "Drivers": drivers(node), "HostVolumes": None,
        "LastDrain": _last_drain(node), "CreateIndex": node.create_index, "ModifyIndex": node.modify_index,
    }
    if resources:
        stub["NodeResources"] = node_resources(node)
        stub["ReservedResources"] = reserved_resources(node)
    return stub


def node_full(node: Node) -> dict[str, Any]:
    full = node_stub(node, resources=True, os=False)
    del full["Address"], full["Version"]
    full.update({
        "Attributes": attributes(node), "Meta": {"rack": f"r{int(node.address.rsplit('.', 1)[1]) % 8}"},
        "HTTPAddr": f"{node.address}:4646", "TLSEnabled": True, "SecretID": "",
        "ComputedClass": f"v1:{zlib.crc32(node.node_class.encode())}", "Links": {},
        "Resources": {"CPU": node.cpu_mhz, "MemoryMB": node.memory_mb, "DiskMB": 102400, "IOPS": 0,
                      "Networks": None, "Devices": None},
        "Reserved": {"CPU": node.reserved_mhz, "MemoryMB": node.reserved_memory_mb, "DiskMB": 0, "IOPS": 0,
                     "Networks": None, "Devices": None},
        "DrainStrategy": {"Deadline": 3600 * NANOS, "ForceDeadline": "2030-01-01T00:00:00Z",
                          "IgnoreSystemJobs": False, "StartedAt": "2026-01-01T00:00:00Z"} if node.draining else None,
        "Events": [{"Message": "Node registered", "Subsystem": "Cluster", "Details": None,
                    "Timestamp": "2026-01-01T00:00:00Z", "CreateIndex": node.create_index}],
        "StatusUpdatedAt": node.status_updated_at, "CSIControllerPlugins": None, "CSINodePlugins": None,
        "HostNetworks": None, "CgroupParent": "nomad.slice",
    })
    return full


def attributes(node: Node) -> dict[str, str]:
    return {
        "cpu.arch": node.arch, "cpu.frequency": str(node.mhz_per_core), "cpu.numcores": str(node.cores),
        "cpu.totalcompute": str(node.cpu_mhz), "cpu.modelname": "AMD EPYC 7B13", "kernel.name": "linux",
        "kernel.version": "6.8.0-45-generic", "os.name": node.os_name, "os.version": "24.04",
        "memory.totalbytes": str(node.memory_mb * MIB), "nomad.version": node.version,
        "nomad.advertise.address": f"{node.address}:4646", "unique.hostname": node.name,
        "unique.network.ip-address": node.address,
        **{f"driver.{d}": "1" for d in node.drivers},
    }


def drivers(node: Node) -> dict[str, Any]:
    found = {}
    for name in ("docker", "exec", "java", "qemu", "raw_exec"):
        detected = name in node.drivers and node.status != "initializing"
        found[name] = {"Attributes": {f"driver.{name}": "true"} if detected else None, "Detected": detected,
                       "Healthy": detected, "HealthDescription": DRIVER_HEALTH if detected else "",
                       "UpdateTime": "2026-01-01T00:00:00Z"}
    return found


def node_resources(node: Node) -> dict[str, Any]:
    return {"Cpu": {"CpuShares": node.cpu_mhz, "TotalCpuCores": node.cores,
                    "ReservableCpuCores": list(range(node.cores))},
            "Memory": {"MemoryMB": node.memory_mb}, "Disk": {"DiskMB": 102400}, "Devices": None,
            "Networks": [{"Mode": "host", "Device": "eth0", "CIDR": f"{node.address}/32", "IP": node.address,
                          "MBits": 1000}],
            "MinDynamicPort": 20000, "MaxDynamicPort": 32000}


def reserved_resources(node: Node) -> dict[str, Any]:
    return {"Cpu": {"CpuShares": node.reserved_mhz}, "Memory": {"MemoryMB": node.reserved_memory_mb},
            "Disk": {"DiskMB": 0}, "Networks": {"ReservedHostPorts": "22"}}


def _eligibility(node: Node) -> str:
    return "eligible" if node.eligible and not node.draining else "ineligible"


def _last_drain(node: Node) -> dict[str, Any] | None:
    if not node.draining:
        return None
    return {"StartedAt": "2026-01-01T00:00:00Z", "UpdatedAt": "2026-01-01T00:00:00Z", "Status": "draining",
            "AccessorID": "", "Meta": {"message": "kernel upgrade"}}


# --- jobs ----------------------------------------------------------------------------------------

def job_summary(job: Job, allocs: list[Alloc], queued: dict[str, int]) -> dict[str, Any]:
    groups = {g.name: {"Queued": queued.get(g.name, 0), "Complete": 0, "Failed": 0, "Running": 0,
                       "Starting": 0, "Lost": 0, "Unknown": 0} for g in job.groups}
    key = {"complete": "Complete", "failed": "Failed", "running": "Running", "pending": "Starting",
           "lost": "Lost", "unknown": "Unknown"}
    for alloc in allocs:
        groups[alloc.group.name][key[alloc.client_status]] += 1
    return {"JobID": job.id, "Namespace": job.namespace, "Summary": groups,
            "Children": {"Pending": 0, "Running": 0, "Dead": 0},
            "CreateIndex": job.create_index, "ModifyIndex": job.modify_index}


def job_stub(job: Job, summary: dict[str, Any]) -> dict[str, Any]:
    return {"ID": job.id, "ParentID": "", "Name": job.name, "Namespace": job.namespace,
            "Datacenters": job.datacenters, "NodePool": "default", "Multiregion": None, "Type": job.type,
            "Priority": job.priority, "Periodic": job.periodic, "ParameterizedJob": False, "Stop": job.stop,
            "Status": job.status, "StatusDescription": "", "JobSummary": summary,
            "CreateIndex": job.create_index, "ModifyIndex": job.modify_index,
            "JobModifyIndex": job.job_modify_index, "SubmitTime": job.submit_time_ns}


def job_full(job: Job) -> dict[str, Any]:
    groups = []
    for group in job.groups:
        tasks = [{"Name": t.name, "Driver": t.driver, "User": "", "Config": t.config, "Env": None,
                  "Services": None, "Constraints": None, "Affinities": None, "Meta": None,
                  "Resources": {"CPU": t.cpu_mhz, "Cores": 0, "MemoryMB": t.memory_mb, "MemoryMaxMB": 0,
                                "DiskMB": 0, "IOPS": 0, "Networks": None, "Devices": None},
                  "KillTimeout": 5 * NANOS, "LogConfig": {"MaxFiles": 10, "MaxFileSizeMB": 10},
                  "Artifacts": None, "Leader": False, "Lifecycle": None} for t in group.tasks]
        groups.append({"Name": group.name, "Count": group.count, "Tasks": tasks, "Constraints": None,
                       "RestartPolicy": {"Attempts": 2, "Interval": 1800 * NANOS, "Delay": 15 * NANOS,
                                         "Mode": "fail"},
                       "Update": _update() if job.has_update else None,
                       "EphemeralDisk": {"Sticky": False, "SizeMB": 300, "Migrate": False}, "Meta": None,
                       "Networks": _networks(group), "Services": services.group_services(group),
                       "Scaling": services.group_scaling(job, group)})
    return {"Region": job.region, "Namespace": job.namespace, "ID": job.id, "ParentID": "", "Name": job.name,
            "Type": job.type, "Priority": job.priority, "AllAtOnce": False, "Datacenters": job.datacenters,
            "NodePool": "default", "Constraints": None, "Affinities": None, "Spreads": None, "TaskGroups": groups,
            "Update": _update() if job.has_update else {"Stagger": 0, "MaxParallel": 0},
            "Multiregion": None, "Periodic": None, "ParameterizedJob": None, "Dispatched": False,
            "Payload": None, "Meta": None, "ConsulToken": "", "VaultToken": "", "Stop": job.stop,
            "Status": job.status, "StatusDescription": "", "Stable": not job.stop, "Version": job.version,
            "SubmitTime": job.submit_time_ns, "CreateIndex": job.create_index, "ModifyIndex": job.modify_index,
            "JobModifyIndex": job.job_modify_index}


def _networks(group: Group) -> list[dict[str, Any]] | None:
    """The group network a service's port label refers to (dynamic ports)."""
    labels = sorted({s.port_label for s in group.services})
    if not labels:
        return None
    return [{"Mode": "bridge", "Device": "", "CIDR": "", "IP": "", "Hostname": "", "MBits": 0, "DNS": None,
             "ReservedPorts": None, "DynamicPorts": [{"Label": label, "Value": 0, "To": 8080, "HostNetwork": "default"}
                                                     for label in labels]}]


def _update() -> dict[str, Any]:
    return {"Stagger": 30 * NANOS, "MaxParallel": 1, "HealthCheck": "checks", "MinHealthyTime": 10 * NANOS,
            "HealthyDeadline": 300 * NANOS, "ProgressDeadline": 600 * NANOS, "AutoRevert": False,
            "AutoPromote": False, "Canary": 0}


# --- allocations ---------------------------------------------------------------------------------

def alloc_stub(alloc: Alloc, *, resources: bool, task_states: bool) -> dict[str, Any]:
    stub: dict[str, Any] = {
        "ID": alloc.id, "EvalID": alloc.eval_id, "Name": alloc.name, "Namespace": alloc.namespace,
        "NodeID": alloc.node.id, "NodeName": alloc.node.name, "JobID": alloc.job.id, "JobType": alloc.job.type,
        "JobVersion": alloc.job_version, "TaskGroup": alloc.group.name, "DesiredStatus": alloc.desired_status,
        "DesiredDescription": alloc.desired_description, "ClientStatus": alloc.client_status,
        "ClientDescription": alloc.client_description,
        "DesiredTransition": {"Migrate": True if alloc.migrate else None, "Reschedule": None,
                              "ForceReschedule": None},
        "DeploymentStatus": _deployment_status(alloc), "FollowupEvalID": "",
        "RescheduleTracker": _reschedule_tracker(alloc), "PreemptedAllocations": None,
        "PreemptedByAllocation": "", "CreateIndex": alloc.create_index, "ModifyIndex": alloc.modify_index,
        "CreateTime": alloc.create_time_ns, "ModifyTime": alloc.modify_time_ns,
        "TaskStates": task_states_of(alloc) if task_states else None,
    }
    if resources:
        stub["AllocatedResources"] = allocated_resources(alloc)
    return stub


def alloc_full(alloc: Alloc) -> dict[str, Any]:
    full = alloc_stub(alloc, resources=True, task_states=True)
    del full["JobType"], full["NodeName"]
    tasks = {t.name: {"CPU": t.cpu_mhz, "MemoryMB": t.memory_mb, "DiskMB": 0, "Networks": None}
             for t in alloc.group.tasks}
    full.update({"Job": job_full(alloc.job), "DeploymentID": alloc.deployment_id,
                 "AllocModifyIndex": alloc.create_index,
                 "NextAllocation": alloc.next_id, "PreviousAllocation": alloc.previous_id,
                 "Resources": {"CPU": sum(t["CPU"] for t in tasks.values()),
                               "MemoryMB": sum(t["MemoryMB"] for t in tasks.values()), "DiskMB": 300},
                 "SharedResources": {"CPU": 0, "MemoryMB": 0, "DiskMB": 300, "Networks": None},
                 "TaskResources": tasks, "Metrics": {"NodesEvaluated": 3, "NodesFiltered": 0,
                                                     "NodesExhausted": 0, "AllocationTime": 41000,
                                                     "CoalescedFailures": 0}})
    return full


def allocated_resources(alloc: Alloc) -> dict[str, Any]:
    return {"Tasks": {t.name: {"Cpu": {"CpuShares": t.cpu_mhz, "ReservedCores": None},
                               "Memory": {"MemoryMB": t.memory_mb, "MemoryMaxMB": 0},
                               "Networks": None, "Devices": None} for t in alloc.group.tasks},
            "TaskLifecycles": {t.name: None for t in alloc.group.tasks},
            "Shared": {"DiskMB": 300, "Networks": None, "Ports": None}}


def _deployment_status(alloc: Alloc) -> dict[str, Any] | None:
    if alloc.healthy is None:
        return None
    return {"Healthy": alloc.healthy, "Timestamp": "2026-01-01T00:00:00Z", "Canary": False,
            "ModifyIndex": alloc.modify_index}


def _reschedule_tracker(alloc: Alloc) -> dict[str, Any] | None:
    if not alloc.previous_id:
        return None
    return {"Events": [{"PrevAllocID": alloc.previous_id, "PrevNodeID": "", "RescheduleTime": alloc.create_time_ns,
                        "Delay": 30 * NANOS}], "LastReschedule": "ok"}


def task_states_of(alloc: Alloc) -> dict[str, Any]:
    states = {}
    for task in alloc.group.tasks:
        failing = task.name == alloc.failing_task
        state = {"pending": "pending", "failed": "dead", "complete": "dead", "lost": "dead"}.get(
            alloc.client_status, "running")
        events = alloc.events if failing else [
            TaskEvent("Received", alloc.create_time_ns, "Task received by client"),
            TaskEvent("Started", alloc.create_time_ns + 2 * NANOS, "Task started by client")]
        states[task.name] = {
            "State": state, "Failed": failing and alloc.client_status == "failed",
            "Restarts": alloc.restarts if failing else 0, "LastRestart": None,
            "StartedAt": alloc.started_at, "FinishedAt": alloc.finished_at,
            "Events": [task_event(e) for e in events], "TaskHandle": None}
    return states


def task_event(event: TaskEvent) -> dict[str, Any]:
    return {"Type": event.type, "Time": event.time_ns, "DisplayMessage": event.message,
            "Details": dict(event.details), "FailsTask": event.fails_task, "RestartReason": event.restart_reason,
            "SetupError": "", "DriverError": event.driver_error, "ExitCode": event.exit_code, "Signal": 0,
            "Message": "", "KillTimeout": 0, "KillError": "", "KillReason": "", "StartDelay": 0,
            "DownloadError": "", "ValidationError": "", "DiskLimit": 0, "FailedSibling": "", "VaultError": "",
            "TaskSignalReason": "", "TaskSignal": "", "DriverMessage": "", "GenericSource": ""}


# --- deployments, evaluations, agent -------------------------------------------------------------

def deployment(d: Deployment) -> dict[str, Any]:
    groups = {name: {"AutoRevert": g.auto_revert, "AutoPromote": False, "Promoted": g.promoted,
                     "PlacedCanaries": None, "DesiredCanaries": g.desired_canaries, "DesiredTotal": g.desired_total,
                     "PlacedAllocs": g.placed, "HealthyAllocs": g.healthy, "UnhealthyAllocs": g.unhealthy,
                     "ProgressDeadline": 600 * NANOS, "RequireProgressBy": "2030-01-01T00:00:00Z"}
              for name, g in d.groups.items()}
    return {"ID": d.id, "Namespace": d.job.namespace, "JobID": d.job.id, "JobVersion": d.job_version,
            "JobModifyIndex": d.job.job_modify_index, "JobSpecModifyIndex": d.job.job_modify_index,
            "JobCreateIndex": d.job.create_index, "IsMultiregion": False, "TaskGroups": groups,
            "Status": d.status, "StatusDescription": d.description, "EvalPriority": d.job.priority,
            "CreateIndex": d.create_index, "ModifyIndex": d.modify_index}


def evaluation(e: Evaluation) -> dict[str, Any]:
    failed = {f.group: {"NodesEvaluated": f.nodes_evaluated, "NodesFiltered": 0, "NodesInPool": f.nodes_evaluated,
                        "NodesAvailable": f.nodes_available, "ClassFiltered": None, "ConstraintFiltered": None,
                        "NodesExhausted": f.nodes_exhausted, "ClassExhausted": None,
                        "DimensionExhausted": {f.dimension: f.nodes_exhausted}, "QuotaExhausted": None,
                        "ResourcesExhausted": None, "Scores": None, "ScoreMetaData": None,
                        "AllocationTime": 52000, "CoalescedFailures": f.coalesced} for f in e.failures}
    return {"ID": e.id, "Namespace": e.job.namespace, "Priority": e.job.priority, "Type": e.job.type,
            "TriggeredBy": e.triggered_by, "JobID": e.job.id, "JobModifyIndex": e.job.job_modify_index,
            "NodeID": "", "NodeModifyIndex": 0, "DeploymentID": "", "Status": e.status,
            "StatusDescription": "created due to placement conflicts" if e.status == "blocked" else "",
            "Wait": 0, "WaitUntil": None, "NextEval": "", "PreviousEval": "", "BlockedEval": "",
            "RelatedEvals": None, "FailedTGAllocs": failed or None, "ClassEligibility": {"v1:1": False},
            "EscapedComputedClass": False, "AnnotatePlan": False, "QuotaLimitReached": "",
            "QueuedAllocations": e.queued, "SnapshotIndex": e.create_index, "CreateIndex": e.create_index, "ModifyIndex": e.modify_index,
            "CreateTime": e.create_time_ns, "ModifyTime": e.create_time_ns}


def agent_self(region: Region, version: str, acl: bool) -> dict[str, Any]:
    server = f"{region.name}-server-1"
    address = region.leader.rsplit(":", 1)[0]
    return {"config": {"Region": region.name, "Datacenter": region.datacenters[0], "NodeName": server,
                       "Version": {"Version": version, "VersionPrerelease": "", "VersionMetadata": "",
                                   "Revision": "8e9c2d4b0d2c8ed2a9b1b2d5b1f2e4b9c2f8a1d3"},
                       "ACL": {"Enabled": acl}, "Server": {"Enabled": True}, "Client": {"Enabled": False}},
            "member": {"Name": f"{server}.{region.name}", "Addr": address, "Port": 4648, "Status": "alive",
                       "Tags": {"region": region.name, "dc": region.datacenters[0], "build": version,
                                "role": "nomad", "port": "4647", "rpc_addr": address}},
            "stats": {"nomad": {"leader": "true", "known_regions": "2"}}}


def host_stats(node: Node, now_ns: int) -> dict[str, Any]:
    per_core = node.cpu_used_mhz / node.cpu_mhz * 100 if node.cpu_mhz else 0.0
    return {"Memory": {"Total": node.memory_mb * MIB, "Used": node.memory_used_mb * MIB,
                       "Available": (node.memory_mb - node.memory_used_mb) * MIB,
                       "Free": (node.memory_mb - node.memory_used_mb) * MIB},
            "CPU": [{"CPU": f"cpu{i}", "User": per_core * 0.7, "System": per_core * 0.3, "Idle": 100 - per_core,
                     "Total": per_core} for i in range(node.cores)],
            "CPUTicksConsumed": node.cpu_used_mhz, "DiskStats": [], "DeviceStats": [],
            "AllocDirStats": {"Device": "/dev/sda1", "Mountpoint": "/opt/nomad", "Size": 107374182400,
                              "Used": 1073741824, "Available": 106300440576, "UsedPercent": 1.0,
                              "InodesUsedPercent": 0.5},
            "Uptime": 864000, "Timestamp": now_ns}


def alloc_stats(alloc: Alloc, now_ns: int) -> dict[str, Any]:
    tasks = {}
    for task in alloc.group.tasks:
        usage = {"MemoryStats": {"RSS": task.memory_mb * MIB // 3, "Cache": 0, "Swap": 0,
                                 "Usage": task.memory_mb * MIB // 2, "MaxUsage": task.memory_mb * MIB // 2,
                                 "KernelUsage": 0, "KernelMaxUsage": 0, "Measured": ["RSS", "Usage"]},
                 "CpuStats": {"SystemMode": 1.2, "UserMode": 4.8, "TotalTicks": task.cpu_mhz * 0.4,
                              "ThrottledPeriods": 0, "ThrottledTime": 0, "Percent": 6.0,
                              "Measured": ["System Mode", "User Mode", "Percent"]},
                 "DeviceStats": None}
        tasks[task.name] = {"ResourceUsage": usage, "Timestamp": now_ns, "Pids": None}
    first = next(iter(tasks.values()))["ResourceUsage"]
    return {"ResourceUsage": first, "Tasks": tasks, "Timestamp": now_ns}
