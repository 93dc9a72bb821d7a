"""Mesos agents as the master knows them, rendered in the master's legacy JSON shapes.

`/master/state-summary` and `/master/slaves` write each agent with the master's `SlaveWriter`
(id, hostname, pid, resources as flat `{cpus, mem, disk, gpus, ports}` maps with mem/disk in MB,
`used_resources`, `reserved_resources` by role, `unreserved_resources`, `attributes`, `active`,
`deactivated` and `drain_info` since 1.9, `domain` when the agent has a fault domain).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TASK_STATES = ("TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED",
               "TASK_KILLED", "TASK_FAILED", "TASK_LOST", "TASK_ERROR", "TASK_UNREACHABLE")


@dataclass
class Agent:
    id: str
    hostname: str
    ip: str
    cpus: float
    mem_mb: float
    disk_mb: float = 100_000.0
    gpus: float = 0.0
    attributes: dict[str, str | float] = field(default_factory=dict)
    region: str | None = None
    zone: str | None = None
    version: str = "1.11.0"
    # connected and not deactivated by an operator
    active: bool = True
    deactivated: bool = False
    draining: str | None = None  # DRAINING or DRAINED
    # resources reserved for a role: {role: {"cpus": .., "mem": ..}}
    reserved: dict[str, dict[str, float]] = field(default_factory=dict)
    used_cpus: float = 0.0
    used_mem_mb: float = 0.0
    task_counts: dict[str, int] = field(default_factory=dict)
    registered_time: float = 1_700_000_000.0

    @property
    def pid(self) -> str:
        return f"slave(1)@{self.ip}:5051"


def _resources(cpus: float, mem: float, disk: float, gpus: float, ports: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"cpus": round(cpus, 6), "mem": round(mem, 6), "disk": round(disk, 6), "gpus": gpus}
    if ports is not None:
        out["ports"] = ports
    return out


def total_resources(agent: Agent) -> dict[str, Any]:
    return _resources(agent.cpus, agent.mem_mb, agent.disk_mb, agent.gpus, "[31000-32000]")


def unreserved_resources(agent: Agent) -> dict[str, Any]:
    cpus = agent.cpus - sum(r.get("cpus", 0.0) for r in agent.reserved.values())
    mem = agent.mem_mb - sum(r.get("mem", 0.0) for r in agent.reserved.values())
    return _resources(cpus, mem, agent.disk_mb, agent.gpus, "[31000-32000]")


def used_resources(agent: Agent) -> dict[str, Any]:
    return _resources(agent.used_cpus, agent.used_mem_mb, 0.0, 0.0, None)


def domain(agent: Agent) -> dict[str, Any] | None:
    if not agent.region and not agent.zone:
        return None
    return {"fault_domain": {"region": {"name": agent.region or ""}, "zone": {"name": agent.zone or ""}}}


def slave_json(agent: Agent) -> dict[str, Any]:
    """One agent as the master's SlaveWriter writes it (shared by /slaves, /state, /state-summary)."""
    body: dict[str, Any] = {
        "id": agent.id,
        "hostname": agent.hostname,
        "port": 5051,
        "attributes": agent.attributes,
        "pid": agent.pid,
        "registered_time": agent.registered_time,
        "resources": total_resources(agent),
        "used_resources": used_resources(agent),
        "offered_resources": _resources(0.0, 0.0, 0.0, 0.0, None),
        "reserved_resources": {role: _resources(r.get("cpus", 0.0), r.get("mem", 0.0), 0.0, 0.0, None)
                               for role, r in agent.reserved.items()},
        "unreserved_resources": unreserved_resources(agent),
        "active": agent.active,
        "deactivated": agent.deactivated,
        "version": agent.version,
        "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT", "AGENT_DRAINING"],
    }
    fault_domain = domain(agent)
    if fault_domain:
        body["domain"] = fault_domain
    if agent.draining:
        body["drain_info"] = {"state": agent.draining,
                              "config": {"max_grace_period": {"nanoseconds": 600_000_000_000}, "mark_gone": False}}
        body["estimated_drain_start_time_seconds"] = agent.registered_time + 3600
    return body


def summary_json(agent: Agent, framework_id: str) -> dict[str, Any]:
    """A `/master/state-summary` agent: the SlaveWriter fields plus task counts by state."""
    body = slave_json(agent)
    for state in TASK_STATES:
        body[state] = agent.task_counts.get(state, 0)
    body["framework_ids"] = [framework_id] if agent.task_counts else []
    return body
