"""Marathon's event stream: SSE parsing on Marathon's own example, failures kept between polls."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from collectors.marathon.fetch import MarathonCollector
from collectors.marathon.events import parse_sse, to_event
from sim.marathon import build
from tests.sim.marathon.harness import config, running
from tests.upstream import upstream_path

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def example_events() -> list[tuple[str, str]]:
    text = upstream_path("specs/marathon/raml/v2/examples/events.txt").read_text()
    return list(parse_sse(text.splitlines(keepends=True)))


def test_marathons_example_stream_parses_into_its_three_events():
    assert [event_type for event_type, _ in example_events()] == [
        "event_stream_attached", "status_update_event", "status_update_event"]


def test_failed_task_update_becomes_a_warning_at_its_own_time():
    _, failed, running_update = example_events()
    task_id, event = to_event(*failed, NOW)
    assert task_id == "foo.0664256e-6771-11e5-94e1-be5b2935a987"
    assert (event.severity, event.object, event.reason) == ("warning", "App/foo", "TASK_FAILED")
    assert event.time == datetime(2015, 9, 30, 12, 44, 45, 681000, tzinfo=timezone.utc)
    assert event.message == ("task foo.0664256e-6771-11e5-94e1-be5b2935a987 on srv5.hw.ca1.mesosphere.com: Failed "
                             "to launch container: Failed to fetch all URIs for container "
                             "'59d5cd89-091f-4454-940a-d9eb4361c640' with exit status: 256")
    assert to_event(*running_update, NOW) is None


def test_unhealthy_kill_and_garbage_data():
    _, event = to_event("unhealthy_task_kill_event", '{"appId": "/a", "taskId": "a.1", "reason": "HTTP 500"}', NOW)
    assert (event.reason, event.time, event.message) == (
        "UnhealthyTaskKilled", NOW, "task a.1 killed after failing health checks: HTTP 500")
    assert to_event("status_update_event", "not json", NOW) is None


def test_sse_comments_multiline_data_and_a_last_event_without_blank_line():
    lines = [": keep-alive\n", "event: x\n", "data: {\"a\":\n", "data: 1}\n", "\n", "data: tail\n"]
    assert list(parse_sse(lines)) == [("x", '{"a":\n1}'), ("message", "tail")]


def wait_for(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_failure_between_polls_reaches_the_next_round():
    scenario = build(0, problems=[])
    with running(scenario) as cluster:
        collector = MarathonCollector(config(cluster.marathon.url, cluster.mesos.url))
        try:
            first = collector.collect(timeout_s=10)
            assert collector.feed._thread is None  # one round: no stream (a CLI snapshot never opens it)
            collector.collect(timeout_s=10)
            assert wait_for(lambda: collector.feed.connected)
            cluster.marathon_api.publish("status_update_event", {
                "appId": "/web/service-00003", "taskId": "web_service-00003.dead", "taskStatus": "TASK_FAILED",
                "message": "Container exited with status 1", "host": "agent-00001.mesos",
                "timestamp": "2026-01-01T00:05:00.000Z"})
            assert wait_for(lambda: collector.feed.recent())
            third = collector.collect(timeout_s=10)
        finally:
            collector.close()
        (_, path, query), = [r for r in cluster.marathon.requests if r[1] == "/v2/events"]
    assert first.events == []
    (event,) = third.events
    assert (event.object, event.reason) == ("App/web/service-00003", "TASK_FAILED")
    assert event.message == "task web_service-00003.dead on agent-00001.mesos: Container exited with status 1"
    assert sorted(query["event_type"]) == ["status_update_event", "unhealthy_instance_kill_event",
                                           "unhealthy_task_kill_event"]
