"""A long watch's summary: a slow leak or a climbing CPU cost shows beside the averages."""
from __future__ import annotations

import pytest

from bench.watching import Sample, summarize

GIB = 2**30


def samples(rss_at, cpu_share_at, seconds=1800, every=5):
    cpu, taken = 0.0, []
    for at in range(0, seconds + 1, every):
        taken.append(Sample(at_s=float(at), cpu_s=cpu, rss_bytes=int(rss_at(at))))
        cpu += cpu_share_at(at) * every
    return taken


def test_a_dashboard_whose_memory_climbs_through_the_watch_grows_though_its_peak_stays_under_target():
    summary = summarize(samples(lambda at: 2 * GIB + at * 100_000, lambda at: 0.06), window_s=300)
    assert summary.peak_rss_bytes < 3 * GIB
    assert summary.rss_growth == pytest.approx(0.07, abs=0.01)
    assert summary.grows


def test_a_flat_dashboard_with_round_to_round_wobble_does_not_grow():
    summary = summarize(samples(lambda at: 2 * GIB + (30 * 2**20 if at % 15 == 0 else 0), lambda at: 0.06),
                        window_s=300)
    assert not summary.grows
    assert summary.cpu_share == pytest.approx(0.06)


def test_the_first_and_last_windows_show_a_cpu_cost_that_climbs():
    summary = summarize(samples(lambda at: GIB, lambda at: 0.02 + at / 1800 * 0.2), window_s=300)
    assert summary.first.cpu_share == pytest.approx(0.037, abs=0.005)
    assert summary.last.cpu_share == pytest.approx(0.203, abs=0.005)
    assert summary.first.cpu_share < summary.cpu_share < summary.last.cpu_share
    assert (summary.first.start_s, summary.last.end_s) == (0, 1800)


def test_a_watch_shorter_than_two_windows_compares_its_own_halves_no_worse_than_the_whole():
    summary = summarize(samples(lambda at: GIB, lambda at: 0.1, seconds=20), window_s=300)
    assert summary.seconds == 20
    assert summary.first.cpu_share == pytest.approx(0.1) and summary.last.cpu_share == pytest.approx(0.1)


def test_a_watch_needs_two_samples():
    with pytest.raises(ValueError, match="two samples"):
        summarize([Sample(at_s=0, cpu_s=0, rss_bytes=GIB)], window_s=300)


def test_every_window_is_listed_so_a_step_early_on_reads_apart_from_a_climb():
    step = summarize(samples(lambda at: GIB if at < 400 else 1.1 * GIB, lambda at: 0.05), window_s=300)
    assert [round(w.median_rss_bytes / GIB, 2) for w in step.windows] == [1.0, 1.1, 1.1, 1.1, 1.1, 1.1]
    assert [(w.start_s, w.end_s) for w in step.windows][:2] == [(0, 295), (300, 595)]
    assert step.windows[-1].end_s == 1800  # the lone last sample joins the window before it
    climb = summarize(samples(lambda at: GIB + at * 100_000, lambda at: 0.05), window_s=300)
    medians = [w.median_rss_bytes for w in climb.windows]
    assert medians == sorted(medians) and len(set(medians)) == 6


def test_the_second_halfs_trend_tells_a_warm_up_step_from_a_leak_that_climbs_to_the_end():
    wobble = lambda at: 30 * 2**20 if at % 15 == 0 else 0  # noqa: E731  (rounds being read)
    warm_up = summarize(samples(lambda at: (GIB if at < 400 else 1.05 * GIB) + wobble(at), lambda at: 0.05),
                        window_s=300)
    assert warm_up.grows  # the first-to-last rule counts the step
    assert abs(warm_up.late_trend_bytes_per_hour) < 5 * 2**20
    leak = summarize(samples(lambda at: GIB + at * 20_000 + wobble(at), lambda at: 0.05), window_s=300)
    assert leak.late_trend_bytes_per_hour == pytest.approx(20_000 * 3600, rel=0.02)
