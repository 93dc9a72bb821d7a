"""Which tasks a service has, where, in what state, and the history each slot keeps.

Replicated slots stay where they were placed (round-robin over the nodes the reservations fit)
unless that node is drained or down: then the old task stays in the slot's history (shut down, or
still "running" as last reported by a node that stopped answering) and a replacement runs on a
schedulable node. Global services have one task per ready, undrained node. A failing image leaves
a pending replacement after rejected attempts; a failing health check a starting one after failed
attempts. A slot keeps at most `history_limit` task objects, as TaskHistoryRetentionLimit does.
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.swarm.ids import NANO, object_id
from sim.swarm.scenario import NO_IMAGE, NodeDef, Scenario, ServiceDef, fits, keeps_global_task, placeable_on

MINUTE_NS = 60 * NANO
RESTART_DELAY_NS = 5 * NANO
UNHEALTHY_EXIT = "task: non-zero exit (137): dockerexec: unhealthy container"


@dataclass
class TaskPlan:
    task_id: str
    slot: int  # 0 for a global task
    node_id: str  # "" when not assigned
    state: str
    desired: str
    message: str
    created_ns: int
    status_ns: int
    version: int
    ordinal: int
    err: str = ""
    exit_code: int = 0


class _Slot:
    """Builds one slot's tasks, newest last, with times going back from `now`."""

    def __init__(self, scenario: Scenario, service: ServiceDef, slot: int, key: str, now: int, ordinal: int):
        self.scenario, self.service, self.slot, self.key = scenario, service, slot, key
        self.now, self.ordinal = now, ordinal
        self.plans: list[TaskPlan] = []

    def add(self, generation: int, node_id: str, state: str, desired: str, message: str, created_ns: int,
            err: str = "", exit_code: int = 0, took_ns: int = 2 * NANO) -> None:
        self.plans.append(TaskPlan(object_id(self.scenario.seed, "task", self.service.name, self.key, generation), self.slot,
                                   node_id, state, desired, message, created_ns, created_ns + took_ns,
                                   100 + self.ordinal * 7 + generation, self.ordinal, err, exit_code))

    def failing(self, node_id: str) -> None:
        """Attempts spaced by the restart delay, the newest a replacement not yet up."""
        attempts = self.scenario.history_limit - 1
        for generation in range(attempts):
            created = self.now - (attempts - generation + 1) * RESTART_DELAY_NS
            if self.service.failure == NO_IMAGE:
                self.add(generation, node_id, "rejected", "shutdown", "preparing", created,
                         err=f"No such image: {self.service.image.split('@', 1)[0]}", took_ns=NANO // 5)
            else:
                self.add(generation, node_id, "failed", "shutdown", "starting", created, err=UNHEALTHY_EXIT,
                         exit_code=137, took_ns=4 * NANO)
        created = self.now - RESTART_DELAY_NS
        if self.service.failure == NO_IMAGE:
            self.add(attempts, "", "pending", "ready", "pending task scheduling", created)
        else:
            self.add(attempts, node_id, "starting", "running", "starting", created)

    def history(self, node_id: str, count: int) -> int:
        """Earlier versions of the task from past updates, shut down; returns the next generation."""
        for generation in range(count):
            created = self.now - (count - generation + 2) * 60 * MINUTE_NS
            self.add(generation, node_id, "shutdown", "shutdown", "shutdown", created, took_ns=58 * MINUTE_NS)
        return count


def plan_tasks(scenario: Scenario, service: ServiceDef, service_id: str, node_ids: dict[str, str],
               now: int) -> list[TaskPlan]:
    if service.mode == "global":
        return _global(scenario, service, node_ids, now)
    return _replicated(scenario, service, node_ids, now)


def _replicated(scenario: Scenario, service: ServiceDef, node_ids: dict[str, str], now: int) -> list[TaskPlan]:
    fitting = [n for n in scenario.nodes if fits(n, service) and n.availability != "pause"]
    placeable = placeable_on(scenario, service)
    offset = sum(map(ord, service.name))
    plans: list[TaskPlan] = []
    for slot in range(1, service.replicas + 1):
        one = _Slot(scenario, service, slot, str(slot), now, offset + slot)
        original = fitting[(offset + slot) % len(fitting)] if fitting else None
        stays = original is not None and original.state == "ready" and original.availability != "drain"
        target = original if stays else (placeable[(offset + slot) % len(placeable)] if placeable else None)
        room = scenario.history_limit - 1 - (0 if stays or original is None else 1)
        generation = one.history(node_ids[original.hostname], min(service.history, room)) if original else 0
        if original is not None and not stays:
            _moved_away(one, generation, original, node_ids)
            generation += 1
        if target is None:
            one.add(generation + 1, "", "pending", "running", "pending task scheduling", now - 20 * MINUTE_NS,
                    err=f"no suitable node (insufficient resources on {len(scenario.nodes)} nodes)")
        elif service.failure:
            one.plans = one.plans[:0]
            one.failing(node_ids[target.hostname])
        else:
            one.add(generation + 1, node_ids[target.hostname], "running", "running", "started",
                    now - (2 * 60 + slot % 50) * MINUTE_NS)
        plans.extend(one.plans)
    return plans


def _moved_away(one: _Slot, generation: int, node: NodeDef, node_ids: dict[str, str]) -> None:
    """The task that ran on a node now drained (shut down) or down (last reported running)."""
    created = one.now - (2 * 60 + 30) * MINUTE_NS
    if node.availability == "drain" and node.state == "ready":
        one.add(generation, node_ids[node.hostname], "shutdown", "shutdown", "shutdown", created,
                took_ns=2 * 60 * MINUTE_NS)
    else:
        one.add(generation, node_ids[node.hostname], "running", "shutdown", "started", created)


def _global(scenario: Scenario, service: ServiceDef, node_ids: dict[str, str], now: int) -> list[TaskPlan]:
    plans: list[TaskPlan] = []
    for index, node in enumerate(scenario.nodes):
        node_id = node_ids[node.hostname]
        one = _Slot(scenario, service, 0, node_id, now, index)
        generation = one.history(node_id, min(service.history, scenario.history_limit - 1))
        if keeps_global_task(node):
            if service.failure:
                one.plans = []
                one.failing(node_id)
            else:
                one.add(generation, node_id, "running", "running", "started", now - (3 * 60 + index % 50) * MINUTE_NS)
        else:
            _moved_away(one, generation, node, node_ids)
        plans.extend(one.plans)
    return plans
