"""Property: for any seed, size and set of problems, the normalizer reports what the scenario states.

No HTTP here: the emulators' renderers write the payloads, the collector's decoder and normalizer
read them, so many random clusters fit in a few seconds.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.marathon.fetch import APP_EMBEDS
from collectors.marathon.normalize import MarathonRaw, NormalizeMemo, apps_read_again, normalize
from collectors.marathon.wire import AgentList, AppList, AppSlices, Deployment, Info, PodStatus, Queue
from collectors.toolkit import MalformedPayload, decode
from sim.marathon import PROBLEMS, build
from sim.marathon.render import app_json, deployment_json, info_json, pod_status, queue_json
from sim.mesos.master import state_summary


def round_trip(scenario) -> MarathonRaw:
    state = scenario.marathon

    def wire(value, kind):
        return msgspec.json.decode(msgspec.json.encode(value), type=kind)

    return MarathonRaw(
        collected_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        info=wire(info_json(state, "127.0.0.1:8080", True), Info),
        apps=wire({"apps": [app_json(a, set(APP_EMBEDS)) for a in state.apps]}, AppList),
        pods=wire([pod_status(p) for p in state.pods], list[PodStatus]),
        queue=wire(queue_json(state), Queue),
        deployments=wire([deployment_json(d) for d in state.deployments], list[Deployment]),
        agents=wire(state_summary(scenario.mesos), AgentList).slaves)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), agents=st.integers(4, 40), apps=st.integers(0, 30), pods=st.integers(0, 3),
       problems=st.sets(st.sampled_from(PROBLEMS)))
def test_normalizer_agrees_with_any_scenario(seed, agents, apps, pods, problems):
    scenario = build(seed, agents=agents, apps=apps, pods=pods, problems=problems)
    expected = scenario.expected
    data = normalize(round_trip(scenario))
    assert dict(Counter(n.status for n in data.nodes)) == expected.nodes_by_status
    assert {n.id for n in data.nodes if not n.schedulable} == expected.unschedulable_nodes
    assert {w.id: w.status for w in data.workloads} == expected.workload_status
    assert dict(Counter(i.state for i in data.instances)) == expected.instances_by_state
    assert sum(i.health == "unhealthy" for i in data.instances) == expected.unhealthy_instances
    stuck = {e.object[len("App"):]: e.reason for e in data.events
             if e.reason not in ("Deployment", "TASK_FAILED", "LaunchDelayed")}
    assert stuck == expected.stuck_reasons
    assert data.degraded_reason is None


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), agents=st.integers(4, 40), apps=st.integers(0, 30),
       before=st.sets(st.sampled_from(PROBLEMS)), after=st.sets(st.sampled_from(PROBLEMS)),
       more_agents=st.integers(0, 3), changed=st.sets(st.integers(0, 29)))
def test_a_round_normalized_with_the_last_rounds_memo_equals_one_normalized_afresh(seed, agents, apps, before, after,
                                                                                  more_agents, changed):
    # the same cluster a round later: some apps and agents as they were, others changed by the
    # problems, the agents added, and apps scaled with a task lost
    memo = NormalizeMemo()
    normalize(round_trip(build(seed, agents=agents, apps=apps, pods=2, problems=before)), memo)
    later = round_trip(build(seed, agents=agents + more_agents, apps=apps, pods=2, problems=after))
    later.apps.apps = [lost_a_task(app) if index in changed else app for index, app in enumerate(later.apps.apps)]
    assert normalize(later, memo) == normalize(later)


def lost_a_task(app):
    tasks = app.tasks or []
    if tasks:
        tasks = [msgspec.structs.replace(tasks[0], state="TASK_LOST"), *tasks[1:]]
    return msgspec.structs.replace(app, instances=app.instances + 1, tasks=tasks)


def test_a_quiet_round_reuses_what_each_app_and_agent_became():
    scenario = build(7, agents=30, apps=20, pods=3, problems=set(PROBLEMS))
    memo = NormalizeMemo()
    first = normalize(round_trip(scenario), memo)
    again = normalize(round_trip(scenario), memo)
    assert again == first
    assert all(a is b for a, b in zip(again.workloads, first.workloads))
    assert all(a is b for a, b in zip(again.instances, first.instances))
    assert all(a is b for a, b in zip(again.nodes, first.nodes))


def test_apps_and_agents_read_again_and_found_equal_leave_one_read_alive():
    # the collector reads every app again every few minutes (hundreds of MB at 200,000 tasks) and the
    # agents every round, and keeps a read for quiet rounds: the read it keeps must be the one the
    # memo and the model's strings already hold, so that the other read is freed (app by app)
    scenario = build(8, agents=10, apps=12, pods=1, problems=set())
    memo = NormalizeMemo()
    first_read = round_trip(scenario)
    first = normalize(first_read, memo)
    second_read = round_trip(scenario)
    second_read.apps.apps[3] = lost_a_task(second_read.apps.apps[3])
    body = msgspec.json.encode(second_read.apps)
    kept = apps_read_again(msgspec.json.decode(body, type=AppSlices), memo, "GET /v2/apps on x").apps
    assert kept == second_read.apps.apps
    assert [app is old for app, old in zip(kept, first_read.apps.apps)] == [index != 3 for index in range(12)]
    second_read.apps = AppList(apps=kept)
    again = normalize(second_read, memo)
    assert all(a is b for a, b in zip(again.instances, first.instances) if a == b)  # what they became is reused
    assert again == normalize(second_read, NormalizeMemo())  # as if normalized afresh
    assert again.nodes is first.nodes and memo.nodes.agents is second_read.agents


def test_an_app_read_again_that_is_malformed_is_named_as_a_whole_read_would_name_it():
    scenario = build(9, agents=4, apps=3, pods=0, problems=set())
    memo = NormalizeMemo()
    normalize(round_trip(scenario), memo)
    body = msgspec.json.encode({"apps": [app_json(a, set(APP_EMBEDS)) for a in scenario.marathon.apps]})
    broken = body.replace(b'"instances":', b'"instances":"many","was":', 1)
    with pytest.raises(MalformedPayload) as caught:
        apps_read_again(msgspec.json.decode(broken, type=AppSlices), memo, "GET /v2/apps on http://marathon:8080")
    with pytest.raises(MalformedPayload) as whole:
        decode(broken, AppList, "GET /v2/apps on http://marathon:8080")
    assert str(caught.value) == str(whole.value)
    assert "`$.apps[0].instances`" in str(caught.value)
