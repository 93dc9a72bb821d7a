"""The benches' pairing: each ratio compares a Podium run with the baseline run right after it."""
from __future__ import annotations

from bench.pairs import interleaved, median_run, pair_ratios, ratio_text


def test_runs_alternate_podium_first_and_each_ratio_comes_from_one_pair():
    order = []
    podium_seconds = iter([1.0, 2.0, 1.5])  # the machine slowed down in the second pair...
    baseline_seconds = iter([10.0, 20.0, 13.5])  # ...for both paths alike

    def podium():
        order.append("podium")
        return {"seconds": next(podium_seconds)}

    def baseline():
        order.append("baseline")
        return {"seconds": next(baseline_seconds)}

    podium_runs, baseline_runs = interleaved(podium, baseline, 3)
    assert order == ["podium", "baseline"] * 3
    assert pair_ratios(podium_runs, baseline_runs) == [9.0, 10.0, 10.0]
    assert ratio_text(pair_ratios(podium_runs, baseline_runs)).startswith("10.00x faster (median of 3 interleaved pairs")
    assert median_run(podium_runs) == {"seconds": 1.5, "all_seconds": [1.0, 2.0, 1.5]}


def test_without_a_baseline_only_podium_runs():
    podium_runs, baseline_runs = interleaved(lambda: {"seconds": 1.0}, None, 2)
    assert len(podium_runs) == 2 and baseline_runs == []
    assert pair_ratios(podium_runs, baseline_runs) == []
