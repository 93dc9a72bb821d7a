"""How a large swarm's `/tasks` is split into requests: by service, about TASKS_PER_PART tasks each."""
from __future__ import annotations

from collectors.swarm import wire
from collectors.swarm.engine import TASKS_PER_PART, task_parts


def service(service_id: str, *, desired: int | None = None, replicas: int | None = None,
            global_mode: bool = False) -> wire.Service:
    mode = wire.ServiceMode(Global=wire.EmptyMode()) if global_mode else wire.ServiceMode(
        Replicated=wire.ReplicatedMode(Replicas=replicas))
    status = wire.ServiceStatus(DesiredTasks=desired) if desired is not None else None
    return wire.Service(ID=service_id, Spec=wire.ServiceSpec(Name=service_id, Mode=mode), ServiceStatus=status)


def test_a_small_swarm_is_one_part_and_no_service_is_none():
    assert task_parts([service(f"s{i}", desired=3) for i in range(50)], 12) == [sorted(f"s{i}" for i in range(50))]
    assert task_parts([], 12) == []


def test_parts_follow_the_tasks_meant_to_run_in_service_id_order():
    half = TASKS_PER_PART // 2
    services = [service("d", desired=half), service("a", desired=half), service("c", replicas=TASKS_PER_PART),
                service("b", desired=1), service("e", global_mode=True)]
    # a and b: half + 1; c alone (a part's worth); d; e alone (a global service: one task per node)
    assert task_parts(services, TASKS_PER_PART - 10) == [["a", "b"], ["c"], ["d"], ["e"]]
