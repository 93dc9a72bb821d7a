"""Marathon's event stream: SSE parsing on Marathon's own example, failures kept between polls."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from collectors.marathon.fetch import MarathonCollector
from collectors.marathon import fetch
from collectors.marathon.events import CHANGES, parse_sse, to_event
from sim.marathon import Timeline, build
from tests.sim.marathon.harness import collect, config, running
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
    assert sorted(query["event_type"]) == sorted(CHANGES)


def apps_reads(cluster) -> int:
    return sum(1 for _, path, _ in cluster.marathon.requests if path == "/v2/apps")


def same_model(one, other) -> None:
    assert one.workloads == other.workloads and one.instances == other.instances and one.nodes == other.nodes


def test_quiet_rounds_keep_the_apps_the_stream_vouches_for_and_a_change_has_them_read_again():
    clock = [1000.0]
    timeline = Timeline(3, period_s=100.0, clock=lambda: clock[0], agents=12, apps=14, pods=1)
    with running(timeline) as cluster:
        collector = MarathonCollector(config(cluster.marathon.url, cluster.mesos.url))
        try:
            collector.collect(timeout_s=10)
            collector.collect(timeout_s=10)  # the second round opens the stream
            assert apps_reads(cluster) == 2 and wait_for(lambda: collector.feed.connected)
            collector.collect(timeout_s=10)  # the first round read while the stream is connected
            reads = apps_reads(cluster)
            quiet = collector.collect(timeout_s=10)
            assert apps_reads(cluster) == reads and collector.apps_reused == 1
            same_model(quiet, collect(cluster))
            changes = collector.feed.changes
            clock[0] += 100.0  # the scenario moves on (other problems): Marathon announces it
            assert wait_for(lambda: collector.feed.changes > changes)
            reads = apps_reads(cluster)
            moved = collector.collect(timeout_s=10)
            assert apps_reads(cluster) == reads + 1 and collector.apps_reused == 1
            same_model(moved, collect(cluster))
            assert moved.workloads != quiet.workloads
        finally:
            collector.close()


def test_the_apps_are_read_every_round_when_the_stream_is_down_or_they_are_old(monkeypatch):
    with running(build(0, problems=[])) as cluster:
        collector = MarathonCollector(config(cluster.marathon.url, cluster.mesos.url))
        try:
            collector.collect(timeout_s=10)
            collector.collect(timeout_s=10)
            assert wait_for(lambda: collector.feed.connected)
            collector.collect(timeout_s=10)
            monkeypatch.setattr(fetch, "APPS_MAX_AGE_S", 0.0)
            reads = apps_reads(cluster)
            collector.collect(timeout_s=10)
            assert apps_reads(cluster) == reads + 1
            monkeypatch.setattr(fetch, "APPS_MAX_AGE_S", 300.0)
            collector.collect(timeout_s=10)
            assert apps_reads(cluster) == reads + 1  # read with the stream connected: vouched for
            collector.feed.stop()  # the stream is gone: nothing vouches for the apps
            collector.collect(timeout_s=10)
            assert apps_reads(cluster) == reads + 2
        finally:
            collector.close()


def test_polled_in_the_background_the_stream_opens_before_the_first_read_and_the_second_round_takes_its_apps():
    """The dashboard's poller: the second round already takes the first round's apps when Marathon
    announced no change, instead of reading them all again in each of the first three rounds."""
    from fleet.config import Settings
    from fleet.poller import Poller

    with running(build(0, problems=[])) as cluster:
        collector = MarathonCollector(config(cluster.marathon.url, cluster.mesos.url))
        poller = Poller([collector], Settings(poll_interval_s=3600, timeout_s=10)).start()
        try:
            assert wait_for(lambda: poller.rounds == 1)
            assert apps_reads(cluster) == 1 and collector.feed.connected
            poller.refresh_now()
            assert wait_for(lambda: poller.rounds == 2)
            assert apps_reads(cluster) == 1 and collector.apps_reused == 1
            assert poller.snapshot().clusters[0].status == "ok"
        finally:
            poller.stop()
