"""The log line for a pass of the cyclic GC that stalls the process (its shared pause: tests/collectors/test_toolkit.py)."""
from __future__ import annotations

import gc
import logging

import pytest

from fleet import gcpause
from fleet.gcpause import report_slow_passes


@pytest.fixture
def no_reporter():
    """Each test installs its own reporter; the process's is put back after."""
    kept = [c for c in gc.callbacks if isinstance(c, gcpause._SlowPasses)]
    for callback in kept:
        gc.callbacks.remove(callback)
    yield
    gc.callbacks[:] = [c for c in gc.callbacks if not isinstance(c, gcpause._SlowPasses)] + kept


def test_a_full_pass_over_the_threshold_is_logged_with_its_generation_and_time(no_reporter, caplog):
    report_slow_passes(threshold_s=0.0)
    with caplog.at_level(logging.WARNING, logger="fleet.gcpause"):
        gc.collect(2)
    lines = [r.getMessage() for r in caplog.records if r.name == "fleet.gcpause"]
    assert lines and lines[-1].startswith("garbage collection of generation 2 stopped every thread for ")


def test_quick_passes_are_not_logged_and_the_reporter_is_installed_once(no_reporter, caplog):
    report_slow_passes()
    report_slow_passes()
    assert sum(isinstance(c, gcpause._SlowPasses) for c in gc.callbacks) == 1
    with caplog.at_level(logging.WARNING, logger="fleet.gcpause"):
        gc.collect(0)  # a young generation of a test process: far under half a second
    assert not [r for r in caplog.records if r.name == "fleet.gcpause"]

