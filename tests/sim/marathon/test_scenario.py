"""Scenarios: sizes are honoured, problems are switchable, time makes problems come and go, demo works."""
from __future__ import annotations

import time

from sim.marathon import PROBLEMS, Timeline, build, demo
from sim.marathon.cluster import FailureTicker
from sim.marathon.server import MarathonServer
from tests.sim.marathon.harness import collect_config


def test_sizes_are_honoured():
    scenario = build(1, agents=30, apps=40, pods=3, instances_per_app=2)
    assert len(scenario.mesos.agents) == 30
    assert len(scenario.marathon.apps) == 40
    assert len(scenario.marathon.pods) == 3


def test_same_seed_same_cluster():
    first, second = build(9), build(9)
    assert [t.id for a in first.marathon.apps for t in a.tasks] == [t.id for a in second.marathon.apps for t in a.tasks]


def test_tasks_run_only_on_active_agents_except_the_one_lost_with_its_agent():
    scenario = build(2)
    agents = {a.id: a for a in scenario.mesos.agents}
    placed = [(t.state, agents[t.agent_id]) for a in scenario.marathon.apps for t in a.tasks]
    assert all(agent.active for state, agent in placed if state != "TASK_UNREACHABLE")
    assert [agent.active for state, agent in placed if state == "TASK_UNREACHABLE"] == [False]


def test_without_problems_everything_is_healthy():
    expected = build(3, problems=[]).expected
    assert expected.workloads_by_status == {"healthy": 22}
    assert expected.nodes_by_status == {"ready": 15}
    assert expected.unschedulable_nodes == set()


def test_timeline_problems_come_and_go_with_the_clock():
    now = [0.0]
    timeline = Timeline(4, period_s=60, clock=lambda: now[0])
    first = timeline.current()
    assert timeline.current() is first  # same phase, same scenario
    seen = []
    for phase in range(3):
        now[0] = phase * 60.0 + 1
        seen.append(set(timeline.problems_in(phase)))
        assert timeline.current().expected.workload_status.keys() >= {a.id for a in timeline.current().marathon.apps}
    assert set().union(*seen) == set(PROBLEMS)
    assert all(s != set(PROBLEMS) for s in seen)
    assert len({frozenset(s) for s in seen}) == 3


def test_demo_starts_marathon_and_mesos_and_reads_like_its_scenario():
    cluster = demo(seed=0)
    try:
        assert len(cluster.servers) == 2
        assert cluster.config["orchestrator"] == "marathon"
        data = collect_config(cluster.config)
        assert len(data.nodes) == 15
        assert len(data.workloads) == 22
    finally:
        cluster.stop()


def test_failure_ticker_publishes_the_crash_looping_apps_failures():
    scenario = build(0, problems=["crash_backoff"])
    api = MarathonServer(lambda: scenario.marathon)
    ticker = FailureTicker(api, lambda: scenario, every_s=0.05)
    try:
        deadline = time.monotonic() + 20
        while not api._events and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        ticker.stop()
    event_type, payload = api._events[0]
    assert (event_type, payload["taskStatus"]) == ("status_update_event", "TASK_FAILED")
    assert payload["appId"] == next(iter(scenario.expected.task_failures))


def test_a_scenario_that_moves_on_announces_what_changed():
    import copy

    from sim.marathon.events import changes
    from sim.marathon.model import HealthResult

    calm = build(4, problems=[]).marathon
    assert list(changes(calm, build(4, problems=[]).marathon)) == []
    later = copy.deepcopy(calm)
    failed, unhealthy, scaled = later.apps[0].tasks[0], later.apps[1].tasks[0], later.apps[2]
    failed.state = "TASK_FAILED"
    unhealthy.health = [HealthResult(alive=False, consecutive_failures=3)]
    scaled.instances += 1
    gone = later.apps.pop()
    announced = [(event_type, payload.get("taskId") or payload.get("appId") or payload.get("uri"))
                 for event_type, payload in changes(calm, later)]
    assert sorted(announced) == sorted([
        ("status_update_event", failed.id), ("health_status_changed_event", unhealthy.id),
        ("api_post_event", f"/v2/apps{scaled.id}"), ("app_terminated_event", gone.id)])
    kinds = {event_type for event_type, _ in changes(calm, build(4).marathon)}
    assert {"deployment_info", "api_post_event"} <= kinds
