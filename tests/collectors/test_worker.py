"""The collectors' helper process: answers, failures, and never the parent's main script."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from collectors.offload import SPILL_DIR, SPILL_MIN_BYTES, Offload, Worker, WorkerGone
from fleet.source import MalformedPayload


def double(value: int) -> int:
    return value * 2


def chatty(value: str) -> str:
    print("a library printing to stdout")  # must not corrupt the answers
    return value.upper()


def refuse(what: str) -> None:
    raise MalformedPayload(f"{what}: not a list")


def sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


@pytest.fixture
def worker():
    started = Worker("test")
    started.start(wait=True)
    yield started
    started.close()


def test_answers_come_back_and_stray_prints_do_not_corrupt_them(worker):
    assert worker.up
    assert worker.run(double, 21).result(10) == 42
    assert worker.run(chatty, "ok").result(10) == "OK"
    assert [worker.run(double, n) for n in range(5)][-1].result(10) == 8


def test_a_failing_task_raises_its_own_error_here(worker):
    with pytest.raises(MalformedPayload, match="GET /v1/jobs: not a list"):
        worker.run(refuse, "GET /v1/jobs").result(10)
    assert worker.up and not worker.broken  # one failed task is not a broken worker


def test_a_killed_worker_fails_what_it_held_and_takes_no_more_work(worker):
    pid = worker.run(sleep_then_pid, 0).result(10)
    held = worker.run(sleep_then_pid, 30)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerGone):
        held.result(10)
    assert worker.broken and not worker.up and worker.run(double, 1) is None


def test_the_parents_main_script_is_not_run_in_the_worker(tmp_path, monkeypatch):
    """Streamlit sets __main__ to the dashboard script: a worker must not run it again."""
    marker = tmp_path / "ran"
    script = tmp_path / "dashboard.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('the dashboard ran in the worker')\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    worker = Worker("test")
    try:
        worker.start(wait=True)
        assert worker.run(double, 2).result(10) == 4
    finally:
        worker.close()
    assert not marker.exists()


def test_closing_a_busy_worker_ends_it_without_waiting_for_its_task(monkeypatch):
    monkeypatch.setattr("collectors.offload.WAIT_ON_CLOSE_S", 0.2)
    worker = Worker("test")
    worker.start(wait=True)
    pid = worker.run(sleep_then_pid, 0).result(10)
    busy = worker.run(sleep_then_pid, 60)
    worker.close()
    with pytest.raises(WorkerGone):  # had close waited for the task, it would have its answer
        busy.result(10)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the process is gone (and reaped)


def test_a_worker_that_does_not_answer_in_time_is_stopped_and_replaced(worker):
    stuck_pid = worker.run(sleep_then_pid, 0).result(10)
    stuck = worker.run(sleep_then_pid, 30)
    started = time.monotonic()
    with pytest.raises(WorkerGone, match=r"the test worker did not answer within 1s"):
        worker.answer(stuck, 1.0)
    assert time.monotonic() - started < 3.5
    assert not worker.broken and not worker.up  # stopped, not given up
    worker.start(wait=True)
    fresh_pid = worker.run(sleep_then_pid, 0).result(10)
    assert fresh_pid != stuck_pid and worker.answer(worker.run(double, 4), 10) == 8
    assert _gone(stuck_pid)


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def where_digested(data: bytes) -> list[int]:
    """A page's digest: the process that digested it, and the page's size."""
    if data.startswith(b"slow"):
        time.sleep(1)
    return [os.getpid(), len(data)]


def spilled_files() -> list[str]:
    return [name for name in os.listdir(SPILL_DIR) if name.startswith(f"podium-page-{os.getpid()}-")]


@pytest.fixture
def offload():
    started = Offload(where_digested, list[int], 0, "test pages", in_flight=1)
    started.start(wait=True)
    yield started
    started.close()


def test_a_big_page_goes_to_the_worker_through_shared_memory_and_leaves_no_file(offload):
    page = b"x" * (SPILL_MIN_BYTES * 4)
    future = offload.submit(page)
    assert offload.collect(future, page) == [offload._current.popen.pid, len(page)]
    assert spilled_files() == []


def test_pages_come_back_in_order_and_this_process_digests_while_the_worker_is_busy(offload):
    shared = offload.pages()
    pages = [b"slow" + b"x" * SPILL_MIN_BYTES, b"fast", b"also fast"]
    ready = [digest for page in pages for digest in shared.add(page)] + shared.finish()
    worker_pid = offload._current.popen.pid
    assert [size for _, size in ready] == [len(page) for page in pages]
    assert [pid for pid, _ in ready] == [worker_pid, os.getpid(), os.getpid()]


def test_a_worker_killed_with_pages_in_shared_memory_leaves_no_file_and_they_are_digested_here(offload):
    shared = offload.pages()
    os.kill(offload._current.popen.pid, signal.SIGSTOP)  # it holds the page, unread
    shared.add(b"slow" + b"x" * SPILL_MIN_BYTES)
    assert spilled_files()
    offload._current.popen.kill()
    [digest] = shared.finish()
    assert digest == [os.getpid(), 4 + SPILL_MIN_BYTES]
    assert spilled_files() == []



@pytest.mark.parametrize("task_module", ["collectors.nomad.specs", "collectors.swarm.part_reads",
                                         "collectors.kubernetes.offload"])
def test_a_worker_reading_with_plain_sockets_starts_without_the_http_libraries(task_module):
    """A worker's start is part of a big cluster's first round: urllib3, requests, the docker SDK and
    the email parser would double the CPU it spends importing before it reads anything."""
    root = Path(__file__).resolve().parents[2]
    code = (f"import sys; sys.path.insert(0, {str(root)!r}); import collectors.worker, {task_module}; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'urllib3', 'requests', 'docker', 'kubernetes', 'email'}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"


def spread_and_pin(megabytes: int) -> int:
    """Fill the C heap with 1 KiB strings, free them all but one made last (at the heap's top,
    so glibc cannot shrink the heap from there), and answer the worker's RSS in KiB."""
    filler = [os.urandom(1024).hex()[:1500] for _ in range(megabytes * 1024)]
    pin = os.urandom(1024).hex()[:1500]
    del filler
    spread_and_pin.pinned = pin  # type: ignore[attr-defined]
    return resident_kib(os.getpid())


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


@pytest.mark.skipif(not Path("/proc/self/status").exists() or sys.platform != "linux",
                    reason="reads the worker's RSS from /proc; the trim is glibc's")
def test_a_worker_idle_after_a_big_task_hands_its_memory_back(worker):
    pid = worker.run(os.getpid).result(10)
    before = resident_kib(pid)
    during = worker.run(spread_and_pin, 200).result(60)
    assert during > before + 150 * 1024, (before, during)  # the task really grew the heap
    deadline = time.monotonic() + 20
    while resident_kib(pid) > before + 50 * 1024 and time.monotonic() < deadline:
        time.sleep(0.25)
    assert resident_kib(pid) <= before + 50 * 1024, (before, during, resident_kib(pid))
