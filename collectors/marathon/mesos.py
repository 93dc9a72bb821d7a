"""Mesos agents → nodes, from the master's legacy JSON (`/master/state-summary`, `/master/state`;
wire shapes in `collectors.marathon.wire`). `active`, `deactivated` (Mesos ≥ 1.9) and
`drain_info` give the node's status:

    active                       → ready, schedulable
    deactivated or drain_info    → ready, not schedulable (an operator took it out of rotation)
    inactive and not deactivated → down (the agent disconnected; on Mesos < 1.9 the only way to
                                   be inactive without maintenance tooling)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from typing import Any

from collectors.marathon.wire import Agent, Resources
from collectors.toolkit import MIB
from fleet.model import Node

NOTHING = Resources()


def node_status(agent: Agent) -> tuple[str, bool]:
    """(status, schedulable) per the table in the module doc."""
    if agent.active and agent.drain_info is None:
        return "ready", True
    if agent.deactivated or agent.drain_info is not None:
        return "ready", False
    return "down", False


def allocatable(agent: Agent, role: str) -> Resources:
    """What Marathon may be offered: unreserved resources plus those reserved for its own role.

    Masters before 1.0 do not split reservations out; then the agent's whole size counts.
    """
    if agent.unreserved_resources is None:
        return agent.resources
    reserved = (agent.reserved_resources or {}).get(role) if role != "*" else None
    if reserved is None:
        return agent.unreserved_resources
    return Resources(round(agent.unreserved_resources.cpus + reserved.cpus, 6),
                     agent.unreserved_resources.mem + reserved.mem)


def attribute_text(value: Any) -> str:
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


def address(agent: Agent) -> str | None:
    """The IP in the agent's libprocess pid (`slave(1)@10.0.0.5:5051`), else its hostname."""
    host = (agent.pid or "").rpartition("@")[2].rpartition(":")[0]
    return host or agent.hostname or None


def to_node(agent: Agent, role: str, fallback_allocated: Resources | None) -> Node:
    """One agent as a node.

    Allocated = the agent's `used_resources`: what the master has handed to every framework's
    tasks and executors on it. That is the agent's real allocation (other frameworks and executor
    overhead included), which a sum over Marathon's own tasks would miss. Masters that do not
    report `used_resources` (0.x `/master/state`) fall back to the sum of Marathon's tasks there.
    """
    status, schedulable = ("ready", True) if agent.active and agent.drain_info is None else node_status(agent)
    used = agent.used_resources or fallback_allocated or NOTHING
    offerable = agent.unreserved_resources if role == "*" and agent.unreserved_resources else allocatable(agent, role)
    fault = agent.domain.fault_domain if agent.domain else None
    return Node(
        id=agent.id, name=agent.hostname or agent.id, status=status, schedulable=schedulable, roles=["agent"],
        address=address(agent),
        zone=fault.zone.name if fault and fault.zone and fault.zone.name else None,
        region=fault.region.name if fault and fault.region and fault.region.name else None,
        cpu_capacity_cores=agent.resources.cpus, mem_capacity_bytes=int(agent.resources.mem * MIB),
        cpu_allocatable_cores=offerable.cpus, mem_allocatable_bytes=int(offerable.mem * MIB),
        cpu_allocated_cores=used.cpus, mem_allocated_bytes=int(used.mem * MIB),
        labels={key: value if type(value) is str else attribute_text(value)
                for key, value in agent.attributes.items()},
        version=agent.version,
    )


@dataclass
class NodeMemo:
    """Last round's agents and the nodes they made, position by position (see `to_nodes`)."""

    agents: list[Agent] = field(default_factory=list)
    role: str = "*"
    fallback: dict[str, Resources] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)


def to_nodes(agents: list[Agent], role: str = "*", fallback_allocated: dict[str, Resources] | None = None,
             memo: NodeMemo | None = None) -> list[Node]:
    """With a `memo` (updated here): agents all equal to last round's, field by field, keep last
    round's nodes (the very list); otherwise each agent equal to its last self keeps its Node.
    The memo keeps this round's agents either way: the collector holds them too (for a master that
    fails next round), and 50,000 agents kept twice are tens of MB."""
    fallback = fallback_allocated or {}
    if memo is not None and memo.role == role and memo.fallback == fallback and memo.agents == agents:
        memo.agents = agents
        return memo.nodes
    last = {agent.id: (agent, node) for agent, node in zip(memo.agents, memo.nodes)} \
        if memo is not None and memo.role == role else {}
    last_fallback = memo.fallback if memo is not None else {}
    nodes = []
    for agent in agents:
        allocated = fallback.get(agent.id)
        seen = last.get(agent.id)
        if seen is not None and last_fallback.get(agent.id) == allocated and seen[0] == agent:
            node = seen[1]
        else:
            node = to_node(agent, role, allocated)
        nodes.append(node)
    if memo is not None:
        memo.agents, memo.role, memo.fallback, memo.nodes = agents, role, fallback, nodes
    return nodes


def host_index(agents: list[Agent]) -> dict[str, str]:
    """hostname → agent id, to place tasks of old Marathons that report only `host`."""
    return {agent.hostname: agent.id for agent in agents if agent.hostname}
