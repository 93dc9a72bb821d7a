"""Which live snapshot the pages show: the newest one whose tables are built.

Every round publishes a new Snapshot. Its tables, problems and analysis are built once, off the
pages' threads, shared by every session. The work starts as the round arrives when pages were
viewed lately, for the very first round, and every few minutes when nobody looks; otherwise the first
session to see the round starts it.
Until they are ready, pages keep showing the previous round instead of blocking on the new one. Only
the very first round is waited for.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

import streamlit as st

from fleet.model import Snapshot, not_collected_yet
from fleet.poller import RoundProgress
from views import resilience
from views.services import service_table
from views.tables import GIVE_WAY_MAX_S, KEPT_JOBS, InBackground, fleet_tables, problems_table, tables_being_prepared

PREPARE_WAIT_S = 0.1  # a small round is ready by then: show it rather than the previous one


# One round prepared at a time: a round that arrives while the last is still being prepared (a
# large fleet's first minute) waits, then reuses what that one built for the clusters that did not
# change, instead of building the same tables beside it.
_one_round_at_a_time = threading.Lock()


def prepare(snapshot: Snapshot, progress: Callable[[float], None]) -> None:
    with _one_round_at_a_time, tables_being_prepared.running():  # the analysis pauses meanwhile
        _prepare(snapshot, progress)


def _prepare(snapshot: Snapshot, progress: Callable[[float], None]) -> None:
    fleet_tables(snapshot)
    progress(0.5)
    problems_table(snapshot)
    service_table(snapshot)
    resilience.analyses.job(snapshot)  # the analysis starts now, not when someone opens Resilience


preparing: InBackground[None] = InBackground(prepare)
VIEWED_LATELY_S = 600.0  # rounds are prepared as they arrive while pages were viewed this recently
# Left alone, the dashboard still prepares a round this often. What it holds for the next visitor is
# the last prepared round's tables and the objects they were made of: when a collector hands over a
# cluster's objects anew (a relist after a dropped watch), that previous generation would otherwise
# stay in memory beside the current one for as long as nobody looks (+200 MB for 150,000 pods).
REFRESH_WHEN_LEFT_ALONE_S = 300.0
# rounds prepared in a row then: enough for the older rounds to leave every per-round cache
REFRESH_ROUNDS = KEPT_JOBS
_last_view: list[float] = []  # monotonic time of the last page view, once there was one
_refresh_rounds_left = [0]


def prepare_ahead(snapshot: Snapshot) -> None:
    """At the end of a round (on the poller's thread): start preparing it now, rather than when a
    page first asks, if nothing is prepared yet (the first visitor would wait for all of it), pages
    were viewed lately, or the last preparation is REFRESH_WHEN_LEFT_ALONE_S old. Nobody looking, a
    round is prepared only that often (REFRESH_ROUNDS in a row): a dashboard left alone stays cheap,
    and bounded in memory."""
    now = time.monotonic()
    if nothing_prepared() or (_last_view and now - _last_view[-1] < VIEWED_LATELY_S):
        preparing.job(snapshot)
        return
    started = preparing.last_started_at
    if started is not None and now - started >= REFRESH_WHEN_LEFT_ALONE_S:
        _refresh_rounds_left[0] = REFRESH_ROUNDS
    if _refresh_rounds_left[0] > 0:
        _refresh_rounds_left[0] -= 1
        preparing.job(snapshot)


def tables_first(snapshot: Snapshot) -> None:
    """The round's tables, when they are being prepared, before the history's write of the round
    (`FleetRuntime.before_storing`): pages wait for the tables, nobody waits for the write. The seed
    fleet's first round is a 19.5 MB keyframe, and the next round's collection comes right after it."""
    job = preparing.started_for(snapshot)
    if job is not None:
        job.wait(GIVE_WAY_MAX_S)


def collected_any(snapshot: Snapshot) -> bool:
    """False for the placeholder the poller publishes until its first round ends."""
    return not all(map(not_collected_yet, snapshot.clusters))


def nothing_prepared() -> bool:
    """No round prepared yet, or only the placeholder of a first round still being collected."""
    ready = preparing.finished
    return ready is None or not collected_any(ready.snapshot)


def shown_snapshot(newest: Snapshot) -> Snapshot:
    """`newest` once it is prepared (waiting briefly), else the newest prepared one; waits only when
    nothing has been prepared yet (the first round's placeholder counts as nothing once the round is in:
    it would say every cluster is still being collected)."""
    _last_view[:] = [time.monotonic()]
    job = preparing.job(newest)
    if job.wait(PREPARE_WAIT_S):
        return newest
    ready = preparing.finished
    if ready is not None and (collected_any(ready.snapshot) or not collected_any(newest)):
        return ready.snapshot
    with st.spinner("The first round is in: building the fleet's tables…"):
        job.wait()
    return newest


def whole_round_shown() -> bool:
    """A whole round is prepared, so pages show no cluster as still being collected."""
    ready = preparing.finished
    return ready is not None and not any(map(not_collected_yet, ready.snapshot.clusters))


def first_round_progress(snapshot: Snapshot, progress: RoundProgress | None) -> None:
    """While the first round is collected the pages show what is in so far: say how far it has got.
    `progress` is the first round's, None once that round is over (its tables are then being built)."""
    pending = [cluster.name for cluster in snapshot.clusters if not_collected_yet(cluster)]
    if not pending:
        return
    ended = set(progress.done) if progress is not None else set(pending)
    waiting = [name for name in pending if name not in ended]
    total = len(snapshot.clusters)
    collected = total - len(waiting)
    if waiting and progress is not None:
        text = (f"Collecting… {collected} of {total} clusters in after {time.monotonic() - progress.started_at:.0f} s; "
                f"waiting for {', '.join(waiting)}")
    else:
        text = "Every cluster is collected: building the fleet's tables…"
    st.progress(collected / total, text=text)
