"""The Resilience page's analysis: computed once per snapshot on its own thread, shared by every session."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fleet.analysis import analyze
from fleet.model import Snapshot, decode_snapshot
from views import live, resilience
from views.tables import InBackground

SNAPSHOTS = Path(__file__).resolve().parents[1] / "fleet" / "snapshots"
# the one published snapshot every session's page sees (the poller hands out one object per round)
PUBLISHED: list[Snapshot] = []
OURS: list[Snapshot] = []  # every snapshot the running test published


def published_page() -> None:
    from tests.views.test_resilience_shared import PUBLISHED
    from views import resilience

    resilience.render_snapshot(PUBLISHED[0])


class CountingAnalysis:
    def __init__(self, release: threading.Event | None = None) -> None:
        self.analyzed: list[Snapshot] = []
        self.release = release

    @property
    def calls(self) -> int:
        """Analyses of the snapshots this test published. A round an earlier test's dashboard was still
        preparing may reach the patched `analyses` too, with a snapshot of its own: not counted."""
        return sum(1 for analyzed in self.analyzed if any(analyzed is ours for ours in OURS))

    def __call__(self, snapshot: Snapshot, progress) -> object:
        self.analyzed.append(snapshot)
        if self.release is not None:
            self.release.wait(10)
        return analyze(snapshot, progress)


@pytest.fixture
def counting(monkeypatch):
    for stray in list(live.preparing._jobs):  # an earlier test's round still being prepared ends by
        stray.wait(30)                         # asking `analyses` for its analysis: not ours to count
    counter = CountingAnalysis()
    monkeypatch.setattr(resilience, "analyses", InBackground(counter))
    publish("not-n-plus-1.json")
    yield counter
    PUBLISHED.clear()
    OURS.clear()


def publish(name: str) -> Snapshot:
    snapshot = decode_snapshot((SNAPSHOTS / name).read_bytes())
    PUBLISHED[:] = [snapshot]
    OURS.append(snapshot)
    return snapshot


def session() -> AppTest:
    app = AppTest.from_function(published_page, default_timeout=30).run()
    assert not app.exception, app.exception
    return app


def test_two_sessions_see_the_analysis_computed_once(counting):
    first, second = session(), session()
    for app in (first, second):
        text = "\n".join(m.value for m in app.markdown)
        assert "#### prod :red-badge[:material/error: not N+1]" in text
        assert "Worst case: losing **a** strands 2 instance(s)" in text
    assert counting.calls == 1


def test_a_new_snapshot_is_analyzed_again(counting):
    session()
    publish("n-plus-1.json")
    app = session()
    assert counting.calls == 2 and not any("not N+1" in m.value for m in app.markdown)


def test_sessions_asking_while_the_analysis_runs_share_it():
    release = threading.Event()
    counter = CountingAnalysis(release)
    shared = InBackground(counter)
    snapshot = decode_snapshot((SNAPSHOTS / "not-n-plus-1.json").read_bytes())
    jobs = []
    askers = [threading.Thread(target=lambda: jobs.append(shared.job(snapshot))) for _ in range(4)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert not jobs[0].wait(0.05)  # still running, nobody blocked on it
    release.set()
    assert len({id(job) for job in jobs}) == 1 and not jobs[0].result().all_n_plus_1 and len(counter.analyzed) == 1


def test_a_failed_analysis_is_raised_to_the_page_that_reads_it():
    def broken(snapshot: Snapshot, progress) -> None:
        raise ValueError("no room")

    job = InBackground(broken).job(Snapshot(taken_at=decode_snapshot((SNAPSHOTS / "n-plus-1.json").read_bytes()).taken_at))
    with pytest.raises(ValueError, match="no room"):
        job.result()
